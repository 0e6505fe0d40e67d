"""``DeepNet``: an L-layer fully connected network in the course's notation, on the CPU or a GPU.

X is (n0, m) with the m examples as columns; W[l] is (n[l], n[l-1]) and b[l] is (n[l], 1);
Z[l] = W[l]·A[l-1] + b[l], A[l] = g[l](Z[l]) with A[0] = X; the hidden layers share one
activation (or take one each) and the output layer's activation fixes the loss (see
:mod:`deepnet_gpu.losses`). The parameters live in one flat buffer on the network's device.
"""

from __future__ import annotations

import functools
import logging
import threading
import zipfile
from collections import OrderedDict

import numpy as np

from .activations import DEFAULT_LEAKY_SLOPE, get_activation
from .backend import backend_of, get_backend, is_array
from .initializers import check_initializer, initialize
from .layout import ParameterLayout
from .losses import get_loss
from .optimizers import SGD
from .propagation import backward, forward
from .training import train
from .validation import (check_count, check_dtype, check_layer_dims, check_leaky_slope, check_learning_rate_fits,
                         check_path, check_seed, check_X, encode_Y, finite_on, real_array)
from .workspace import Workspace

log = logging.getLogger("deepnet_gpu")

FORMAT_VERSION = 1
_ZIP_MAGIC, _NPY_MAGIC = b"PK\x03\x04", b"\x93NUMPY"
_WORKSPACES_KEPT = 4


def _network_call(method):
    """Run ``method`` holding the network's lock, with its GPU as CuPy's current device.

    The lock makes calls on one network from several threads run one at a time: they share the
    network's buffers (a workspace per batch width), so two predictions of the same width would
    otherwise write each other's results. CuPy launches kernels, cuBLAS calls and new arrays on
    the *current* device, not on the device of the arrays passed in, so a network on ``cuda:1``
    must make GPU 1 current for all of its work (a no-op on the CPU).
    """

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock, self.backend.device_scope():
            return method(self, *args, **kwargs)

    return wrapper


class DeepNet:
    """A deep L-layer network: ``layer_dims`` = [n0, n1, ..., nL].

    ``hidden_activation`` is one name for every hidden layer or a list of L-1 names (relu,
    leaky_relu, sigmoid, tanh, linear); ``output_activation`` is sigmoid, softmax or linear;
    ``loss`` defaults to the one paired with the output (binary cross-entropy, categorical
    cross-entropy, squared error); ``init`` is he, xavier, course_small or course_scaled;
    ``device`` is "cpu", "cuda", "cuda:N" or "auto"; ``dtype`` float32 or float64; ``tf32=True``
    lets float32 GEMMs on a GPU use TF32 tensor cores (faster on wide layers, products rounded to
    a 10-bit mantissa: relative error about 1e-3 instead of 1e-7; ignored on the CPU).
    """

    def __init__(self, layer_dims, hidden_activation="relu", output_activation="sigmoid", loss=None, init="he",
                 seed=None, device="auto", dtype="float32", leaky_slope=DEFAULT_LEAKY_SLOPE, tf32=False):
        self.layer_dims = check_layer_dims(layer_dims)
        L = len(self.layer_dims) - 1
        names = [hidden_activation] * (L - 1) if isinstance(hidden_activation, str) else hidden_activation
        if not isinstance(names, (list, tuple)) or len(names) != L - 1:
            raise ValueError(f"hidden_activation must be one name or a list of L-1={L - 1} names; got {hidden_activation!r}")
        self.leaky_slope = check_leaky_slope(leaky_slope)
        hidden = [get_activation(n, argument="hidden_activation", leaky_slope=self.leaky_slope) for n in names]
        output = get_activation(output_activation, argument="output_activation", output=True)
        if output.name == "softmax" and self.layer_dims[-1] < 2:
            raise ValueError(f"a softmax output needs n[L] >= 2 classes; got layer_dims={list(self.layer_dims)}")
        self.loss = get_loss(loss, output.name)
        self.init = check_initializer(init)
        self.seed = check_seed(seed)
        self.dtype = check_dtype(dtype)
        self.backend = get_backend(device, tf32=tf32)
        self.tf32 = bool(tf32)
        self._activations = hidden + [output]
        self._layout = ParameterLayout(self.layer_dims)
        self._lock = threading.RLock()
        self._place(self._flatten(initialize(self.layer_dims, init, seed)))

    def __repr__(self):
        return (f"DeepNet({list(self.layer_dims)}, hidden_activation={self.hidden_activations!r}, "
                f"output_activation={self.output_activation!r}, loss={self.loss.name!r}, device={self.device!r}, "
                f"dtype={self.dtype.name!r})")

    @property
    def device(self) -> str:
        """Where the parameters live: "cpu" or "cuda:N"."""
        return self.backend.device

    @property
    def hidden_activations(self) -> list:
        """The hidden layers' activation names, l = 1..L-1."""
        return [g.name for g in self._activations[:-1]]

    @property
    def output_activation(self) -> str:
        """The output layer's activation name."""
        return self._activations[-1].name

    # parameters ---------------------------------------------------------------------------------

    def _flatten(self, parameters: dict) -> np.ndarray:
        return np.concatenate([np.asarray(parameters[name], dtype=self.dtype).reshape(-1)
                               for name in self._layout.named_shapes()])

    def _place(self, flat_host):
        """Put a host flat buffer on the device and rebuild the views, dropping buffers sized for the old one."""
        self._flat = self.backend.asarray(flat_host, dtype=self.dtype)
        self._layers = self._layout.views(self._flat)
        self._grad_flat = None
        self._grad_layers = None
        self._workspaces = OrderedDict()

    @property
    @_network_call
    def parameters(self) -> dict:
        """{"W1": ..., "b1": ..., ...} as host NumPy copies."""
        flat = self.backend.to_numpy(self._flat).copy()
        return self._layout.named_views(flat)

    @_network_call
    def set_parameters(self, parameters: dict):
        """Replace every W[l] and b[l]; shapes must match ``layer_dims`` and values be finite."""
        self._place(self._flatten(self._checked_parameters(parameters, finite=True)))

    def _restore(self, parameters: dict):
        """Replace the parameters with those of a saved or pickled network of this architecture.

        Unlike :meth:`set_parameters` this keeps NaN and Inf, which a diverged ``fit`` may have
        left (:class:`~deepnet_gpu.errors.TrainingDivergedError`): a copy, a pickle or a saved file
        holds the network as it was, and says so in the log."""
        with np.errstate(over="ignore"):
            flat = self._flatten(self._checked_parameters(parameters, finite=False))
        if not np.isfinite(flat).all():
            log.warning("the restored network's parameters hold NaN or Inf (saved after a diverged fit?): "
                        "its outputs will too")
        self._place(flat)

    def _checked_parameters(self, parameters: dict, finite: bool) -> dict:
        """``parameters`` as host arrays, after checking the keys and shapes, and with ``finite``
        that every value is finite in the network's dtype."""
        if not isinstance(parameters, dict):
            raise TypeError(f"parameters must be a dict with keys W1, b1, ...; got {type(parameters).__name__}")
        shapes = self._layout.named_shapes()
        extra = [key for key in parameters if key not in shapes]
        if extra:
            raise ValueError(f"parameters has keys this network does not have: {', '.join(map(repr, extra))} "
                             f"(it has {', '.join(shapes)})")
        host, cpu = {}, get_backend("cpu")
        for name, shape in shapes.items():
            if name not in parameters:
                raise ValueError(f"parameters is missing {name!r} of shape {shape}")
            label = f"parameters[{name!r}]"
            value = real_array(_host_unless_owned(cpu, parameters[name]), label)
            if value.shape != shape:
                raise ValueError(f"{label} must have shape {shape}; got {value.shape}")
            host[name] = finite_on(backend_of(value), value, self.dtype, label) if finite else value
        return host

    @_network_call
    def to(self, device):
        """Move the parameters to ``device`` ("cpu", "cuda", "cuda:N", "auto"); returns self."""
        backend = get_backend(device, tf32=self.tf32)
        flat = self.backend.to_numpy(self._flat)
        self.backend = backend
        self._place(flat)
        return self

    # buffers --------------------------------------------------------------------------------------

    def _workspace(self, m: int, *, training: bool, gather: bool = False) -> Workspace:
        key = (m, training, gather)
        ws = self._workspaces.pop(key, None)
        if ws is None:
            if training and self._grad_flat is None:
                with self.backend.device_scope():
                    self._grad_flat = self.backend.xp.empty(self._layout.size, self.dtype)
                self._grad_layers = self._layout.views(self._grad_flat)
            ws = Workspace(self.backend, self.layer_dims, m, self.dtype, training=training, gather=gather)
            while len(self._workspaces) >= _WORKSPACES_KEPT:
                self._workspaces.popitem(last=False)
        self._workspaces[key] = ws
        return ws

    # inputs ---------------------------------------------------------------------------------------

    def _device_array(self, a, name):
        """``a`` (an array, or anything :func:`~deepnet_gpu.validation.real_array` reads) on this
        network's device in its dtype, all finite."""
        return finite_on(self.backend, real_array(_host_unless_owned(self.backend, a), name), self.dtype, name)

    def _features(self, X, name="X"):
        """X validated as (n0, m) on the device."""
        return check_X(self._device_array(X, name), self.layer_dims[0], name)

    def _inputs(self, X, Y, names=("X", "Y")):
        """Validated device arrays: X (n0, m), and Y encoded as (n[L], m) targets."""
        if Y is None:
            raise TypeError(f"{names[1]} must be the targets of X's examples; got None")
        X = self._features(X, names[0])
        Y = self._device_array(Y, names[1])
        return X, encode_Y(Y, X.shape[1], self.layer_dims[-1], self.output_activation, self.backend, self.dtype,
                           names[1], names[0])

    def _result(self, a, like):
        """A copy of device array ``a``: on the device when the caller gave device arrays, else NumPy."""
        return a.copy() if self.backend.owns(like) else self.backend.to_numpy(a).copy()

    # math -----------------------------------------------------------------------------------------

    def _forward(self, X, *, training=False):
        ws = self._workspace(X.shape[1], training=training)
        ZL, AL = forward(self.backend, self._activations, self._layers, X, ws)
        return ws, ZL, AL

    def _cost_into(self, X, Y, out):
        """out (0-d device array) = J(X, Y), the mean loss, computed without a host sync.

        Each example's loss is divided by m before the sum, so the sum overflows only where J does."""
        ws, ZL, AL = self._forward(X)
        self.loss.terms(self.backend.ops, ZL, AL, Y, ws.terms)
        xp = self.backend.xp
        xp.multiply(ws.terms, 1.0 / X.shape[1], out=ws.terms)
        xp.sum(ws.terms, out=out)
        return out

    @_network_call
    def fit(self, X, Y, *, learning_rate, epochs, batch_size=None, shuffle=True, print_every=0, validation_data=None):
        """Train by gradient descent; return the history {"cost": [...]} (and "val_cost": [...]).

        ``batch_size=None`` is full-batch gradient descent, one step per epoch, as in the course;
        an integer gives mini-batches, reshuffled every epoch from ``seed`` unless ``shuffle`` is
        False (each call starts that stream afresh). ``cost[e]`` is the mean loss over epoch e's
        training examples, each batch's measured before that batch's update; ``val_cost[e]``
        (with ``validation_data=(X_val, Y_val)``) is measured after epoch e. ``print_every=N``
        prints the cost every N epochs. A NaN or Inf cost stops training with
        :class:`~deepnet_gpu.errors.TrainingDivergedError` (NumPy's overflow warnings are silenced
        meanwhile: the loop reports divergence itself).
        """
        optimizer = SGD(learning_rate)
        check_learning_rate_fits(optimizer.learning_rate, self.dtype)
        epochs = check_count(epochs, "epochs", 0)
        if batch_size is not None:
            batch_size = check_count(batch_size, "batch_size", 1)
        print_every = check_count(print_every, "print_every", 0)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError(f"shuffle must be True or False; got {shuffle!r}")
        X, Y = self._inputs(X, Y)
        validation = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)):
                raise TypeError(f"validation_data must be a pair (X_val, Y_val), a tuple or list; "
                                f"got {type(validation_data).__name__}")
            if len(validation_data) != 2:
                raise ValueError(f"validation_data must be a pair (X_val, Y_val); got a {type(validation_data).__name__} "
                                 f"of {len(validation_data)} items")
            validation = self._inputs(*validation_data, names=("validation_data[0]", "validation_data[1]"))
        with np.errstate(over="ignore", invalid="ignore"):
            return train(self, X, Y, optimizer, epochs=epochs, batch_size=batch_size, shuffle=bool(shuffle),
                         print_every=print_every, validation=validation)

    @_network_call
    def predict_proba(self, X):
        """A[L] for X (n0, m): probabilities for sigmoid and softmax, the outputs for linear; (n[L], m)."""
        _, _, AL = self._forward(self._features(X))
        return self._result(AL, X)

    @_network_call
    def predict(self, X):
        """Labels: sigmoid, 1 where A[L] > 0.5 ((n[L], m), (1, m) for one output); softmax, the class index (1, m); linear, A[L]."""
        _, _, AL = self._forward(self._features(X))
        xp = self.backend.xp
        if self.output_activation == "sigmoid":
            labels = (AL > 0.5).astype(xp.int64)
        elif self.output_activation == "softmax":
            labels = xp.argmax(AL, axis=0).reshape(1, -1)
        else:
            labels = AL
        return self._result(labels, X)

    @_network_call
    def score(self, X, Y) -> float:
        """Accuracy (the fraction of labels right) for sigmoid and softmax; R² for a linear output.

        R² = 1 - Σ (y - a)² / Σ (y - ȳ)², ȳ each output's mean, both sums over every output and
        example (scikit-learn's ``variance_weighted`` for several outputs); 1.0 for a perfect fit
        of constant targets, 0.0 for any other fit of them."""
        X, Y = self._inputs(X, Y)
        _, _, AL = self._forward(X)
        xp = self.backend.xp
        if self.output_activation == "sigmoid":
            return float(((AL > 0.5) == (Y > 0.5)).mean())
        if self.output_activation == "softmax":
            return float((xp.argmax(AL, axis=0) == xp.argmax(Y, axis=0)).mean())
        residual = float(((Y - AL) ** 2).sum())
        total = float(((Y - Y.mean(axis=1, keepdims=True)) ** 2).sum())
        return 1.0 - residual / total if total > 0 else float(residual == 0)

    @_network_call
    def cost(self, X, Y) -> float:
        """J, the mean loss over the m examples of X (n0, m) and Y."""
        X, Y = self._inputs(X, Y)
        return float(self._cost_into(X, Y, self.backend.xp.zeros((), self.dtype)))

    @_network_call
    def gradients(self, X, Y) -> dict:
        """{"dW1": ..., "db1": ...}: the gradient of the mean cost at X, Y, as NumPy arrays; no update."""
        X, Y = self._inputs(X, Y)
        ws, _, _ = self._forward(X, training=True)
        backward(self.backend, self._activations, self.loss, self._layers, self._grad_layers, X, Y, ws)
        return self._layout.named_views(self.backend.to_numpy(self._grad_flat).copy(), prefix="d")

    # persistence --------------------------------------------------------------------------------

    def _architecture(self) -> dict:
        """The constructor's arguments, apart from ``device`` and ``tf32``, that rebuild this network."""
        return dict(layer_dims=list(self.layer_dims), hidden_activation=self.hidden_activations,
                    output_activation=self.output_activation, loss=self.loss.name, init=self.init, seed=self.seed,
                    dtype=self.dtype.name, leaky_slope=self.leaky_slope)

    def __reduce__(self):
        """Pickling, ``copy.copy`` and ``copy.deepcopy``: the architecture, the seed, the device name,
        ``tf32`` and host copies of the parameters. The copy is a separate network with buffers of
        its own on the same device; unpickling where that device is not usable raises
        :class:`~deepnet_gpu.backend.DeviceUnavailableError` (:meth:`load` takes another device)."""
        return _rebuild, (type(self), self._architecture(), self.device, self.tf32, self.parameters)

    @_network_call
    def save(self, path):
        """Write the parameters, the architecture, the seed (when there is one: ``fit`` shuffles from
        it) and the format version as an .npz archive at exactly ``path``.

        No extension is added, so ``load(path)`` reads back what ``save(path)`` wrote.
        """
        check_path(path)
        seed = {} if self.seed is None else {"seed": np.array(self.seed, dtype=np.int64)}
        with open(path, "wb") as file:
            np.savez(
                file,
                **seed,
                format_version=np.array(FORMAT_VERSION),
                layer_dims=np.array(self.layer_dims),
                hidden_activations=np.array(self.hidden_activations, dtype=str),
                output_activation=np.array(self.output_activation),
                loss=np.array(self.loss.name),
                init=np.array(self.init),
                leaky_slope=np.array(self.leaky_slope),
                dtype=np.array(self.dtype.name),
                **self.parameters,
            )

    @classmethod
    def load(cls, path, device="auto", tf32=False):
        """Rebuild a network saved by :meth:`save`.

        ``device`` and ``tf32`` are checked first, then that ``path`` is a path; then OSError for a missing file, ValueError for
        one that is not a saved DeepNet.
        """
        backend = get_backend(device, tf32=tf32)
        check_path(path)
        with open(path, "rb") as file:
            try:
                magic = file.read(len(_NPY_MAGIC))
                file.seek(0)
                if not magic.startswith((_NPY_MAGIC, _ZIP_MAGIC)):
                    raise ValueError("it is neither an .npz archive nor any other NumPy file")
                data = np.load(file, allow_pickle=False)
                if not isinstance(data, np.lib.npyio.NpzFile):
                    raise ValueError(f"it holds a single {type(data).__name__}, not an .npz archive")
                stored = {key: data[key] for key in data.files}
            except (ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
                raise ValueError(f"{path} is not a saved DeepNet (.npz): {exc}") from None
        try:
            version = int(_integers(stored, "format_version"))
            if version != FORMAT_VERSION:
                raise ValueError(f"format version {version}, this library reads {FORMAT_VERSION}")
            hidden = [str(name) for name in stored["hidden_activations"].reshape(-1)]
            net = cls([int(n) for n in _integers(stored, "layer_dims")], hidden_activation=hidden,
                      output_activation=str(stored["output_activation"]), loss=str(stored["loss"]),
                      init=str(stored["init"]), device=backend, dtype=str(stored["dtype"]),
                      leaky_slope=float(stored["leaky_slope"]), tf32=tf32,
                      seed=int(_integers(stored, "seed")) if "seed" in stored else None)
            net._restore({name: stored[name] for name in net._layout.named_shapes() if name in stored})
        except (KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{path} is not a valid saved DeepNet: {exc}") from None
        return net


def _host_unless_owned(backend, a):
    """``a``, or a host copy of it when it is a CuPy array ``backend`` does not own (another GPU's,
    or any for the CPU)."""
    if is_array(a) and not isinstance(a, np.ndarray) and not backend.owns(a):
        return backend_of(a).to_numpy(a)
    return a


def _integers(stored: dict, key: str) -> np.ndarray:
    """``stored[key]`` from a saved file, which must hold integers (a hand-edited 3.7 or inf is refused)."""
    value = stored[key]
    if value.dtype.kind not in "iu":
        raise ValueError(f"{key} must be stored as integers; got {value!r}")
    return value


def _rebuild(cls, architecture: dict, device: str, tf32: bool, parameters: dict) -> DeepNet:
    """The network :meth:`DeepNet.__reduce__` describes: built on ``device``, then given ``parameters``."""
    net = cls(**architecture, device=device, tf32=tf32)
    net._restore(parameters)
    return net

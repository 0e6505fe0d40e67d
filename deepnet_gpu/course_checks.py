"""The argument checks of :mod:`deepnet_gpu.course`, run where a learner's code calls in.

Each check names the argument as the course's signatures name it, says what was expected and
what came, and raises ``TypeError`` (a wrong kind of object) or ``ValueError`` (a wrong shape or
value) before any work starts. The shapes are the course's: A[l-1] (n[l-1], m), W[l]
(n[l], n[l-1]), b[l] (n[l], 1), Z[l] and A[l] (n[l], m). The checks read shapes and dtypes
only, except :func:`training_data`, which looks at the values once before training.
"""

from __future__ import annotations

import numpy as np

from .backend import backend_of, is_array
from .validation import REAL_KINDS, check_X


def array(a, name: str):
    """``a`` itself when it is a NumPy or CuPy array of real numbers (bool, integer or float).

    NumPy's subclasses are refused: ``*`` multiplies ``np.matrix`` operands as matrices, and a
    masked array carries its mask through some operations and not others."""
    if not is_array(a) or a.dtype.kind not in REAL_KINDS:
        got = f"an array of dtype {a.dtype}" if is_array(a) else type(a).__name__
        raise TypeError(f"{name} must be a NumPy or CuPy array of real numbers; got {got}")
    if isinstance(a, np.ndarray) and type(a) is not np.ndarray:
        convert = f"np.ma.filled({name}, value)" if isinstance(a, np.ma.MaskedArray) else f"np.asarray({name})"
        raise TypeError(f"{name} must be a plain NumPy or CuPy array; got the ndarray subclass "
                        f"{type(a).__module__}.{type(a).__qualname__} ({convert} converts it)")
    return a


def matrix(a, name: str):
    """``a`` itself when it is a 2-D array of real numbers."""
    if array(a, name).ndim != 2:
        raise ValueError(f"{name} must be 2-D; got shape {a.shape}")
    return a


def floating(a):
    """``a`` when it is float32 or float64; else a float64 copy: integers and bools as NumPy's math
    promotes them, float16 because our kernels take float and double only."""
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


def one_device(**arrays):
    """All of ``arrays`` on one device (the host, or one GPU)."""
    devices = {name: backend_of(a).device for name, a in arrays.items()}
    if len(set(devices.values())) > 1:
        placed = ", ".join(f"{name} on {device}" for name, device in devices.items())
        raise ValueError(f"{', '.join(arrays)} must be on one device; got {placed}")


def linear_step(A, W, b, names=("A", "W", "b")):
    """A (n[l-1], m), W (n[l], n[l-1]) and b (n[l], 1) on one device; ``names`` as the caller calls them."""
    matrix(A, names[0])
    _layer(W, b, A.shape[0], f"{names[0]} {A.shape}", names[1], names[2])
    one_device(**dict(zip(names, (A, W, b))))


def model(X, parameters) -> int:
    """L, once X (n[0], m) and ``parameters`` W1, b1, ..., WL, bL chain and share X's device."""
    L = layer_count(parameters)
    matrix(X, "X")
    rows, source = X.shape[0], f"X {X.shape}"
    for l in range(1, L + 1):
        W = parameters[f"W{l}"]
        _layer(W, parameters[f"b{l}"], rows, source, f"W{l}", f"b{l}")
        rows, source = W.shape[0], f"A{l} ({W.shape[0]}, m)"
    one_device(X=X, **parameters)
    return L


def _layer(W, b, rows: int, source: str, W_name: str, b_name: str):
    """W (n[l], rows) and b (n[l], 1); ``source`` names what the ``rows`` are the rows of."""
    matrix(W, W_name)
    array(b, b_name)
    if W.shape[1] != rows:
        raise ValueError(f"{W_name} of shape {W.shape} needs {rows} columns, one per row of {source}")
    if b.shape != (W.shape[0], 1):
        raise ValueError(f"{b_name} must have shape ({W.shape[0]}, 1), one entry per row of {W_name}; got {b.shape}")


def same_shape(a, name: str, like, like_name: str):
    """``a`` shaped like ``like``."""
    if array(a, name).shape != like.shape:
        raise ValueError(f"{name} must have the shape of {like_name}, {like.shape}; got {a.shape}")


def labels(Y, name: str = "Y"):
    """Y as an array of real numbers: an array passes through, a list (as the notebooks pass) becomes NumPy."""
    if not is_array(Y):
        try:
            Y = np.asarray(Y)
        except (TypeError, ValueError):
            pass
    return array(Y, name)


def labels_for(Y, AL, name: str = "Y"):
    """Y holds one label per entry of AL: AL's shape, or its size in another shape such as (m,)."""
    if labels(Y, name).size != AL.size:
        raise ValueError(f"{name} must hold one label per entry of AL {AL.shape}; got shape {np.shape(Y)}")


def layer_count(parameters, name: str = "parameters") -> int:
    """L for a dict holding exactly W1, b1, ..., WL, bL with L >= 1."""
    if not isinstance(parameters, dict):
        raise TypeError(f"{name} must be a dict {{'W1': ..., 'b1': ..., ...}}; got {type(parameters).__name__}")
    L = len(parameters) // 2
    expected = {f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb"}
    if L < 1 or set(parameters) != expected:
        raise ValueError(f"{name} must hold exactly W1, b1, ..., WL, bL; got keys {sorted(parameters)}")
    return L


def linear_cache(cache, name: str = "cache"):
    """``cache`` is the (A_prev, W, b) that :func:`~deepnet_gpu.course.linear_forward` returns."""
    if not isinstance(cache, (tuple, list)) or len(cache) != 3:
        raise TypeError(f"{name} must be the (A_prev, W, b) linear cache of linear_forward; got {_describe(cache)}")
    linear_step(*cache, names=(f"{name}[0] (A_prev)", f"{name}[1] (W)", f"{name}[2] (b)"))
    return cache


def activation_cache(cache, name: str = "cache"):
    """``cache`` is the ((A_prev, W, b), Z) that :func:`~deepnet_gpu.course.linear_activation_forward` returns."""
    if not isinstance(cache, (tuple, list)) or len(cache) != 2:
        raise TypeError(f"{name} must be the ((A_prev, W, b), Z) cache of linear_activation_forward; got {_describe(cache)}")
    A_prev, W, _ = linear_cache(cache[0], f"{name}[0]")
    Z = matrix(cache[1], f"{name}[1] (Z)")
    if Z.shape != (W.shape[0], A_prev.shape[1]):
        raise ValueError(f"{name}[1] (Z) must have shape {(W.shape[0], A_prev.shape[1])}, W's rows by A_prev's columns; "
                         f"got {Z.shape}")
    return cache


def training_data(X, Y, layers_dims):
    """X (n[0], m) and Y of n[L]·m targets (shape (n[L], m) or (m,)), finite, on one device.

    Y's values are not restricted to 0 and 1: the course's own tests train on randn targets.
    """
    check_X(matrix(X, "X"), layers_dims[0], "X", n_x_named=f"layers_dims[0] = {layers_dims[0]}")
    Y = labels(Y, "Y")
    if Y.size != layers_dims[-1] * X.shape[1]:
        raise ValueError(f"Y must hold {layers_dims[-1]} label(s) for each of X's {X.shape[1]} examples; got shape {Y.shape}")
    one_device(X=X, Y=Y)
    xp = backend_of(X).xp
    for name, a in (("X", X), ("Y", Y)):
        if not bool(xp.isfinite(a).all()):
            raise ValueError(f"{name} contains NaN or Inf")


def _describe(value) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return type(value).__name__

"""Argument checks that run before any work starts.

Each check names the argument, says what was expected and what came, and raises ``ValueError``
(a wrong value) or ``TypeError`` (a wrong kind of object). Checks never modify their inputs.
"""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

from .backend import backend_of, is_array

DTYPES = ("float32", "float64")
REAL_KINDS = "biuf"
"""The dtype kinds of real numbers: bool, signed and unsigned integer, float."""


COLUMN_SUM_TOLERANCE = 1e-3
"""How far a column of softmax probability targets may sum from 1. float16 probabilities stay
within it, and so do probabilities rounded to 3 decimals over up to 3 classes (4 decimals over
up to 20): k values rounded to d decimals move the sum by at most k/2 · 10**-d."""

ROUNDING_SLACK = 1e-6
"""Added to :data:`COLUMN_SUM_TOLERANCE`: a sum such as 0.999 lies a few ulps either side of it in
binary, and more after a cast to float32 (at most 6e-8 for a column summing to 1)."""

SEED_LIMIT = 2**32
"""Seeds are below 2**32, the bound of the course initializers' legacy ``RandomState``."""


def check_layer_dims(layer_dims) -> tuple:
    """``layer_dims`` = [n0, n1, ..., nL] with L >= 1 and every n[l] a positive integer."""
    if isinstance(layer_dims, (str, bytes, dict, set, frozenset)):
        dims = None
    else:
        try:
            dims = list(layer_dims)
        except TypeError:
            dims = None
    if dims is None:
        raise TypeError(f"layer_dims must be a sequence of positive integers [n0, n1, ..., nL]; got {layer_dims!r}")
    if len(dims) < 2:
        raise ValueError(f"layer_dims needs at least two entries (input and output sizes); got {dims!r}")
    for l, n in enumerate(dims):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"layer_dims[{l}] must be a positive integer; got {n!r} in {dims!r}")
    return tuple(int(n) for n in dims)


def check_dtype(dtype) -> np.dtype:
    """float32 or float64, given as a name or a NumPy dtype (not None, which NumPy reads as float64)."""
    try:
        resolved = None if dtype is None else np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    return resolved


def _real(value) -> float:
    """A real number as a float; one beyond float's range (an int such as 10**400) as ±inf."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _described(value) -> str:
    """``repr(value)``, but an integer beyond float's range by its size: its repr would run to
    hundreds of digits, and past 4300 Python refuses to write it."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)) \
            and abs(int(value)).bit_length() > 1024:
        sign = "-" if value < 0 else ""
        return f"an integer of about {sign}10**{int(abs(int(value)).bit_length() * math.log10(2))}"
    return repr(value)


def check_positive_finite(value, name: str) -> float:
    """A real number > 0 and finite (a learning rate, an epsilon)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive finite number; got {value!r}")
    real = _real(value)
    if not (math.isfinite(real) and real > 0):
        raise ValueError(f"{name} must be a positive finite number; got {_described(value)}")
    return real


def check_seed(seed):
    """None, or an integer in [0, 2**32)."""
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral)
                             or not 0 <= seed < SEED_LIMIT):
        raise ValueError(f"seed must be None or an integer in [0, 2**32); got {_described(seed)}")
    return None if seed is None else int(seed)


def check_leaky_slope(value) -> float:
    """The leaky ReLU's slope for z < 0: a real number in [0, 1)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"leaky_slope must be a number in [0, 1); got {value!r}")
    real = _real(value)
    if not (math.isfinite(real) and 0.0 <= real < 1.0):
        raise ValueError(f"leaky_slope must be a number in [0, 1); got {_described(value)}")
    return real


def check_learning_rate_fits(learning_rate: float, dtype: np.dtype):
    """A learning rate that is still finite, and not zero, once cast to the parameters' ``dtype``."""
    limit = float(np.finfo(dtype).max)
    if learning_rate > limit:
        raise ValueError(f"learning_rate must be at most {limit:.4g}, the largest {dtype.name}; got {learning_rate!r}")
    if dtype.type(learning_rate) == 0:
        smallest = float(np.finfo(dtype).smallest_subnormal)
        raise ValueError(f"learning_rate must be at least {smallest:.4g}, the smallest positive {dtype.name}: "
                         f"{learning_rate!r} rounds to 0 there")


def check_path(path, name: str = "path"):
    """A file path: a str or ``os.PathLike`` (not an int, which ``open`` would take for a file
    descriptor, writing into or reading from whatever file it is and closing it)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a file path (str or os.PathLike); got {path!r}")
    return path


def check_count(value, name: str, minimum: int) -> int:
    """An integer >= ``minimum`` (epochs >= 0, batch_size >= 1, print_every >= 0)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {_described(value)}")
    return int(value)


def real_array(a, name: str):
    """``a`` as a NumPy or CuPy array in its own dtype, which must hold real numbers (bool, int, float).

    NumPy arrays and CuPy arrays pass through; anything else NumPy reads (nested lists, scalars,
    a pandas DataFrame, a PyTorch CPU tensor) becomes a NumPy array, and what it reads only as an
    object (None, a dict) is named by its type. Complex values, strings and objects are refused
    rather than cut or parsed, and so is a masked array with masked entries, whose hidden values
    NumPy would compute with.
    """
    if not is_array(a):
        try:
            array = np.asarray(a)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise TypeError(f"{name} must be a numeric array; got {type(a).__name__} ({exc})") from None
        if array.dtype == object and not isinstance(a, (list, tuple)):
            raise TypeError(f"{name} must be a numeric array; got {type(a).__name__}")
        a = array
    if a.dtype.kind not in REAL_KINDS:
        raise TypeError(f"{name} must be a numeric array of real numbers; got dtype {a.dtype}")
    masked = int(np.ma.getmaskarray(a).sum()) if isinstance(a, np.ma.MaskedArray) else 0
    if masked:
        raise ValueError(f"{name} is a masked array with masked entries ({masked} of {a.size}), whose hidden values "
                         f"would be computed with; fill them first (np.ma.filled)")
    return a


def finite_on(backend, a, dtype, name: str):
    """``a`` (from :func:`real_array`) on ``backend`` in ``dtype``, every entry finite there.

    NaN and Inf are refused, and so are finite values beyond ``dtype``'s range, which the cast
    would turn into Inf: the message tells the two apart.
    """
    with np.errstate(over="ignore"):
        cast = backend.asarray(a, dtype=dtype)
    if bool(backend.xp.isfinite(cast).all()):
        return cast
    source = backend_of(a).xp
    if bool(source.isfinite(a).all()):
        kind = np.dtype(dtype).name
        largest = np.format_float_scientific(backend_of(a).to_numpy(source.abs(a).max())[()], precision=3, trim="-")
        raise ValueError(f"{name} has values beyond the {kind} range (largest magnitude {largest}; "
                         f"{kind} holds up to {float(np.finfo(dtype).max):.4g})")
    raise ValueError(f"{name} contains NaN or Inf")


def check_X(X, n_x: int, name: str = "X", n_x_named: str | None = None):
    """X of shape (n_x, m), m >= 1 (its entries were checked finite by :func:`finite_on`).

    ``n_x_named`` is how the messages name the feature count (``n_x=3`` unless given)."""
    n_x_named = n_x_named or f"n_x={n_x}"
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape ({n_x_named}, m), examples as columns; got shape {X.shape}")
    if X.shape[0] != n_x:
        hint = " (examples as columns: transpose it?)" if X.shape[1] == n_x else ""
        raise ValueError(f"{name} must have {n_x_named} rows (features); got shape {X.shape}{hint}")
    if X.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one example (column); got shape {X.shape}")
    return X


def encode_Y(Y, m: int, n_y: int, output_activation: str, backend, dtype, name: str = "Y", x_name: str = "X"):
    """The targets as an (n_y, m) array of ``dtype``: Y itself, or one-hot columns from class labels.

    sigmoid: 0/1 labels, (n_y, m), or (m,) when n_y = 1. softmax: one-hot or probability
    columns (n_y, m), or integer class labels in [0, n_y) of shape (1, m) or (m,).
    linear: (n_y, m), or (m,) when n_y = 1. Y comes from :func:`finite_on`, so it is finite.
    ``x_name`` names the features whose m examples Y must match. Messages give Y's shape as it came.
    """
    xp = backend.xp
    given = Y.shape
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if Y.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_y={n_y}, m) or 1-D (m,); got shape {given}")
    if Y.shape[1] != m:
        hint = " (examples as columns: transpose it?)" if Y.shape[0] == m and len(given) == 2 else ""
        raise ValueError(f"{name} must hold m={m} examples (columns), as {x_name} does; got shape {given}{hint}")
    if output_activation == "softmax" and Y.shape[0] == 1 and n_y > 1:
        return _one_hot(Y, n_y, backend, dtype, name)
    if Y.shape[0] != n_y:
        raise ValueError(f"{name} must have n_y={n_y} rows (the output layer's size); got shape {given}")
    if output_activation == "sigmoid" and not bool(((Y == 0) | (Y == 1)).all()):
        raise ValueError(f"{name} must hold labels 0 or 1 for a sigmoid output; got values {_sample_bad(Y, (Y != 0) & (Y != 1), backend)}")
    if output_activation == "softmax":
        return _probability_columns(Y, backend, dtype, name)
    return xp.ascontiguousarray(Y, dtype=dtype)


def _probability_columns(Y, backend, dtype, name: str):
    """Softmax targets (n_y, m): entries in [0, 1], each column summing to 1 within
    :data:`COLUMN_SUM_TOLERANCE`, returned divided by their sums.

    The output gradient A - Y is the gradient of -Σ y·log(a) only where Σ y = 1; dividing by the
    sums makes the cost and the gradient agree exactly for targets rounded on the way in
    (probabilities written to a few decimals, float16 ones).
    """
    xp = backend.xp
    expected = f"{name} of shape {Y.shape} must be one-hot (or probability) columns summing to 1 for a softmax output, " \
               "or class labels of shape (1, m)"
    outside = (Y < 0) | (Y > 1)
    if bool(outside.any()):
        raise ValueError(f"{expected}; got values {_sample_bad(Y, outside, backend)}")
    column_sums = Y.sum(axis=0, dtype=np.float64)
    worst = int(xp.argmax(xp.abs(column_sums - 1)))
    if abs(float(column_sums[worst]) - 1) > COLUMN_SUM_TOLERANCE + ROUNDING_SLACK:
        raise ValueError(f"{expected}; column {worst} sums to {float(column_sums[worst]):.7g} "
                         f"(allowed: 1 ± {COLUMN_SUM_TOLERANCE:g})")
    return xp.ascontiguousarray(Y / column_sums, dtype=dtype)


def _one_hot(labels, n_y: int, backend, dtype, name: str):
    xp = backend.xp
    labels = labels.reshape(-1)
    bad = (labels != xp.floor(labels)) | (labels < 0) | (labels >= n_y)
    if bool(bad.any()):
        raise ValueError(f"{name} class labels must be integers in [0, {n_y}); got values {_sample_bad(labels, bad, backend)}")
    m = labels.shape[0]
    Y = xp.zeros((n_y, m), dtype=dtype)
    Y[labels.astype(xp.int64), xp.arange(m)] = 1
    return Y


def _sample_bad(Y, bad, backend) -> str:
    """Up to five of the values of ``Y`` where ``bad``, each as the shortest decimal its dtype reads back."""
    values = backend.to_numpy(backend.xp.unique(Y[bad])[:5])
    return ", ".join(str(v) for v in values)

"""Argument checks that run before any work starts.

Each check names the argument, says what was expected and what came, and raises ``ValueError``
(a wrong value) or ``TypeError`` (a wrong kind of object). Checks never modify their inputs.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

DTYPES = ("float32", "float64")


def check_layer_dims(layer_dims) -> tuple:
    """``layer_dims`` = [n0, n1, ..., nL] with L >= 1 and every n[l] a positive integer."""
    try:
        dims = list(layer_dims)
    except TypeError:
        raise TypeError(f"layer_dims must be a sequence of positive integers [n0, n1, ..., nL]; got {layer_dims!r}") from None
    if len(dims) < 2:
        raise ValueError(f"layer_dims needs at least two entries (input and output sizes); got {dims!r}")
    for l, n in enumerate(dims):
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"layer_dims[{l}] must be a positive integer; got {n!r} in {dims!r}")
    return tuple(int(n) for n in dims)


def check_dtype(dtype) -> np.dtype:
    """float32 or float64, given as a name or a NumPy dtype."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.name not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
    return resolved


def check_positive_finite(value, name: str) -> float:
    """A real number > 0 and finite (a learning rate, an epsilon)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive finite number; got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number; got {value!r}")
    return float(value)


def check_count(value, name: str, minimum: int) -> int:
    """An integer >= ``minimum`` (epochs >= 0, batch_size >= 1, print_every >= 0)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_X(X, n_x: int, backend, name: str = "X"):
    """X of shape (n_x, m), m >= 1, every entry finite."""
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D of shape (n_x={n_x}, m), examples as columns; got shape {X.shape}")
    if X.shape[0] != n_x:
        hint = " (examples as columns: transpose it?)" if X.shape[1] == n_x else ""
        raise ValueError(f"{name} must have n_x={n_x} rows (features); got shape {X.shape}{hint}")
    if X.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one example (column); got shape {X.shape}")
    if not bool(backend.xp.isfinite(X).all()):
        raise ValueError(f"{name} contains NaN or Inf")
    return X


def encode_Y(Y, m: int, n_y: int, output_activation: str, backend, dtype, name: str = "Y"):
    """The targets as an (n_y, m) array of ``dtype``: Y itself, or one-hot columns from class labels.

    sigmoid: 0/1 labels, (n_y, m), or (m,) when n_y = 1. softmax: one-hot or probability
    columns (n_y, m), or integer class labels in [0, n_y) of shape (1, m) or (m,).
    linear: finite targets, (n_y, m), or (m,) when n_y = 1.
    """
    xp = backend.xp
    if Y.ndim == 1:
        Y = Y.reshape(1, -1)
    if Y.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_y={n_y}, m) or 1-D (m,); got shape {Y.shape}")
    if Y.shape[1] != m:
        raise ValueError(f"{name} must hold m={m} examples (columns), as X does; got shape {Y.shape}")
    if not bool(xp.isfinite(Y).all()):
        raise ValueError(f"{name} contains NaN or Inf")
    if output_activation == "softmax" and Y.shape[0] == 1 and n_y > 1:
        return _one_hot(Y, n_y, backend, dtype, name)
    if Y.shape[0] != n_y:
        raise ValueError(f"{name} must have n_y={n_y} rows (the output layer's size); got shape {Y.shape}")
    if output_activation == "sigmoid" and not bool(((Y == 0) | (Y == 1)).all()):
        raise ValueError(f"{name} must hold labels 0 or 1 for a sigmoid output; got values {_sample_bad(Y, (Y != 0) & (Y != 1), backend)}")
    if output_activation == "softmax":
        column_sums = Y.sum(axis=0)
        if not bool(((Y >= 0) & (Y <= 1)).all()) or not bool((xp.abs(column_sums - 1) <= 1e-3).all()):
            raise ValueError(
                f"{name} of shape {Y.shape} must be one-hot (or probability) columns summing to 1 for a softmax output, "
                f"or class labels of shape (1, m)"
            )
    return xp.ascontiguousarray(Y, dtype=dtype)


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
    values = backend.to_numpy(backend.xp.unique(Y[bad])[:5])
    return ", ".join(repr(float(v)) for v in values)

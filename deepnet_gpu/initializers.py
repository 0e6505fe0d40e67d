"""Initial weights W[l] of shape (n[l], n[l-1]); biases b[l] start at zero and draw nothing.

============== ====================================== ============================================
name           W[l] =                                 random stream
============== ====================================== ============================================
he             randn · sqrt(2 / n[l-1])               ``np.random.default_rng(seed)``
xavier         randn · sqrt(1 / n[l-1])               ``np.random.default_rng(seed)``
course_small   randn · 0.01                           legacy ``np.random.RandomState(seed)``
course_scaled  randn / sqrt(n[l-1])                   legacy ``np.random.RandomState(seed)``
============== ====================================== ============================================

The course's two draw W1, W2, ... in that order from the legacy stream with ``randn``, exactly
as the assignment's ``np.random.seed(seed)`` followed by ``np.random.randn`` does, so a seed
reproduces its numbers bit for bit. Weights are always drawn on the host in float64, so the
CPU and the GPU start from the same numbers.
"""

from __future__ import annotations

import numpy as np

INITIALIZERS = ("he", "xavier", "course_small", "course_scaled")


def check_initializer(name) -> str:
    """``name`` if it is a known initializer; a ``ValueError`` listing the valid ones otherwise."""
    if not isinstance(name, str) or name not in INITIALIZERS:
        raise ValueError(f"init must be one of {', '.join(INITIALIZERS)}; got {name!r}")
    return name


def initialize(layer_dims, name: str, seed=None) -> dict:
    """Parameters ``{"W1": ..., "b1": ..., ...}`` as float64 NumPy arrays for ``layer_dims`` = [n0, n1, ..., nL]."""
    check_initializer(name)
    if name.startswith("course"):
        randn = np.random.RandomState(seed).randn
    else:
        randn = np.random.default_rng(seed).standard_normal
    parameters = {}
    for l in range(1, len(layer_dims)):
        n_out, n_in = layer_dims[l], layer_dims[l - 1]
        W = randn(n_out, n_in) if name.startswith("course") else randn((n_out, n_in))
        if name == "he":
            W *= np.sqrt(2.0 / n_in)
        elif name == "xavier":
            W *= np.sqrt(1.0 / n_in)
        elif name == "course_small":
            W *= 0.01
        else:
            W /= np.sqrt(n_in)
        parameters[f"W{l}"] = W
        parameters[f"b{l}"] = np.zeros((n_out, 1))
    return parameters

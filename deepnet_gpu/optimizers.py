"""Update rules, kept apart from the network so that others (momentum, Adam) plug in beside SGD.

An optimizer sees only the flat parameter buffer θ and the flat gradient buffer dθ of the same
layout (see :mod:`deepnet_gpu.layout`), and steps every parameter with one kernel launch.
"""

from __future__ import annotations

from .validation import check_positive_finite


class SGD:
    """Gradient descent: θ := θ - α·dθ, for every W[l] and b[l] at once."""

    def __init__(self, learning_rate: float):
        self.learning_rate = check_positive_finite(learning_rate, "learning_rate")

    def __repr__(self):
        return f"SGD(learning_rate={self.learning_rate!r})"

    def step(self, backend, params, grads, guard):
        """Apply one update in place, unless the 0-d device array ``guard`` is not finite (see ``accumulate_cost``)."""
        backend.ops.sgd_update(params, grads, self.learning_rate, guard)

"""Losses J(A[L], Y) and the output layer's gradient.

==========================  ==============  =================================================
name                        output layer    J = (1/m) Σ_examples of
==========================  ==============  =================================================
binary_cross_entropy        sigmoid         -(y log a + (1 - y) log(1 - a)), summed over rows
categorical_cross_entropy   softmax         -Σ_i y_i log a_i
squared_error               linear          ½ Σ_i (a_i - y_i)²
==========================  ==============  =================================================

Each loss is paired with its output activation, so the output layer's gradient is always
dZ[L] = A[L] - Y, computed directly rather than through dA[L] and g'. (The 1/m of the mean
is applied once, in dW = (1/m) dZ·A_prevᵀ and db = (1/m) Σ dZ.) The cross-entropies are
evaluated from the logits Z[L], which keeps them finite where A[L] rounds to 0 or 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from .numpy_kernels import BINARY_CROSS_ENTROPY, CATEGORICAL_CROSS_ENTROPY, SQUARED_ERROR


@dataclass(frozen=True)
class Loss:
    """A loss: its name, the kernels' code, and the output activation it is paired with."""

    name: str
    code: int
    output_activation: str

    def terms(self, ops, ZL, AL, Y, out):
        """The per-example losses into ``out`` (1, m); the cost is their mean."""
        return ops.loss_terms(ZL, AL, Y, self.code, out)

    def gradient(self, ops, AL, Y, dZ):
        """dZ[L] = A[L] - Y."""
        return ops.output_gradient(AL, Y, dZ)


LOSSES = {
    "binary_cross_entropy": Loss("binary_cross_entropy", BINARY_CROSS_ENTROPY, "sigmoid"),
    "categorical_cross_entropy": Loss("categorical_cross_entropy", CATEGORICAL_CROSS_ENTROPY, "softmax"),
    "squared_error": Loss("squared_error", SQUARED_ERROR, "linear"),
}
_DEFAULT_FOR_OUTPUT = {loss.output_activation: loss for loss in LOSSES.values()}


def get_loss(name, output_activation: str) -> Loss:
    """The loss called ``name``, or the one that follows ``output_activation`` when ``name`` is None.

    A loss must be the one paired with the output activation, since dZ[L] = A[L] - Y holds only
    for those pairs.
    """
    if name is None:
        return _DEFAULT_FOR_OUTPUT[output_activation]
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)} or None; got {name!r}")
    loss = LOSSES[name]
    if loss.output_activation != output_activation:
        raise ValueError(
            f"loss={name!r} needs output_activation={loss.output_activation!r}; got output_activation={output_activation!r}"
        )
    return loss

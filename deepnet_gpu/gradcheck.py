"""Gradient checking by central differences, as the course teaches it, in float64 on the CPU.

For every parameter θ_i:  gradapprox_i = (J(θ + ε e_i) - J(θ - ε e_i)) / (2ε),
and the check returns  ‖grad - gradapprox‖₂ / (‖grad‖₂ + ‖gradapprox‖₂),
where grad is backpropagation's gradient. Below about 1e-7 the two agree.
"""

from __future__ import annotations

import numpy as np

from .validation import check_positive_finite


def gradcheck(net, X, Y, epsilon: float = 1e-7) -> float:
    """The relative difference between ``net``'s backprop gradient and central differences at X, Y.

    ``net`` is left untouched: the check runs on a float64 CPU copy of it. It costs two forward
    passes per parameter, so use it on small networks and batches.
    """
    from .network import DeepNet

    if not isinstance(net, DeepNet):
        raise TypeError(f"net must be a DeepNet; got {type(net).__name__}")
    epsilon = check_positive_finite(epsilon, "epsilon")
    probe = DeepNet(net.layer_dims, hidden_activation=net.hidden_activations, output_activation=net.output_activation,
                    loss=net.loss.name, device="cpu", dtype="float64", leaky_slope=net.leaky_slope)
    probe.set_parameters(net.parameters)
    X, Y = probe._inputs(X, Y)
    grads = probe.gradients(X, Y)
    grad = probe._flatten({name[1:]: value for name, value in grads.items()})
    theta = probe._flat
    approx = np.empty_like(theta)
    cost = np.zeros(())
    for i in range(theta.size):
        original = theta[i]
        theta[i] = original + epsilon
        J_plus = float(probe._cost_into(X, Y, cost))
        theta[i] = original - epsilon
        J_minus = float(probe._cost_into(X, Y, cost))
        theta[i] = original
        approx[i] = (J_plus - J_minus) / (2 * epsilon)
    denominator = np.linalg.norm(grad) + np.linalg.norm(approx)
    return float(np.linalg.norm(grad - approx) / denominator) if denominator > 0 else 0.0

"""Each fused elementwise kernel of the backward pass and the update, through ``backend.ops``.

activation_backward_from_a: dZ = dA * g'(Z) from the layer's output A (what training runs);
activation_backward_from_z: the same from Z (the course's caches); output_gradient: dZ[L] = A[L] - Y;
sgd_update: θ -= α·dθ over a flat buffer. Outputs are separate buffers, so inputs stay fixed.
"""

import numpy as np
import pytest
from bench_config import sizes

from deepnet_gpu.numpy_kernels import LEAKY_RELU, LINEAR, RELU, SIGMOID, TANH

ACTIVATIONS = {"linear": LINEAR, "relu": RELU, "leaky_relu": LEAKY_RELU, "sigmoid": SIGMOID, "tanh": TANH}
ELEMENTS = sizes([1 << 16, 1 << 20], [1 << 24, 1 << 26])
ROWS = 256


def arrays(backend, n, count):
    """``count`` (ROWS, n/ROWS) float32 arrays on the device, standard normal, from seed 0."""
    rng = np.random.default_rng(0)
    return [backend.asarray(rng.standard_normal((ROWS, n // ROWS), dtype=np.float32)) for _ in range(count)]


@pytest.mark.parametrize("n", ELEMENTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("source", ["from_a", "from_z"])
def test_activation_backward(backend, timed, source, activation, n):
    dA, Z, dZ = arrays(backend, n, 3)
    code = ACTIVATIONS[activation]
    if source == "from_a":
        A = backend.ops.activation_forward(Z, backend.xp.empty_like(Z), code, 0.01)
        timed(lambda: backend.ops.activation_backward_from_a(dA, A, dZ, code, 0.01))
    else:
        timed(lambda: backend.ops.activation_backward_from_z(dA, Z, dZ, code, 0.01))
    assert bool(backend.xp.isfinite(dZ).all())


@pytest.mark.parametrize("n", ELEMENTS)
def test_output_gradient(backend, timed, n):
    A, Y, dZ = arrays(backend, n, 3)
    timed(lambda: backend.ops.output_gradient(A, Y, dZ))
    assert bool(backend.xp.isfinite(dZ).all())


@pytest.mark.parametrize("n", ELEMENTS)
def test_sgd_update(backend, timed, n):
    params, grads = (a.reshape(-1) for a in arrays(backend, n, 2))
    with backend.device_scope():
        guard = backend.xp.zeros((), np.float32)
    timed(lambda: backend.ops.sgd_update(params, grads, 1e-3, guard))
    assert bool(backend.xp.isfinite(params).all())

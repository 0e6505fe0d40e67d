"""One layer's forward pass: the GEMM Z = W·A_prev, then the fused kernel Z += b, A = g(Z) in place."""

import numpy as np
import pytest
from bench_config import sizes

from deepnet_gpu.activations import get_activation

# (n[l-1], n[l], m)
SHAPES = sizes([(256, 256, 64), (784, 512, 256)], [(784, 512, 8192), (4096, 4096, 8192)])


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_layer_forward(backend, timed, shape, activation):
    n_prev, n, m = shape
    rng = np.random.default_rng(0)
    A_prev, W, b = (backend.asarray(rng.standard_normal(s, dtype=np.float32)) for s in ((n_prev, m), (n, n_prev), (n, 1)))
    with backend.device_scope():
        Z = backend.xp.empty((n, m), np.float32)
    g = get_activation(activation, argument="activation")

    def forward():
        backend.gemm("N", "N", W, A_prev, out=Z)
        g.forward(backend.ops, Z, b, Z)

    timed(forward)
    assert bool(backend.xp.isfinite(Z).all())

"""The NumPy twins' reused buffers: results do not depend on the calls made before."""

from __future__ import annotations

import numpy as np
import pytest

from deepnet_gpu.numpy_kernels import RELU, NumpyKernels

EDGES = [np.nan, -np.inf, np.inf, -0.0, 0.0, -1e-30, 1e-30, -3.0, 2.5]


@pytest.mark.parametrize("shapes", [[(3, 7), (2, 50), (4, 3), ()], [(9,), (2, 3, 4), (1, 1)]])
def test_relu_forward_gives_maximum_with_zero_whatever_widths_and_dtypes_came_before(shapes):
    kernels = NumpyKernels()
    rng = np.random.default_rng(len(shapes))
    for shape in shapes:
        for dtype in (np.float32, np.float64, np.float32):
            Z = rng.normal(size=shape).astype(dtype)
            Z.flat[: len(EDGES)] = EDGES[: Z.size]
            expected = np.maximum(Z, 0)
            A = np.full_like(Z, 7.0)
            kernels.activation_forward(Z, A, RELU, 0.0)
            np.testing.assert_array_equal(A, expected)
            assert A.dtype == dtype
            kernels.activation_forward(Z, Z, RELU, 0.0)
            np.testing.assert_array_equal(Z, expected)


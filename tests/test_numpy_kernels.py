"""The NumPy twins where they compute a formula another way than it is written: the same values, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from deepnet_gpu.numpy_kernels import BINARY_CROSS_ENTROPY, LEAKY_RELU, RELU, SIGMOID, NumpyKernels

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


def _with_edges(rng, shape, dtype):
    values = rng.normal(size=shape).astype(dtype) * 30
    values.flat[: len(EDGES)] = EDGES
    return values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_forward_is_the_overflow_free_formula_bit_for_bit(dtype):
    Z = _with_edges(np.random.default_rng(1), (7, 40), dtype)
    e = np.exp(-np.abs(Z))
    expected = np.where(Z >= 0, dtype(1), e) / (e + dtype(1))
    A = np.empty_like(Z)
    NumpyKernels().activation_forward(Z, A, SIGMOID, 0.0)
    np.testing.assert_array_equal(A, expected)
    assert np.all((A[np.isfinite(Z)] >= 0) & (A[np.isfinite(Z)] <= 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [0.0, 0.01, 0.3, 1.0, 1.5, -0.25])
def test_leaky_relu_backward_multiplies_by_one_or_alpha_for_every_slope(dtype, alpha):
    rng = np.random.default_rng(2)
    A, dA = _with_edges(rng, (6, 30), dtype), _with_edges(rng, (6, 30), dtype)[::-1].copy()
    dZ = np.full_like(A, 7.0)
    with np.errstate(invalid="ignore"):
        expected = dA * np.where(A > 0, dtype(1), dtype(alpha))
        NumpyKernels().activation_backward_from_a(dA, A, dZ, LEAKY_RELU, alpha)
    np.testing.assert_array_equal(dZ, expected)
    assert dZ.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_keeps_the_small_losses_of_confident_right_answers(dtype):
    # y = 0 at z = -30: the loss is log1p(e^-30) = 9.36e-14, which log(1 + e^-30) would round to 0.
    Z = np.array([[-30.0, -20.0]], dtype)
    out = np.empty((1, 2), dtype)
    NumpyKernels().loss_terms(Z, None, np.zeros_like(Z), BINARY_CROSS_ENTROPY, out)
    np.testing.assert_allclose(out[0], np.log1p(np.exp([-30.0, -20.0])), rtol=1e-6)

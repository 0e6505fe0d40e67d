"""C-order GEMMs on column-major cuBLAS: the argument mapping, and the GPU backend's call of it.

The oracle is BLAS's own definition of ``<t>gemm`` on column-major buffers with leading
dimensions (``blas_gemm`` below, with BLAS's argument checks), run on the very memory the arrays
hold; ``CudaBackend.gemm`` is driven with a stand-in for CuPy's cuBLAS binding that calls that
oracle on the raw pointers it is given, so the order of the pointers, sizes and scalars is checked
too, without a GPU.
"""

from __future__ import annotations

import ctypes
import itertools
import types

import numpy as np
import pytest

from deepnet_gpu.backend import CudaBackend
from deepnet_gpu.gemm_layout import OP_N, OP_T, column_major_gemm

C_TYPES = {np.dtype(np.float32): ctypes.c_float, np.dtype(np.float64): ctypes.c_double}


def column_major(address: int, dtype, rows: int, cols: int, ld: int) -> np.ndarray:
    """The (rows, cols) column-major matrix with leading dimension ``ld`` at ``address``."""
    assert ld >= max(1, rows), f"BLAS rejects ld={ld} for {rows} rows"
    size = ld * (cols - 1) + rows if rows and cols else 0
    buffer = np.ctypeslib.as_array((C_TYPES[np.dtype(dtype)] * max(size, 1)).from_address(address))
    itemsize = np.dtype(dtype).itemsize
    return np.lib.stride_tricks.as_strided(buffer, shape=(rows, cols), strides=(itemsize, ld * itemsize))


def blas_gemm(dtype, transa, transb, m, n, k, alpha_ptr, A, lda, B, ldb, beta_ptr, C, ldc):
    """C = alpha·op(A)·op(B) + beta·C, as BLAS defines it, on raw column-major memory (C is not
    read when beta is zero)."""
    alpha = C_TYPES[np.dtype(dtype)].from_address(alpha_ptr).value
    beta = C_TYPES[np.dtype(dtype)].from_address(beta_ptr).value
    op_A = column_major(A, dtype, m, k, lda) if transa == OP_N else column_major(A, dtype, k, m, lda).T
    op_B = column_major(B, dtype, k, n, ldb) if transb == OP_N else column_major(B, dtype, n, k, ldb).T
    result = column_major(C, dtype, m, n, ldc)
    product = alpha * (op_A.astype(np.float64) @ op_B.astype(np.float64))
    result[...] = product if beta == 0 else product + beta * result


SHAPES = [(1, 1, 1), (3, 1, 5), (1, 4, 6), (7, 5, 1), (20, 209, 12), (4, 3, 2)]


def operands(transa, transb, M, N, K, dtype, seed=0):
    rng = np.random.default_rng(seed)
    op_a = rng.standard_normal((M, K)).astype(dtype)
    op_b = rng.standard_normal((K, N)).astype(dtype)
    a = np.ascontiguousarray(op_a if transa == "N" else op_a.T)
    b = np.ascontiguousarray(op_b if transb == "N" else op_b.T)
    return a, b, op_a, op_b


@pytest.mark.parametrize("transa, transb", list(itertools.product("NT", "NT")))
@pytest.mark.parametrize("M, N, K", SHAPES)
def test_the_mapping_makes_column_major_blas_compute_the_c_order_product(transa, transb, M, N, K):
    a, b, op_a, op_b = operands(transa, transb, M, N, K, np.float64)
    out = np.full((M, N), np.nan)
    args = column_major_gemm(transa, transb, a.shape, b.shape, out.shape)
    alpha, beta = np.array([0.25]), np.array([0.0])
    blas_gemm(np.float64, args.transa, args.transb, args.m, args.n, args.k, alpha.ctypes.data,
              b.ctypes.data, args.lda, a.ctypes.data, args.ldb, beta.ctypes.data, out.ctypes.data, args.ldc)
    np.testing.assert_allclose(out, 0.25 * op_a @ op_b, rtol=1e-12)


def test_the_mapping_swaps_the_operands_and_keeps_their_flags():
    args = column_major_gemm("t", "N", (5, 3), (5, 7), (3, 7))
    assert (args.transa, args.transb, args.m, args.n, args.k) == (OP_N, OP_T, 7, 3, 5)
    assert (args.lda, args.ldb, args.ldc) == (7, 3, 7)


@pytest.mark.parametrize(
    "transa, transb, a_shape, b_shape, out_shape",
    [("N", "N", (3, 4), (5, 2), (3, 2)), ("N", "T", (3, 4), (4, 2), (3, 2)), ("N", "N", (3, 4), (4, 2), (2, 3))],
)
def test_shapes_that_do_not_agree_are_named(transa, transb, a_shape, b_shape, out_shape):
    with pytest.raises(ValueError, match="gemm shapes do not agree"):
        column_major_gemm(transa, transb, a_shape, b_shape, out_shape)


class HostArray:
    """Stands in for a CuPy array: a NumPy array seen through shape, dtype, flags and ``data.ptr``."""

    def __init__(self, array: np.ndarray):
        self.array = array
        self.shape, self.dtype, self.flags = array.shape, array.dtype, array.flags
        self.data = types.SimpleNamespace(ptr=array.ctypes.data)


class FakeCublas:
    """CuPy's cuBLAS binding, as far as CudaBackend.gemm uses it, running the BLAS oracle."""

    CUBLAS_POINTER_MODE_HOST = 0
    CUBLAS_POINTER_MODE_DEVICE = 1

    def __init__(self):
        self.pointer_mode = self.CUBLAS_POINTER_MODE_DEVICE
        self.math_mode = 0
        self.math_modes_seen = []
        self.calls = []

    def setPointerMode(self, handle, mode):
        self.pointer_mode = mode

    def getMathMode(self, handle):
        return self.math_mode

    def setMathMode(self, handle, mode):
        self.math_mode = mode

    def _gemm(self, dtype, handle, *args):
        assert self.pointer_mode == self.CUBLAS_POINTER_MODE_HOST, "host scalars need the host pointer mode"
        self.calls.append(dtype)
        self.math_modes_seen.append(self.math_mode)
        blas_gemm(dtype, *args)

    def sgemm(self, handle, *args):
        self._gemm(np.float32, handle, *args)

    def dgemm(self, handle, *args):
        self._gemm(np.float64, handle, *args)


def fake_cuda_backend(tf32=False):
    gpu = object.__new__(CudaBackend)
    gpu.tf32 = tf32
    gpu._libcublas = FakeCublas()
    gpu._cupy = types.SimpleNamespace(cuda=types.SimpleNamespace(device=types.SimpleNamespace(get_cublas_handle=lambda: 1)))
    gpu._cublas = types.SimpleNamespace(gemm=lambda *args, **kwargs: pytest.fail("C-contiguous operands took the slow path"))
    return gpu


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transa, transb", list(itertools.product("NT", "NT")))
@pytest.mark.parametrize("M, N, K", SHAPES)
def test_the_gpu_backend_passes_cublas_the_right_pointers_sizes_and_scalars(dtype, transa, transb, M, N, K):
    gpu = fake_cuda_backend()
    a, b, op_a, op_b = operands(transa, transb, M, N, K, dtype, seed=M * N * K)
    out = np.full((M, N), np.nan, dtype=dtype)
    alpha = 1.0 / 209
    returned = gpu.gemm(transa, transb, HostArray(a), HostArray(b), HostArray(out), alpha=alpha)
    assert returned.array is out
    expected = alpha * (op_a.astype(np.float64) @ op_b.astype(np.float64))
    np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-7)
    assert gpu._libcublas.calls == [dtype]


def test_tf32_is_set_for_float32_gemms_only_and_restored():
    gpu = fake_cuda_backend(tf32=True)
    for dtype in (np.float32, np.float64):
        a, b, _, _ = operands("N", "N", 3, 4, 5, dtype)
        gpu.gemm("N", "N", HostArray(a), HostArray(b), HostArray(np.empty((3, 4), dtype)))
    assert gpu._libcublas.math_modes_seen == [3, 0]
    assert gpu._libcublas.math_mode == 0


def test_other_layouts_go_through_cupys_gemm():
    gpu = fake_cuda_backend()
    seen = []
    gpu._cublas = types.SimpleNamespace(
        gemm=lambda *args, **kwargs: seen.append((args[:2], kwargs["alpha"], kwargs.get("beta", 0.0)))
    )
    a = np.asfortranarray(np.ones((3, 5)))
    gpu.gemm("N", "N", HostArray(a), HostArray(np.ones((5, 2))), HostArray(np.empty((3, 2))), alpha=0.5)
    assert seen == [(("N", "N"), 0.5, 0.0)] and gpu._libcublas.calls == []


def test_dtypes_without_a_direct_gemm_go_through_cupys_gemm():
    gpu = fake_cuda_backend()
    seen = []
    gpu._cublas = types.SimpleNamespace(gemm=lambda *args, **kwargs: seen.append(kwargs["out"].dtype))
    a, b = (HostArray(np.ones((2, 2), np.float16)) for _ in range(2))
    gpu.gemm("N", "N", a, b, HostArray(np.empty((2, 2), np.float16)))
    assert seen == [np.float16] and gpu._libcublas.calls == []


def test_operands_of_different_dtypes_are_refused():
    gpu = fake_cuda_backend()
    with pytest.raises(TypeError, match="share one dtype"):
        gpu.gemm("N", "N", HostArray(np.ones((2, 2))), HostArray(np.ones((2, 2), np.float32)),
                 HostArray(np.empty((2, 2))))


def test_the_op_codes_are_cublas_own_values():
    # cublas_api.h: CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 (CUBLAS_OP_C = 2); the fake cuBLAS above only compares them.
    assert (OP_N, OP_T) == (0, 1)


def test_leading_dimensions_stay_at_least_one_for_empty_matrices():
    args = column_major_gemm("N", "N", (3, 0), (0, 0), (3, 0))
    assert (args.m, args.n, args.k) == (0, 3, 0)
    assert (args.lda, args.ldb, args.ldc) == (1, 1, 1)


def test_a_prepared_gemm_multiplies_the_operands_as_they_are_when_it_runs():
    gpu = fake_cuda_backend(tf32=True)
    a, b, _, _ = operands("N", "T", 3, 4, 5, np.float32)
    out = np.empty((3, 4), np.float32)
    call = gpu.prepared_gemm("N", "T", HostArray(a), HostArray(b), HostArray(out), alpha=0.5)
    assert gpu._libcublas.calls == [] and gpu._libcublas.math_modes_seen == []
    for scale in (1.0, -2.0):
        a *= scale
        call()
        np.testing.assert_allclose(out, 0.5 * (a.astype(np.float64) @ b.T.astype(np.float64)), rtol=1e-6)
    assert gpu._libcublas.math_modes_seen == [3, 3] and gpu._libcublas.math_mode == 0

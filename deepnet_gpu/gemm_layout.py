"""How a GEMM on C-order matrices maps onto column-major BLAS (cuBLAS), without copies.

To a column-major BLAS, a C-order (r, c) matrix X is the (c, r) matrix Xᵀ with leading dimension c.
So ``out = alpha · op(a) · op(b)``, with op(a) (M, K), op(b) (K, N) and out (M, N) all C-order, is
computed as outᵀ = op(b)ᵀ · op(a)ᵀ: BLAS gets b first and a second, each with its own transpose
flag unchanged (bᵀ is exactly what BLAS sees of b, so op(b)ᵀ is b as BLAS sees it when op is
"N" and its transpose when op is "T"), the sizes (N, M, K), and leading dimensions b.shape[1],
a.shape[1], N.
"""

from __future__ import annotations

from typing import NamedTuple

OP_N = 0
OP_T = 1
"""cuBLAS's ``CUBLAS_OP_N`` and ``CUBLAS_OP_T``."""

_OPS = {"N": OP_N, "T": OP_T}


class ColumnMajorGemm(NamedTuple):
    """The size arguments of ``cublas<t>gemm(handle, transa, transb, m, n, k, alpha, A, lda, B, ldb,
    beta, C, ldc)`` for a C-order GEMM; the matrices go in swapped: A is b's data, B is a's, C is
    out's."""

    transa: int
    transb: int
    m: int
    n: int
    k: int
    lda: int
    ldb: int
    ldc: int


def column_major_gemm(transa: str, transb: str, a_shape: tuple, b_shape: tuple, out_shape: tuple) -> ColumnMajorGemm:
    """The cuBLAS arguments computing ``out = op(a) · op(b)`` for C-order ``a``, ``b`` and ``out``.

    ``transa``/``transb`` are "N" or "T" (either case). Shapes must agree: op(a) is (M, K), op(b)
    (K, N), out (M, N); a ``ValueError`` says which does not. Leading dimensions are at least 1,
    as BLAS requires even of empty matrices.
    """
    op_a, op_b = _OPS[transa.upper()], _OPS[transb.upper()]
    M, K = a_shape if op_a == OP_N else a_shape[::-1]
    K_b, N = b_shape if op_b == OP_N else b_shape[::-1]
    if K_b != K or tuple(out_shape) != (M, N):
        raise ValueError(
            f"gemm shapes do not agree: op(a) is {(M, K)}, op(b) is {(K_b, N)}, out is {tuple(out_shape)}"
        )
    return ColumnMajorGemm(op_b, op_a, N, M, K, max(1, b_shape[1]), max(1, a_shape[1]), max(1, N))

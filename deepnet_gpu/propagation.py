"""Forward and backward propagation over a workspace's buffers, vectorized over the batch.

Forward, for l = 1..L (A[0] = X):
    Z[l] = W[l]·A[l-1]                       one GEMM
    Z[l] += b[l];  A[l] = g[l](Z[l])         one fused kernel
Backward:
    dZ[L] = A[L] - Y                         one kernel
    for l = L..1:
        dW[l] = (1/m) dZ[l]·A[l-1]ᵀ          one GEMM, 1/m as its alpha
        db[l] = (1/m) dZ[l]·1                one GEMM against a ones vector
        dA[l-1] = W[l]ᵀ·dZ[l]                one GEMM (l > 1)
        dZ[l-1] = dA[l-1] * g'(Z[l-1])       one fused kernel, from A[l-1]

X is normally (n0, m). A gathered mini-batch is held with examples as rows, (m, n0), and passed
with ``x_rows=True``: the GEMMs then read it transposed, never copying it.
"""

from __future__ import annotations


def forward(backend, activations, layers, X, ws, *, x_rows: bool = False):
    """Run the forward pass into ``ws``; return (Z[L], A[L]), each (n[L], m)."""
    ops = backend.ops
    A_prev, trans = X, ("T" if x_rows else "N")
    last = len(layers)
    for l, ((W, b), g) in enumerate(zip(layers, activations), start=1):
        Z = ws.ZL if l == last else ws.A[l]
        A = ws.AL if l == last else Z
        backend.gemm("N", trans, W, A_prev, out=Z)
        g.forward(ops, Z, b, A)
        A_prev, trans = A, "N"
    return ws.ZL, ws.AL


def backward(backend, activations, loss, layers, grads, X, Y, ws, *, x_rows: bool = False):
    """Run the backward pass of the forward pass last run into ``ws``; write dW[l], db[l] into ``grads``."""
    ops = backend.ops
    inv_m = 1.0 / ws.m
    L = len(layers)
    dZ = loss.gradient(ops, ws.AL, Y, ws.dZ[L])
    for l in range(L, 0, -1):
        W, _ = layers[l - 1]
        dW, db = grads[l - 1]
        if l > 1:
            backend.gemm("N", "T", dZ, ws.A[l - 1], out=dW, alpha=inv_m)
        else:
            backend.gemm("N", "N" if x_rows else "T", dZ, X, out=dW, alpha=inv_m)
        backend.gemm("N", "N", dZ, ws.ones, out=db, alpha=inv_m)
        if l > 1:
            dA_prev = backend.gemm("T", "N", W, dZ, out=ws.dZ[l - 1])
            dZ = activations[l - 2].backward(ops, dA_prev, ws.A[l - 1], dA_prev)

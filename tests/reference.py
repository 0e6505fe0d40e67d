"""An independent float64 NumPy oracle: the course's formulas written out plainly, no buffers, no kernels."""

import numpy as np


def g(name, Z, alpha=0.01):
    if name == "relu":
        return np.maximum(Z, 0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, alpha * Z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-Z))
    if name == "tanh":
        return np.tanh(Z)
    if name == "linear":
        return Z
    if name == "softmax":
        E = np.exp(Z - Z.max(axis=0))
        return E / E.sum(axis=0)
    raise ValueError(name)


def g_prime(name, Z, alpha=0.01):
    if name == "relu":
        return (Z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(Z > 0, 1.0, alpha)
    if name == "sigmoid":
        s = g("sigmoid", Z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(Z) ** 2
    if name == "linear":
        return np.ones_like(Z)
    raise ValueError(name)


def forward(params, X, hidden, output, alpha=0.01):
    """Return the caches [(A_prev, Z)] and A[L]."""
    L = len(params) // 2
    A, caches = X, []
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        caches.append((A, Z))
        A = g(output if l == L else hidden, Z, alpha)
    return caches, A


def cost(params, X, Y, hidden, output, alpha=0.01):
    _, AL = forward(params, X, hidden, output, alpha)
    m = X.shape[1]
    if output == "sigmoid":
        return float(-(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)).sum() / m)
    if output == "softmax":
        return float(-(Y * np.log(AL)).sum() / m)
    return float(0.5 * ((AL - Y) ** 2).sum() / m)


def gradients(params, X, Y, hidden, output, alpha=0.01):
    caches, AL = forward(params, X, hidden, output, alpha)
    L, m = len(caches), X.shape[1]
    grads = {}
    dZ = AL - Y
    for l in range(L, 0, -1):
        A_prev, _ = caches[l - 1]
        grads[f"dW{l}"] = dZ @ A_prev.T / m
        grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True) / m
        if l > 1:
            dA = params[f"W{l}"].T @ dZ
            dZ = dA * g_prime(hidden, caches[l - 2][1], alpha)
    return grads

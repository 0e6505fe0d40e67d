"""The course's functions: deeplearning.ai "Neural Networks and Deep Learning", week 4.

The assignments "Building your Deep Neural Network: Step by Step" and "Deep Neural Network -
Application" define these functions; here they have the same names, signatures, return values
and cache structures, so a learner's notebook code runs unchanged. They work on NumPy arrays
and on CuPy arrays alike (the backend that owns the input does the work: our CUDA kernels for
the activations, cuBLAS for the products), and they keep the input's dtype: float32 in,
float32 out. The activations compute integer and bool inputs in float64, as NumPy's math
promotes them, and float16 inputs too, which our kernels do not take; ``linear_forward`` is
the array library's own ``W @ A + b``, as the notebook's ``np.dot(W, A) + b`` is, integers
and all. Each function checks its arguments
first (:mod:`~deepnet_gpu.course_checks`): a wrong shape, a missing parameter or a mismatched
cache is named, never broadcast into a wrong result.

Notation: layer l = 1..L has n[l] units; m examples are the columns.

    Z[l] = W[l]·A[l-1] + b[l]     W[l]: (n[l], n[l-1]), b[l]: (n[l], 1), A[0] = X: (n[0], m)
    A[l] = g[l](Z[l])             ReLU for l < L, sigmoid for l = L
    J = -(1/m) Σ (Y log A[L] + (1 - Y) log(1 - A[L]))

Caches: ``linear_cache = (A_prev, W, b)``, ``activation_cache = Z``, and a layer's
``cache = (linear_cache, activation_cache)``. ``L_model_forward`` returns the list of the L
layer caches.

One deliberate difference from the notebooks: ``compute_cost`` returns a 0-d NumPy array on
the host (the notebooks' ``np.squeeze`` result) even for CuPy inputs, so costs print, compare
and plot the same on either backend.
"""

from __future__ import annotations

import numpy as np

from . import course_checks as check
from .activations import DEFAULT_LEAKY_SLOPE, activation_code
from .backend import backend_of
from .initializers import initialize
from .validation import check_count, check_layer_dims, check_positive_finite

COST_EVERY = 100
"""``two_layer_model`` and ``L_layer_model`` record the cost at iterations 0, 100, 200, ... only.

The newest notebooks append when ``i % 100 == 0 or i == num_iterations``; the second test is
never true inside ``range(num_iterations)``, and their public tests expect a single cost after 2
or 3 iterations. With ``print_cost`` they print at ``i % 100 == 0`` and at the last iteration, as
we do. Their condition, ``print_cost and i % 100 == 0 or i == num_iterations - 1``, prints the
last iteration with ``print_cost=False`` too; we print nothing then, as the argument asks.
"""


def _g(Z, code):
    """A = g(Z) into a fresh C-ordered array (the kernels write C-contiguous arrays only)."""
    Z = check.floating(Z)
    backend = backend_of(Z)
    A = backend.xp.empty_like(Z, order="C")
    backend.ops.activation_forward(Z, A, code, DEFAULT_LEAKY_SLOPE)
    return A


def _g_backward(dA, Z, code):
    """dZ = dA * g'(Z) into a fresh C-ordered array (the kernels write C-contiguous arrays only)."""
    dA, Z = check.floating(dA), check.floating(Z)
    backend = backend_of(dA)
    dZ = backend.xp.empty_like(dA, order="C")
    backend.ops.activation_backward_from_z(dA, Z, dZ, code, DEFAULT_LEAKY_SLOPE)
    return dZ


def _labels(Y, AL):
    """Y on AL's backend, in AL's dtype and shape (the labels may be ints, a list, or on the host)."""
    return backend_of(AL).asarray(Y, dtype=AL.dtype).reshape(AL.shape)


def sigmoid(Z):
    """A = σ(Z) = 1 / (1 + e^-Z), elementwise. Returns ``(A, cache)`` with ``cache = Z``."""
    return _g(check.array(Z, "Z"), activation_code("sigmoid")), Z


def relu(Z):
    """A = max(0, Z), elementwise. Returns ``(A, cache)`` with ``cache = Z``."""
    return _g(check.array(Z, "Z"), activation_code("relu")), Z


def _checked_backward(dA, cache, code):
    check.array(cache, "cache")
    check.same_shape(dA, "dA", cache, "cache (Z)")
    check.one_device(dA=dA, cache=cache)
    return _g_backward(dA, cache, code)


def relu_backward(dA, cache):
    """dZ = dA * g'(Z) for ReLU, dA · [Z > 0]: dA where Z > 0, 0 elsewhere. ``cache`` is Z; dZ has dA's shape.

    A product, as the kernel computes it: where Z <= 0, an infinite or NaN dA gives NaN (the
    notebook's masked assignment gives 0 there), and a negative dA gives -0.0."""
    return _checked_backward(dA, cache, activation_code("relu"))


def sigmoid_backward(dA, cache):
    """dZ = dA * σ(Z) (1 - σ(Z)). ``cache`` is Z; dZ has dA's shape."""
    return _checked_backward(dA, cache, activation_code("sigmoid"))


def initialize_parameters(n_x, n_h, n_y):
    """The two-layer network's parameters: W1 (n_h, n_x), b1 (n_h, 1), W2 (n_y, n_h), b2 (n_y, 1).

    W = randn · 0.01 drawn W1 then W2 from seed 1 (the notebooks' ``np.random.seed(1)``), b = 0.
    Float64 NumPy arrays.
    """
    n_x, n_h, n_y = check_layer_dims([n_x, n_h, n_y])
    return initialize([n_x, n_h, n_y], "course_small", seed=1)


def initialize_parameters_deep(layer_dims):
    """Parameters W1, b1, ..., WL, bL for ``layer_dims = [n[0], ..., n[L]]`` (the Step-by-Step version).

    W[l] = randn(n[l], n[l-1]) · 0.01 drawn in order from seed 3, b[l] = zeros (n[l], 1).
    Float64 NumPy arrays. (``L_layer_model`` uses the Application's randn / sqrt(n[l-1]) from seed 1.)
    """
    return initialize(check_layer_dims(layer_dims), "course_small", seed=3)


def linear_forward(A, W, b):
    """Z = W·A + b: (n[l], m) from A (n[l-1], m), W (n[l], n[l-1]), b (n[l], 1).

    Returns ``(Z, cache)`` with ``cache = (A, W, b)``.
    """
    check.linear_step(A, W, b)
    return W @ A + b, (A, W, b)


def linear_activation_forward(A_prev, W, b, activation):
    """A = g(W·A_prev + b) for one layer.

    ``activation`` is "relu" or "sigmoid" (the course's), or "tanh", "leaky_relu" (slope 0.01),
    "linear". Returns ``(A, cache)`` with ``cache = ((A_prev, W, b), Z)``.
    """
    code = activation_code(activation)
    check.linear_step(A_prev, W, b, names=("A_prev", "W", "b"))
    return _layer_forward(A_prev, W, b, code)


def _layer_forward(A_prev, W, b, code):
    Z = W @ A_prev + b
    return _g(Z, code), ((A_prev, W, b), Z)


def L_model_forward(X, parameters):
    """Forward pass of [LINEAR -> RELU] × (L-1) -> LINEAR -> SIGMOID, with L = len(parameters) // 2.

    X: (n[0], m). Returns ``(AL, caches)``: AL = A[L] (n[L], m), and the list of the L layers'
    ``((A_prev, W, b), Z)`` caches, layer 1 first.
    """
    return _model_forward(X, parameters, check.model(X, parameters))


_RELU, _SIGMOID = activation_code("relu"), activation_code("sigmoid")


def _model_forward(X, parameters, L):
    caches = []
    A = X
    for l in range(1, L + 1):
        A, cache = _layer_forward(A, parameters[f"W{l}"], parameters[f"b{l}"], _RELU if l < L else _SIGMOID)
        caches.append(cache)
    return A, caches


def compute_cost(AL, Y):
    """Cross-entropy J = -(1/m) Σ (Y log AL + (1 - Y) log(1 - AL)), summed over all entries of the (1, m) arrays.

    Returns a 0-d NumPy array in AL's dtype, like the notebooks' ``np.squeeze(cost)``, on the
    host whichever backend AL is on.
    """
    check.matrix(AL, "AL")
    check.labels_for(Y, AL)
    return _cost(check.floating(AL), Y)


def _cost(AL, Y):
    backend = backend_of(AL)
    xp = backend.xp
    Y = _labels(Y, AL)
    m = AL.shape[1]
    cost = -(1 / m) * xp.sum(Y * xp.log(AL) + (1 - Y) * xp.log(1 - AL))
    return np.asarray(backend.to_numpy(cost), dtype=AL.dtype)


def linear_backward(dZ, cache):
    """Gradients of the linear step Z = W·A_prev + b, with ``cache = (A_prev, W, b)``.

    dW = (1/m) dZ·A_prevᵀ (n[l], n[l-1]), db = (1/m) Σ_examples dZ (n[l], 1),
    dA_prev = Wᵀ·dZ (n[l-1], m). Returns ``(dA_prev, dW, db)``.
    """
    A_prev, W, _ = check.linear_cache(cache)
    check.matrix(dZ, "dZ")
    if dZ.shape != (W.shape[0], A_prev.shape[1]):
        raise ValueError(f"dZ must have shape {(W.shape[0], A_prev.shape[1])}, W's rows by A_prev's columns; got {dZ.shape}")
    check.one_device(dZ=dZ, A_prev=A_prev)
    return _linear_backward(dZ, cache)


def _linear_backward(dZ, cache, with_dA_prev=True):
    """(dA_prev, dW, db); dA_prev is None without ``with_dA_prev``."""
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    dW = (1 / m) * (dZ @ A_prev.T)
    db = (1 / m) * dZ.sum(axis=1, keepdims=True)
    dA_prev = W.T @ dZ if with_dA_prev else None
    return dA_prev, dW, db


def linear_activation_backward(dA, cache, activation):
    """One layer back: dZ = dA * g'(Z), then :func:`linear_backward`. Returns ``(dA_prev, dW, db)``.

    ``cache = ((A_prev, W, b), Z)`` from :func:`linear_activation_forward`; ``activation`` as there.
    """
    code = activation_code(activation)
    _, Z = check.activation_cache(cache)
    check.same_shape(dA, "dA", Z, "the cache's Z")
    check.one_device(dA=dA, Z=Z)
    return _layer_backward(dA, cache, code)


def _layer_backward(dA, cache, code, with_dA_prev=True):
    linear_cache, Z = cache
    return _linear_backward(_g_backward(dA, Z, code), linear_cache, with_dA_prev)


def L_model_backward(AL, Y, caches):
    """Backward pass of :func:`L_model_forward` for the cost J.

    Starts from dAL = -(Y / AL - (1 - Y) / (1 - AL)) (Y reshaped to AL's shape), goes through the
    sigmoid layer L and the ReLU layers L-1, ..., 1. Returns ``grads`` with dA0 ... dA{L-1}
    (dA{l} is dJ/dA[l]), dW1 ... dWL and db1 ... dbL, each shaped like what it differentiates.
    """
    check.matrix(AL, "AL")
    check.labels_for(Y, AL)
    if not isinstance(caches, (list, tuple)) or not caches:
        raise TypeError(f"caches must be the list of layer caches L_model_forward returns; got {caches!r:.80}")
    for l, cache in enumerate(caches, start=1):
        check.activation_cache(cache, f"caches[{l - 1}]")
    for l in range(1, len(caches)):
        check.same_shape(caches[l][0][0], f"caches[{l}][0][0] (A_prev)", caches[l - 1][1],
                         f"caches[{l - 1}][1] (Z), as the caches of one L_model_forward do")
    _, Z_L = caches[-1]
    check.same_shape(AL, "AL", Z_L, "the last cache's Z")
    return _model_backward(check.floating(AL), Y, caches)


def _model_backward(AL, Y, caches, with_dA0=True):
    """``grads`` as :func:`L_model_backward` returns them; without ``with_dA0``, no dA0 (the
    training loop's update never reads it: W[1]ᵀ·dZ[1] is a GEMM as large as X, and its result
    an array as large, every iteration)."""
    Y = _labels(Y, AL)
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    L = len(caches)
    grads = {}
    for l in range(L, 0, -1):
        code, with_dA_prev = _SIGMOID if l == L else _RELU, l > 1 or with_dA0
        dA, dW, db = _layer_backward(dA, caches[l - 1], code, with_dA_prev)
        if with_dA_prev:
            grads[f"dA{l - 1}"] = dA
        grads[f"dW{l}"], grads[f"db{l}"] = dW, db
    return grads


def update_parameters(parameters, grads, learning_rate):
    """One gradient-descent step: W[l] -= α dW[l], b[l] -= α db[l] for l = 1..L (L = len(parameters) // 2).

    Returns a new dict of new arrays; the caller's dict and arrays are left as they were.
    """
    L = check.layer_count(parameters)
    rate = check_positive_finite(learning_rate, "learning_rate")
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be the dict L_model_backward returns; got {type(grads).__name__}")
    for name, value in parameters.items():
        if f"d{name}" not in grads:
            raise ValueError(f"grads is missing 'd{name}'")
        check.same_shape(grads[f"d{name}"], f"grads['d{name}']", check.array(value, f"parameters['{name}']"), name)
    return _update(parameters, grads, rate, L)


def _update(parameters, grads, rate, L):
    updated = dict(parameters)
    for l in range(1, L + 1):
        for name in (f"W{l}", f"b{l}"):
            updated[name] = parameters[name] - rate * grads[f"d{name}"]
    return updated


def predict(X, y, parameters):
    """Labels p (1, m): 1 where the network's A[L] > 0.5, else 0, in X's dtype and on X's backend.

    Prints "Accuracy: " and the fraction of p equal to the labels y, as the course's
    ``dnn_app_utils`` does. y holds m labels, (1, m) or (m,).
    """
    L = check.model(X, parameters)
    m = X.shape[1]
    y = check.labels(y, "y")
    if y.size != m:
        raise ValueError(f"y must hold one label for each of X's {m} examples; got shape {y.shape}")
    backend = backend_of(X)
    probas, _ = _model_forward(X, parameters, L)
    p = (probas > 0.5).astype(probas.dtype)
    print("Accuracy: " + str(float(backend.xp.sum((p == backend.asarray(y).reshape(p.shape)) / m))))
    return p


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """Train LINEAR -> RELU -> LINEAR -> SIGMOID by batch gradient descent.

    ``layers_dims = (n_x, n_h, n_y)``; parameters start from :func:`initialize_parameters`
    (seed 1, × 0.01) and move to X's backend and dtype. Returns ``(parameters, costs)``; the
    costs are recorded at iterations 0, 100, 200, ... as the notebooks record them. With
    ``print_cost``, prints "Cost after iteration i: cost" at those iterations and the last.
    """
    dims = check_layer_dims(layers_dims)
    if len(dims) != 3:
        raise ValueError(f"layers_dims must be (n_x, n_h, n_y); got {layers_dims!r}")
    settings = _training_settings(X, Y, dims, learning_rate, num_iterations, print_cost)
    return _gradient_descent(X, Y, initialize_parameters(*dims), *settings)


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """Train [LINEAR -> RELU] × (L-1) -> LINEAR -> SIGMOID by batch gradient descent.

    ``layers_dims = [n[0], ..., n[L]]``; W[l] = randn(n[l], n[l-1]) / sqrt(n[l-1]) drawn in order
    from seed 1, b[l] = 0 (the Application's ``initialize_parameters_deep``), moved to X's backend
    and dtype. Returns ``(parameters, costs)``, costs and printing as in :func:`two_layer_model`.
    """
    dims = check_layer_dims(layers_dims)
    settings = _training_settings(X, Y, dims, learning_rate, num_iterations, print_cost)
    return _gradient_descent(X, Y, initialize(dims, "course_scaled", seed=1), *settings)


def _training_settings(X, Y, dims, learning_rate, num_iterations, print_cost):
    """The checked ``(learning_rate, num_iterations, print_cost)`` of a training call, once X and Y fit ``dims``."""
    check.training_data(X, Y, dims)
    rate = check_positive_finite(learning_rate, "learning_rate")
    iterations = check_count(num_iterations, "num_iterations", 0)
    if not isinstance(print_cost, (bool, np.bool_)):
        raise TypeError(f"print_cost must be True or False; got {print_cost!r}")
    return rate, iterations, bool(print_cost)


def _gradient_descent(X, Y, parameters, learning_rate, num_iterations, print_cost):
    """The notebooks' training loop: forward, cost, backward, update, ``num_iterations`` times.

    X and Y were checked once before; the loop calls the unchecked steps. The cost is computed
    only where it is recorded or printed (it needs a device-to-host copy).
    """
    X = check.floating(X)
    backend = backend_of(X)
    parameters = {name: backend.asarray(value, dtype=X.dtype) for name, value in parameters.items()}
    Y = backend.asarray(Y, dtype=X.dtype)
    L = len(parameters) // 2
    costs = []
    for i in range(num_iterations):
        AL, caches = _model_forward(X, parameters, L)
        record = i % COST_EVERY == 0
        if record or (print_cost and i == num_iterations - 1):
            cost = _cost(AL, Y)
            if record:
                costs.append(cost)
            if print_cost:
                print(f"Cost after iteration {i}: {cost!s}")
        grads = _model_backward(AL, Y, caches, with_dA0=False)
        parameters = _update(parameters, grads, learning_rate, L)
    return parameters, costs

"""The course functions name a wrong argument before any work, instead of failing inside NumPy or
broadcasting into a wrong result; inputs of other real dtypes compute in float64."""

import numpy as np
import pytest

from deepnet_gpu import course

rng = np.random.default_rng(0)
X = rng.standard_normal((5, 7))
Y = (rng.random((1, 7)) > 0.5).astype(float)
A, W, b, dZ = rng.standard_normal((3, 4)), rng.standard_normal((2, 3)), rng.standard_normal((2, 1)), rng.standard_normal((2, 4))
PARAMETERS = course.initialize_parameters_deep([5, 4, 1])
AL, CACHES = course.L_model_forward(X, PARAMETERS)
GRADS = course.L_model_backward(AL, Y, CACHES)
_, LAYER_CACHE = course.linear_activation_forward(A, W, b, "relu")


def without(d, key):
    return {k: v for k, v in d.items() if k != key}


@pytest.mark.parametrize("call, error, message", [
    (lambda: course.linear_forward(A, W.T, b), ValueError, "W of shape (3, 2) needs 3 columns, one per row of A (3, 4)"),
    (lambda: course.linear_forward(A, W, b.reshape(-1)), ValueError,
     "b must have shape (2, 1), one entry per row of W; got (2,)"),
    (lambda: course.linear_forward(A.tolist(), W, b), TypeError, "A must be a NumPy or CuPy array of real numbers; got list"),
    (lambda: course.linear_forward(A + 1j, W, b), TypeError,
     "A must be a NumPy or CuPy array of real numbers; got an array of dtype complex128"),
    (lambda: course.linear_activation_forward(A[0], W, b, "relu"), ValueError, "A_prev must be 2-D; got shape (4,)"),
    (lambda: course.sigmoid("z"), TypeError, "Z must be a NumPy or CuPy array of real numbers; got str"),
    (lambda: course.compute_cost(np.matrix(AL), np.matrix(Y)), TypeError,
     "AL must be a plain NumPy or CuPy array; got the ndarray subclass numpy.matrix (np.asarray(AL) converts it)"),
    (lambda: course.linear_forward(np.ma.masked_array(A), W, b), TypeError,
     "A must be a plain NumPy or CuPy array; got the ndarray subclass numpy.ma.MaskedArray "
     "(np.ma.filled(A, value) converts it)"),
    (lambda: course.relu_backward(dZ, dZ.T), ValueError, "dA must have the shape of cache (Z), (4, 2); got (2, 4)"),
    (lambda: course.L_model_forward(X, without(PARAMETERS, "W2")), ValueError,
     "parameters must hold exactly W1, b1, ..., WL, bL; got keys ['W1', 'b1', 'b2']"),
    (lambda: course.L_model_forward(X, {}), ValueError, "parameters must hold exactly W1, b1, ..., WL, bL; got keys []"),
    (lambda: course.L_model_forward(X, list(PARAMETERS.values())), TypeError, "parameters must be a dict"),
    (lambda: course.L_model_forward(X[:2], PARAMETERS), ValueError, "W1 of shape (4, 5) needs 2 columns, one per row of X (2, 7)"),
    (lambda: course.L_model_forward(X, {**PARAMETERS, "W2": PARAMETERS["W2"].T}), ValueError,
     "W2 of shape (4, 1) needs 4 columns, one per row of A1 (4, m)"),
    (lambda: course.compute_cost(AL, Y[:, :3]), ValueError, "Y must hold one label per entry of AL (1, 7); got shape (1, 3)"),
    (lambda: course.compute_cost(AL[0], Y), ValueError, "AL must be 2-D; got shape (7,)"),
    (lambda: course.linear_backward(dZ.T, (A, W, b)), ValueError,
     "dZ must have shape (2, 4), W's rows by A_prev's columns; got (4, 2)"),
    (lambda: course.linear_backward(dZ, (A, W)), TypeError,
     "cache must be the (A_prev, W, b) linear cache of linear_forward; got a tuple of 2"),
    (lambda: course.linear_backward(dZ, 5), TypeError,
     "cache must be the (A_prev, W, b) linear cache of linear_forward; got int"),
    (lambda: course.compute_cost(AL, [[1, 0], [1]]), TypeError, "Y must be a NumPy or CuPy array of real numbers; got list"),
    (lambda: course.linear_backward(dZ, (A, W.T, b)), ValueError, "cache[1] (W) of shape (3, 2) needs 3 columns"),
    (lambda: course.linear_activation_backward(dZ.T, LAYER_CACHE, "relu"), ValueError,
     "dA must have the shape of the cache's Z, (2, 4); got (4, 2)"),
    (lambda: course.linear_activation_backward(dZ, LAYER_CACHE[0], "relu"), TypeError,
     "cache must be the ((A_prev, W, b), Z) cache of linear_activation_forward; got a tuple of 3"),
    (lambda: course.linear_activation_backward(dZ, (LAYER_CACHE[0], dZ[:, :3]), "relu"), ValueError,
     "cache[1] (Z) must have shape (2, 4), W's rows by A_prev's columns; got (2, 3)"),
    (lambda: course.linear_activation_backward(dZ, LAYER_CACHE, "softmax"), ValueError, "activation must be one of"),
    (lambda: course.L_model_backward(AL, Y, []), TypeError, "caches must be the list of layer caches L_model_forward returns"),
    (lambda: course.L_model_backward(AL, Y, [course.L_model_forward(X[:, :1], PARAMETERS)[1][0], CACHES[1]]), ValueError,
     "caches[1][0][0] (A_prev) must have the shape of caches[0][1] (Z), as the caches of one L_model_forward do, "
     "(4, 1); got (4, 7)"),
    (lambda: course.L_model_backward(AL[:, :3], Y[:, :3], CACHES), ValueError,
     "AL must have the shape of the last cache's Z, (1, 7); got (1, 3)"),
    (lambda: course.update_parameters(PARAMETERS, GRADS, "0.1"), TypeError, "learning_rate must be a positive finite number"),
    (lambda: course.update_parameters(PARAMETERS, without(GRADS, "dW2"), 0.1), ValueError, "grads is missing 'dW2'"),
    (lambda: course.update_parameters(PARAMETERS, {**GRADS, "dW1": GRADS["dW1"].T}, 0.1), ValueError,
     "grads['dW1'] must have the shape of W1, (4, 5); got (5, 4)"),
    (lambda: course.predict(X, Y[:, :3], PARAMETERS), ValueError, "y must hold one label for each of X's 7 examples; got shape (1, 3)"),
    (lambda: course.L_layer_model(X, Y, [5, 4, 1], learning_rate=-1), ValueError, "learning_rate must be a positive finite number"),
    (lambda: course.L_layer_model(X, Y, [5, 4, 1], num_iterations=-5), ValueError, "num_iterations must be an integer >= 0; got -5"),
    (lambda: course.L_layer_model(X, Y, [5, 4, 1], print_cost="yes"), TypeError, "print_cost must be True or False"),
    (lambda: course.L_layer_model(X.T, Y, [5, 4, 1]), ValueError,
     "X must have layers_dims[0] = 5 rows (features); got shape (7, 5) (examples as columns: transpose it?)"),
    (lambda: course.L_layer_model(X[:, :0], Y[:, :0], [5, 4, 1]), ValueError,
     "X must hold at least one example (column); got shape (5, 0)"),
    (lambda: course.L_layer_model(X, Y[:, :3], [5, 4, 1]), ValueError,
     "Y must hold 1 label(s) for each of X's 7 examples; got shape (1, 3)"),
    (lambda: course.L_layer_model(np.where(X > 1, np.nan, X), Y, [5, 4, 1]), ValueError, "X contains NaN or Inf"),
    (lambda: course.L_layer_model(X, np.where(Y > 0, np.inf, Y), [5, 4, 1]), ValueError, "Y contains NaN or Inf"),
    (lambda: course.L_layer_model(X, Y, [5, 0, 1]), ValueError, "layer_dims[1] must be a positive integer"),
    (lambda: course.two_layer_model(X, Y, (5, 4, 3, 1)), ValueError, "layers_dims must be (n_x, n_h, n_y); got (5, 4, 3, 1)"),
    (lambda: course.initialize_parameters(3, 0, 1), ValueError, "layer_dims[1] must be a positive integer"),
    (lambda: course.initialize_parameters_deep([3]), ValueError, "layer_dims needs at least two entries"),
])
@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_a_wrong_argument_is_named_before_any_work(call, error, message):
    with pytest.raises(error) as caught:
        call()
    assert message in str(caught.value)


def test_predict_reads_labels_of_shape_m_by_1_as_one_row(capsys):
    p = course.predict(X, Y, PARAMETERS)
    row = capsys.readouterr().out
    assert course.predict(X, Y.T, PARAMETERS).shape == p.shape == (1, 7)
    assert capsys.readouterr().out == row
    assert 0.0 <= float(row.split(": ")[1]) <= 1.0


def test_integer_inputs_compute_in_float64_as_numpy_promotes_them():
    X_uint8 = (np.abs(X) * 40).astype(np.uint8)
    parameters, costs = course.L_layer_model(X_uint8, Y.astype(np.int64), [5, 4, 1], num_iterations=3)
    reference, reference_costs = course.L_layer_model(X_uint8.astype(np.float64), Y, [5, 4, 1], num_iterations=3)
    for name, value in parameters.items():
        assert value.dtype == np.float64
        np.testing.assert_array_equal(value, reference[name])
    assert costs == reference_costs
    Z = np.array([[-2, 0, 3]])
    np.testing.assert_array_equal(course.sigmoid(Z)[0], course.sigmoid(Z.astype(np.float64))[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = course.compute_cost(np.array([[1, 0]]), np.array([[1, 0]]))
    assert cost.dtype == np.float64 and np.isnan(cost)

"""deepnet_gpu.course against the course's published expected outputs, finite differences and NumPy.

Published numbers (deeplearning.ai "Neural Networks and Deep Learning", week 4), from public
copies of the assignment files:

* Step by Step, newest version: ``public_tests.py`` in plgregori/deep-neural-network
  (commit 15135f1c15b5dcc6d9f1d2e4719cae4668889271); its inputs are those of ``testCases_v4a.py``
  (MohammadMdv/DNN-from-scratch), and the notebook's expected cost is 0.2797765635793422.
* Step by Step, v3: inputs of ``testCases_v3.py`` (luca-92/Building-your-Deep-Neural-Network-Step-by-Step),
  expected values from that notebook's "Expected Output" tables.
* Application, newest version: ``two_layer_model_test`` / ``L_layer_model_test`` of the same
  ``public_tests.py`` (also guangfjy/dlcatclassifier), kept in ``course_data/application_public_tests.json``.

The course builds its inputs with ``np.random.seed(s)`` followed by ``np.random.randn(...)``; the
``_randn`` helper draws the same stream from ``np.random.RandomState(s)`` and leaves the global
seed alone. The published values are printed to 8 digits, hence ``rtol=1e-6, atol=1e-8``.
"""

import copy
import inspect
import json
import pathlib

import numpy as np
import pytest

from deepnet_gpu import course
from deepnet_gpu.backend import cuda_status

DATA = pathlib.Path(__file__).parent / "course_data"
ACTIVATIONS = ("sigmoid", "relu", "tanh", "leaky_relu", "linear")


def _randn(seed, *shapes):
    """The course's ``np.random.seed(seed); np.random.randn(*shape) for shape in shapes``."""
    stream = np.random.RandomState(seed)
    return [stream.randn(*shape) for shape in shapes]


def assert_published(actual, expected):
    np.testing.assert_allclose(actual, np.asarray(expected), rtol=1e-6, atol=1e-8)


# --- the course's test-case inputs (copied from its public test cases) --------------------------


def linear_forward_case():
    return _randn(1, (3, 2), (1, 3), (1, 1))  # A_prev, W, b


def linear_activation_forward_case():
    return _randn(2, (3, 2), (1, 3), (1, 1))  # A_prev, W, b


def L_model_forward_2hidden_case():
    X, W1, b1, W2, b2, W3, b3 = _randn(6, (5, 4), (4, 5), (4, 1), (3, 4), (3, 1), (1, 3), (1, 1))
    return X, {"W1": W1, "b1": b1, "W2": W2, "b2": b2, "W3": W3, "b3": b3}


def linear_backward_case():
    dZ, A, W, b = _randn(1, (3, 4), (5, 4), (3, 5), (3, 1))
    return dZ, (A, W, b)


def linear_activation_backward_case():
    dA, A, W, b, Z = _randn(2, (1, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    return dA, ((A, W, b), Z)


def L_model_backward_case():
    AL, A1, W1, b1, Z1, A2, W2, b2, Z2 = _randn(3, (1, 2), (4, 2), (3, 4), (3, 1), (3, 2), (3, 2), (1, 3), (1, 1), (1, 2))
    Y = np.array([[1, 0]])
    return AL, Y, (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))


def update_parameters_case():
    W1, b1, W2, b2 = _randn(2, (3, 4), (3, 1), (1, 3), (1, 1))
    dW1, db1, dW2, db2 = _randn(3, (3, 4), (3, 1), (1, 3), (1, 1))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def application_case(model):
    """The Application's public test data: X = randn(10, 10) from seed 1, then its labels Y."""
    stream = np.random.RandomState(1)
    X = stream.randn(10, 10)
    if model == "two_layer_model":
        return X, stream.randn(1, 10)
    return X, np.array([[1, 1, 1, 1, 0, 0, 0, 1, 1, 0]])


def application_expectations():
    published = json.loads((DATA / "application_public_tests.json").read_text())
    return [
        pytest.param(model, case, id=f"{model}-{case['num_iterations']}it")
        for model in ("two_layer_model", "L_layer_model")
        for case in published[model]
    ]


# --- published outputs: Step by Step -----------------------------------------------------------


def test_initialize_parameters():
    parameters = course.initialize_parameters(3, 2, 1)
    assert_published(parameters["W1"], [[0.01624345, -0.00611756, -0.00528172], [-0.01072969, 0.00865408, -0.02301539]])
    assert_published(parameters["W2"], [[0.01744812, -0.00761207]])
    np.testing.assert_array_equal(parameters["b1"], np.zeros((2, 1)))
    np.testing.assert_array_equal(parameters["b2"], np.zeros((1, 1)))
    assert {value.dtype for value in parameters.values()} == {np.dtype(np.float64)}


def test_initialize_parameters_deep():
    parameters = course.initialize_parameters_deep([5, 4, 3])
    assert_published(parameters["W1"], [
        [0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
        [-0.00354759, -0.00082741, -0.00627001, -0.00043818, -0.00477218],
        [-0.01313865, 0.00884622, 0.00881318, 0.01709573, 0.00050034],
        [-0.00404677, -0.0054536, -0.01546477, 0.00982367, -0.01101068]])
    assert_published(parameters["W2"], [
        [-0.01185047, -0.0020565, 0.01486148, 0.00236716],
        [-0.01023785, -0.00712993, 0.00625245, -0.00160513],
        [-0.00768836, -0.00230031, 0.00745056, 0.01976111]])
    assert {name: p.shape for name, p in parameters.items()} == {"W1": (4, 5), "b1": (4, 1), "W2": (3, 4), "b2": (3, 1)}
    assert not parameters["b1"].any() and not parameters["b2"].any()


def test_linear_forward():
    A, W, b = linear_forward_case()
    Z, cache = course.linear_forward(A, W, b)
    assert_published(Z, [[3.26295337, -1.23429987]])
    assert cache[0] is A and cache[1] is W and cache[2] is b


@pytest.mark.parametrize("activation, expected_A", [("sigmoid", [[0.96890023, 0.11013289]]), ("relu", [[3.43896131, 0.0]])])
def test_linear_activation_forward(activation, expected_A):
    A_prev, W, b = linear_activation_forward_case()
    A, ((cached_A_prev, cached_W, cached_b), Z) = course.linear_activation_forward(A_prev, W, b, activation)
    assert_published(A, expected_A)
    assert_published(Z, [[3.43896131, -2.08938436]])
    assert cached_A_prev is A_prev and cached_W is W and cached_b is b


def test_L_model_forward_2hidden():
    X, parameters = L_model_forward_2hidden_case()
    AL, caches = course.L_model_forward(X, parameters)
    assert_published(AL, [[0.03921668, 0.70498921, 0.19734387, 0.04728177]])
    assert isinstance(caches, list) and len(caches) == 3
    expected_Z = [
        [[-5.23825714, 3.18040136, 0.4074501, -1.88612721], [-2.77358234, -0.56177316, 3.18141623, -0.99209432],
         [4.18500916, -1.78006909, -0.14502619, 2.72141638], [5.05850802, -1.25674082, -3.54566654, 3.82321852]],
        [[2.2644603, 1.09971298, -2.90298027, 1.54036335], [6.33722569, -2.38116246, -4.11228806, 4.48582383],
         [10.37508342, -0.66591468, 1.63635185, 8.17870169]],
        [[-3.19864676, 0.87117055, -1.40297864, -3.00319435]],
    ]
    assert caches[0][0][0] is X
    for l, ((A_prev, W, b), Z) in enumerate(caches, start=1):
        assert W is parameters[f"W{l}"] and b is parameters[f"b{l}"]
        assert_published(Z, expected_Z[l - 1])
        if l > 1:  # a hidden layer's output is the next layer's cached input
            np.testing.assert_array_equal(A_prev, np.maximum(caches[l - 2][1], 0))


def test_L_model_forward_v3():
    X, W1, b1, W2, b2 = _randn(1, (4, 2), (3, 4), (3, 1), (1, 3), (1, 1))
    AL, caches = course.L_model_forward(X, {"W1": W1, "b1": b1, "W2": W2, "b2": b2})
    assert_published(AL, [[0.17007265, 0.2524272]])
    assert len(caches) == 2


@pytest.mark.parametrize("Y, expected", [([[1, 1, 0]], "0.2797765635793422"), ([[1, 1, 1]], "0.41493159961539694")])
def test_compute_cost(Y, expected):
    cost = course.compute_cost(np.array([[0.8, 0.9, 0.4]]), np.asarray(Y))
    assert isinstance(cost, np.ndarray) and cost.shape == () and cost.dtype == np.float64
    assert cost == pytest.approx(float(expected), rel=1e-15)
    assert str(cost) == expected


def test_linear_backward():
    dZ, cache = linear_backward_case()
    dA_prev, dW, db = course.linear_backward(dZ, cache)
    assert_published(dA_prev, [
        [-1.15171336, 0.06718465, -0.3204696, 2.09812712],
        [0.60345879, -3.72508701, 5.81700741, -3.84326836],
        [-0.4319552, -1.30987417, 1.72354705, 0.05070578],
        [-0.38981415, 0.60811244, -1.25938424, 1.47191593],
        [-2.52214926, 2.67882552, -0.67947465, 1.48119548]])
    assert_published(dW, [
        [0.07313866, -0.0976715, -0.87585828, 0.73763362, 0.00785716],
        [0.85508818, 0.37530413, -0.59912655, 0.71278189, -0.58931808],
        [0.97913304, -0.24376494, -0.08839671, 0.55151192, -0.10290907]])
    assert_published(db, [[-0.14713786], [-0.11313155], [-0.13209101]])


def test_linear_backward_v3():
    dZ, A, W, b = _randn(1, (1, 2), (3, 2), (1, 3), (1, 1))
    dA_prev, dW, db = course.linear_backward(dZ, (A, W, b))
    assert_published(dA_prev, [[0.51822968, -0.19517421], [-0.40506361, 0.15255393], [2.37496825, -0.89445391]])
    assert_published(dW, [[-0.10076895, 1.40685096, 1.64992505]])
    assert_published(db, [[0.50629448]])


@pytest.mark.parametrize("activation, expected", [
    ("sigmoid", ([[0.11017994, 0.01105339], [0.09466817, 0.00949723], [-0.05743092, -0.00576154]],
                 [[0.10266786, 0.09778551, -0.01968084]], [[-0.05729622]])),
    ("relu", ([[0.44090989, 0.0], [0.37883606, 0.0], [-0.2298228, 0.0]],
              [[0.44513824, 0.37371418, -0.10478989]], [[-0.20837892]])),
])
def test_linear_activation_backward(activation, expected):
    dA, cache = linear_activation_backward_case()
    for actual, published in zip(course.linear_activation_backward(dA, cache, activation), expected):
        assert_published(actual, published)


def test_L_model_backward():
    AL, Y, caches = L_model_backward_case()
    grads = course.L_model_backward(AL, Y, caches)
    assert list(grads) == ["dA1", "dW2", "db2", "dA0", "dW1", "db1"]  # the notebook's order, as print(grads) shows it
    assert_published(grads["dA1"], [[0.12913162, -0.44014127], [-0.14175655, 0.48317296], [0.01663708, -0.05670698]])
    assert_published(grads["dW2"], [[-0.39202432, -0.13325855, -0.04601089]])
    assert_published(grads["db2"], [[0.15187861]])
    assert_published(grads["dA0"], [[0.0, 0.52257901], [0.0, -0.3269206], [0.0, -0.32070404], [0.0, -0.74079187]])
    assert_published(grads["dW1"], [[0.41010002, 0.07807203, 0.13798444, 0.10502167], [0.0, 0.0, 0.0, 0.0],
                                    [0.05283652, 0.01005865, 0.01777766, 0.0135308]])
    assert_published(grads["db1"], [[-0.22007063], [0.0], [-0.02835349]])


def test_update_parameters():
    parameters, grads = update_parameters_case()
    before = copy.deepcopy(parameters)
    # The public test calls the function three times on the same dict: it must not change it.
    for _ in range(3):
        updated = course.update_parameters(parameters, grads, 0.1)
    assert_published(updated["W1"], [[-0.59562069, -0.09991781, -2.14584584, 1.82662008],
                                     [-1.76569676, -0.80627147, 0.51115557, -1.18258802],
                                     [-1.0535704, -0.86128581, 0.68284052, 2.20374577]])
    assert_published(updated["b1"], [[-0.04659241], [-1.28888275], [0.53405496]])
    assert_published(updated["W2"], [[-0.55569196, 0.0354055, 1.32964895]])
    assert_published(updated["b2"], [[-0.84610769]])
    assert updated is not parameters
    for name in before:
        np.testing.assert_array_equal(parameters[name], before[name])


# --- published outputs: Application ------------------------------------------------------------


@pytest.mark.parametrize("model, case", application_expectations())
def test_application_models(model, case):
    X, Y = application_case(model)
    parameters, costs = getattr(course, model)(X, Y, case["layers_dims"], case["learning_rate"], case["num_iterations"])
    assert set(parameters) == set(case["parameters"])
    for name, expected in case["parameters"].items():
        assert_published(parameters[name], expected)
    # The public test expects exactly one cost for 2 or 3 iterations: recorded at i % 100 == 0 only.
    assert len(costs) == len(case["costs"])
    for cost, expected in zip(costs, case["costs"]):
        assert isinstance(cost, np.ndarray) and cost.shape == ()
        assert_published(cost, expected)


def _reference_training(X, Y, parameters, learning_rate, num_iterations):
    """The notebooks' loop, written out in plain NumPy float64, as an independent oracle."""
    parameters = copy.deepcopy(parameters)
    L, m = len(parameters) // 2, X.shape[1]
    costs = []
    for i in range(num_iterations):
        A, Zs, As = X, [], [X]
        for l in range(1, L + 1):
            Z = parameters[f"W{l}"] @ A + parameters[f"b{l}"]
            A = 1 / (1 + np.exp(-Z)) if l == L else np.maximum(0, Z)
            Zs.append(Z)
            As.append(A)
        if i % 100 == 0:
            costs.append(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
        dA = -(Y / A - (1 - Y) / (1 - A))
        for l in range(L, 0, -1):
            s = 1 / (1 + np.exp(-Zs[l - 1]))
            dZ = dA * s * (1 - s) if l == L else dA * (Zs[l - 1] > 0)
            dA = parameters[f"W{l}"].T @ dZ
            parameters[f"W{l}"] = parameters[f"W{l}"] - learning_rate * (dZ @ As[l - 1].T) / m
            parameters[f"b{l}"] = parameters[f"b{l}"] - learning_rate * dZ.sum(axis=1, keepdims=True) / m
    return parameters, costs


def _application_initial_parameters(layers_dims):
    """The Application's ``initialize_parameters_deep``: np.random.seed(1), W = randn / sqrt(n[l-1]), b = 0."""
    stream = np.random.RandomState(1)
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters[f"W{l}"] = stream.randn(layers_dims[l], layers_dims[l - 1]) / np.sqrt(layers_dims[l - 1])
        parameters[f"b{l}"] = np.zeros((layers_dims[l], 1))
    return parameters


@pytest.mark.parametrize("model, layers_dims, initial", [
    ("two_layer_model", (6, 5, 1), lambda dims: course.initialize_parameters(*dims)),
    ("L_layer_model", (6, 5, 4, 1), _application_initial_parameters),
])
def test_models_match_a_float64_reference(model, layers_dims, initial):
    stream = np.random.RandomState(0)
    X = stream.randn(6, 30)
    Y = (stream.rand(1, 30) > 0.5).astype(np.int64)
    parameters, costs = getattr(course, model)(X, Y, layers_dims, learning_rate=0.05, num_iterations=201)
    expected_parameters, expected_costs = _reference_training(X, Y, initial(layers_dims), 0.05, 201)
    assert len(costs) == 3  # iterations 0, 100, 200
    np.testing.assert_allclose(np.array(costs, dtype=float), expected_costs, rtol=1e-12)
    assert set(parameters) == set(expected_parameters)
    for name in expected_parameters:
        np.testing.assert_allclose(parameters[name], expected_parameters[name], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_training_loop_is_the_public_steps_bit_for_bit(dtype):
    """L_layer_model skips dA0, which its update never reads; the parameters are those of the
    public forward, backward and update functions, to the last bit."""
    stream = np.random.RandomState(2)
    X, Y = stream.randn(7, 25).astype(dtype), (stream.rand(1, 25) > 0.5).astype(dtype)
    layers_dims = (7, 6, 3, 1)
    parameters, _ = course.L_layer_model(X, Y, layers_dims, learning_rate=0.1, num_iterations=5)
    expected = {name: value.astype(dtype) for name, value in _application_initial_parameters(layers_dims).items()}
    for _ in range(5):
        AL, caches = course.L_model_forward(X, expected)
        grads = course.L_model_backward(AL, Y, caches)
        assert "dA0" in grads
        expected = course.update_parameters(expected, grads, 0.1)
    for name, value in expected.items():
        np.testing.assert_array_equal(parameters[name], value)


def test_costs_are_recorded_every_100_iterations_and_printed(capsys):
    X, Y = application_case("L_layer_model")
    _, costs = course.L_layer_model(X, Y, (10, 3, 1), num_iterations=250, print_cost=True)
    assert len(costs) == 3  # iterations 0, 100, 200
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"Cost after iteration {i}" for i in (0, 100, 200, 249)]
    assert lines[0] == f"Cost after iteration 0: {costs[0]}"
    course.L_layer_model(X, Y, (10, 3, 1), num_iterations=3)
    assert capsys.readouterr().out == ""  # print_cost=False prints nothing, not even the last iteration


def test_the_global_numpy_seed_is_left_alone():
    state = np.random.get_state()
    course.initialize_parameters(3, 2, 1)
    course.initialize_parameters_deep([5, 4, 3])
    course.L_layer_model(*application_case("L_layer_model"), (10, 3, 1), num_iterations=1)
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_predict(capsys):
    X, parameters = L_model_forward_2hidden_case()  # AL = [[0.039, 0.705, 0.197, 0.047]]
    p = course.predict(X, np.array([[0, 1, 1, 0]]), parameters)
    np.testing.assert_array_equal(p, [[0.0, 1.0, 0.0, 0.0]])
    assert p.shape == (1, 4) and p.dtype == np.float64
    assert capsys.readouterr().out == "Accuracy: 0.75\n"
    course.predict(X, [0, 1, 0, 0], parameters)  # the notebook passes a plain list for its own image
    assert capsys.readouterr().out == "Accuracy: 1.0\n"
    zeros = {name: np.zeros_like(value) for name, value in parameters.items()}  # A[L] = 0.5 exactly: not > 0.5
    np.testing.assert_array_equal(course.predict(X, np.array([[0, 1, 1, 0]]), zeros), [[0.0, 0.0, 0.0, 0.0]])


def test_labels_as_a_column_are_read_in_AL_s_shape():
    AL, Y = np.array([[0.8, 0.9, 0.4]]), np.array([[1], [1], [0]])
    np.testing.assert_allclose(course.compute_cost(AL, Y), course.compute_cost(AL, Y.T), rtol=1e-15)


# --- the activation helpers and the extra activations ------------------------------------------


def test_activation_helpers_match_the_course_formulas():
    Z, dA = _randn(0, (4, 5), (4, 5))
    A, cache = course.sigmoid(Z)
    assert cache is Z
    np.testing.assert_allclose(A, 1 / (1 + np.exp(-Z)), rtol=1e-15)
    A, cache = course.relu(Z)
    assert cache is Z
    np.testing.assert_array_equal(A, np.maximum(0, Z))
    s = 1 / (1 + np.exp(-Z))
    np.testing.assert_allclose(course.sigmoid_backward(dA, Z), dA * s * (1 - s), rtol=1e-14)
    expected = dA.copy()
    expected[Z <= 0] = 0
    dZ = course.relu_backward(dA, Z)
    np.testing.assert_array_equal(dZ, expected)
    assert dZ is not dA


@pytest.mark.parametrize("activation, g", [
    ("tanh", np.tanh),
    ("leaky_relu", lambda z: np.where(z > 0, z, 0.01 * z)),
    ("linear", lambda z: z),
])
def test_linear_activation_forward_other_activations(activation, g):
    A_prev, W, b = _randn(4, (3, 5), (2, 3), (2, 1))
    A, (_, Z) = course.linear_activation_forward(A_prev, W, b, activation)
    np.testing.assert_allclose(Z, W @ A_prev + b, rtol=1e-15)
    np.testing.assert_allclose(A, g(Z), rtol=1e-15)
    assert A is not Z


@pytest.mark.parametrize("call", [
    lambda: course.linear_activation_forward(*linear_activation_forward_case(), "softmax"),
    lambda: course.linear_activation_backward(*linear_activation_backward_case(), "Sigmoid"),
])
def test_unknown_activation_is_a_clear_error(call):
    with pytest.raises(ValueError, match=r"^activation must be one of .*; got '(softmax|Sigmoid)'$") as error:
        call()
    assert all(name in str(error.value) for name in ACTIVATIONS)


# --- gradients against central finite differences (float64) ------------------------------------


def _numerical_gradient(f, x, eps=1e-6):
    """dF/dx by central differences, perturbing ``x`` in place and restoring it."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        up = f()
        x[index] = saved - eps
        down = f()
        x[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_linear_activation_backward_matches_finite_differences(activation):
    """J = (1/m) Σ R * g(W·A_prev + b): the course passes dA = R (per example, without the 1/m).

    Then dW = dJ/dW and db = dJ/db (they carry the 1/m) and dA_prev / m = dJ/dA_prev.
    """
    A_prev, W, b, R = _randn(5, (4, 6), (3, 4), (3, 1), (3, 6))
    m = A_prev.shape[1]
    _, cache = course.linear_activation_forward(A_prev, W, b, activation)
    assert np.abs(cache[1]).min() > 1e-3  # no Z at the ReLU kinks, where differences are meaningless

    def J():
        return np.sum(R * course.linear_activation_forward(A_prev, W, b, activation)[0]) / m

    dA_prev, dW, db = course.linear_activation_backward(R, cache, activation)
    np.testing.assert_allclose(dW, _numerical_gradient(J, W), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(db, _numerical_gradient(J, b), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(dA_prev / m, _numerical_gradient(J, A_prev), rtol=1e-6, atol=1e-9)


def test_L_model_backward_matches_finite_differences_of_compute_cost():
    stream = np.random.RandomState(7)
    layers_dims = [4, 5, 3, 1]
    parameters = {}
    for l in range(1, len(layers_dims)):
        parameters[f"W{l}"] = stream.randn(layers_dims[l], layers_dims[l - 1])
        parameters[f"b{l}"] = stream.randn(layers_dims[l], 1)
    X = stream.randn(4, 6)
    Y = (stream.rand(1, 6) > 0.5).astype(np.int64)
    m = X.shape[1]

    def J():
        return float(course.compute_cost(course.L_model_forward(X, parameters)[0], Y))

    AL, caches = course.L_model_forward(X, parameters)
    assert all(np.abs(Z).min() > 1e-3 for _, Z in caches[:-1])
    grads = course.L_model_backward(AL, Y, caches)
    for name, value in parameters.items():
        np.testing.assert_allclose(grads[f"d{name}"], _numerical_gradient(J, value), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(grads["dA0"] / m, _numerical_gradient(J, X), rtol=1e-6, atol=1e-9)


# --- dtypes and inputs left alone --------------------------------------------------------------


def _cast(tree, dtype):
    """``tree`` (arrays in tuples, lists and dicts) with its float arrays cast to ``dtype``."""
    if isinstance(tree, dict):
        return {key: _cast(value, dtype) for key, value in tree.items()}
    if isinstance(tree, (tuple, list)):
        return type(tree)(_cast(value, dtype) for value in tree)
    return tree.astype(dtype) if tree.dtype.kind == "f" else tree


def _leaves(tree):
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _leaves(value)]
    if isinstance(tree, (tuple, list)):
        return [leaf for value in tree for leaf in _leaves(value)]
    return [tree]


def _all_course_calls(dtype):
    """Every course function on the published cases cast to ``dtype``.

    Returns the outputs by name, the inputs, and a deep copy of the inputs taken before the calls.
    """
    inputs = _cast({
        "linear_forward": linear_forward_case(),
        "L_model_forward": L_model_forward_2hidden_case(),
        "linear_backward": linear_backward_case(),
        "linear_activation_backward": linear_activation_backward_case(),
        "L_model_backward": L_model_backward_case(),
        "update_parameters": update_parameters_case(),
        **{model: application_case(model) for model in ("two_layer_model", "L_layer_model")},
    }, dtype)
    snapshot = copy.deepcopy(inputs)
    A_prev, W, b = inputs["linear_forward"]
    X, parameters = inputs["L_model_forward"]
    dA, cache = inputs["linear_activation_backward"]
    Z = cache[1]
    AL, Y, caches = inputs["L_model_backward"]
    probabilities = course.sigmoid(AL)[0]
    outputs = {
        "sigmoid": course.sigmoid(Z)[0],
        "relu": course.relu(Z)[0],
        "sigmoid_backward": course.sigmoid_backward(dA, Z),
        "relu_backward": course.relu_backward(dA, Z),
        "linear_forward": course.linear_forward(A_prev, W, b)[0],
        **{f"forward_{g}": course.linear_activation_forward(A_prev, W, b, g)[0] for g in ACTIVATIONS},
        "L_model_forward": course.L_model_forward(X, parameters)[0],
        "compute_cost": course.compute_cost(probabilities, Y),
        **dict(zip(("dA_prev", "dW", "db"), course.linear_backward(*inputs["linear_backward"]))),
        **{f"backward_{g}_{i}": out
           for g in ACTIVATIONS for i, out in enumerate(course.linear_activation_backward(dA, cache, g))},
        **{f"L_model_backward_{k}": v for k, v in course.L_model_backward(AL, Y, caches).items()},
        **{f"update_{k}": v for k, v in course.update_parameters(*inputs["update_parameters"], np.float64(0.1)).items()},
        "predict": course.predict(X, np.array([[0, 1, 1, 0]]), parameters),
    }
    for model, layers_dims in (("two_layer_model", (10, 4, 1)), ("L_layer_model", (10, 5, 6, 1))):
        trained, costs = getattr(course, model)(*inputs[model], layers_dims, 0.0075, 2)
        outputs.update({f"{model}_{k}": v for k, v in trained.items()})
        outputs[f"{model}_cost"] = costs[0]
    return outputs, inputs, snapshot


def test_float32_in_float32_out_and_close_to_float64():
    outputs32, _, _ = _all_course_calls(np.float32)
    outputs64, _, _ = _all_course_calls(np.float64)
    for name, value in outputs32.items():
        assert value.dtype == np.float32, name
        np.testing.assert_allclose(value, outputs64[name], rtol=2e-5, atol=2e-6, err_msg=name)


def test_inputs_are_not_mutated():
    _, inputs, snapshot = _all_course_calls(np.float64)
    for after, before in zip(_leaves(inputs), _leaves(snapshot)):
        np.testing.assert_array_equal(after, before)


# --- the same checks through the CUDA kernel sources, compiled for the host ---------------------


@pytest.fixture
def with_kernel_code(monkeypatch):
    """Run a call with the course on ``Backend(ops=HostKernels())``: our CUDA kernels, built by g++ (tests/host_harness)."""
    from deepnet_gpu.backend import Backend

    from .host_harness import HostKernels, host_kernels_available

    if not host_kernels_available():
        pytest.skip("needs a C++ compiler for the host harness")
    backend = Backend(ops=HostKernels())

    def run(call):
        with monkeypatch.context() as patch:
            patch.setattr(course, "backend_of", lambda array: backend)
            return call()

    return run


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
class TestWithTheKernelCode:
    """The course functions on the kernels a GPU runs (argument checks included), against the NumPy twins."""

    @staticmethod
    def assert_matches(actual, expected):
        assert actual.dtype == expected.dtype
        tolerance = {"rtol": 1e-6, "atol": 1e-7} if expected.dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-14}
        np.testing.assert_allclose(actual, expected, **tolerance)

    def test_layers_forward_and_backward(self, with_kernel_code, dtype):
        A_prev, W, b, dA = _cast(_randn(8, (4, 6), (3, 4), (3, 1), (3, 6)), dtype)
        for activation in ACTIVATIONS:
            def layer():
                A, cache = course.linear_activation_forward(A_prev, W, b, activation)
                return (A, *course.linear_activation_backward(dA, cache, activation))

            for actual, expected in zip(with_kernel_code(layer), layer()):
                self.assert_matches(actual, expected)

    def test_activation_helpers_on_views(self, with_kernel_code, dtype):
        Z, dA = (x.T for x in _cast(_randn(9, (6, 4), (6, 4)), dtype))  # Fortran-ordered views

        def helpers():
            return course.sigmoid(Z)[0], course.relu(Z)[0], course.sigmoid_backward(dA, Z), course.relu_backward(dA, Z)

        for actual, expected in zip(with_kernel_code(helpers), helpers()):
            self.assert_matches(actual, expected)

    def test_L_model_forward_and_backward(self, with_kernel_code, dtype):
        X, parameters = _cast(L_model_forward_2hidden_case(), dtype)
        Y = np.array([[0, 1, 1, 0]])

        def step():
            AL, caches = course.L_model_forward(X, parameters)
            return AL, course.L_model_backward(AL, Y, caches)

        (AL, grads), (AL_numpy, grads_numpy) = with_kernel_code(step), step()
        self.assert_matches(AL, AL_numpy)
        for name in grads_numpy:
            self.assert_matches(grads[name], grads_numpy[name])

    @pytest.mark.parametrize("model, case", application_expectations())
    def test_application_models(self, with_kernel_code, dtype, model, case):
        X, Y = application_case(model)
        args = (X.astype(dtype), Y, case["layers_dims"], case["learning_rate"], case["num_iterations"])
        parameters, costs = with_kernel_code(lambda: getattr(course, model)(*args))
        parameters_numpy, costs_numpy = getattr(course, model)(*args)
        for name in parameters_numpy:
            self.assert_matches(parameters[name], parameters_numpy[name])
            if dtype == np.float64:
                assert_published(parameters[name], case["parameters"][name])
        self.assert_matches(costs[0], costs_numpy[0])


# --- the same checks on a GPU ------------------------------------------------------------------


@pytest.fixture
def cp():
    status = cuda_status()
    if not status.usable:
        pytest.skip(f"needs a usable GPU: {status.reason}")
    import cupy

    return cupy


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
class TestOnCupy:
    """The key course checks on CuPy arrays, against NumPy on the same inputs in the same dtype."""

    @staticmethod
    def assert_matches(cp, on_gpu, on_cpu):
        assert isinstance(on_gpu, cp.ndarray) and on_gpu.dtype == on_cpu.dtype
        tolerance = {"rtol": 1e-4, "atol": 1e-6} if on_cpu.dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
        np.testing.assert_allclose(cp.asnumpy(on_gpu), on_cpu, **tolerance)

    def test_layers_forward_and_backward(self, cp, dtype):
        A_prev, W, b, dA = (x.astype(dtype) for x in _randn(8, (4, 6), (3, 4), (3, 1), (3, 6)))
        gpu = [cp.asarray(x) for x in (A_prev, W, b, dA)]
        for activation in ACTIVATIONS:
            A, cache = course.linear_activation_forward(A_prev, W, b, activation)
            A_gpu, cache_gpu = course.linear_activation_forward(*gpu[:3], activation)
            self.assert_matches(cp, A_gpu, A)
            self.assert_matches(cp, cache_gpu[1], cache[1])
            for on_gpu, on_cpu in zip(course.linear_activation_backward(gpu[3], cache_gpu, activation),
                                      course.linear_activation_backward(dA, cache, activation)):
                self.assert_matches(cp, on_gpu, on_cpu)
        Z, Z_gpu = cache[1], cache_gpu[1]
        self.assert_matches(cp, course.sigmoid(Z_gpu)[0], course.sigmoid(Z)[0])
        self.assert_matches(cp, course.relu(Z_gpu)[0], course.relu(Z)[0])
        self.assert_matches(cp, course.sigmoid_backward(gpu[3], Z_gpu), course.sigmoid_backward(dA, Z))
        self.assert_matches(cp, course.relu_backward(gpu[3], Z_gpu), course.relu_backward(dA, Z))

    def test_L_model_forward_cost_backward_and_update(self, cp, dtype):
        X, parameters = L_model_forward_2hidden_case()
        X, parameters = X.astype(dtype), {k: v.astype(dtype) for k, v in parameters.items()}
        X_gpu, parameters_gpu = cp.asarray(X), {k: cp.asarray(v) for k, v in parameters.items()}
        Y = np.array([[0, 1, 1, 0]])  # host integer labels: the functions move and cast them
        AL, caches = course.L_model_forward(X, parameters)
        AL_gpu, caches_gpu = course.L_model_forward(X_gpu, parameters_gpu)
        self.assert_matches(cp, AL_gpu, AL)
        if dtype == np.float64:
            assert_published(cp.asnumpy(AL_gpu), [[0.03921668, 0.70498921, 0.19734387, 0.04728177]])
        cost, cost_gpu = course.compute_cost(AL, Y), course.compute_cost(AL_gpu, Y)
        assert isinstance(cost_gpu, np.ndarray) and cost_gpu.shape == () and cost_gpu.dtype == dtype
        np.testing.assert_allclose(cost_gpu, cost, rtol=1e-5 if dtype == np.float32 else 1e-12)
        grads = course.L_model_backward(AL, Y, caches)
        grads_gpu = course.L_model_backward(AL_gpu, Y, caches_gpu)
        assert set(grads_gpu) == set(grads)
        for name in grads:
            self.assert_matches(cp, grads_gpu[name], grads[name])
        before = {k: v.copy() for k, v in parameters_gpu.items()}
        updated_gpu = course.update_parameters(parameters_gpu, grads_gpu, 0.1)
        updated = course.update_parameters(parameters, grads, 0.1)
        for name in parameters:
            self.assert_matches(cp, updated_gpu[name], updated[name])
            assert bool((parameters_gpu[name] == before[name]).all())

    @pytest.mark.parametrize("model, case", application_expectations())
    def test_application_models(self, cp, dtype, model, case):
        X, Y = application_case(model)
        args = (case["layers_dims"], case["learning_rate"], case["num_iterations"])
        parameters, costs = getattr(course, model)(X.astype(dtype), Y, *args)
        parameters_gpu, costs_gpu = getattr(course, model)(cp.asarray(X, dtype=dtype), cp.asarray(Y), *args)
        for name in parameters:
            self.assert_matches(cp, parameters_gpu[name], parameters[name])
            if dtype == np.float64:
                assert_published(cp.asnumpy(parameters_gpu[name]), case["parameters"][name])
        assert len(costs_gpu) == len(costs)
        np.testing.assert_allclose(np.array(costs_gpu, dtype=float), np.array(costs, dtype=float), rtol=1e-5)

    def test_arrays_on_two_devices_are_named(self, cp, dtype):
        A_prev, W, b = (x.astype(dtype) for x in _randn(8, (4, 6), (3, 4), (3, 1)))
        with pytest.raises(ValueError, match=r"^A, W, b must be on one device; got A on cpu, W on cuda:0, b on cuda:0$"):
            course.linear_forward(A_prev, cp.asarray(W), cp.asarray(b))

    def test_predict(self, cp, dtype, capsys):
        X, parameters = L_model_forward_2hidden_case()
        parameters_gpu = {k: cp.asarray(v, dtype=dtype) for k, v in parameters.items()}
        p_gpu = course.predict(cp.asarray(X, dtype=dtype), [[0, 1, 1, 0]], parameters_gpu)
        assert isinstance(p_gpu, cp.ndarray) and p_gpu.dtype == dtype
        np.testing.assert_array_equal(cp.asnumpy(p_gpu), [[0.0, 1.0, 0.0, 0.0]])
        assert capsys.readouterr().out == "Accuracy: 0.75\n"


@pytest.mark.parametrize("model", [course.two_layer_model, course.L_layer_model])
def test_models_keep_the_notebooks_defaults(model):
    defaults = {name: p.default for name, p in inspect.signature(model).parameters.items()}
    assert defaults["learning_rate"] == 0.0075 and defaults["num_iterations"] == 3000
    assert defaults["print_cost"] is False

"""DeepNet against the float64 oracle in tests/reference.py, on random data."""

import contextlib
import dataclasses
import types
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from deepnet_gpu import DeepNet, DeviceMemoryError, TrainingDivergedError, network
from deepnet_gpu.backend import Backend
from deepnet_gpu.workspace import Workspace
from tests import reference

HIDDEN = ["relu", "leaky_relu", "sigmoid", "tanh", "linear"]
OUTPUTS = ["sigmoid", "softmax", "linear"]


def targets(output, n_y, m, rng):
    if output == "sigmoid":
        return (rng.random((n_y, m)) > 0.5).astype(float)
    if output == "softmax":
        return np.eye(n_y)[:, rng.integers(0, n_y, m)]
    return rng.standard_normal((n_y, m))


def random_net(dims, hidden, output, rng, dtype="float64"):
    net = DeepNet(dims, hidden_activation=hidden, output_activation=output, device="cpu", dtype=dtype, seed=3)
    params = {k: v + (0.1 * rng.standard_normal(v.shape) if k.startswith("b") else 0) for k, v in net.parameters.items()}
    net.set_parameters(params)
    return net, params


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", OUTPUTS)
def test_forward_cost_and_gradients_match_the_oracle(hidden, output):
    rng = np.random.default_rng(7)
    dims = [6, 5, 4, 1 if output == "sigmoid" else 3]
    net, params = random_net(dims, hidden, output, rng)
    X = rng.standard_normal((6, 33))
    Y = targets(output, dims[-1], 33, rng)
    _, AL = reference.forward(params, X, hidden, output)
    np.testing.assert_allclose(net.predict_proba(X), AL, rtol=1e-12, atol=1e-14)
    assert net.cost(X, Y) == pytest.approx(reference.cost(params, X, Y, hidden, output), rel=1e-12)
    expected = reference.gradients(params, X, Y, hidden, output)
    got = net.gradients(X, Y)
    assert set(got) == set(expected)
    for name in expected:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-10, atol=1e-13, err_msg=name)


@pytest.mark.parametrize("output", OUTPUTS)
def test_one_full_batch_step_is_gradient_descent(output):
    rng = np.random.default_rng(1)
    dims = [4, 7, 1 if output == "sigmoid" else 3]
    net, params = random_net(dims, "tanh", output, rng)
    X = rng.standard_normal((4, 20))
    Y = targets(output, dims[-1], 20, rng)
    grads = reference.gradients(params, X, Y, "tanh", output)
    history = net.fit(X, Y, learning_rate=0.3, epochs=1)
    assert history["cost"] == [pytest.approx(reference.cost(params, X, Y, "tanh", output), rel=1e-12)]
    for name, value in net.parameters.items():
        np.testing.assert_allclose(value, params[name] - 0.3 * grads["d" + name], rtol=1e-12, atol=1e-14)


def test_mini_batches_without_shuffle_step_through_consecutive_columns():
    rng = np.random.default_rng(2)
    net, params = random_net([3, 4, 1], "relu", "sigmoid", rng)
    X = rng.standard_normal((3, 10))
    Y = targets("sigmoid", 1, 10, rng)
    expected_cost = 0.0
    for start in (0, 4, 8):
        Xb, Yb = X[:, start:start + 4], Y[:, start:start + 4]
        expected_cost += reference.cost(params, Xb, Yb, "relu", "sigmoid") * Xb.shape[1] / 10
        grads = reference.gradients(params, Xb, Yb, "relu", "sigmoid")
        params = {k: v - 0.5 * grads["d" + k] for k, v in params.items()}
    history = net.fit(X, Y, learning_rate=0.5, epochs=1, batch_size=4, shuffle=False)
    assert history["cost"][0] == pytest.approx(expected_cost, rel=1e-12)
    for name, value in net.parameters.items():
        np.testing.assert_allclose(value, params[name], rtol=1e-11, atol=1e-13)


def test_shuffled_mini_batches_follow_the_seeds_default_rng_one_shuffle_per_epoch():
    rng = np.random.default_rng(4)
    net, params = random_net([3, 4, 1], "tanh", "sigmoid", rng)
    X, Y = rng.standard_normal((3, 10)), targets("sigmoid", 1, 10, rng)
    order, shuffler, expected_costs = np.arange(10), np.random.default_rng(net.seed), []
    for _ in range(3):
        shuffler.shuffle(order)
        expected_costs.append(0.0)
        for start in (0, 4, 8):
            Xb, Yb = X[:, order[start:start + 4]], Y[:, order[start:start + 4]]
            expected_costs[-1] += reference.cost(params, Xb, Yb, "tanh", "sigmoid") * Xb.shape[1] / 10
            grads = reference.gradients(params, Xb, Yb, "tanh", "sigmoid")
            params = {k: v - 0.5 * grads["d" + k] for k, v in params.items()}
    history = net.fit(X, Y, learning_rate=0.5, epochs=3, batch_size=4)
    np.testing.assert_allclose(history["cost"], expected_costs, rtol=1e-12)
    for name, value in net.parameters.items():
        np.testing.assert_allclose(value, params[name], rtol=1e-11, atol=1e-13)


def test_shuffled_mini_batches_are_reproducible_from_the_seed_and_differ_from_unshuffled():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 64))
    Y = targets("softmax", 3, 64, rng)
    runs = []
    for shuffle in (True, True, False):
        net = DeepNet([5, 8, 3], output_activation="softmax", seed=11, device="cpu", dtype="float64")
        runs.append(net.fit(X, Y, learning_rate=0.1, epochs=3, batch_size=10, shuffle=shuffle)["cost"])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_training_lowers_the_cost_and_learns_a_separable_problem():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((2, 200))
    Y = (X[0:1] * X[1:2] > 0).astype(float)
    net = DeepNet([2, 16, 8, 1], hidden_activation="tanh", seed=0, device="cpu")
    history = net.fit(X, Y, learning_rate=0.5, epochs=600, batch_size=50)
    assert history["cost"][-1] < 0.5 * history["cost"][0]
    assert net.score(X, Y) > 0.9


def test_float32_is_the_default_and_stays_float32():
    rng = np.random.default_rng(5)
    net = DeepNet([3, 4, 2], output_activation="softmax", seed=0, device="cpu")
    X = rng.standard_normal((3, 9))
    assert net.dtype == np.float32
    assert net.predict_proba(X).dtype == np.float32
    assert all(v.dtype == np.float32 for v in net.parameters.values())
    assert all(v.dtype == np.float32 for v in net.gradients(X, [0, 1, 1, 0, 1, 0, 0, 1, 1]).values())


def test_float32_training_tracks_float64():
    rng = np.random.default_rng(6)
    X = rng.standard_normal((4, 50))
    Y = targets("sigmoid", 1, 50, rng)
    histories = [DeepNet([4, 6, 1], seed=2, device="cpu", dtype=dt).fit(X, Y, learning_rate=0.1, epochs=30)["cost"]
                 for dt in ("float32", "float64")]
    np.testing.assert_allclose(histories[0], histories[1], rtol=1e-5)


def test_predict_labels_and_score():
    net = DeepNet([2, 3], output_activation="softmax", device="cpu", dtype="float64")
    net.set_parameters({"W1": np.array([[1.0, 0], [0, 1], [-1, -1]]), "b1": np.zeros((3, 1))})
    X = np.array([[3.0, 0, -2], [0, 3, -2]])
    np.testing.assert_array_equal(net.predict(X), [[0, 1, 2]])
    assert net.score(X, [0, 1, 1]) == pytest.approx(2 / 3)
    binary = DeepNet([1, 1], device="cpu", dtype="float64")
    binary.set_parameters({"W1": np.array([[1.0]]), "b1": np.array([[0.0]])})
    np.testing.assert_array_equal(binary.predict(np.array([[-1.0, 0.0, 2.0]])), [[0, 0, 1]])


def test_linear_output_scores_r_squared():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((3, 100))
    net = DeepNet([3, 1], output_activation="linear", device="cpu", dtype="float64")
    W = np.array([[1.0, -2.0, 0.5]])
    net.set_parameters({"W1": W, "b1": np.array([[0.25]])})
    assert net.score(X, W @ X + 0.25) == pytest.approx(1.0)
    assert net.score(X, rng.standard_normal((1, 100))) < 0.5


def test_per_layer_hidden_activations():
    rng = np.random.default_rng(9)
    dims = [3, 4, 4, 1]
    net = DeepNet(dims, hidden_activation=["tanh", "relu"], device="cpu", dtype="float64", seed=0)
    assert net.hidden_activations == ["tanh", "relu"]
    X = rng.standard_normal((3, 5))
    p = net.parameters
    expected = reference.g("sigmoid", p["W3"] @ np.maximum(p["W2"] @ np.tanh(p["W1"] @ X + p["b1"]) + p["b2"], 0) + p["b3"])
    np.testing.assert_allclose(net.predict_proba(X), expected, rtol=1e-12)


def test_parameters_are_copies():
    net = DeepNet([2, 2, 1], seed=0, device="cpu")
    params = net.parameters
    params["W1"][:] = 99
    assert not np.any(net.parameters["W1"] == 99)


def test_to_cpu_keeps_parameters():
    net = DeepNet([2, 3, 1], seed=0, device="cpu")
    before = net.parameters
    assert net.to("cpu") is net
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[name])


def test_repr_names_the_architecture():
    text = repr(DeepNet([4, 3, 2], output_activation="softmax", device="cpu"))
    assert "[4, 3, 2]" in text and "softmax" in text and "cpu" in text


@pytest.mark.parametrize("init, scale", [("he", lambda n_in: np.sqrt(2.0 / n_in)),
                                         ("xavier", lambda n_in: np.sqrt(1.0 / n_in))])
def test_he_and_xavier_draw_from_default_rng_at_the_documented_scale(init, scale):
    p = DeepNet([4, 3, 2], init=init, seed=5, device="cpu", dtype="float64").parameters
    rng = np.random.default_rng(5)
    np.testing.assert_allclose(p["W1"], rng.standard_normal((3, 4)) * scale(4), rtol=1e-15)
    np.testing.assert_allclose(p["W2"], rng.standard_normal((2, 3)) * scale(3), rtol=1e-15)
    assert not p["b1"].any() and not p["b2"].any()


def test_out_of_memory_for_the_step_buffers_is_a_device_memory_error_with_their_size():
    def no_room(shape, dtype):
        raise MemoryError("no room")

    full = types.SimpleNamespace(xp=types.SimpleNamespace(empty=no_room, ones=no_room), device="cpu",
                                 device_scope=contextlib.nullcontext, out_of_memory_errors=(MemoryError,))
    dims, m = (100, 200, 10), 1000
    # A[1]; Z[L], A[L] and the loss terms; dZ[1], dZ[2] and the ones; the gathered X and Y
    elements = (200 * m) + (2 * 10 * m + m) + (200 * m + 10 * m + m) + (m * 100 + 10 * m)
    with pytest.raises(DeviceMemoryError, match=rf"batch of 1000 examples: its buffers need "
                                                rf"{8 * elements / 2**20:.1f} MiB \(no room\); pass fewer "
                                                rf"examples at a time \(fit's batch_size\)") as caught:
        Workspace(full, dims, m, np.dtype(np.float64), training=True, gather=True)
    assert isinstance(caught.value.__cause__, MemoryError)


def test_to_a_backend_moves_the_network_onto_it():
    other = Backend()
    net = DeepNet([2, 3, 1], seed=0, device="cpu")
    X = np.random.default_rng(0).standard_normal((2, 4))
    before = net.predict_proba(X)
    assert net.to(other) is net and net.backend is other
    np.testing.assert_array_equal(net.predict_proba(X), before)


def test_linear_output_score_is_r_squared_per_output_row():
    rng = np.random.default_rng(10)
    net = DeepNet([3, 2], output_activation="linear", device="cpu", dtype="float64")
    net.set_parameters({"W1": rng.standard_normal((2, 3)), "b1": np.zeros((2, 1))})
    X = rng.standard_normal((3, 7))
    Y = net.predict_proba(X) + 0.3 * rng.standard_normal((2, 7)) + np.array([[5.0], [-3.0]])
    residual = ((Y - net.predict_proba(X)) ** 2).sum()
    total = ((Y - Y.mean(axis=1, keepdims=True)) ** 2).sum()
    assert net.score(X, Y) == pytest.approx(1 - residual / total, rel=1e-12)
    constant = np.full((2, 7), 4.0)
    assert net.score(X, constant) == 0.0  # no variance to explain and not matched exactly


def test_workspaces_are_reused_per_width_and_only_the_latest_are_kept():
    kept = network._WORKSPACES_KEPT
    net = DeepNet([2, 3, 1], seed=0, device="cpu")
    X = np.random.default_rng(0).standard_normal((2, kept + 2))
    net.predict(X)
    first = net._workspaces[(kept + 2, False, False)]
    net.predict(X)
    assert net._workspaces[(kept + 2, False, False)] is first
    for m in range(1, kept + 2):
        net.predict(X[:, :m])
    assert list(net._workspaces) == [(m, False, False) for m in range(2, kept + 2)]


def test_a_non_numeric_target_is_named_y():
    net = DeepNet([2, 1], device="cpu")
    with pytest.raises(TypeError, match="^Y must be a numeric array"):
        net.fit(np.zeros((2, 2)), [["a", "b"]], learning_rate=0.1, epochs=1)


def test_the_shared_loss_activation_and_layout_objects_are_immutable():
    net = DeepNet([3, 4, 2], hidden_activation="leaky_relu", output_activation="softmax", device="cpu")
    for obj, field in ((net.loss, "code"), (net._activations[0], "alpha"), (net._activations[-1], "name"),
                       (net._layout, "layer_dims")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, 0)


def test_softmax_predictions_are_one_label_per_column():
    net = DeepNet([2, 3], output_activation="softmax", device="cpu", dtype="float64", seed=0)
    X = np.random.default_rng(2).standard_normal((2, 5))
    labels = net.predict(X)
    assert labels.shape == (1, 5)
    np.testing.assert_array_equal(labels, np.argmax(net.predict_proba(X), axis=0).reshape(1, -1))


def test_linear_predictions_are_the_outputs():
    net = DeepNet([2, 2], output_activation="linear", device="cpu", dtype="float64", seed=0)
    X = np.random.default_rng(3).standard_normal((2, 4))
    np.testing.assert_array_equal(net.predict(X), net.predict_proba(X))


def test_score_counts_an_output_of_one_half_as_label_0_like_predict():
    net = DeepNet([2, 1], device="cpu", dtype="float64")
    net.set_parameters({"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))})
    X = np.ones((2, 3))
    np.testing.assert_array_equal(net.predict(X), [[0, 0, 0]])
    assert net.score(X, [0, 0, 0]) == 1.0


def test_r_squared_of_small_and_of_constant_targets():
    net = DeepNet([1, 1], output_activation="linear", device="cpu", dtype="float64")
    net.set_parameters({"W1": [[1.0]], "b1": [[0.0]]})
    X = np.array([[0.1, 0.2, 0.35]])
    Y = X + np.array([[0.01, -0.01, 0.0]])
    residual, total = 0.0002, float(((Y - Y.mean()) ** 2).sum())
    assert net.score(X, Y) == pytest.approx(1 - residual / total)
    assert net.score(X, X) == 1.0
    net.set_parameters({"W1": [[0.0]], "b1": [[0.0]]})
    assert net.score(X, np.zeros((1, 3))) == 1.0
    assert net.score(X, np.full((1, 3), 0.5)) == 0.0


def test_cost_accepts_nested_lists_and_class_labels():
    net = DeepNet([2, 3], output_activation="softmax", device="cpu", dtype="float64", seed=1)
    X = np.random.default_rng(4).standard_normal((2, 4))
    labels = [0, 2, 1, 2]
    assert net.cost(X.tolist(), labels) == pytest.approx(net.cost(X, np.eye(3)[:, labels]))


def test_set_parameters_needs_a_dict_and_accepts_nested_lists():
    net = DeepNet([2, 1], device="cpu", dtype="float64")
    with pytest.raises(TypeError, match=r"parameters must be a dict with keys W1, b1, \.\.\.; got list"):
        net.set_parameters([np.ones((1, 2)), np.ones((1, 1))])
    net.set_parameters({"W1": [[1.0, 2.0]], "b1": [[0.5]]})
    assert net.parameters["W1"].tolist() == [[1.0, 2.0]] and net.parameters["b1"].tolist() == [[0.5]]


@pytest.mark.parametrize("learning_rate", [10.0, 1000.0])  # overflows first; inf * 0 and inf - inf first
def test_a_diverging_fit_raises_without_numpy_warnings(learning_rate):
    rng = np.random.default_rng(6)
    X, Y = rng.standard_normal((3, 20)) * 10, rng.standard_normal((1, 20)) * 10
    net = DeepNet([3, 8, 8, 1], output_activation="linear", device="cpu", dtype="float32", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDivergedError):
            net.fit(X, Y, learning_rate=learning_rate, epochs=200)


def test_calls_from_several_threads_on_one_network_get_their_own_results():
    # Calls of one batch width share a workspace: without the network's lock, threads overwrite
    # each other's outputs there.
    rng = np.random.default_rng(7)
    net = DeepNet([20, 256, 1], seed=0, device="cpu", dtype="float64")
    Xs = [rng.standard_normal((20, 500)) + i for i in range(4)]
    expected = [net.predict_proba(X) for X in Xs]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: net.predict_proba(Xs[i % 4]), range(100)))
    for i, result in enumerate(results):
        np.testing.assert_array_equal(result, expected[i % 4])

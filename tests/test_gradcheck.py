"""Backpropagation agrees with central differences for every hidden activation × output pair."""

import numpy as np
import pytest

from deepnet_gpu import DeepNet, gradcheck
from tests.test_network import HIDDEN, OUTPUTS, random_net, targets


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", OUTPUTS)
def test_gradcheck_below_2e_7(hidden, output):
    rng = np.random.default_rng(10 * HIDDEN.index(hidden) + OUTPUTS.index(output))
    dims = [4, 5, 3, 1 if output == "sigmoid" else 3]
    net, _ = random_net(dims, hidden, output, rng, dtype="float32")
    X = rng.standard_normal((4, 12))
    assert gradcheck(net, X, targets(output, dims[-1], 12, rng)) < 2e-7


def test_gradcheck_catches_a_wrong_gradient(monkeypatch):
    rng = np.random.default_rng(0)
    net, _ = random_net([3, 4, 1], "tanh", "sigmoid", rng)
    X, Y = rng.standard_normal((3, 10)), targets("sigmoid", 1, 10, rng)
    real = DeepNet.gradients
    monkeypatch.setattr(DeepNet, "gradients", lambda self, X, Y: {k: 1.1 * v for k, v in real(self, X, Y).items()})
    assert gradcheck(net, X, Y) > 1e-3


def test_gradcheck_leaves_the_network_alone_and_checks_epsilon():
    rng = np.random.default_rng(1)
    net, params = random_net([2, 3, 1], "relu", "sigmoid", rng, dtype="float32")
    X, Y = rng.standard_normal((2, 5)), targets("sigmoid", 1, 5, rng)
    gradcheck(net, X, Y)
    assert net.dtype == np.float32 and net.device == "cpu"
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(value, params[name].astype(np.float32))
    with pytest.raises(ValueError, match="epsilon must be a positive finite number"):
        gradcheck(net, X, Y, epsilon=0)
    with pytest.raises(TypeError, match="net must be a DeepNet; got dict"):
        gradcheck(params, X, Y)


def test_gradcheck_is_exact_for_a_quadratic_cost_whatever_epsilon():
    rng = np.random.default_rng(2)
    net, _ = random_net([3, 2], "relu", "linear", rng)  # one linear layer and squared error: J is quadratic in θ
    X, Y = rng.standard_normal((3, 8)), rng.standard_normal((2, 8))
    assert gradcheck(net, X, Y, epsilon=0.1) < 1e-9


def test_gradcheck_epsilon_defaults_to_the_courses_1e_7():
    rng = np.random.default_rng(3)
    net, _ = random_net([3, 4, 1], "tanh", "sigmoid", rng)
    X, Y = rng.standard_normal((3, 6)), targets("sigmoid", 1, 6, rng)
    assert gradcheck(net, X, Y) == gradcheck(net, X, Y, epsilon=1e-7)


def test_gradcheck_of_a_zero_gradient_is_zero():
    net = DeepNet([2, 1], output_activation="linear", device="cpu", dtype="float64")
    net.set_parameters({"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))})
    assert gradcheck(net, np.ones((2, 3)), np.zeros((1, 3))) == 0.0


@pytest.mark.parametrize("output", OUTPUTS)
def test_gradcheck_of_a_different_activation_in_every_hidden_layer(output):
    # Each hidden layer's g' must be its own, and leaky_relu's slope the network's, not the default.
    rng = np.random.default_rng(20 + OUTPUTS.index(output))
    dims = [3, 4, 4, 4, 4, 1 if output == "sigmoid" else 3]
    net = DeepNet(dims, hidden_activation=["leaky_relu", "tanh", "sigmoid", "relu"], output_activation=output,
                  leaky_slope=0.3, device="cpu", seed=3)
    net.set_parameters({k: v + (0.5 * rng.standard_normal(v.shape) if k.startswith("b") else 0)
                        for k, v in net.parameters.items()})
    X = rng.standard_normal((3, 10))
    assert gradcheck(net, X, targets(output, dims[-1], 10, rng)) < 2e-7

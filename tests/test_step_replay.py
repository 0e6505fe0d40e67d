"""Recorded and replayed training steps (deepnet_gpu.step_replay, TrainingStep): a replay makes the
calls of the recorded step, in order, on the buffers as they are when it runs, and computes
exactly what the propagation code computes; a step that cannot be replayed is not."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from deepnet_gpu import DeepNet, training
from deepnet_gpu.backend import Backend
from deepnet_gpu.numpy_kernels import RELU, NumpyKernels
from deepnet_gpu.optimizers import SGD
from deepnet_gpu.training import TrainingStep
from tests.host_harness import HostKernels, host_kernels_available
from tests.test_network import targets

needs_harness = pytest.mark.skipif(not host_kernels_available(), reason="the host harness needs g++ (or $CXX)")


@functools.cache
def host_backend() -> Backend:
    return Backend(ops=HostKernels())


BACKENDS = {"numpy-twins": lambda: "cpu", "host-kernels": host_backend}


def backend_param():
    return pytest.mark.parametrize("backend", [
        pytest.param("numpy-twins"), pytest.param("host-kernels", marks=needs_harness)])


def problem(output: str, m: int = 23, seed: int = 0):
    rng = np.random.default_rng(seed)
    dims = [6, 5, 4, 1 if output == "sigmoid" else 3]
    return dims, rng.standard_normal((6, m)), targets(output, dims[-1], m, rng)


def fitted(dims, output, X, Y, backend, replay: bool, monkeypatch, **fit):
    with monkeypatch.context() as patch:
        patch.setattr(training, "TrainingStep", functools.partial(TrainingStep, replay=replay))
        net = DeepNet(dims, output_activation=output, seed=2, device=BACKENDS[backend](), dtype="float64")
        history = net.fit(X, Y, learning_rate=0.1, **fit)
    return net, history


@backend_param()
@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("fit", [
    dict(epochs=5),
    dict(epochs=4, batch_size=5),
    dict(epochs=3, batch_size=8, shuffle=False),
], ids=["full-batch", "mini-batches-shuffled", "mini-batches-in-order"])
def test_fit_with_replayed_steps_is_fit_without_them_bit_for_bit(backend, output, fit, monkeypatch):
    dims, X, Y = problem(output)
    runs = [fitted(dims, output, X, Y, backend, replay, monkeypatch, validation_data=(X, Y), **fit)
            for replay in (False, True)]
    (eager, eager_history), (replayed, replayed_history) = runs
    assert replayed_history == eager_history
    for name, value in eager.parameters.items():
        np.testing.assert_array_equal(replayed.parameters[name], value, err_msg=name)


class Counted:
    """Counts the calls of ``function`` into ``self.calls``."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.function(*args, **kwargs)


@pytest.fixture
def counted_forward(monkeypatch) -> Counted:
    """The forward pass of the propagation code, counted: it runs in a recorded or eager step only."""
    forward = Counted(training.forward)
    monkeypatch.setattr(training, "forward", forward)
    return forward


def step_setup(backend_name="numpy-twins", output="softmax", m=11):
    dims, X, Y = problem(output, m)
    net = DeepNet(dims, output_activation=output, seed=2, device=BACKENDS[backend_name](), dtype="float64")
    X, Y = net._inputs(X, Y)
    ws = net._workspace(m, training=True)
    return net, X, Y, ws


def eager_twin(net):
    """A copy of ``net`` with its own buffers, stepped without replays."""
    twin = DeepNet(net.layer_dims, output_activation=net.output_activation, seed=0, device=net.backend,
                   dtype=net.dtype)
    twin.set_parameters(net.parameters)
    return twin


def run_steps(net, X, Y, count, replay, epoch_costs=None, after_call=None):
    """``count`` steps into one cost accumulator (unless ``epoch_costs`` lists them); returns the
    step and that accumulator."""
    total = np.zeros((), net.dtype)
    epoch_costs = epoch_costs or [total] * count
    step = TrainingStep(net, SGD(0.1), np.zeros((), net.dtype), 1.0 / X.shape[1], replay=replay)
    ws = net._workspace(X.shape[1], training=True)
    for epoch_cost in epoch_costs:
        step(X, Y, ws, epoch_cost, x_rows=False, after_call=after_call)
    return step, total


@backend_param()
def test_after_the_recorded_step_the_propagation_code_runs_no_more(backend, counted_forward):
    net, X, Y, _ = step_setup(backend)
    twin = eager_twin(net)
    _, total = run_steps(net, X, Y, 4, replay=True)
    assert counted_forward.calls == 1
    _, twin_total = run_steps(twin, X, Y, 4, replay=False)
    assert counted_forward.calls == 5
    np.testing.assert_array_equal(net._flat, twin._flat)
    assert float(total) == float(twin_total) > 0


@backend_param()
def test_a_replay_makes_the_recorded_calls_in_order_and_each_reads_its_buffers_anew(backend):
    net, X, Y, _ = step_setup(backend)
    twin = eager_twin(net)
    labels = []
    run_steps(net, X, Y, 3, replay=True, after_call=labels.append)
    eager_labels = []
    run_steps(twin, X, Y, 1, replay=False, after_call=eager_labels.append)
    assert len(eager_labels) == 11 + 9 and eager_labels[0] == "gemm N·N → 5×11" and eager_labels[-1] == "sgd_update"
    assert labels == eager_labels * 3
    run_steps(twin, X, Y, 2, replay=False)
    np.testing.assert_array_equal(net._flat, twin._flat)


def test_each_replay_adds_its_cost_to_the_epoch_slot_it_is_given():
    net, X, Y, _ = step_setup()
    twin = eager_twin(net)
    slots = [np.zeros((), np.float64) for _ in range(3)]
    run_steps(net, X, Y, 3, replay=True, epoch_costs=[slots[0], slots[1], slots[1], slots[2]])
    twin_slots = [np.zeros((), np.float64) for _ in range(3)]
    run_steps(twin, X, Y, 3, replay=False, epoch_costs=[twin_slots[0], twin_slots[1], twin_slots[1], twin_slots[2]])
    assert [float(slot) for slot in slots] == [float(slot) for slot in twin_slots]
    assert float(slots[1]) > float(slots[2]) > 0


def new_parameters(net, ws):
    """set_parameters: new parameter buffers and, with them, a new workspace."""
    net.set_parameters(net.parameters)
    return net._workspace(ws.m, training=True)


def rebound_buffers(net, ws):
    """New parameter buffers under the same workspace (a rebinding the step must notice)."""
    net._flat = net._flat.copy()
    net._layers = net._layout.views(net._flat)
    return ws


@pytest.mark.parametrize("change", [new_parameters, rebound_buffers], ids=lambda change: change.__name__)
def test_a_replay_is_kept_for_the_buffers_it_was_recorded_on(counted_forward, change):
    net, X, Y, ws = step_setup()
    step = TrainingStep(net, SGD(0.1), np.zeros(()), 1.0 / X.shape[1])
    step(X, Y, ws, np.zeros(()), x_rows=False)
    ws = change(net, ws)
    before = net.parameters
    step(X, Y, ws, np.zeros(()), x_rows=False)
    assert counted_forward.calls == 2
    assert not np.array_equal(net.parameters["W1"], before["W1"])


def test_at_most_a_few_sets_of_buffers_are_kept(counted_forward):
    net, X, Y, _ = step_setup()
    step = TrainingStep(net, SGD(0.1), np.zeros(()), 1.0)
    widths = range(1, TrainingStep.REPLAYS_KEPT + 2)
    for _ in range(2):
        for m in widths:
            ws = net._workspace(m, training=True)
            step(X[:, :m].copy(), Y[:, :m].copy(), ws, np.zeros(()), x_rows=False)
    assert counted_forward.calls == 2 * len(widths)


@needs_harness
def test_a_step_whose_kernel_reads_a_converted_argument_is_never_replayed(counted_forward):
    net, X, Y, _ = step_setup("host-kernels")
    twin = eager_twin(net)
    Y_of_another_dtype = Y.astype(np.float32)
    total = np.zeros((), np.float64)
    step = TrainingStep(net, SGD(0.1), np.zeros((), np.float64), 1.0 / X.shape[1])
    ws = net._workspace(X.shape[1], training=True)
    labels = []
    for _ in range(3):
        step(X, Y_of_another_dtype, ws, total, x_rows=False)
    step(X, Y_of_another_dtype, ws, total, x_rows=False, after_call=labels.append)
    assert counted_forward.calls == 4 and len(labels) == 11 + 9
    _, twin_total = run_steps(twin, X, Y, 4, replay=False)
    np.testing.assert_array_equal(net._flat, twin._flat)
    assert float(total) == float(twin_total) > 0


@needs_harness
def test_recorded_launches_read_the_arrays_as_they_are_when_they_run():
    kernels = HostKernels()
    Z, A = np.array([[-1.0, 2.0, -3.0]]), np.zeros((1, 3))
    result, launches = kernels.recorded("activation_forward", Z, A, RELU, 0.0)
    assert result is A and len(launches) == 1
    np.testing.assert_array_equal(A, [[0.0, 2.0, 0.0]])
    Z[...] = [[4.0, -5.0, 6.0]]
    launches[0]()
    np.testing.assert_array_equal(A, [[4.0, 0.0, 6.0]])


@needs_harness
@pytest.mark.parametrize("Z", [[[-1.0, 2.0]], np.array([[-1.0, 2.0]], np.float32),
                               np.array([[-1.0, 0.0], [2.0, 0.0]])[:, :1].T], ids=["list", "float32", "strided"])
def test_a_call_that_converts_an_argument_runs_but_gives_no_launches_to_keep(Z):
    A = np.zeros((1, 2))
    result, launches = HostKernels().recorded("activation_forward", Z, A, RELU, 0.0)
    assert launches is None
    np.testing.assert_array_equal(result, [[0.0, 2.0]])


def test_the_numpy_twins_keep_themselves_bound_to_the_arrays():
    Z, A = np.array([[-1.0, 2.0]]), np.zeros((1, 2))
    result, calls = NumpyKernels().recorded("activation_forward", Z, A, RELU, 0.0)
    assert result is A
    Z[...] = [[3.0, -4.0]]
    calls[0]()
    np.testing.assert_array_equal(A, [[3.0, 0.0]])

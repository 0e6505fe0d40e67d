"""DeepNet on a GPU against the NumPy path, from the same host-drawn initial weights (skipped without a GPU)."""

import copy

import numpy as np
import pytest

from deepnet_gpu import DeepNet, DeviceMemoryError, backend
from tests.test_gemm_layout import operands
from tests.test_network import targets

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not backend.cuda_status().usable, reason="needs a usable CUDA GPU through CuPy"),
]

TOLERANCE = {"float32": dict(rtol=2e-4, atol=1e-5), "float64": dict(rtol=1e-9, atol=1e-12)}


def pair(dims, dtype, **kwargs):
    cpu = DeepNet(dims, device="cpu", dtype=dtype, seed=5, **kwargs)
    gpu = DeepNet(dims, device="cuda", dtype=dtype, seed=5, **kwargs)
    return cpu, gpu


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "sigmoid", "tanh", "linear"])
@pytest.mark.parametrize("output", ["sigmoid", "softmax", "linear"])
def test_training_runs_match_the_cpu(dtype, hidden, output):
    rng = np.random.default_rng(0)
    dims = [12, 9, 6, 1 if output == "sigmoid" else 4]
    X = rng.standard_normal((12, 150))
    Y = targets(output, dims[-1], 150, rng)
    cpu, gpu = pair(dims, dtype, hidden_activation=hidden, output_activation=output)
    for batch_size in (None, 32):
        h_cpu = cpu.fit(X, Y, learning_rate=0.05, epochs=6, batch_size=batch_size, validation_data=(X, Y))
        h_gpu = gpu.fit(X, Y, learning_rate=0.05, epochs=6, batch_size=batch_size, validation_data=(X, Y))
        np.testing.assert_allclose(h_gpu["cost"], h_cpu["cost"], **TOLERANCE[dtype])
        np.testing.assert_allclose(h_gpu["val_cost"], h_cpu["val_cost"], **TOLERANCE[dtype])
    for name, value in cpu.parameters.items():
        np.testing.assert_allclose(gpu.parameters[name], value, **TOLERANCE[dtype], err_msg=name)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), **TOLERANCE[dtype])
    for name, value in cpu.gradients(X, Y).items():
        np.testing.assert_allclose(gpu.gradients(X, Y)[name], value, **TOLERANCE[dtype], err_msg=name)


def test_results_come_back_as_numpy_for_numpy_input_and_stay_on_the_gpu_for_cupy_input():
    cp = backend.get_backend("cuda").xp
    net = DeepNet([3, 4, 2], output_activation="softmax", device="cuda", seed=0)
    X = np.random.default_rng(1).standard_normal((3, 7))
    assert isinstance(net.predict(X), np.ndarray)
    assert isinstance(net.predict(cp.asarray(X)), cp.ndarray)
    assert isinstance(net.parameters["W1"], np.ndarray)
    assert isinstance(net.gradients(X, [0, 1, 1, 0, 1, 0, 0])["dW1"], np.ndarray)
    history = net.fit(cp.asarray(X), cp.asarray([0, 1, 1, 0, 1, 0, 0]), learning_rate=0.1, epochs=3)
    assert len(history["cost"]) == 3 and all(np.isfinite(history["cost"]))


def test_moving_between_devices_keeps_the_parameters():
    net = DeepNet([3, 4, 1], device="cpu", seed=2)
    before = net.parameters
    net.to("cuda")
    assert net.device == "cuda:0"
    net.to("cpu")
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[name])


def test_a_copy_of_a_gpu_network_is_its_own_network_on_the_same_gpu():
    net = DeepNet([3, 4, 1], device="cuda", seed=2)
    twin = copy.deepcopy(net)
    assert twin.device == net.device == "cuda:0"
    assert twin._flat.data.ptr != net._flat.data.ptr
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(twin.parameters[name], value)
    X = np.random.default_rng(1).standard_normal((3, 5))
    twin.fit(X, np.array([[0, 1, 1, 0, 1]]), learning_rate=0.1, epochs=1)
    assert not np.array_equal(twin.parameters["W1"], net.parameters["W1"])


def test_out_of_memory_names_the_batch_and_leaves_the_model_unchanged():
    net = DeepNet([1, 200_000, 1], device="cuda", seed=0)
    before = net.parameters
    X = np.zeros((1, 2_000_000), dtype=np.float32)
    with pytest.raises(DeviceMemoryError, match="batch of 2000000 examples.*MiB"):
        net.fit(X, np.zeros((1, 2_000_000)), learning_rate=0.1, epochs=1)
    for name, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[name])


def test_tf32_is_opt_in_and_close_to_float32():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((512, 256))
    exact, fast = (DeepNet([512, 512, 10], output_activation="softmax", device="cuda", seed=1, tf32=tf32)
                   for tf32 in (False, True))
    assert not exact.backend.tf32 and fast.backend.tf32
    reference = DeepNet([512, 512, 10], output_activation="softmax", device="cpu", seed=1, dtype="float64")
    expected = reference.predict_proba(X)
    exact_p, fast_p = exact.predict_proba(X), fast.predict_proba(X)
    np.testing.assert_allclose(exact_p, expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fast_p, expected, rtol=2e-2, atol=1e-3)
    assert not np.array_equal(fast_p, exact_p)  # TF32 really rounded the products


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("transa, transb", [("N", "N"), ("N", "T"), ("T", "N"), ("T", "T")])
@pytest.mark.parametrize("M, N, K", [(1, 1, 1), (20, 209, 12), (7, 1, 5), (1, 6, 4)])
def test_gemm_matches_numpy_for_every_transpose_and_layout(dtype, transa, transb, M, N, K):
    import cupy

    gpu = backend.get_backend("cuda")
    a, b, op_a, op_b = operands(transa, transb, M, N, K, dtype, seed=M * N * K)
    expected = 0.5 * op_a.astype(np.float64) @ op_b.astype(np.float64)
    with gpu.device_scope():
        for order in ("C", "F"):
            out = cupy.empty((M, N), dtype=dtype, order=order)
            gpu.gemm(transa, transb, cupy.asarray(a, order=order), cupy.asarray(b), out, alpha=0.5)
            np.testing.assert_allclose(cupy.asnumpy(out), expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("tf32", [False, True])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_replayed_steps_on_the_gpu_compute_what_the_propagation_code_does(monkeypatch, tf32, batch_size):
    import functools

    from deepnet_gpu import training

    rng = np.random.default_rng(4)
    X, Y = rng.standard_normal((12, 70)), rng.integers(3, size=70)
    runs = []
    for replay in (False, True):
        with monkeypatch.context() as patch:
            patch.setattr(training, "TrainingStep", functools.partial(training.TrainingStep, replay=replay))
            net = DeepNet([12, 9, 6, 3], output_activation="softmax", device="cuda", seed=7, tf32=tf32)
            runs.append((net.fit(X, Y, learning_rate=0.1, epochs=5, batch_size=batch_size), net.parameters))
    (eager_history, eager), (replayed_history, replayed) = runs
    assert replayed_history == eager_history
    for name, value in eager.items():
        np.testing.assert_array_equal(replayed[name], value, err_msg=name)

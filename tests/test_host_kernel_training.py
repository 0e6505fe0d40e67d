"""The whole training loop on the host-kernel backend: every kernel call path of fit runs in CI.

``Backend(ops=HostKernels())`` is the NumPy backend with the elementwise work done by the CUDA
kernel sources compiled for the host, so these runs exercise the same kernel code, in the same
order and on the same buffers, as a GPU would, and must match the NumPy twins.
"""

import numpy as np
import pytest

from deepnet_gpu import DeepNet, TrainingDivergedError
from deepnet_gpu.backend import Backend
from tests.host_harness import HostKernels, host_kernels_available
from tests.test_network import HIDDEN, OUTPUTS, targets

pytestmark = pytest.mark.skipif(not host_kernels_available(), reason="needs a C++ compiler for the host harness")

TOLERANCE = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-14)}


@pytest.fixture(scope="module")
def host_backend():
    return Backend(ops=HostKernels())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("output", OUTPUTS)
def test_fit_on_host_kernels_matches_numpy(host_backend, dtype, hidden, output):
    rng = np.random.default_rng(HIDDEN.index(hidden))
    dims = [5, 7, 4, 1 if output == "sigmoid" else 3]
    X = rng.standard_normal((5, 30))
    Y = targets(output, dims[-1], 30, rng)
    nets = [DeepNet(dims, hidden_activation=hidden, output_activation=output, seed=3, dtype=dtype, device=device,
                    leaky_slope=0.05) for device in ("cpu", host_backend)]
    histories = [net.fit(X, Y, learning_rate=0.05, epochs=4, batch_size=8, validation_data=(X, Y)) for net in nets]
    histories += [net.fit(X, Y, learning_rate=0.05, epochs=3) for net in nets]
    np.testing.assert_allclose(histories[1]["cost"], histories[0]["cost"], **TOLERANCE[dtype])
    np.testing.assert_allclose(histories[1]["val_cost"], histories[0]["val_cost"], **TOLERANCE[dtype])
    np.testing.assert_allclose(histories[3]["cost"], histories[2]["cost"], **TOLERANCE[dtype])
    numpy_net, host_net = nets
    for name, value in numpy_net.parameters.items():
        np.testing.assert_allclose(host_net.parameters[name], value, **TOLERANCE[dtype], err_msg=name)
    np.testing.assert_allclose(host_net.predict_proba(X), numpy_net.predict_proba(X), **TOLERANCE[dtype])


def test_divergence_guard_runs_in_the_update_kernel(host_backend):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3, 40)) * 10, rng.standard_normal((1, 40)) * 100
    outcomes = []
    for device in ("cpu", host_backend):
        net = DeepNet([3, 8, 1], output_activation="linear", seed=0, device=device)
        with pytest.raises(TrainingDivergedError) as caught:
            net.fit(X, Y, learning_rate=5.0, epochs=200)
        outcomes.append((caught.value.epoch, net.parameters))
    assert outcomes[0][0] == outcomes[1][0]
    for name, value in outcomes[0][1].items():
        np.testing.assert_allclose(outcomes[1][1][name], value, rtol=1e-5, err_msg=name)

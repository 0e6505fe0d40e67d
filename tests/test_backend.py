"""Device resolution: loud errors for "cuda", announced fallback for "auto"."""

import logging
import sys

import numpy as np
import pytest

from deepnet_gpu import DeepNet, DeviceUnavailableError, backend
from deepnet_gpu.backend import CudaStatus, get_backend


@pytest.fixture
def no_gpu(monkeypatch):
    status = CudaStatus(False, "no GPU is usable: cudaErrorNoDevice", "run on a machine with an NVIDIA GPU", "14.0.0")
    monkeypatch.setattr(backend, "cuda_status", lambda: status)
    return status


@pytest.fixture
def one_gpu(monkeypatch):
    status = CudaStatus(True, "1 GPU(s) found", "", "14.0.0", 1)
    monkeypatch.setattr(backend, "cuda_status", lambda: status)
    return status


def test_cpu_backend_carries_numpy():
    cpu = get_backend("cpu")
    assert cpu.xp is np and cpu.device == "cpu"
    assert get_backend(" CPU ") is cpu
    out = np.empty((2, 2))
    cpu.gemm("T", "N", np.array([[1.0, 2.0], [3.0, 4.0]]), np.eye(2), out=out, alpha=0.5)
    np.testing.assert_array_equal(out, [[0.5, 1.5], [1.0, 2.0]])


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_a_gpu_raises_and_names_the_cause_and_fix(no_gpu, device):
    with pytest.raises(DeviceUnavailableError, match="cudaErrorNoDevice.*Fix: run on a machine"):
        get_backend(device)
    with pytest.raises(RuntimeError):
        DeepNet([2, 1], device=device)


def test_a_gpu_index_that_does_not_exist_names_those_that_do(one_gpu):
    with pytest.raises(DeviceUnavailableError, match=r"'cuda:7' does not exist: this machine has 1 GPU\(s\): 'cuda:0'"):
        get_backend("cuda:7")


def test_auto_falls_back_to_the_cpu_and_says_so(no_gpu, caplog):
    with caplog.at_level(logging.INFO, logger="deepnet_gpu"):
        assert get_backend("auto").device == "cpu"
    assert "fell back to the CPU: no GPU is usable" in caplog.text
    assert caplog.records[-1].levelno == logging.WARNING
    assert backend.describe_auto() == "auto -> cpu (CUDA unusable: no GPU is usable: cudaErrorNoDevice)"


def test_missing_cupy_is_reported_as_such(monkeypatch):
    backend.cuda_status.cache_clear()
    monkeypatch.setitem(sys.modules, "cupy", None)
    try:
        status = backend.cuda_status()
    finally:
        backend.cuda_status.cache_clear()
    assert not status.usable
    assert "CuPy is not installed" in status.reason
    assert "deepnet_gpu[cuda12]" in status.fix


def test_unknown_device_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="device must be one of cpu, cuda, cuda:N, auto; got 'gpu'"):
        get_backend("gpu")
    with pytest.raises(ValueError, match="got 'cuda:x'"):
        get_backend("cuda:x")


def test_backend_of_rejects_what_is_not_an_array():
    assert backend.backend_of(np.zeros(2)) is get_backend("cpu")
    with pytest.raises(TypeError, match="expected a NumPy or CuPy array; got list"):
        backend.backend_of([1, 2])


def test_auto_falls_back_when_our_kernels_do_not_compile(one_gpu, monkeypatch, caplog):
    from deepnet_gpu.kernels import KernelCompileError

    def broken(index, tf32=False):
        raise KernelCompileError("kernels/forward.cu failed to compile: nvrtc not found")

    monkeypatch.setattr(backend, "_cached_cuda_backend", broken)
    with caplog.at_level(logging.WARNING, logger="deepnet_gpu"):
        assert get_backend("auto").device == "cpu"
    assert "kernels do not compile on cuda:0: kernels/forward.cu failed" in caplog.text
    with pytest.raises(KernelCompileError):
        get_backend("cuda")


def test_cupy_module_refuses_without_a_usable_gpu(no_gpu):
    with pytest.raises(DeviceUnavailableError, match="CUDA is unusable: no GPU is usable"):
        backend.cupy_module()

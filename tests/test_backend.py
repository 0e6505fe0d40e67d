"""Device resolution: loud errors for "cuda", announced fallback for "auto"."""

import logging
import sys
import types

import numpy as np
import pytest

import deepnet_gpu
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


def _cupy_without_cublas():
    """A stand-in for CuPy 14 installed without the CUDA libraries: ``from cupy import cublas`` raises
    the ImportError that CuPy raises then, with its message of several lines. (Setting
    ``sys.modules["cupy.cublas"] = None`` would not do: that import then yields None, and the test
    would pass or fail depending on whether ``cupy_backends`` is installed.)"""
    def missing(name):
        raise ImportError('Failure finding "libcublasLt.so.13": No such file: libcublasLt.so.13\n'
                          '  listdir("site-packages/nvidia/cu13/lib"):\n    libnvrtc.so.13')

    cupy = types.ModuleType("cupy")
    cupy.__getattr__ = missing
    return cupy


def test_a_missing_cublas_is_a_device_error_and_auto_falls_back(one_gpu, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "cupy", _cupy_without_cublas())
    with pytest.raises(DeviceUnavailableError, match=r"(?s)device='cuda:0' cannot be used: CuPy cannot load cuBLAS "
                                                     r"\(Failure finding \"libcublasLt.so.13\".*"
                                                     r"pip install 'cupy-cuda13x\[ctk\]'"):
        backend.CudaBackend(0)
    monkeypatch.setattr(backend, "_cached_cuda_backend", backend.CudaBackend)
    with caplog.at_level(logging.WARNING, logger="deepnet_gpu"):
        assert get_backend("auto").device == "cpu"
    assert "device='auto' fell back to the CPU: device='cuda:0' cannot be used: CuPy cannot load cuBLAS" in caplog.text


def test_cupy_module_refuses_without_a_usable_gpu(no_gpu):
    with pytest.raises(DeviceUnavailableError, match="CUDA is unusable: no GPU is usable"):
        backend.cupy_module()


@pytest.fixture
def fresh_probe(monkeypatch):
    backend.cuda_status.cache_clear()
    yield monkeypatch
    backend.cuda_status.cache_clear()


def _cupy_stand_in(available, count):
    def device_count():
        if isinstance(count, Exception):
            raise count
        return count

    def is_available():
        if isinstance(available, Exception):
            raise available
        return available

    runtime = types.SimpleNamespace(getDeviceCount=device_count)
    return types.SimpleNamespace(__version__="13.6.0", is_available=is_available, cuda=types.SimpleNamespace(runtime=runtime))


@pytest.mark.parametrize("available, count, expected", [
    (RuntimeError("driver crashed"), 1,
     CudaStatus(False, "the CUDA driver failed: RuntimeError('driver crashed')", "check the NVIDIA driver with nvidia-smi", "13.6.0")),
    (False, RuntimeError("cudaErrorNoDevice"),
     CudaStatus(False, "no GPU is usable: cudaErrorNoDevice",
                "run on a machine with an NVIDIA GPU and driver, or use device='cpu'", "13.6.0")),
    (False, 0,
     CudaStatus(False, "no GPU is usable: cupy.is_available() is False",
                "run on a machine with an NVIDIA GPU and driver, or use device='cpu'", "13.6.0")),
    (True, 2, CudaStatus(True, "2 GPU(s) found", "", "13.6.0", 2)),
])
def test_the_probe_reports_what_cupy_and_the_driver_say(fresh_probe, available, count, expected):
    fresh_probe.setitem(sys.modules, "cupy", _cupy_stand_in(available, count))
    assert backend.cuda_status() == expected


class _BrokenCupyImport:
    def find_spec(self, name, path=None, target=None):
        if name == "cupy":
            raise RuntimeError("libcudart.so.12: cannot open shared object file")
        return None


def test_a_cupy_that_fails_to_import_is_reported(fresh_probe):
    fresh_probe.delitem(sys.modules, "cupy", raising=False)
    fresh_probe.setattr(sys, "meta_path", [_BrokenCupyImport(), *sys.meta_path])
    status = backend.cuda_status()
    assert not status.usable and status.reason.startswith("CuPy failed to import: RuntimeError('libcudart")
    assert "deepnet_gpu[cuda12]" in status.fix


@pytest.fixture
def built(one_gpu, monkeypatch):
    calls = []

    def build(index, tf32=False):
        calls.append((index, tf32))
        return f"gpu{index}"

    monkeypatch.setattr(backend, "_cached_cuda_backend", build)
    return calls


def test_auto_picks_gpu_0_when_one_is_usable_and_says_so(built, caplog):
    with caplog.at_level(logging.INFO, logger="deepnet_gpu"):
        assert get_backend("auto", tf32=True) == "gpu0"
    assert built == [(0, True)]
    assert caplog.records[-1].name == "deepnet_gpu"
    assert "device='auto' resolved to cuda:0 (1 GPU(s) found)" in caplog.text
    assert backend.describe_auto() == "auto -> cuda:0 (1 GPU(s) found)"


def test_cuda_names_resolve_to_their_index(built):
    assert get_backend("cuda") == "gpu0" and get_backend("CUDA:0") == "gpu0"
    assert built == [(0, False), (0, False)]
    with pytest.raises(DeviceUnavailableError, match=r"'cuda:1' does not exist: this machine has 1 GPU\(s\): 'cuda:0'"):
        get_backend("cuda:1")


def test_backend_of_a_cupy_array_is_its_gpu(built):
    class FakeCupyArray:
        device = types.SimpleNamespace(id=0)

    FakeCupyArray.__module__ = "cupy._core.core"
    assert backend.backend_of(FakeCupyArray()) == "gpu0" and built == [(0, False)]


def test_cupy_module_is_cupy_when_a_gpu_is_usable(one_gpu, monkeypatch):
    stand_in = types.SimpleNamespace()
    monkeypatch.setitem(sys.modules, "cupy", stand_in)
    assert backend.cupy_module() is stand_in


def test_the_cpu_backend_describes_and_owns_numpy_arrays():
    cpu = get_backend("cpu")
    assert repr(cpu) == "<Backend cpu (NumpyKernels)>"
    assert cpu.owns(np.zeros(2)) is True and cpu.owns([0.0]) is False
    assert cpu.out_of_memory_errors == (MemoryError,)
    out = np.empty((1, 1))
    cpu.gemm("N", "N", np.array([[3.0]]), np.array([[4.0]]), out=out, alpha=2.0)
    assert out[0, 0] == 24.0


def test_the_package_logger_is_silent_unless_configured_and_the_api_is_listed():
    handlers = logging.getLogger("deepnet_gpu").handlers
    assert any(isinstance(handler, logging.NullHandler) for handler in handlers)
    assert sorted(deepnet_gpu.__all__) == ["DeepNet", "DeviceMemoryError", "DeviceUnavailableError", "KernelCompileError",
                                           "TrainingDivergedError", "__version__", "get_backend", "gradcheck"]
    assert all(hasattr(deepnet_gpu, name) for name in deepnet_gpu.__all__)

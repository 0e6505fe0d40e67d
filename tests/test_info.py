"""``deepnet info``'s report: NumPy/BLAS and the CPU always; CUDA's state on every path."""

import io
import json
import os
import platform
import sys
import types

import numpy as np
import pytest

import deepnet_gpu
from deepnet_gpu import backend, info
from deepnet_gpu.backend import CudaStatus


@pytest.fixture
def no_cupy(monkeypatch):
    status = CudaStatus(False, "CuPy is not installed (No module named 'cupy')", "install CuPy")
    monkeypatch.setattr(backend, "cuda_status", lambda: status)
    return status


def test_report_without_cupy_is_json_and_names_numpy_blas_and_cuda(no_cupy):
    report = info.collect()
    json.dumps(report)
    assert report["numpy"] == np.__version__
    assert report["cuda"]["usable"] is False and report["gpus"] == [] and report["kernels"] is None
    text = info.format(report)
    assert f"NumPy {np.__version__}" in text
    assert "BLAS: " in text
    assert "CPU: " in text
    assert "CuPy: not importable" in text
    assert "CUDA: unusable: CuPy is not installed" in text and "fix: install CuPy" in text
    assert "device='auto': auto -> cpu (CUDA unusable: CuPy is not installed" in text
    assert "kernels: not compiled (CUDA is unusable)" in text


def test_report_with_cupy_but_no_gpu(monkeypatch):
    status = CudaStatus(False, "no GPU is usable: cudaErrorNoDevice", "use device='cpu'", cupy_version="13.6.0")
    monkeypatch.setattr(backend, "cuda_status", lambda: status)
    text = info.format(info.collect())
    assert "CuPy: 13.6.0" in text
    assert "CUDA: unusable: no GPU is usable: cudaErrorNoDevice" in text and "fix: use device='cpu'" in text


def test_blas_info_reports_name_and_version_on_numpy_with_dicts():
    blas = info.blas_info()
    if np.lib.NumpyVersion(np.__version__) < "1.25.0":
        assert "error" in blas
    else:
        assert blas["name"] and blas["version"]


def test_blas_info_falls_back_when_numpy_cannot_say(monkeypatch):
    def old_show_config():
        return None

    monkeypatch.setattr(np, "show_config", old_show_config)
    assert "needs NumPy >= 1.25" in info.blas_info()["error"]
    monkeypatch.setattr(np, "show_config", lambda mode: {"Build Dependencies": {}})
    assert info.blas_info() == {"error": "numpy.show_config reports no BLAS"}


def test_cpu_info_reads_thread_settings(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    cpu = info.cpu_info()
    assert cpu["logical_cpus"] >= 1 and cpu["usable_cpus"] >= 1 and cpu["model"]
    assert cpu["thread_settings"]["OPENBLAS_NUM_THREADS"] == "1"
    assert "BLAS threads: OPENBLAS_NUM_THREADS=1" in info.format({**info.collect(), "cpu": cpu})


def _fake_cupy():
    """Enough of cupy's surface for the GPU queries: one 80 GiB device of compute capability 9.0."""
    runtime = types.SimpleNamespace(
        getDeviceProperties=lambda i: {"name": b"Fake H100", "major": 9, "minor": 0, "multiProcessorCount": 132},
        driverGetVersion=lambda: 12040,
        runtimeGetVersion=lambda: 12020,
    )
    device = types.SimpleNamespace(mem_info=(70 * 2**30, 80 * 2**30))
    return types.SimpleNamespace(cuda=types.SimpleNamespace(runtime=runtime, Device=lambda i: device))


def test_report_with_a_usable_gpu(monkeypatch):
    status = CudaStatus(True, "1 GPU(s) found", "", cupy_version="13.6.0", device_count=1)
    monkeypatch.setattr(backend, "cuda_status", lambda: status)
    monkeypatch.setattr(backend, "cupy_module", _fake_cupy)
    kernels = types.ModuleType("deepnet_gpu.kernels")
    log = "\nkernel.cu(3): error: identifier undefined\n" + "x" * 500
    kernels.compile_all = lambda: [("bias_activation_forward<float>", True, ""), ("sgd_update<float>", False, log)]
    monkeypatch.setitem(sys.modules, "deepnet_gpu.kernels", kernels)
    monkeypatch.setattr("deepnet_gpu.kernels", kernels, raising=False)
    report = info.collect()
    json.dumps(report)
    text = info.format(report)
    assert "CUDA: usable, 1 GPU(s) found" in text
    assert "CUDA driver 12.4, runtime 12.2" in text
    assert "GPU 0: Fake H100, 80.0 GiB (70.0 GiB free), compute capability 9.0, 132 SMs" in text
    assert "kernels: 1 of 2 compiled on GPU 0" in text
    assert "bias_activation_forward<float>: ok" in text
    assert text.endswith("sgd_update<float>: FAILED: kernel.cu(3): error: identifier undefined")
    assert report["kernels"][1][2] == log  # whole in --json


def test_gpu_query_failures_are_reported_not_raised(monkeypatch):
    def broken():
        raise RuntimeError("driver went away")

    monkeypatch.setattr(backend, "cupy_module", broken)
    assert info.gpu_properties(1) == [{"index": 0, "error": "RuntimeError: driver went away"}]
    assert info.cuda_versions() == {"error": "RuntimeError: driver went away"}
    text = info.format({**info.collect(), "gpus": info.gpu_properties(1), "cuda_versions": info.cuda_versions()})
    assert "GPU 0: cannot be queried (RuntimeError: driver went away)" in text
    assert "CUDA versions: unknown (RuntimeError: driver went away)" in text


FAKE_CONFIG = {
    "Build Dependencies": {
        "blas": {"name": "fakeblas", "version": "1.2", "openblas configuration": "USE64  DYNAMIC_ARCH"},
        "lapack": {"name": "fakelapack", "version": "9.9"},
    },
    "SIMD Extensions": {"baseline": ["SSE", "SSE2"], "found": ["AVX2"]},
}


def test_blas_info_reads_the_blas_entry_and_the_simd_lists(monkeypatch, no_cupy):
    monkeypatch.setattr(np, "show_config", lambda mode: FAKE_CONFIG)
    blas = info.blas_info()
    assert blas == {"name": "fakeblas", "version": "1.2", "config": "USE64 DYNAMIC_ARCH",
                    "simd_baseline": ["SSE", "SSE2"], "simd_found": ["AVX2"]}
    text = info.format({**info.collect(), "blas": blas})
    assert "\nBLAS: fakeblas 1.2 (USE64 DYNAMIC_ARCH)\n" in text
    assert "\nNumPy SIMD: SSE (baseline), SSE2 (baseline), AVX2\n" in text
    plain = {**blas, "config": "", "simd_baseline": [], "simd_found": []}
    text = info.format({**info.collect(), "blas": plain})
    assert "\nBLAS: fakeblas 1.2\n" in text and "NumPy SIMD" not in text
    text = info.format({**info.collect(), "blas": {"error": "no BLAS here"}})
    assert "\nBLAS: unknown (no BLAS here)\n" in text


def test_blas_info_reports_a_failing_show_config(monkeypatch):
    def broken(mode):
        raise RuntimeError("config missing")

    monkeypatch.setattr(np, "show_config", broken)
    assert info.blas_info() == {"error": "numpy.show_config failed: RuntimeError('config missing')"}


def test_the_report_starts_with_our_version_and_counts_no_gpu(no_cupy):
    report = info.collect()
    assert report["cuda"]["device_count"] == 0
    assert info.format(report).startswith(f"deepnet_gpu {deepnet_gpu.__version__} (")


def test_cpu_info_without_sched_getaffinity(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert info.cpu_info()["usable_cpus"] == os.cpu_count()


def test_cpu_model_comes_from_proc_cpuinfo_or_platform(monkeypatch):
    cpuinfo = "processor\t: 0\nmodel\t\t: 85\nmodel name\t: Fake CPU: rev 2 @ 3.00GHz\nflags\t\t: fpu\n"
    monkeypatch.setattr(info, "open", lambda *args, **kwargs: io.StringIO(cpuinfo), raising=False)
    assert info._cpu_model() == "Fake CPU: rev 2 @ 3.00GHz"

    def unreadable(*args, **kwargs):
        raise OSError("no /proc here")

    monkeypatch.setattr(info, "open", unreadable, raising=False)
    monkeypatch.setattr(platform, "processor", lambda: "")
    monkeypatch.setattr(platform, "machine", lambda: "riscv64")
    assert info._cpu_model() == "riscv64"


def test_cuda_versions_as_major_minor():
    assert info._cuda_version(13000) == "13.0"
    assert info._cuda_version(12090) == "12.9"
    assert info._cuda_version(11080) == "11.8"


def test_a_kernel_check_that_raises_is_one_failed_entry(monkeypatch):
    kernels = types.ModuleType("deepnet_gpu.kernels")

    def compile_all():
        raise RuntimeError("nvrtc missing")

    kernels.compile_all = compile_all
    monkeypatch.setitem(sys.modules, "deepnet_gpu.kernels", kernels)
    monkeypatch.setattr("deepnet_gpu.kernels", kernels, raising=False)
    assert info.kernel_checks() == [["(kernels)", False, "RuntimeError: nvrtc missing"]]


def test_first_line_is_cut_to_the_limit():
    assert info._first_line("\n  " + "y" * 160 + "\nmore") == "y" * 160
    assert info._first_line("x" * 161) == "x" * 157 + "..."
    assert info._first_line("") == "(no message)"

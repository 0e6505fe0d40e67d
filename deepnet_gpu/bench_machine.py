"""The machine a benchmark ran on, and the two ceilings measured on each device at the start of a run.

Ceilings (measured, never taken from a datasheet), each the median of the repetitions of
:func:`~deepnet_gpu.bench_timing.measure` on the device's own clock:

* GEMM rate: ``xp.matmul`` of two n×n matrices of the run's dtype into a preallocated output
  (OpenBLAS/MKL SGEMM or DGEMM on the CPU, cuBLAS on a GPU), 2·n³ FLOPs; n = 2048 on the CPU,
  8192 on a GPU;
* copy bandwidth: ``xp.copyto`` between two arrays of N elements (a device-to-device memcpy on a
  GPU), 2·N·itemsize bytes moved (read once, written once); N = 32M on the CPU, 256M on a GPU.

The description gathers the CPU (model, threads, NumPy's BLAS), the GPU (name, SMs, clocks,
memory, driver and runtime), the versions of NumPy, CuPy and PyTorch, the date and the command.
CuPy is reached only through the backend's ``xp``.
"""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
import sys

import numpy as np

from . import __version__, info
from .backend import cuda_status
from .bench_timing import measure

GEMM_SIZE = {"cpu": 2048, "cuda": 8192}
COPY_ELEMENTS = {"cpu": 1 << 25, "cuda": 1 << 28}
PEAK_MIN_REP_MS = 100.0
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")

# cudaDeviceAttr numbers, for the properties CUDA 13 dropped from cudaDeviceProp
_ATTRIBUTES = {"clockRate": 13, "memoryClockRate": 36, "memoryBusWidth": 37}


def measure_peaks(backend, dtype, clock, repeats: int) -> dict:
    """The GEMM rate (GFLOP/s) and the copy bandwidth (GB/s) of ``backend``'s device in ``dtype``."""
    dtype = np.dtype(dtype)
    n, count = GEMM_SIZE[backend.name], COPY_ELEMENTS[backend.name]
    gemm = measure(_gemm(backend, n, dtype), clock, repeats=repeats, min_rep_ms=PEAK_MIN_REP_MS)
    copy = measure(_copy(backend, count, dtype), clock, repeats=repeats, min_rep_ms=PEAK_MIN_REP_MS)
    moved = 2 * count * dtype.itemsize
    return {
        "gemm_gflops": 2 * n**3 / gemm.ms / 1e6,
        "gemm": {"n": n, "dtype": dtype.name, "ms": gemm.ms, "rep_ms": list(gemm.rep_ms)},
        "copy_gb_per_s": moved / copy.ms / 1e6,
        "copy": {"elements": count, "bytes_moved": moved, "ms": copy.ms, "rep_ms": list(copy.rep_ms)},
        "clock": gemm.clock,
    }


def _gemm(backend, n: int, dtype):
    """``c = a·b`` for n×n standard normal matrices on the device, as a callable."""
    xp = backend.xp
    rng = np.random.default_rng(0)
    a, b = (backend.asarray(rng.standard_normal((n, n), dtype=np.float32), dtype=dtype) for _ in range(2))
    with backend.device_scope():
        c = xp.empty((n, n), dtype)
    return lambda: xp.matmul(a, b, out=c)


def _copy(backend, count: int, dtype):
    """``target[:] = source`` for two device arrays of ``count`` elements, as a callable."""
    xp = backend.xp
    with backend.device_scope():
        source, target = xp.full(count, 1.0, dtype), xp.full(count, 2.0, dtype)
    return lambda: xp.copyto(target, source)


def blas_threads() -> tuple:
    """(threads NumPy's BLAS uses, where that number comes from): a thread variable if set, else the
    CPUs this process may use (the default of OpenBLAS and MKL)."""
    for name in THREAD_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value), f"${name}"
    return info.cpu_info()["usable_cpus"], "the usable CPUs (OpenBLAS's and MKL's default)"


def describe(gpu_backend, torch, command: str) -> dict:
    """The machine and the run: date, ``command`` (and the process's own argv), CPU, BLAS, GPU (when
    ``gpu_backend`` is given), versions."""
    threads, source = blas_threads()
    status = cuda_status()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "argv": sys.argv,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": {**info.cpu_info(), "blas_threads": threads, "blas_threads_from": source,
                "torch_threads": threads if torch is not None else None},
        "blas": info.blas_info(),
        "versions": {
            "deepnet_gpu": __version__,
            "numpy": np.__version__,
            "cupy": status.cupy_version,
            "torch": torch.__version__ if torch is not None else None,
        },
        "cuda": {"usable": status.usable, "reason": status.reason},
        "gpu": gpu_description(gpu_backend) if gpu_backend is not None else None,
        "tf32": {"CUPY_TF32": os.environ.get("CUPY_TF32"),
                 "torch_allow_tf32": bool(torch.backends.cuda.matmul.allow_tf32) if torch is not None else None},
    }


def gpu_description(backend) -> dict:
    """Name, SM count, compute capability, clocks, memory, L2, driver and runtime versions of the
    backend's GPU; ``nvidia_smi`` adds the clocks and power limit the driver reports."""
    runtime = backend.xp.cuda.runtime
    try:
        props = runtime.getDeviceProperties(backend.index)

        def prop(key):
            value = props.get(key)
            return int(value) if value is not None else int(runtime.deviceGetAttribute(_ATTRIBUTES[key], backend.index))

        name = props["name"]
        description = {
            "name": name.decode() if isinstance(name, bytes) else str(name),
            "sm_count": int(props["multiProcessorCount"]),
            "compute_capability": f"{props['major']}.{props['minor']}",
            "max_sm_clock_mhz": prop("clockRate") / 1000,
            "memory_clock_mhz": prop("memoryClockRate") / 1000,
            "memory_bus_bits": prop("memoryBusWidth"),
            "memory_bytes": int(props["totalGlobalMem"]),
            "l2_bytes": int(props["l2CacheSize"]),
        }
    except Exception as exc:  # noqa: BLE001 - a probe failure is reported, never fatal
        description = {"error": f"{type(exc).__name__}: {exc}"}
    description["cuda"] = info.cuda_versions()
    description["nvidia_smi"] = nvidia_smi(backend.index)
    return description


def nvidia_smi(index: int) -> dict:
    """The driver version, current and maximum clocks and power limit that ``nvidia-smi`` reports."""
    fields = ("name", "driver_version", "clocks.sm", "clocks.max.sm", "clocks.mem", "power.limit")
    if shutil.which("nvidia-smi") is None:
        return {"error": "nvidia-smi is not on PATH"}
    try:
        out = subprocess.run(["nvidia-smi", f"--id={index}", f"--query-gpu={','.join(fields)}",
                              "--format=csv,noheader"], capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return dict(zip(fields, (value.strip() for value in out.strip().split(","))))

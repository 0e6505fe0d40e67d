"""What this machine offers deepnet_gpu: NumPy and its BLAS, the CPU, CuPy, the GPUs, our kernels.

:func:`collect` gathers a plain dict (safe to dump as JSON) and :func:`format` renders it as
the text of ``deepnet info``. Every probe reports a failure as text instead of raising, so the
report is whole on any machine. CuPy is reached only through :mod:`deepnet_gpu.backend` (and
the kernels through :mod:`deepnet_gpu.kernels`); this module never imports it.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict
from pathlib import Path

import numpy as np

from . import __version__, backend

BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_THREAD_TIMEOUT")


def collect() -> dict:
    """Everything ``deepnet info`` reports, as a dict of strings, numbers, lists and dicts."""
    status = backend.cuda_status()
    report = {
        "deepnet_gpu": __version__,
        "location": str(Path(__file__).resolve().parent),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "cpu": cpu_info(),
        "cuda": asdict(status),
        "auto": backend.describe_auto(),
        "gpus": [],
        "cuda_versions": None,
        "kernels": None,
    }
    if status.usable:
        report["gpus"] = gpu_properties(status.device_count)
        report["cuda_versions"] = cuda_versions()
        report["kernels"] = kernel_checks()
    return report


def blas_info() -> dict:
    """NumPy's BLAS as its build reports it: name, version, configuration (NumPy >= 1.25).

    ``{"name", "version", "config", "simd_baseline", "simd_found"}`` (the SIMD extensions NumPy
    was built for and those it found on this CPU), or ``{"error": ...}`` when this NumPy cannot say.
    """
    try:
        config = np.show_config(mode="dicts")
    except TypeError:
        return {"error": f"NumPy {np.__version__} cannot report its BLAS (numpy.show_config(mode='dicts') needs NumPy >= 1.25)"}
    except Exception as exc:
        return {"error": f"numpy.show_config failed: {exc!r}"}
    blas = (config or {}).get("Build Dependencies", {}).get("blas")
    if not blas:
        return {"error": "numpy.show_config reports no BLAS"}
    simd = config.get("SIMD Extensions") or {}
    return {
        "name": str(blas.get("name", "unknown")),
        "version": str(blas.get("version", "unknown")),
        "config": " ".join(str(blas.get("openblas configuration", "")).split()),
        "simd_baseline": [str(s) for s in simd.get("baseline") or []],
        "simd_found": [str(s) for s in simd.get("found") or []],
    }


def cpu_info() -> dict:
    """The CPU model, the logical CPUs and how many this process may use, and BLAS thread settings."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    threads = {name: os.environ[name] for name in BLAS_THREAD_VARIABLES if name in os.environ}
    return {
        "model": _cpu_model(),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "thread_settings": threads,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"




def gpu_properties(device_count: int) -> list:
    """One dict per GPU: index, name, total and free memory (bytes), compute capability, SM count.

    A GPU that cannot be queried gets ``{"index": i, "error": ...}``.
    """
    gpus = []
    for index in range(device_count):
        try:
            cupy = backend.cupy_module()
            props = cupy.cuda.runtime.getDeviceProperties(index)
            free, total = cupy.cuda.Device(index).mem_info
            name = props["name"]
            gpus.append({
                "index": index,
                "name": name.decode() if isinstance(name, bytes) else str(name),
                "total_memory": int(total),
                "free_memory": int(free),
                "compute_capability": f"{props['major']}.{props['minor']}",
                "multiprocessors": int(props["multiProcessorCount"]),
            })
        except Exception as exc:
            gpus.append({"index": index, "error": f"{type(exc).__name__}: {exc}"})
    return gpus


def _cuda_version(number: int) -> str:
    """CUDA's integer versions (12040) as text ("12.4")."""
    return f"{number // 1000}.{number % 1000 // 10}"


def cuda_versions() -> dict:
    """The CUDA driver's and the runtime's versions as "major.minor", or ``{"error": ...}``."""
    try:
        runtime = backend.cupy_module().cuda.runtime
        return {"driver": _cuda_version(runtime.driverGetVersion()), "runtime": _cuda_version(runtime.runtimeGetVersion())}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def kernel_checks() -> list:
    """[[kernel_name, ok, message], ...] from compiling every kernel on GPU 0, or one failed entry."""
    try:
        from . import kernels

        return [[str(name), bool(ok), str(message)] for name, ok, message in kernels.compile_all()]
    except Exception as exc:
        return [["(kernels)", False, f"{type(exc).__name__}: {exc}"]]


def _first_line(message: str, limit: int = 160) -> str:
    """The first non-empty line of a (compiler) message, cut to ``limit`` characters; --json has it whole."""
    line = next((part.strip() for part in message.splitlines() if part.strip()), "(no message)")
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _bytes(n: int) -> str:
    return f"{n / 2**30:.1f} GiB"


def format(report: dict) -> str:  # noqa: A001 - the name the CLI and the brief use
    """The report of :func:`collect` as lines of text."""
    lines = [
        f"deepnet_gpu {report['deepnet_gpu']} ({report['location']})",
        f"Python {report['python']} on {report['platform']}",
        f"NumPy {report['numpy']}",
    ]
    blas = report["blas"]
    if "error" in blas:
        lines.append(f"BLAS: unknown ({blas['error']})")
    else:
        lines.append(f"BLAS: {blas['name']} {blas['version']}" + (f" ({blas['config']})" if blas["config"] else ""))
        simd = [f"{name} (baseline)" for name in blas["simd_baseline"]] + blas["simd_found"]
        if simd:
            lines.append(f"NumPy SIMD: {', '.join(simd)}")
    cpu = report["cpu"]
    lines.append(f"CPU: {cpu['model']} ({cpu['machine']}), {cpu['logical_cpus']} logical CPUs, {cpu['usable_cpus']} usable")
    if cpu["thread_settings"]:
        lines.append("BLAS threads: " + ", ".join(f"{k}={v}" for k, v in cpu["thread_settings"].items()))
    cuda = report["cuda"]
    lines.append(f"CuPy: {cuda['cupy_version'] or 'not importable'}")
    if cuda["usable"]:
        lines.append(f"CUDA: usable, {cuda['reason']}")
    else:
        lines.append(f"CUDA: unusable: {cuda['reason']}")
        lines.append(f"  fix: {cuda['fix']}")
    versions = report["cuda_versions"]
    if versions:
        if "error" in versions:
            lines.append(f"CUDA versions: unknown ({versions['error']})")
        else:
            lines.append(f"CUDA driver {versions['driver']}, runtime {versions['runtime']}")
    for gpu in report["gpus"]:
        if "error" in gpu:
            lines.append(f"GPU {gpu['index']}: cannot be queried ({gpu['error']})")
        else:
            lines.append(
                f"GPU {gpu['index']}: {gpu['name']}, {_bytes(gpu['total_memory'])} ({_bytes(gpu['free_memory'])} free), "
                f"compute capability {gpu['compute_capability']}, {gpu['multiprocessors']} SMs"
            )
    lines.append(f"device='auto': {report['auto']}")
    if report["kernels"] is None:
        lines.append("kernels: not compiled (CUDA is unusable)")
    else:
        ok = sum(1 for _, passed, _ in report["kernels"] if passed)
        lines.append(f"kernels: {ok} of {len(report['kernels'])} compiled on GPU 0")
        lines.extend(f"  {name}: {'ok' if passed else 'FAILED: ' + _first_line(message)}"
                     for name, passed, message in report["kernels"])
    return "\n".join(lines)

"""The device seam: which array module runs the math, and on which device.

``get_backend(device)`` resolves ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` to a
:class:`Backend` that carries

* ``xp``: the array module (``numpy`` or ``cupy``),
* ``ops``: the fused elementwise kernels (the NumPy twins on the CPU, our CUDA kernels on a GPU),
* ``gemm``: the matrix product ``out = alpha * op(a) · op(b)`` (BLAS on the CPU, cuBLAS on a GPU),
* ``asarray`` / ``to_numpy`` / ``synchronize`` and the device's out-of-memory exceptions.

Model code talks to a backend only through these names and never asks which one it has. This
module and :mod:`deepnet_gpu.kernels` are the only ones that import CuPy.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from dataclasses import dataclass

import numpy as np

from .gemm_layout import column_major_gemm
from .numpy_kernels import NumpyKernels

log = logging.getLogger("deepnet_gpu")

DEVICE_NAMES = ("cpu", "cuda", "cuda:N", "auto")


class DeviceUnavailableError(RuntimeError):
    """``device="cuda"`` (or ``"cuda:N"``) was asked for and no usable GPU answers."""


@dataclass(frozen=True)
class CudaStatus:
    """What a probe of CuPy and the driver found.

    ``usable`` is true only when CuPy imports, ``cupy.is_available()`` is true and at least one
    device answers. Otherwise ``reason`` names the cause and ``fix`` the remedy.
    """

    usable: bool
    reason: str
    fix: str
    cupy_version: str | None = None
    device_count: int = 0


_INSTALL_FIX = (
    "install CuPy for your CUDA version: pip install 'deepnet_gpu[cuda12]' or 'deepnet_gpu[cuda13]', "
    "or use device='cpu'"
)


@functools.lru_cache(maxsize=1)
def cuda_status() -> CudaStatus:
    """Probe CuPy once per process (an import alone proves nothing: check the device count)."""
    try:
        import cupy
    except ImportError as exc:
        return CudaStatus(False, f"CuPy is not installed ({exc})", _INSTALL_FIX)
    except Exception as exc:  # a broken CuPy install raises all sorts at import
        return CudaStatus(False, f"CuPy failed to import: {exc!r}", _INSTALL_FIX)
    version = cupy.__version__
    try:
        available = cupy.is_available()
    except Exception as exc:
        return CudaStatus(False, f"the CUDA driver failed: {exc!r}", "check the NVIDIA driver with nvidia-smi", version)
    if not available:
        try:
            cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:
            reason = f"no GPU is usable: {exc}"
        else:
            reason = "no GPU is usable: cupy.is_available() is False"
        return CudaStatus(False, reason, "run on a machine with an NVIDIA GPU and driver, or use device='cpu'", version)
    count = cupy.cuda.runtime.getDeviceCount()
    return CudaStatus(True, f"{count} GPU(s) found", "", version, count)


class Backend:
    """NumPy on the host: ``xp = numpy``, the kernels' NumPy twins, BLAS through ``np.matmul``."""

    name = "cpu"

    def __init__(self, ops=None):
        self.xp = np
        self.device = "cpu"
        self.ops = ops if ops is not None else NumpyKernels()
        self.out_of_memory_errors: tuple[type[BaseException], ...] = (MemoryError,)

    def __repr__(self):
        return f"<Backend {self.device} ({type(self.ops).__name__})>"

    def asarray(self, a, dtype=None):
        """``a`` as an array of this backend (no copy when it already is one of ``dtype``)."""
        return np.asarray(a, dtype=dtype)

    def to_numpy(self, a):
        """``a`` as a host NumPy array."""
        return np.asarray(a)

    def synchronize(self):
        """Wait for queued device work; nothing to wait for on the host."""

    def device_scope(self):
        """A context in which new arrays land on this backend's device."""
        return contextlib.nullcontext()

    def owns(self, a) -> bool:
        """True when ``a`` is an array of this backend."""
        return isinstance(a, np.ndarray)

    def prepared_gemm(self, transa: str, transb: str, a, b, out, alpha: float = 1.0):
        """The function of no arguments that runs ``gemm(transa, transb, a, b, out, alpha)`` on these
        arrays, as they are when it runs."""
        return functools.partial(self.gemm, transa, transb, a, b, out, alpha)

    def gemm(self, transa: str, transb: str, a, b, out, alpha: float = 1.0):
        """``out = alpha * op(a) · op(b)`` where op is the identity ("N") or the transpose ("T")."""
        a = a.T if transa == "T" else a
        b = b.T if transb == "T" else b
        np.matmul(a, b, out=out)
        if alpha != 1.0:
            out *= alpha
        return out


_CUBLAS_TF32_TENSOR_OP_MATH = 3
_DIRECT_GEMMS = {"f": "sgemm", "d": "dgemm"}
"""The cuBLAS binding's GEMM for each dtype that :meth:`CudaBackend.gemm` calls directly."""


class CudaBackend(Backend):
    """CuPy on GPU ``index``: our CUDA kernels for the elementwise work, cuBLAS for the GEMMs.

    With ``tf32``, float32 GEMMs run on the tensor cores in TF32 (10-bit mantissa inputs,
    float32 accumulation): several times the FP32 rate on large layers, at a relative error of
    about 1e-3 per product instead of 1e-7. Our GEMMs call plain cuBLAS sgemm, which follows
    the handle's math mode, not ``CUPY_TF32`` (that one governs CuPy's own matmul), so the
    mode is set around each of our calls and restored after it.
    """

    name = "cuda"

    def __init__(self, index: int, tf32: bool = False):
        import cupy

        try:
            from cupy import cublas
            from cupy_backends.cuda.libs import cublas as libcublas
        except ImportError as exc:
            raise DeviceUnavailableError(
                f"device='cuda:{index}' cannot be used: CuPy cannot load cuBLAS ({exc}). Fix: install the CUDA "
                f"toolkit of CuPy's CUDA version, or its libraries from PyPI: pip install 'cupy-cuda13x[ctk]' "
                f"(or cupy-cuda12x[ctk])"
            ) from exc

        from .kernels import CupyKernels

        self.xp = cupy
        self.index = index
        self.tf32 = tf32
        self.device = f"cuda:{index}"
        self._cupy = cupy
        self._cublas = cublas
        self._libcublas = libcublas
        with cupy.cuda.Device(index):
            self.ops = CupyKernels()
        self.out_of_memory_errors = (cupy.cuda.memory.OutOfMemoryError, MemoryError)

    def asarray(self, a, dtype=None):
        with self.device_scope():
            return self._cupy.asarray(a, dtype=dtype)

    def to_numpy(self, a):
        if isinstance(a, self._cupy.ndarray):
            return a.get()
        return np.asarray(a)

    def synchronize(self):
        self._cupy.cuda.Device(self.index).synchronize()

    def device_scope(self):
        return self._cupy.cuda.Device(self.index)

    def owns(self, a) -> bool:
        return isinstance(a, self._cupy.ndarray) and a.device.id == self.index

    def __repr__(self):
        return f"<CudaBackend {self.device}{' tf32' if self.tf32 else ''}>"

    def gemm(self, transa: str, transb: str, a, b, out, alpha: float = 1.0):
        """``out = alpha * op(a) · op(b)`` by one cuBLAS call, no transposed copies (see
        :meth:`prepared_gemm`)."""
        self.prepared_gemm(transa, transb, a, b, out, alpha)()
        return out

    def prepared_gemm(self, transa: str, transb: str, a, b, out, alpha: float = 1.0):
        """The function of no arguments that runs ``out = alpha * op(a) · op(b)`` by one cuBLAS call.

        C-contiguous operands (all of ours) go straight to cuBLAS's sgemm/dgemm, laid out as
        :mod:`~deepnet_gpu.gemm_layout` says, with the column-major arguments, the handle and the
        host scalars worked out here, once, skipping what ``cupy.cublas.gemm`` does on every call
        (operand checks, new host arrays for the scalars, reading and restoring the pointer mode):
        a small network's step is a dozen GEMMs whose GPU time is microseconds. Each call sets
        host pointer mode, cuBLAS's default, and leaves the handle in it. Other layouts and dtypes
        go through ``cupy.cublas.gemm``, which copies where it must, on every call.
        """
        if not (a.dtype == b.dtype == out.dtype):
            raise TypeError(f"gemm operands must share one dtype; got {a.dtype}, {b.dtype} and out {out.dtype}")
        direct = _DIRECT_GEMMS.get(a.dtype.char)
        if direct and a.flags.c_contiguous and b.flags.c_contiguous and out.flags.c_contiguous:
            call = self._direct_gemm(getattr(self._libcublas, direct), transa, transb, a, b, out, alpha)
        else:
            call = functools.partial(self._cublas.gemm, transa, transb, a, b, out=out, alpha=alpha, beta=0.0)
        if self.tf32 and a.dtype == np.float32:
            return functools.partial(self._in_tf32_mode, call)
        return call

    def _in_tf32_mode(self, call):
        """Run ``call`` with the cuBLAS handle's math mode set to TF32 tensor-op math, then restore it."""
        handle = self._cupy.cuda.device.get_cublas_handle()
        mode = self._libcublas.getMathMode(handle)
        self._libcublas.setMathMode(handle, _CUBLAS_TF32_TENSOR_OP_MATH)
        try:
            call()
        finally:
            self._libcublas.setMathMode(handle, mode)

    def _direct_gemm(self, function, transa, transb, a, b, out, alpha):
        """A call of cuBLAS's ``function`` (sgemm or dgemm) computing ``out = alpha * op(a) · op(b)``."""
        args = column_major_gemm(transa, transb, a.shape, b.shape, out.shape)
        alpha_value, beta_value = _host_scalar(a.dtype.char, alpha), _host_scalar(a.dtype.char, 0.0)
        handle = self._cupy.cuda.device.get_cublas_handle()
        arguments = (
            handle, args.transa, args.transb, args.m, args.n, args.k,
            alpha_value.address, b.data.ptr, args.lda, a.data.ptr, args.ldb,
            beta_value.address, out.data.ptr, args.ldc,
        )
        return _DirectGemm(self._libcublas, function, arguments, (a, b, out, alpha_value, beta_value))


class _DirectGemm:
    """One call of cuBLAS's sgemm or dgemm with its arguments worked out. It holds ``owners``, the
    arrays and host scalars its pointers point into, so that they live as long as the call."""

    __slots__ = ("libcublas", "function", "arguments", "owners")

    def __init__(self, libcublas, function, arguments: tuple, owners: tuple):
        self.libcublas, self.function, self.arguments, self.owners = libcublas, function, arguments, owners

    def __call__(self):
        self.libcublas.setPointerMode(self.arguments[0], self.libcublas.CUBLAS_POINTER_MODE_HOST)
        self.function(*self.arguments)


class _HostScalar:
    """``value`` as a one-element host array of the dtype, and that array's address."""

    __slots__ = ("array", "address")

    def __init__(self, dtype_char: str, value: float):
        self.array = np.full(1, value, dtype=dtype_char)
        self.address = self.array.ctypes.data


@functools.lru_cache(maxsize=256)
def _host_scalar(dtype_char: str, value: float) -> _HostScalar:
    """A host copy of ``value`` for cuBLAS's host pointer mode, which reads it during the call;
    the returned object owns the memory behind ``address``."""
    return _HostScalar(dtype_char, value)


_CUDA_NAME = re.compile(r"^cuda(?::(\d+))?$")


def _cuda_backend(device: str, index: int, tf32: bool = False) -> CudaBackend:
    status = cuda_status()
    if not status.usable:
        raise DeviceUnavailableError(f"device={device!r} needs a usable GPU, but {status.reason}. Fix: {status.fix}.")
    if index >= status.device_count:
        existing = ", ".join(f"'cuda:{i}'" for i in range(status.device_count))
        raise DeviceUnavailableError(
            f"device={device!r} does not exist: this machine has {status.device_count} GPU(s): {existing}"
        )
    return _cached_cuda_backend(index, tf32)


@functools.lru_cache(maxsize=None)
def _cached_cuda_backend(index: int, tf32: bool = False) -> CudaBackend:
    return CudaBackend(index, tf32)


_CPU = Backend()


def get_backend(device="auto", *, tf32: bool = False) -> Backend:
    """Resolve a device name (or pass a :class:`Backend` through) to a backend.

    ``"auto"`` picks the first GPU when CuPy can use one and the CPU otherwise, and logs which
    it picked and why. ``"cuda"`` and ``"cuda:N"`` raise :class:`DeviceUnavailableError` when
    that GPU cannot be used; they never fall back silently. ``tf32`` asks for TF32 tensor-core
    GEMMs in float32 on a GPU (see :class:`CudaBackend`); the CPU has no TF32 and ignores it.
    """
    if not isinstance(tf32, (bool, np.bool_)):
        raise TypeError(f"tf32 must be True or False; got {tf32!r}")
    if isinstance(device, Backend):
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be one of {', '.join(DEVICE_NAMES)}; got {device!r} of type {type(device).__name__}")
    name = device.strip().lower()
    if name == "cpu":
        return _CPU
    if name == "auto":
        status = cuda_status()
        if status.usable:
            from .kernels import KernelCompileError

            try:
                chosen = _cached_cuda_backend(0, bool(tf32))
            except KernelCompileError as exc:
                log.warning("device='auto' fell back to the CPU: our CUDA kernels do not compile on cuda:0: %s", exc)
                return _CPU
            except DeviceUnavailableError as exc:
                log.warning("device='auto' fell back to the CPU: %s", exc)
                return _CPU
            log.info("device='auto' resolved to cuda:0 (%s)", status.reason)
            return chosen
        level = logging.WARNING if status.cupy_version else logging.INFO
        log.log(level, "device='auto' fell back to the CPU: %s", status.reason)
        return _CPU
    match = _CUDA_NAME.match(name)
    if match is None:
        raise ValueError(f"device must be one of {', '.join(DEVICE_NAMES)}; got {device!r}")
    return _cuda_backend(device, int(match.group(1) or 0), bool(tf32))


def cupy_module():
    """The ``cupy`` module when CUDA is usable (for queries that need no kernels); else DeviceUnavailableError."""
    status = cuda_status()
    if not status.usable:
        raise DeviceUnavailableError(f"CUDA is unusable: {status.reason}. Fix: {status.fix}.")
    import cupy

    return cupy


def describe_auto() -> str:
    """One line saying what ``device="auto"`` resolves to on this machine, and why."""
    status = cuda_status()
    if status.usable:
        return f"auto -> cuda:0 ({status.reason})"
    return f"auto -> cpu (CUDA unusable: {status.reason})"


def is_array(a) -> bool:
    """True for a NumPy or a CuPy array (CuPy is recognised without importing it)."""
    return isinstance(a, np.ndarray) or type(a).__module__.startswith("cupy")


def backend_of(array) -> Backend:
    """The backend that owns ``array``: the CPU for NumPy arrays, the array's GPU for CuPy arrays."""
    if isinstance(array, np.ndarray):
        return _CPU
    if is_array(array):
        return _cuda_backend(f"cuda:{array.device.id}", array.device.id)
    raise TypeError(f"expected a NumPy or CuPy array; got {type(array).__name__}")

"""Our CUDA kernels (``kernels/*.cu``) on a GPU, through CuPy.

:class:`CupyKernels` has exactly the methods of :class:`~deepnet_gpu.numpy_kernels.NumpyKernels`,
with the same arguments in the same order, on CuPy arrays: each method checks its arguments and
launches one kernel. Scalars such as ``epoch_cost`` and ``guard`` are
0-d arrays and stay on the device, so a training step never waits for the host.

The checks and the launch plan live in :class:`KernelLauncher`, which the host harness of the test
suite (``tests/host_harness``) shares: there the same kernel sources, compiled by g++, run on NumPy
arrays through the same argument handling. Its rules:

* the written arrays (``A``, ``Z`` when ``Z += b``, ``dZ``, ``out``, ``params``, ...) must be
  C-contiguous arrays of float32 or float64, and fix the element type ``T`` of the launch;
* read-only arguments of another dtype or layout (views, NumPy arrays, Python floats) are copied to
  C-contiguous arrays of that type first;
* shapes must agree as in the NumPy twins (softmax and losses need at least one row); unknown
  activation or loss codes raise ``ValueError``;
* empty arrays launch nothing.

Each ``.cu`` file, with the ``extern "C"`` entry points of its kernels for float and double
appended (:mod:`~deepnet_gpu.kernel_entry_points`), is compiled by NVRTC once per device and
loaded once per process: CuPy keeps the binary in its disk cache (``~/.cupy/kernel_cache`` or
``$CUPY_CACHE_DIR``), so a later process with the same sources, options, compiler and GPU
architecture loads it without compiling. FMA contraction is off (``--fmad=false``) so that every
rounding step matches the NumPy twin's. CuPy itself adds ``-ftz=true``: float32 values below the
smallest normal number (about 1.2e-38) are flushed to zero on the device.

CuPy is imported only inside functions, so importing this module needs no CuPy.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from pathlib import Path

import numpy as np

from .kernel_entry_points import (
    COLUMNS,
    ELEMENT_TYPES,
    ELEMENTS,
    KERNEL_FILES,
    KERNEL_LAUNCHES,
    ONE_BLOCK,
    entry_name,
    entry_points,
)
from .numpy_kernels import (
    BINARY_CROSS_ENTROPY,
    CATEGORICAL_CROSS_ENTROPY,
    LEAKY_RELU,
    LINEAR,
    RELU,
    SIGMOID,
    SQUARED_ERROR,
    TANH,
)

COMPILE_OPTIONS = ("-std=c++17", "--fmad=false")

BLOCK_SIZE = 256
BLOCKS_PER_SM = 32
MAX_LANES = 16
PACK_BYTES = 16
"""The bytes an elementwise kernel moves per access (``kernels/elementwise.cuh``)."""

_ACTIVATIONS = (LINEAR, RELU, LEAKY_RELU, SIGMOID, TANH)
_LOSSES = (BINARY_CROSS_ENTROPY, CATEGORICAL_CROSS_ENTROPY, SQUARED_ERROR)

_PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_DIRS = (_PACKAGE_DIR / "cuda_sources", _PACKAGE_DIR.parent / "kernels")


class KernelCompileError(RuntimeError):
    """A kernel source failed to compile; the message names the file and holds the compiler log."""


def kernel_source_dir() -> Path:
    """The folder of the kernel sources: ``deepnet_gpu/cuda_sources`` in an installed wheel,
    ``<repo>/kernels`` in a source checkout."""
    for candidate in SOURCE_DIRS:
        if (candidate / "activations.cuh").is_file():
            return candidate
    searched = ", ".join(str(path) for path in SOURCE_DIRS)
    raise FileNotFoundError(
        f"the CUDA kernel sources (activations.cuh and the .cu files) are missing: looked in {searched}. "
        "Reinstall deepnet_gpu, or run from a source checkout that has kernels/."
    )


def sources_digest(source_dir: Path) -> str:
    """A hash of every ``.cu`` and ``.cuh`` file in ``source_dir``.

    It goes into the compile options so that CuPy's disk cache, which keys on the source text and
    the options but not on included headers, recompiles when any header changes.
    """
    digest = hashlib.sha256()
    for path in sorted(source_dir.glob("*.cu*")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def compile_options(source_dir: Path) -> tuple[str, ...]:
    """NVRTC options for the sources in ``source_dir``: ``COMPILE_OPTIONS``, the include folder and
    the sources' digest (CuPy adds ``-ftz=true``, ``--device-as-default-execution-space`` and
    the architecture)."""
    return COMPILE_OPTIONS + (f"-I{source_dir}", f"-DDEEPNET_KERNEL_SOURCES={sources_digest(source_dir)}")


def element_type(dtype) -> str:
    """``"float"`` for float32, ``"double"`` for float64; ``TypeError`` for any other dtype."""
    try:
        return ELEMENT_TYPES[np.dtype(dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"the kernels run on float32 or float64 arrays; got dtype {dtype}") from None


def _check_code(code, valid, what: str) -> int:
    if code not in valid:
        raise ValueError(f"unknown {what} code {code}")
    return int(code)


class _Capture:
    """The launches of a recorded call, and whether a later run of them would see what the call saw."""

    def __init__(self):
        self.launches = []
        self.replayable = True


class KernelLauncher:
    """The kernel interface of :class:`~deepnet_gpu.numpy_kernels.NumpyKernels`, as kernel launches.

    A subclass sets ``xp``, its array module, and implements ``_prepare(kernel, dtype, work, rows,
    args)``, which returns a function of no arguments that runs ``kernel<T>`` (``T`` from
    ``dtype``) over ``work`` items (elements, or columns of ``rows`` rows) with ``args``: arrays,
    passed as pointers, and NumPy scalars typed as the kernel's parameters.
    """

    _capture: _Capture | None = None

    def _prepare(self, kernel: str, dtype: np.dtype, work: int, rows: int, args: tuple):
        raise NotImplementedError

    def _run(self, kernel: str, dtype: np.dtype, work: int, args: tuple, rows: int = 1):
        if work <= 0:
            return
        launch = self._prepare(kernel, dtype, work, rows, args)
        if self._capture is None:
            launch()
        else:
            self._capture.launches.append(launch)

    def recorded(self, method: str, *args):
        """Run ``method(*args)`` now; return its result and the launches that run it again on the
        same arrays, checks and conversions done (functions of no arguments), or None in place of
        the launches when the call converted an argument: its launch reads a copy made now, which
        a later run would find stale."""
        capturing = copy.copy(self)
        capturing._capture = capture = _Capture()
        result = getattr(capturing, method)(*args)
        for launch in capture.launches:
            launch()
        return result, (capture.launches if capture.replayable else None)

    def _written(self, array, name: str, dtype=None) -> np.dtype:
        """Check an array the kernel writes; return its dtype, the launch's element type."""
        if not isinstance(array, self.xp.ndarray):
            raise TypeError(
                f"{name} must be a {self.xp.__name__} array (it is written in place); got {type(array).__name__}"
            )
        element_type(array.dtype)
        if dtype is not None and array.dtype != dtype:
            raise TypeError(f"{name} must have dtype {dtype} like the other written arrays; got {array.dtype}")
        if not array.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous (it is written in place); got strides {array.strides}")
        return array.dtype

    def _read(self, array, name: str, dtype: np.dtype, shape=None, size=None):
        """A read-only argument as a C-contiguous array of ``dtype``, its shape or size checked."""
        converted = self.xp.asarray(array, dtype=dtype, order="C")
        if converted is not array and self._capture is not None:
            self._capture.replayable = False
        array = converted
        if shape is not None and array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}; got {array.shape}")
        if size is not None and array.size != size:
            raise ValueError(f"{name} must hold {size} value(s); got shape {array.shape}")
        return array

    @staticmethod
    def _same_shape(array, name: str, shape):
        if array.shape != shape:
            raise ValueError(f"{name} must have shape {shape}; got {array.shape}")

    @staticmethod
    def _matrix(array, name: str, min_rows: int = 0) -> tuple[int, int]:
        if array.ndim != 2 or array.shape[0] < min_rows:
            raise ValueError(
                f"{name} must be a (rows, m) matrix with at least {min_rows} row(s); got shape {array.shape}"
            )
        return array.shape

    def activation_forward(self, Z, A, activation: int, alpha: float):
        """A = g(Z). A may be Z."""
        code = _check_code(activation, _ACTIVATIONS, "activation")
        dtype = self._written(A, "A")
        Z = self._read(Z, "Z", dtype, shape=A.shape)
        self._run("activation_forward", dtype, A.size, (Z, A, np.int64(A.size), np.int32(code), dtype.type(alpha)))
        return A

    def bias_activation_forward(self, Z, b, A, activation: int, alpha: float):
        """Z += b (b is (rows, 1), broadcast over the m columns), then A = g(Z). A may be Z."""
        code = _check_code(activation, _ACTIVATIONS, "activation")
        dtype = self._written(Z, "Z")
        self._written(A, "A", dtype)
        rows, m = self._matrix(Z, "Z")
        self._same_shape(A, "A", Z.shape)
        b = self._read(b, "b", dtype, shape=(rows, 1))
        args = (Z, b, A, np.int64(rows), np.int64(m), np.int32(code), dtype.type(alpha))
        self._run("bias_activation_forward", dtype, Z.size, args)
        return A

    def activation_backward_from_a(self, dA, A, dZ, activation: int, alpha: float):
        """dZ = dA * g'(Z), with g' written through the layer's output A = g(Z). dZ may be dA."""
        return self._activation_backward("activation_backward_from_a", dA, A, "A", dZ, activation, alpha)

    def activation_backward_from_z(self, dA, Z, dZ, activation: int, alpha: float):
        """dZ = dA * g'(Z) from the pre-activation Z. dZ may be dA."""
        return self._activation_backward("activation_backward_from_z", dA, Z, "Z", dZ, activation, alpha)

    def _activation_backward(self, kernel: str, dA, source, source_name: str, dZ, activation: int, alpha: float):
        """Launch ``kernel``: dZ = dA * g'(Z), g' read from ``source`` (A or Z) of dZ's shape."""
        code = _check_code(activation, _ACTIVATIONS, "activation")
        dtype = self._written(dZ, "dZ")
        dA = self._read(dA, "dA", dtype, shape=dZ.shape)
        source = self._read(source, source_name, dtype, shape=dZ.shape)
        args = (dA, source, dZ, np.int64(dZ.size), np.int32(code), dtype.type(alpha))
        self._run(kernel, dtype, dZ.size, args)
        return dZ

    def bias_softmax(self, Z, b, A):
        """Z += b, then A[:, j] = exp(Z[:, j] - max Z[:, j]) / Σ_i exp(Z[i, j] - max Z[:, j])."""
        dtype = self._written(Z, "Z")
        self._written(A, "A", dtype)
        rows, m = self._matrix(Z, "Z", min_rows=1)
        self._same_shape(A, "A", Z.shape)
        b = self._read(b, "b", dtype, shape=(rows, 1))
        self._run("bias_softmax", dtype, m, (Z, b, A, np.int64(rows), np.int64(m)), rows)
        return A

    def output_gradient(self, A, Y, dZ):
        """dZ[L] = A[L] - Y."""
        dtype = self._written(dZ, "dZ")
        A = self._read(A, "A", dtype, shape=dZ.shape)
        Y = self._read(Y, "Y", dtype, shape=dZ.shape)
        self._run("output_gradient", dtype, dZ.size, (A, Y, dZ, np.int64(dZ.size)))
        return dZ

    def loss_terms(self, Z, A, Y, loss: int, out):
        """Per-example loss into ``out`` (1, m): cross-entropies read the logits Z, squared error
        reads the outputs A (the array a loss does not read may be None)."""
        code = _check_code(loss, _LOSSES, "loss")
        dtype = self._written(out, "out")
        scores, name = (A, "A") if code == SQUARED_ERROR else (Z, "Z")
        scores = self._read(scores, name, dtype)
        rows, m = self._matrix(scores, name, min_rows=1)
        Y = self._read(Y, "Y", dtype, shape=scores.shape)
        self._same_shape(out, "out", (1, m))
        self._run("loss_terms", dtype, m, (scores, Y, out, np.int64(rows), np.int64(m), np.int32(code)), rows)
        return out

    def accumulate_cost(self, terms, scale: float, epoch_cost, guard):
        """epoch_cost += Σ scale · terms; then guard = epoch_cost if that is not finite (``terms``: a
        batch's losses, any shape; the other two: single values, in place)."""
        dtype = self._written(epoch_cost, "epoch_cost")
        self._written(guard, "guard", dtype)
        for array, name in ((epoch_cost, "epoch_cost"), (guard, "guard")):
            if array.size != 1:
                raise ValueError(f"{name} must hold one value; got shape {array.shape}")
        terms = self._read(terms, "terms", dtype)
        args = (terms, np.int64(terms.size), dtype.type(scale), epoch_cost, guard)
        self._run("accumulate_cost", dtype, terms.size, args)

    def sgd_update(self, params, grads, learning_rate: float, guard):
        """params -= learning_rate · grads over the flat buffers, unless ``guard`` is not finite."""
        dtype = self._written(params, "params")
        grads = self._read(grads, "grads", dtype, shape=params.shape)
        guard = self._read(guard, "guard", dtype, size=1)
        args = (params, grads, dtype.type(learning_rate), guard, np.int64(params.size))
        self._run("sgd_update", dtype, params.size, args)
        return params


def column_block(rows: int) -> tuple[int, int]:
    """The block of a column kernel over columns of ``rows`` rows: (columns, lanes), BLOCK_SIZE
    threads. Lanes: the largest power of two up to ``rows`` and MAX_LANES, so that a wide output
    layer has up to 16 threads a column and a narrow one leaves few idle; columns: 16 or more, so
    that a warp reads whole 64-byte runs of a row."""
    lanes = 1
    while lanes * 2 <= min(rows, MAX_LANES):
        lanes *= 2
    return BLOCK_SIZE // lanes, lanes


def launch_geometry(
    kernel: str, work: int, rows: int, max_blocks: int, itemsize: int, packed: bool = True
) -> tuple[int, tuple[int, int]]:
    """(blocks, (block_x, block_y)) of a GPU launch of ``kernel`` over ``work`` items (elements, or
    columns of ``rows`` rows) of ``itemsize`` bytes, with at most ``max_blocks`` blocks: the
    grid-stride loops cover the rest. An elementwise kernel's thread takes a 16-byte pack of
    elements at a time where its arrays are ``packed`` (all on a 16-byte boundary), so it needs a
    thread per pack; otherwise it takes one element at a time and needs a thread per element."""
    launch = KERNEL_LAUNCHES[kernel]
    if launch == ONE_BLOCK:
        return 1, (BLOCK_SIZE, 1)
    if launch == ELEMENTS and packed:
        work = -(-work * itemsize // PACK_BYTES)
    block = column_block(rows) if launch == COLUMNS else (BLOCK_SIZE, 1)
    return min(-(-work // block[0]), max_blocks), block


def module_source(source_dir: Path, filename: str) -> str:
    """The CUDA source NVRTC compiles for ``filename``: the file, then its kernels' entry points."""
    return (source_dir / filename).read_text() + "\n" + entry_points(filename)


def _compile_source(label: str, code: str, kernels: tuple[str, ...], options: tuple[str, ...]) -> dict:
    """Compile ``code`` with NVRTC for the current device, or load it from CuPy's disk cache;
    ``{(kernel, dtype): RawKernel}`` by the kernels' entry points."""
    import cupy

    names = {(kernel, dtype): entry_name(kernel, name) for kernel in kernels for dtype, name in ELEMENT_TYPES.items()}
    module = cupy.RawModule(code=code, options=options)
    try:
        return {key: module.get_function(name) for key, name in names.items()}
    except Exception as exc:
        log = exc.get_message() if hasattr(exc, "get_message") else repr(exc)
        raise KernelCompileError(
            f"{label} ({', '.join(kernels)}) failed to compile with options {' '.join(options)}:\n{log}"
        ) from exc


@functools.cache
def _compiled_file(device_id: int, filename: str) -> dict:
    """The kernels of one ``.cu`` file, compiled for GPU ``device_id`` (the current device)."""
    source_dir = kernel_source_dir()
    code = module_source(source_dir, filename)
    return _compile_source(f"kernels/{filename}", code, KERNEL_FILES[filename], compile_options(source_dir))


class CupyKernels(KernelLauncher):
    """The kernel interface on CuPy arrays of the current GPU, by our CUDA kernels.

    Construct it inside ``with cupy.cuda.Device(index):``; it compiles every kernel file for that
    device (raising :class:`KernelCompileError` on failure) and launches there. Launches use blocks
    of 256 threads (:func:`launch_geometry`) and at most 32 blocks per SM: the kernels'
    grid-stride loops cover the rest.
    """

    def __init__(self):
        import cupy

        self.xp = cupy
        device = cupy.cuda.Device()
        self.device_id = device.id
        self._max_blocks = BLOCKS_PER_SM * device.attributes["MultiProcessorCount"]
        self._functions = {}
        for filename in KERNEL_FILES:
            self._functions.update(_compiled_file(device.id, filename))

    def __repr__(self):
        return f"<CupyKernels on cuda:{self.device_id}>"

    def _prepare(self, kernel: str, dtype: np.dtype, work: int, rows: int, args: tuple):
        """The launch over ``work`` items; an elementwise kernel packs where the arrays it walks (those
        of ``work`` elements: not the bias or the guard) all sit on a 16-byte boundary."""
        packed = all(arg.data.ptr % PACK_BYTES == 0 for arg in args
                     if isinstance(arg, self.xp.ndarray) and arg.size == work)
        blocks, block = launch_geometry(kernel, work, rows, self._max_blocks, dtype.itemsize, packed)
        return functools.partial(self._functions[(kernel, dtype)], (blocks,), block, args)


def compile_all(dtypes=("float32", "float64")) -> list[tuple[str, bool, str]]:
    """Compile every kernel on the current GPU: ``(name, ok, message)`` for each kernel and dtype,
    e.g. ``("sgd_update<float>", True, "")``; a failure's message holds the compiler log."""
    import cupy

    device_id = cupy.cuda.Device().id
    wanted = [np.dtype(dtype) for dtype in dtypes]
    for dtype in wanted:
        element_type(dtype)
    report = []
    for filename, kernels in KERNEL_FILES.items():
        try:
            _compiled_file(device_id, filename)
        except KernelCompileError as exc:
            ok, message = False, str(exc)
        else:
            ok, message = True, ""
        report.extend((f"{kernel}<{ELEMENT_TYPES[dtype]}>", ok, message) for kernel in kernels for dtype in wanted)
    return report

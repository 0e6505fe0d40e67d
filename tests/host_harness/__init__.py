"""The host harness: our CUDA kernel sources, compiled by g++, run on NumPy arrays.

:class:`HostKernels` has exactly the interface of :class:`~deepnet_gpu.numpy_kernels.NumpyKernels`
and shares :class:`~deepnet_gpu.kernels.KernelLauncher` (argument checks, element type, launch
arguments) with :class:`~deepnet_gpu.kernels.CupyKernels`; only the launch differs: the kernel runs
on the host, on a grid of 3 deliberately small blocks, one block after another, the threads of a
block as fibers that meet at every barrier (see ``shim.h``). So ``Backend(ops=HostKernels())``
trains with the very kernel code a GPU runs. Each launch's arguments must be of the types CuPy
passes correctly (:func:`check_arguments`).
"""

from __future__ import annotations

import numpy as np

from deepnet_gpu.kernel_entry_points import COLUMNS, ELEMENT_TYPES, KERNEL_LAUNCHES, ONE_BLOCK, entry_name, parameter_types
from deepnet_gpu.kernels import KernelLauncher

from .build import compiler, load_library


def host_kernels_available() -> bool:
    """True when a C++ compiler is installed, so the harness can be built."""
    return compiler() is not None


def _host_argument(value):
    return value.ctypes.data if isinstance(value, np.ndarray) else value.item()


SCALAR_TYPES = {"float": np.float32, "double": np.float64, "int": np.int32, "long long": np.int64}
"""The NumPy scalar type that CuPy passes as each C parameter type: by its own size, unconverted."""


def check_arguments(kernel: str, element_type: str, args: tuple) -> None:
    """Raise ``TypeError`` unless ``args`` are exactly what ``kernel<element_type>`` takes on a GPU.

    CuPy's launch passes an array as its pointer and a NumPy scalar as its own bytes, so a
    ``np.int32`` where the kernel takes ``long long``, or a float64 where it takes ``float``,
    reaches the GPU as garbage; ctypes would convert either here and hide it. So the harness
    takes only what CuPy would pass correctly: for ``T*`` an array of ``T``, for a scalar
    parameter its :data:`SCALAR_TYPES` type."""
    parameters = parameter_types(kernel, element_type)
    if len(args) != len(parameters):
        raise TypeError(f"{entry_name(kernel, element_type)} takes {len(parameters)} arguments; got {len(args)}")
    for index, (parameter, value) in enumerate(zip(parameters, args)):
        if parameter.endswith("*"):
            expected = f"an array of {element_type}"
            ok = isinstance(value, np.ndarray) and ELEMENT_TYPES.get(value.dtype) == element_type
        else:
            expected = SCALAR_TYPES[parameter].__name__
            ok = type(value) is SCALAR_TYPES[parameter]
        if not ok:
            got = f"an array of {value.dtype}" if isinstance(value, np.ndarray) else type(value).__name__
            raise TypeError(f"{entry_name(kernel, element_type)}: argument {index} ({parameter}) must be "
                            f"{expected}; got {got}")


GRID = 3
ELEMENT_BLOCK = (4, 1)
COLUMN_BLOCK = (4, 3)
REDUCTION_BLOCK = (5, 2)


class HostKernels(KernelLauncher):
    """The kernel interface on NumPy arrays, by the CUDA kernel sources compiled for the host.

    Every launch has ``GRID`` blocks, so the grid-stride loops go round many times. The blocks:
    ``ELEMENT_BLOCK`` for the elementwise kernels; ``column_block`` (columns, lanes) for the column
    kernels, three lanes by default, so a column's rows split unevenly; ``reduction_block`` for the
    one-block reductions, ten threads by default, not a power of two. ``source_dir`` runs the
    kernel sources of another folder than the project's ``kernels/``; ``extra_flags`` adds
    compiler flags (a sanitizer, say).

    One call at a time: the harness keeps the thread coordinates in globals, so it is not
    thread-safe.
    """

    xp = np

    def __init__(self, column_block=COLUMN_BLOCK, reduction_block=REDUCTION_BLOCK, source_dir=None, extra_flags=()):
        self._library = load_library(source_dir, tuple(extra_flags))
        self._blocks = {COLUMNS: column_block, ONE_BLOCK: reduction_block}

    def __repr__(self):
        return "<HostKernels (kernels/*.cu on the host)>"

    def _prepare(self, kernel: str, dtype: np.dtype, work: int, rows: int, args: tuple):
        check_arguments(kernel, ELEMENT_TYPES[dtype], args)
        function = getattr(self._library, entry_name(kernel, ELEMENT_TYPES[dtype]))
        block_x, block_y = self._blocks.get(KERNEL_LAUNCHES[kernel], ELEMENT_BLOCK)
        def launch():
            function(GRID, block_x, block_y, *(_host_argument(value) for value in args))
            error = self._library.harness_error()
            if error:
                raise RuntimeError(f"{kernel}<{ELEMENT_TYPES[dtype]}>: {error.decode()}")

        return launch

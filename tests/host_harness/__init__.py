"""The host harness: our CUDA kernel sources, compiled by g++, run on NumPy arrays.

:class:`HostKernels` has exactly the interface of :class:`~deepnet_gpu.numpy_kernels.NumpyKernels`
and shares :class:`~deepnet_gpu.kernels.KernelLauncher` (argument checks, element type, launch
arguments) with :class:`~deepnet_gpu.kernels.CupyKernels`; only the launch differs: the kernel runs
on the host, every (block, thread) of a 3 × 4 grid in turn (see ``shim.h``). So
``Backend(ops=HostKernels())`` trains with the very kernel code a GPU runs.
"""

from __future__ import annotations

import numpy as np

from deepnet_gpu.kernel_entry_points import ELEMENT_TYPES, entry_name
from deepnet_gpu.kernels import KernelLauncher

from .build import compiler, load_library


def host_kernels_available() -> bool:
    """True when a C++ compiler is installed, so the harness can be built."""
    return compiler() is not None


def _host_argument(value):
    return value.ctypes.data if isinstance(value, np.ndarray) else value.item()


class HostKernels(KernelLauncher):
    """The kernel interface on NumPy arrays, by the CUDA kernel sources compiled for the host.

    One call at a time: the harness keeps the thread coordinates in globals, so it is not
    thread-safe.
    """

    xp = np

    def __init__(self):
        self._library = load_library()

    def __repr__(self):
        return "<HostKernels (kernels/*.cu on the host)>"

    def _launch(self, kernel: str, dtype: np.dtype, work: int, args: tuple):
        function = getattr(self._library, entry_name(kernel, ELEMENT_TYPES[dtype]))
        function(*(_host_argument(value) for value in args))

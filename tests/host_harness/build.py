"""Build the host harness: the kernel sources in ``kernels/`` compiled by g++ into a shared library.

One translation unit includes ``shim.h``, then every ``kernels/*.cu`` file unchanged, then an
``extern "C"`` host entry point per kernel and element type, named and typed as the GPU's
(``sgd_update_float``, ...; :mod:`deepnet_gpu.kernel_entry_points`) after three leading
parameters of its own, the launch's grid and block (``grid, block_x, block_y``), that runs the
kernel through the shim's launcher. The library is cached under the temp folder (or
``$DEEPNET_HOST_HARNESS_CACHE``) by a hash of everything that goes into it, so a test session
compiles it at most once and a changed kernel is always rebuilt.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from deepnet_gpu.kernel_entry_points import ELEMENT_TYPES, KERNEL_SIGNATURES, entry_name, entry_point, parameter_types
from deepnet_gpu.kernels import kernel_source_dir

SHIM = Path(__file__).resolve().parent / "shim.h"
COMPILER_FLAGS = (
    "-O2", "-shared", "-fPIC", "-std=c++17", "-ffp-contract=off", "-fno-strict-aliasing", "-Wall", "-Wextra"
)
"""``-fno-strict-aliasing``: the elementwise kernels read float arrays as 16-byte packs, as CUDA
code does; g++ may otherwise assume the two never alias."""
LAUNCH_PARAMETERS = ("unsigned int grid", "unsigned int block_x", "unsigned int block_y")

_CTYPES = {
    "float": ctypes.c_float,
    "double": ctypes.c_double,
    "int": ctypes.c_int,
    "long long": ctypes.c_longlong,
}


def compiler() -> str | None:
    """The C++ compiler to use (``$CXX`` or g++), or None if it is not installed."""
    return shutil.which(os.environ.get("CXX", "g++"))


def translation_unit(source_dir: Path) -> str:
    """The C++ source of the harness library."""
    lines = [f'#include "{SHIM}"']
    lines += [f'#include "{path}"' for path in sorted(source_dir.glob("*.cu"))]
    lines += [
        entry_point(
            kernel,
            element_type,
            qualifiers='extern "C"',
            body="launch(grid, {{block_x, block_y, 1}}, [&] {{ {call}; }});",
            leading=LAUNCH_PARAMETERS,
        )
        for kernel in KERNEL_SIGNATURES
        for element_type in ELEMENT_TYPES.values()
    ]
    return "\n".join(lines) + "\n"


def _ctype(parameter: str):
    return ctypes.c_void_p if parameter.endswith("*") else _CTYPES[parameter]


def build_library(source_dir: Path | None = None, extra_flags: tuple[str, ...] = ()) -> Path:
    """Compile the harness library of the kernel sources in ``source_dir`` (by default the
    project's), with ``extra_flags`` after :data:`COMPILER_FLAGS`, or find it in the cache, and
    return its path."""
    cxx = compiler()
    if cxx is None:
        raise RuntimeError("the host harness needs a C++ compiler: install g++ or set $CXX")
    source_dir = source_dir or kernel_source_dir()
    source = translation_unit(source_dir)
    digest = hashlib.sha256()
    flags = (*COMPILER_FLAGS, *extra_flags)
    for part in (source, SHIM.read_text(), " ".join(flags), cxx):
        digest.update(part.encode())
    for path in sorted(source_dir.glob("*.cu*")):
        digest.update(path.read_bytes())
    cache = Path(os.environ.get("DEEPNET_HOST_HARNESS_CACHE", Path(tempfile.gettempdir()) / "deepnet_host_harness"))
    library = cache / f"kernels-{digest.hexdigest()[:20]}.so"
    if library.exists():
        return library
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as work:
        unit = Path(work) / "harness.cpp"
        unit.write_text(source)
        built = Path(work) / library.name
        command = [cxx, *flags, f"-I{source_dir}", str(unit), "-o", str(built)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"the host harness failed to compile:\n{' '.join(command)}\n{result.stderr}")
        os.replace(built, library)
    return library


@functools.lru_cache(maxsize=None)
def load_library(source_dir: Path | None = None, extra_flags: tuple[str, ...] = ()) -> ctypes.CDLL:
    """The harness library of ``source_dir`` built with ``extra_flags`` (:func:`build_library`),
    loaded once per process, with a ctypes prototype for every wrapper."""
    library = ctypes.CDLL(str(build_library(source_dir, extra_flags)))
    for kernel in KERNEL_SIGNATURES:
        for element_type in ELEMENT_TYPES.values():
            function = getattr(library, entry_name(kernel, element_type))
            launch = [ctypes.c_uint] * len(LAUNCH_PARAMETERS)
            function.argtypes = launch + [_ctype(parameter) for parameter in parameter_types(kernel, element_type)]
            function.restype = None
    library.harness_error.argtypes = []
    library.harness_error.restype = ctypes.c_char_p
    return library

"""Every ``kernels/*.cu`` file compiles for the GPU, without a GPU.

Each file is compiled as the GPU gets it, with the ``extern "C"`` entry points of its kernels for
float and double appended (:func:`deepnet_gpu.kernels.module_source`); templates are only
type-checked once instantiated, so an error in a kernel body fails here.

* nvcc builds a cubin for sm_80 (A100) and sm_90 (H100/H200); it must hold every entry point.
* NVRTC, the compiler CuPy uses at run time (no standard headers), compiles each file with the
  options of :func:`deepnet_gpu.kernels.compile_options` plus those CuPy adds, to PTX for a virtual
  architecture and to a cubin for a real one, without name expressions (so every CuPy from 13 on
  reads the result back from its disk cache); every entry point must be there under its plain C name. It needs libnvrtc: from
  a CUDA toolkit, or the ``nvidia-cuda-nvrtc`` wheel.
* In that PTX every elementwise kernel loads and stores 16-byte vectors (``kernels/elementwise.cuh``).
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deepnet_gpu.kernel_entry_points import ELEMENT_TYPES, ELEMENTS, KERNEL_FILES, KERNEL_LAUNCHES, entry_name
from deepnet_gpu.kernels import compile_options, kernel_source_dir, module_source

ARCHITECTURES = ("sm_80", "sm_90")

CUPY_NVRTC_OPTIONS = ("-ftz=true", "--device-as-default-execution-space")
"""What CuPy 14.2 adds to a RawModule's options before NVRTC compiles it, beside the architecture
(``_compile_with_cache_cuda`` and ``_compile_using_nvrtc`` in ``cupy/cuda/compiler.py``). It also
adds ``--pch`` on NVRTC 12.8 and later, a precompiled header that changes only the compile time."""


def missing_entry_points(filename: str, binary: bytes) -> list[str]:
    """The entry points of ``filename``'s kernels whose C name does not appear in ``binary``."""
    names = [entry_name(kernel, t) for kernel in KERNEL_FILES[filename] for t in ELEMENT_TYPES.values()]
    return [name for name in names if not re.search(rb"\b" + name.encode() + rb"\b", binary)]


@pytest.mark.nvcc
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("filename", sorted(KERNEL_FILES))
def test_nvcc_compiles_every_entry_point(tmp_path, filename, architecture):
    source_dir = kernel_source_dir()
    unit = tmp_path / filename
    unit.write_text(module_source(source_dir, filename))
    cubin = tmp_path / "module.cubin"
    command = ["nvcc", "-cubin", f"-arch={architecture}", *compile_options(source_dir), "-o", str(cubin), str(unit)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr}"
    missing = missing_entry_points(filename, cubin.read_bytes())
    assert not missing, f"{filename}: the cubin lacks {missing}"


def _nvrtc_candidates():
    try:
        import nvidia
    except ImportError:
        nvidia = None
    folders = [Path(path) for path in getattr(nvidia, "__path__", [])]
    cuda = os.environ.get("CUDA_PATH", "/usr/local/cuda")
    libraries = [path for folder in folders for path in sorted(folder.glob("*/lib/libnvrtc.so*"))]
    libraries += sorted(Path(cuda).glob("lib64/libnvrtc.so*"))
    return [path for path in libraries if "alt" not in path.name]


@functools.lru_cache(maxsize=1)
def load_nvrtc():
    """libnvrtc through ctypes, with its builtins library loaded first so NVRTC finds it; or None."""
    for library in _nvrtc_candidates():
        try:
            for builtins in sorted(library.parent.glob("libnvrtc-builtins.so*")):
                if "alt" not in builtins.name:
                    ctypes.CDLL(str(builtins), mode=ctypes.RTLD_GLOBAL)
            nvrtc = ctypes.CDLL(str(library))
        except OSError:
            continue
        nvrtc.nvrtcGetErrorString.restype = ctypes.c_char_p
        return nvrtc
    return None


def nvrtc_compile(nvrtc, source: str, name: str, options, output: str) -> tuple[int, str, bytes]:
    """Compile as CuPy's RawModule does without name expressions: ``(result code, log, binary)``,
    the binary being the ``"PTX"`` or the ``"CUBIN"`` (``output``)."""
    program = ctypes.c_void_p()
    assert nvrtc.nvrtcCreateProgram(ctypes.byref(program), source.encode(), name.encode(), 0, None, None) == 0
    try:
        encoded = [option.encode() for option in options]
        result = nvrtc.nvrtcCompileProgram(program, len(encoded), (ctypes.c_char_p * len(encoded))(*encoded))
        size = ctypes.c_size_t()
        nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        nvrtc.nvrtcGetProgramLog(program, log)
        binary = b""
        if result == 0:
            assert getattr(nvrtc, f"nvrtcGet{output}Size")(program, ctypes.byref(size)) == 0
            buffer = ctypes.create_string_buffer(size.value)
            assert getattr(nvrtc, f"nvrtcGet{output}")(program, buffer) == 0
            binary = buffer.raw
        return result, log.value.decode(errors="replace"), binary
    finally:
        nvrtc.nvrtcDestroyProgram(ctypes.byref(program))


@pytest.mark.skipif(load_nvrtc() is None, reason="libnvrtc not found (CUDA toolkit or the nvidia-cuda-nvrtc wheel)")
@pytest.mark.parametrize("architecture, output", [("compute_80", "PTX"), ("sm_90", "CUBIN")])
@pytest.mark.parametrize("filename", sorted(KERNEL_FILES))
def test_nvrtc_compiles_every_entry_point_as_cupy_would(filename, architecture, output):
    source_dir = kernel_source_dir()
    options = (*compile_options(source_dir), *CUPY_NVRTC_OPTIONS, f"-arch={architecture}")
    result, log, binary = nvrtc_compile(load_nvrtc(), module_source(source_dir, filename), filename, options, output)
    assert result == 0, f"{filename}: {load_nvrtc().nvrtcGetErrorString(result).decode()}\n{log}"
    missing = missing_entry_points(filename, binary)
    assert not missing, f"{filename}: the {output} lacks {missing}"


VECTOR_ACCESS = {"float": "v4.f32", "double": "v2.f64"}
"""The PTX type of a 16-byte vector of each element type."""


def ptx_entries(ptx: str) -> dict[str, str]:
    """Each ``.entry`` of a PTX module by name: its text up to the next entry."""
    parts = re.split(r"^\.visible \.entry ", ptx, flags=re.MULTILINE)[1:]
    return {re.match(r"\w+", part).group(): part for part in parts}


@pytest.mark.skipif(load_nvrtc() is None, reason="libnvrtc not found (CUDA toolkit or the nvidia-cuda-nvrtc wheel)")
@pytest.mark.parametrize("filename", sorted(KERNEL_FILES))
def test_the_elementwise_kernels_move_16_byte_vectors(filename):
    source_dir = kernel_source_dir()
    options = (*compile_options(source_dir), *CUPY_NVRTC_OPTIONS, "-arch=compute_90")
    result, log, binary = nvrtc_compile(load_nvrtc(), module_source(source_dir, filename), filename, options, "PTX")
    assert result == 0, log
    entries = ptx_entries(binary.rstrip(b"\0").decode())
    for kernel in KERNEL_FILES[filename]:
        for element_type, vector in VECTOR_ACCESS.items():
            body = entries[entry_name(kernel, element_type)]
            accesses = set(re.findall(r"\b(ld|st)\.global(?:\.nc)?\." + re.escape(vector) + r"\b", body))
            expected = {"ld", "st"} if KERNEL_LAUNCHES[kernel] == ELEMENTS else set()
            assert accesses == expected, f"{entry_name(kernel, element_type)}: 16-byte accesses {accesses or 'none'}"

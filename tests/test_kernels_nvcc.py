"""Every ``kernels/*.cu`` file compiles for the GPU, without a GPU.

* nvcc builds a cubin for sm_80 (A100) and sm_90 (H100/H200) from a unit that includes the file
  and instantiates each kernel for float and double; templates are only type-checked once
  instantiated, so an error in a kernel body fails here. The cubin must hold every instance.
* NVRTC, the compiler CuPy uses at run time (no standard headers, templates reached through name
  expressions), compiles each file with the options of :func:`deepnet_gpu.kernels.compile_options`
  plus those CuPy adds. It needs libnvrtc: from a CUDA toolkit, or the ``nvidia-cuda-nvrtc`` wheel.
"""

from __future__ import annotations

import ctypes
import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from deepnet_gpu.kernels import ELEMENT_TYPES, KERNEL_FILES, compile_options, kernel_source_dir
from tests.host_harness.signatures import explicit_instantiation

ARCHITECTURES = ("sm_80", "sm_90")
MANGLED_TYPE = {"float": "f", "double": "d"}


def mangled_prefix(kernel: str, element_type: str) -> bytes:
    """The start of ``kernel<element_type>``'s Itanium-mangled name, e.g. ``_Z10sgd_updateIf``."""
    return f"_Z{len(kernel)}{kernel}I{MANGLED_TYPE[element_type]}".encode()


@pytest.mark.nvcc
@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc is not on PATH")
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("filename", sorted(KERNEL_FILES))
def test_nvcc_compiles_every_kernel_instance(tmp_path, filename, architecture):
    source_dir = kernel_source_dir()
    lines = [f'#include "{source_dir / filename}"']
    lines += [explicit_instantiation(kernel, t) for kernel in KERNEL_FILES[filename] for t in ELEMENT_TYPES.values()]
    unit = tmp_path / "instances.cu"
    unit.write_text("\n".join(lines) + "\n")
    cubin = tmp_path / "instances.cubin"
    command = ["nvcc", "-cubin", f"-arch={architecture}", *compile_options(source_dir), "-o", str(cubin), str(unit)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr}"
    binary = cubin.read_bytes()
    missing = [
        f"{kernel}<{t}>"
        for kernel in KERNEL_FILES[filename]
        for t in ELEMENT_TYPES.values()
        if mangled_prefix(kernel, t) not in binary
    ]
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


def nvrtc_compile(nvrtc, source: str, name: str, options, expressions) -> tuple[int, str, dict[str, str]]:
    """Compile as CuPy's RawModule does: ``(result code, log, {name expression: lowered name})``."""
    program = ctypes.c_void_p()
    assert nvrtc.nvrtcCreateProgram(ctypes.byref(program), source.encode(), name.encode(), 0, None, None) == 0
    try:
        for expression in expressions:
            assert nvrtc.nvrtcAddNameExpression(program, expression.encode()) == 0
        encoded = [option.encode() for option in options]
        result = nvrtc.nvrtcCompileProgram(program, len(encoded), (ctypes.c_char_p * len(encoded))(*encoded))
        size = ctypes.c_size_t()
        nvrtc.nvrtcGetProgramLogSize(program, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        nvrtc.nvrtcGetProgramLog(program, log)
        lowered = {}
        if result == 0:
            for expression in expressions:
                name_pointer = ctypes.c_char_p()
                assert nvrtc.nvrtcGetLoweredName(program, expression.encode(), ctypes.byref(name_pointer)) == 0
                lowered[expression] = name_pointer.value.decode()
        return result, log.value.decode(errors="replace"), lowered
    finally:
        nvrtc.nvrtcDestroyProgram(ctypes.byref(program))


@pytest.mark.skipif(load_nvrtc() is None, reason="libnvrtc not found (CUDA toolkit or the nvidia-cuda-nvrtc wheel)")
@pytest.mark.parametrize("architecture", ["compute_80", "sm_90"])
@pytest.mark.parametrize("filename", sorted(KERNEL_FILES))
def test_nvrtc_compiles_every_kernel_as_cupy_would(filename, architecture):
    source_dir = kernel_source_dir()
    expressions = [f"{kernel}<{t}>" for kernel in KERNEL_FILES[filename] for t in ELEMENT_TYPES.values()]
    options = (*compile_options(source_dir), "-ftz=true", f"-arch={architecture}")
    result, log, lowered = nvrtc_compile(
        load_nvrtc(), (source_dir / filename).read_text(), filename, options, expressions
    )
    assert result == 0, f"{filename}: {load_nvrtc().nvrtcGetErrorString(result).decode()}\n{log}"
    for expression in expressions:
        kernel, element_type = expression[:-1].split("<")
        assert lowered[expression].startswith(mangled_prefix(kernel, element_type).decode()), expression

"""The kernel sources agree with the Python side: codes, kernel names and signatures, where the
loader finds them, and a loader that imports without CuPy."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from deepnet_gpu import kernels, numpy_kernels
from deepnet_gpu.kernel_entry_points import KERNEL_SIGNATURES

REPO = Path(__file__).resolve().parent.parent
CODES = (
    "LINEAR",
    "RELU",
    "LEAKY_RELU",
    "SIGMOID",
    "TANH",
    "BINARY_CROSS_ENTROPY",
    "CATEGORICAL_CROSS_ENTROPY",
    "SQUARED_ERROR",
)
KERNEL = re.compile(r"template <typename T>\s*__device__ void (\w+)\(([^)]*)\)")


def header_codes() -> dict[str, int]:
    text = (kernels.kernel_source_dir() / "activations.cuh").read_text()
    return {name: int(value) for name, value in re.findall(r"constexpr int (\w+) = (\d+);", text)}


def defined_kernels(path: Path) -> dict[str, tuple[str, ...]]:
    """``{kernel: parameter types}`` for every kernel (``template <typename T> __device__ void``)
    in a ``.cu`` file."""
    found = {}
    for name, parameters in KERNEL.findall(path.read_text()):
        types = tuple(" ".join(parameter.split()).rsplit(" ", 1)[0] for parameter in parameters.split(","))
        found[name] = types
    return found


def test_the_header_codes_are_the_numpy_twins_codes():
    assert header_codes() == {name: getattr(numpy_kernels, name) for name in CODES}


def test_the_sources_are_found_in_the_checkout():
    assert kernels.kernel_source_dir() == REPO / "kernels"
    for filename in kernels.KERNEL_FILES:
        assert (REPO / "kernels" / filename).is_file()


def test_missing_sources_are_named_in_the_error(monkeypatch, tmp_path):
    monkeypatch.setattr(kernels, "SOURCE_DIRS", (tmp_path / "cuda_sources", tmp_path / "kernels"))
    with pytest.raises(FileNotFoundError, match="cuda_sources.*kernels"):
        kernels.kernel_source_dir()


def test_the_wheel_ships_the_sources_where_the_loader_looks():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    installed = kernels.SOURCE_DIRS[0]
    package = f"deepnet_gpu.{installed.name}"
    assert installed.parent == Path(kernels.__file__).resolve().parent
    assert package in config["packages"]
    assert config["package-dir"][package] == "kernels"
    assert {"*.cu", "*.cuh"} <= set(config["package-data"][package])


def test_every_kernel_file_defines_exactly_its_listed_kernels_with_the_table_signatures():
    source_dir = kernels.kernel_source_dir()
    assert sorted(path.name for path in source_dir.glob("*.cu")) == sorted(kernels.KERNEL_FILES)
    all_defined = {}
    for filename, names in kernels.KERNEL_FILES.items():
        defined = defined_kernels(source_dir / filename)
        assert tuple(defined) == names, filename
        all_defined.update(defined)
    assert all_defined == KERNEL_SIGNATURES


def test_the_sources_digest_follows_every_header(tmp_path):
    copy = tmp_path / "kernels"
    shutil.copytree(kernels.kernel_source_dir(), copy)
    before = kernels.sources_digest(copy)
    assert before == kernels.sources_digest(kernels.kernel_source_dir())
    header = copy / "common.cuh"
    header.write_text(header.read_text() + "\n")
    assert kernels.sources_digest(copy) != before
    assert f"-DDEEPNET_KERNEL_SOURCES={kernels.sources_digest(copy)}" in kernels.compile_options(copy)


@pytest.mark.parametrize("dtype, name", [(np.float32, "float"), (np.float64, "double"), ("float32", "float")])
def test_element_types(dtype, name):
    assert kernels.element_type(dtype) == name


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.complex64, "not a dtype"])
def test_other_dtypes_are_refused(dtype):
    with pytest.raises(TypeError, match="float32 or float64"):
        kernels.element_type(dtype)


def test_importing_the_loader_does_not_import_cupy():
    script = "import sys, deepnet_gpu.kernels; assert 'cupy' not in sys.modules, 'cupy was imported'"
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO)


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None, reason="CuPy is installed")
def test_without_cupy_the_gpu_kernels_say_so():
    with pytest.raises(ImportError, match="cupy"):
        kernels.CupyKernels()
    with pytest.raises(ImportError, match="cupy"):
        kernels.compile_all()


class RecordingRawModule:
    """Stands in for ``cupy.RawModule``: records how it was built and which functions were asked for."""

    built = []

    def __init__(self, **arguments):
        self.arguments = arguments
        self.asked = []
        RecordingRawModule.built.append(self)

    def get_function(self, name):
        self.asked.append(name)
        return name


def test_each_file_is_compiled_without_name_expressions_and_entered_by_its_c_names(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", types.SimpleNamespace(RawModule=RecordingRawModule))
    monkeypatch.setattr(RecordingRawModule, "built", [])
    source_dir = kernels.kernel_source_dir()
    for filename, names in kernels.KERNEL_FILES.items():
        code = kernels.module_source(source_dir, filename)
        functions = kernels._compile_source(filename, code, names, kernels.compile_options(source_dir))
        module = RecordingRawModule.built[-1]
        assert module.arguments == {"code": code, "options": kernels.compile_options(source_dir)}
        for name in names:
            for dtype, element_type in kernels.ELEMENT_TYPES.items():
                entry = f"{name}_{element_type}"
                assert functions[(name, dtype)] == entry
                assert f'extern "C" __global__ void {entry}(' in code
        assert sorted(module.asked) == sorted(f"{name}_{t}" for name in names for t in ("float", "double"))
        assert code.startswith((source_dir / filename).read_text())


def test_the_shared_memory_of_the_reductions_holds_the_largest_block_a_launch_uses():
    text = (kernels.kernel_source_dir() / "block_reduce.cuh").read_text()
    (capacity,) = re.findall(r"constexpr unsigned int MAX_BLOCK_THREADS = (\d+);", text)
    assert int(capacity) == kernels.BLOCK_SIZE

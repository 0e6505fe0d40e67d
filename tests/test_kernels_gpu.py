"""Our CUDA kernels through CuPy against their NumPy twins, on a real GPU.

Every case of ``tests/kernel_cases.py`` (random data of each shape and edge values, float32 and
float64, every activation and loss code, with and without aliasing) runs on the same host data
on both sides. CuPy compiles with ``-ftz=true``, so float32 results below the smallest normal
number may be zero on the device: the comparison's absolute tolerance is that number.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepnet_gpu.backend import cuda_status
from deepnet_gpu.kernel_entry_points import KERNEL_FILES
from deepnet_gpu.kernels import BLOCK_SIZE, BLOCKS_PER_SM, PACK_BYTES
from deepnet_gpu.numpy_kernels import BINARY_CROSS_ENTROPY, CATEGORICAL_CROSS_ENTROPY, RELU, SIGMOID, TANH, NumpyKernels
from tests.kernel_cases import ALL_CASES, ELEMENTWISE_CASES, MISALIGNMENTS

REPO = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not cuda_status().usable, reason=f"no usable GPU: {cuda_status().reason}"),
]


@pytest.fixture(scope="module")
def cupy():
    import cupy

    with cupy.cuda.Device(0):
        yield cupy


@pytest.fixture(scope="module")
def gpu_kernels(cupy):
    from deepnet_gpu.kernels import CupyKernels

    return CupyKernels()


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_cupy_kernel_matches_its_numpy_twin(cupy, gpu_kernels, case):
    case.build().check(gpu_kernels, cupy.asarray, cupy.asnumpy)


@pytest.mark.parametrize("misalignment", MISALIGNMENTS)
@pytest.mark.parametrize("case", ELEMENTWISE_CASES, ids=str)
def test_cupy_elementwise_kernel_matches_its_twin_off_the_16_byte_boundary(cupy, gpu_kernels, case, misalignment):
    call = case.build()
    call.check(gpu_kernels, cupy.asarray, cupy.asnumpy, MISALIGNMENTS[misalignment](call))


def test_every_kernel_compiles_for_both_dtypes(cupy):
    from deepnet_gpu.kernels import compile_all

    report = compile_all()
    assert [(name, ok, message) for name, ok, message in report if not ok] == []
    expected = {
        f"{kernel}<{t}>" for kernels in KERNEL_FILES.values() for kernel in kernels for t in ("float", "double")
    }
    assert {name for name, _, _ in report} == expected
    assert {name for name, _, _ in compile_all(dtypes=("float32",))} == {
        name for name in expected if name.endswith("<float>")
    }


def test_a_compile_failure_names_the_source_and_shows_the_log(cupy):
    from deepnet_gpu.kernels import COMPILE_OPTIONS, KernelCompileError, _compile_source

    code = "template <typename T> __device__ void broken(T* x) { x[0] = not_declared_anywhere; }\n" + "".join(
        f'extern "C" __global__ void broken_{t}({t}* x) {{ broken<{t}>(x); }}\n' for t in ("float", "double")
    )
    with pytest.raises(KernelCompileError, match=r"(?s)kernels/broken\.cu \(broken\).*not_declared_anywhere"):
        _compile_source("kernels/broken.cu", code, ("broken",), COMPILE_OPTIONS)


def test_a_new_process_loads_the_kernels_from_cupys_disk_cache(tmp_path):
    script = "import cupy\nfrom deepnet_gpu.kernels import CupyKernels\nwith cupy.cuda.Device(0):\n    CupyKernels()\n"
    environment = {**os.environ, "CUPY_CACHE_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}

    def run_and_list():
        subprocess.run([sys.executable, "-c", script], check=True, env=environment, cwd=REPO)
        return {path.name: path.stat().st_mtime_ns for path in tmp_path.iterdir()}

    first = run_and_list()
    assert len(first) >= len(KERNEL_FILES), f"CuPy cached {sorted(first)}"
    assert run_and_list() == first, "the second process compiled again and rewrote the cache"


def test_a_launch_larger_than_the_grid_is_covered_by_the_grid_stride_loop(cupy, gpu_kernels):
    sm_count = cupy.cuda.Device().attributes["MultiProcessorCount"]
    values_per_pass = BLOCKS_PER_SM * sm_count * BLOCK_SIZE * PACK_BYTES // 4
    n = 2 * values_per_pass + 3
    Z = np.random.default_rng(0).normal(size=(1, n)).astype(np.float32)
    A = cupy.empty_like(cupy.asarray(Z))
    gpu_kernels.activation_forward(cupy.asarray(Z), A, RELU, 0.0)
    np.testing.assert_array_equal(cupy.asnumpy(A), np.maximum(Z, 0))


@pytest.mark.parametrize("shape", ["4096x300", "37x5000", "2-columns-beyond-the-grid"])
def test_the_column_kernels_and_the_cost_on_wide_and_long_outputs(cupy, gpu_kernels, shape):
    """The launch shapes a GPU picks (16 lanes for 4096 rows; more column tiles than blocks)
    against the twins."""
    if shape == "2-columns-beyond-the-grid":
        rows, m = 2, 32 * cupy.cuda.Device().attributes["MultiProcessorCount"] * 128 * 2 + 5
    else:
        rows, m = (int(n) for n in shape.split("x"))
    rng = np.random.default_rng(rows)
    Z, b = rng.normal(size=(rows, m)) * 3, rng.normal(size=(rows, 1))
    one_hot = np.zeros((rows, m))
    one_hot[rng.integers(rows, size=m), np.arange(m)] = 1
    twins = NumpyKernels()
    expected_Z, expected_A = Z.copy(), np.empty_like(Z)
    twins.bias_softmax(expected_Z, b, expected_A)
    Z_gpu, A_gpu = cupy.asarray(Z), cupy.empty((rows, m))
    gpu_kernels.bias_softmax(Z_gpu, cupy.asarray(b), A_gpu)
    np.testing.assert_allclose(cupy.asnumpy(Z_gpu), expected_Z, rtol=1e-12)
    np.testing.assert_allclose(cupy.asnumpy(A_gpu), expected_A, rtol=1e-12, atol=1e-300)
    for loss, Y in ((CATEGORICAL_CROSS_ENTROPY, one_hot), (BINARY_CROSS_ENTROPY, one_hot)):
        expected = twins.loss_terms(Z, None, Y, loss, np.empty((1, m)))
        out = cupy.empty((1, m))
        gpu_kernels.loss_terms(cupy.asarray(Z), None, cupy.asarray(Y), loss, out)
        np.testing.assert_allclose(cupy.asnumpy(out), expected, rtol=1e-12)
        costs = [np.array(0.5), np.array(-1.0)]
        twins.accumulate_cost(expected, 1 / m, *costs)
        costs_gpu = [cupy.asarray(0.5), cupy.asarray(-1.0)]
        gpu_kernels.accumulate_cost(out, 1 / m, *costs_gpu)
        np.testing.assert_allclose([float(cost) for cost in costs_gpu], [float(cost) for cost in costs], rtol=1e-12)


def test_views_are_read_through_contiguous_copies(cupy, gpu_kernels):
    host = np.random.default_rng(1).normal(size=(209, 20))
    Z = cupy.asarray(host).T
    dZ = cupy.empty((20, 209))
    gpu_kernels.activation_backward_from_z(Z, Z, dZ, TANH, 0.0)
    expected = NumpyKernels().activation_backward_from_z(host.T, host.T, np.empty((20, 209)), TANH, 0.0)
    np.testing.assert_allclose(
        cupy.asnumpy(dZ), expected, rtol=1e-12, atol=8 * np.finfo(np.float64).eps * np.abs(host).max()
    )


def test_written_arrays_must_be_contiguous_device_arrays(cupy, gpu_kernels):
    Z = cupy.ones((3, 4), dtype=cupy.float32)
    with pytest.raises(ValueError, match="C-contiguous"):
        gpu_kernels.activation_forward(Z, cupy.ones((4, 3), dtype=cupy.float32).T, SIGMOID, 0.0)
    with pytest.raises(TypeError, match="cupy array"):
        gpu_kernels.activation_forward(Z, np.ones((3, 4), dtype=np.float32), SIGMOID, 0.0)
    with pytest.raises(TypeError, match="float32 or float64"):
        gpu_kernels.activation_forward(Z, cupy.ones((3, 4), dtype=cupy.float16), SIGMOID, 0.0)

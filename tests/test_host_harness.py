"""The host harness itself: its blocks share memory and meet at barriers as a GPU's do, and a kernel
that lacks a barrier fails the kernel tests instead of passing by luck; built with UBSan's
alignment check, it catches a 16-byte pack read or written off its boundary, which a host CPU
forgives and a GPU does not; and it takes only launch arguments of the exact types CuPy passes
correctly, which ctypes would otherwise convert."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deepnet_gpu.kernels import kernel_source_dir
from tests.host_harness import HostKernels, check_arguments, host_kernels_available
from tests.host_harness.build import SHIM, compiler
from tests.kernel_cases import ALL_CASES, BLOCK_KERNEL_CASES

pytestmark = pytest.mark.skipif(not host_kernels_available(), reason="the host harness needs g++ (or $CXX)")

PROGRAM = r"""
#include "SHIM"
#include <cstdio>

// Each thread writes its slot, then reads its neighbour's: after a barrier, or without one.
__device__ void neighbour(int* out, bool barrier) {
    __shared__ int slot[64];
    const unsigned int t = threadIdx.y * blockDim.x + threadIdx.x, n = blockDim.x * blockDim.y;
    slot[t] = 100 * blockIdx.x + t;
    if (barrier) {
        __syncthreads();
    }
    out[blockIdx.x * n + t] = slot[(t + 1) % n];
    __syncthreads();
}

int main() {
    int out[24];
    for (bool barrier : {true, false}) {
        launch(3, {4, 2, 1}, [&] { neighbour(out, barrier); });
        for (int value : out) {
            std::printf("%d ", value);
        }
        std::printf("|%s\n", harness_error());
    }
    launch(2, {3, 1, 1}, [&] {
        if (threadIdx.x < 2) {
            __syncthreads();
        }
    });
    std::printf("|%s\n", harness_error());
}
"""


@pytest.fixture(scope="module")
def program_output(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shim")
    source, binary = folder / "program.cpp", folder / "program"
    source.write_text(PROGRAM.replace("SHIM", str(SHIM)))
    subprocess.run([compiler(), "-std=c++17", "-Wall", "-Wextra", "-Werror", str(source), "-o", str(binary)], check=True)
    return subprocess.run([str(binary)], check=True, capture_output=True, text=True).stdout.splitlines()


def _values(line: str) -> list[int]:
    return [int(value) for value in line.split("|")[0].split()]


def test_after_a_barrier_every_thread_sees_what_the_others_wrote(program_output):
    expected = [100 * block + (t + 1) % 8 for block in range(3) for t in range(8)]
    assert _values(program_output[0]) == expected
    assert program_output[0].endswith("|")


def test_without_the_barrier_a_thread_reads_its_neighbours_slot_before_the_neighbour_writes_it(program_output):
    values = _values(program_output[1])
    for block in range(3):
        stale = 100 * (block - 1) + 1 if block else 200 + 1
        assert values[8 * block] == stale, values
        assert values[8 * block + 7] == 100 * block, values


def test_a_barrier_that_some_threads_skip_is_reported(program_output):
    assert program_output[2] == "|block 0: 2 of its 3 threads wait at barrier 0 while the others have finished"


def test_the_harness_raises_what_the_shim_reports(tmp_path):
    copy = tmp_path / "kernels"
    shutil.copytree(kernel_source_dir(), copy)
    update = copy / "update.cu"
    update.write_text(update.read_text().replace("if (blockIdx.x != 0) {", "if (threadIdx.x == 1) {", 1))
    kernels = HostKernels(source_dir=copy)
    case = next(case for case in ALL_CASES if case.name.startswith("accumulate_cost-float64-20x209"))
    with pytest.raises(RuntimeError, match=r"accumulate_cost<double>: block 0: .* wait at barrier 0"):
        case.build().check(kernels)


BARRIERS = [match.start() for match in re.finditer(r"__syncthreads\(\);", (kernel_source_dir() / "block_reduce.cuh").read_text())]


@pytest.mark.parametrize("barrier", range(len(BARRIERS)))
def test_each_barrier_of_the_reductions_is_needed_and_its_absence_is_caught(tmp_path, barrier):
    copy = tmp_path / "kernels"
    shutil.copytree(kernel_source_dir(), copy)
    header = copy / "block_reduce.cuh"
    text = header.read_text()
    header.write_text(text[: BARRIERS[barrier]] + text[BARRIERS[barrier]:].replace("__syncthreads();", "", 1))
    kernels = HostKernels(source_dir=copy)
    caught = []
    for case in BLOCK_KERNEL_CASES:
        try:
            case.build().check(kernels)
        except AssertionError:
            caught.append(case.name)
    assert caught, "no kernel test noticed the missing barrier"


ALIGNMENT_CHECK = """
import sys
from pathlib import Path

from tests.host_harness import HostKernels
from tests.kernel_cases import ELEMENTWISE_CASES, MISALIGNMENTS

kernels = HostKernels(source_dir=Path(sys.argv[1]), extra_flags=("-fsanitize=alignment",))
for case in ELEMENTWISE_CASES:
    for misalignment in MISALIGNMENTS.values():
        call = case.build()
        call.check(kernels, offsets=misalignment(call))
"""
REPO = Path(__file__).resolve().parent.parent


def run_elementwise_cases_under_the_alignment_check(source_dir) -> subprocess.CompletedProcess:
    """Every elementwise case off the 16-byte boundary, on the harness of ``source_dir`` built with
    ``-fsanitize=alignment``, in a fresh process (UBSan reports on that process's stderr)."""
    command = [sys.executable, "-c", ALIGNMENT_CHECK, str(source_dir)]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True)


def test_no_pack_is_moved_off_its_16_byte_boundary():
    result = run_elementwise_cases_under_the_alignment_check(kernel_source_dir())
    assert result.returncode == 0, result.stderr
    assert "runtime error" not in result.stderr, result.stderr


def test_the_alignment_check_catches_packs_read_from_an_array_off_the_boundary(tmp_path):
    copy = tmp_path / "kernels"
    shutil.copytree(kernel_source_dir(), copy)
    header = copy / "elementwise.cuh"
    text = header.read_text()
    condition = "if ((on_pack_boundary(out) && ... && on_pack_boundary(in))) {"
    assert condition in text
    header.write_text(text.replace(condition, "if (on_pack_boundary(out)) {"))
    result = run_elementwise_cases_under_the_alignment_check(copy)
    assert "runtime error: load of misaligned address" in result.stderr


def _sgd_arguments(**changed):
    """sgd_update<float>'s arguments (params, grads, learning rate, guard, n), some replaced."""
    arguments = {"params": np.zeros(4, np.float32), "grads": np.ones(4, np.float32), "rate": np.float32(0.1),
                 "guard": np.zeros(1, np.float32), "n": np.int64(4)}
    return tuple({**arguments, **changed}.values())


@pytest.mark.parametrize("changed, message", [
    ({"n": np.int32(4)}, r"argument 4 \(long long\) must be int64; got int32"),
    ({"n": 4}, r"argument 4 \(long long\) must be int64; got int"),
    ({"rate": np.float64(0.1)}, r"argument 2 \(float\) must be float32; got float64"),
    ({"rate": 0.1}, r"argument 2 \(float\) must be float32; got float"),
    ({"grads": np.ones(4)}, r"argument 1 \(const float\*\) must be an array of float; got an array of float64"),
    ({"guard": np.float32(0)}, r"argument 3 \(const float\*\) must be an array of float; got float32"),
])
def test_launch_arguments_must_be_of_the_types_cupy_passes_correctly(changed, message):
    check_arguments("sgd_update", "float", _sgd_arguments())
    with pytest.raises(TypeError, match="sgd_update_float: " + message):
        check_arguments("sgd_update", "float", _sgd_arguments(**changed))
    with pytest.raises(TypeError, match="sgd_update_float takes 5 arguments; got 4"):
        check_arguments("sgd_update", "float", _sgd_arguments()[:4])


def test_every_launch_of_the_harness_checks_its_arguments():
    class NarrowCounts(HostKernels):
        """Passes the element count as a 32-bit int, as a launcher bug would."""

        def _prepare(self, kernel, dtype, work, rows, args):
            return super()._prepare(kernel, dtype, work, rows, args[:-1] + (np.int32(args[-1]),))

    params = np.zeros(4, np.float32)
    HostKernels().sgd_update(params, np.ones(4, np.float32), 0.5, np.zeros(1, np.float32))
    np.testing.assert_array_equal(params, [-0.5] * 4)
    with pytest.raises(TypeError, match=r"sgd_update_float: argument 4 \(long long\) must be int64; got int32"):
        NarrowCounts().sgd_update(params, np.ones(4, np.float32), 0.5, np.zeros(1, np.float32))

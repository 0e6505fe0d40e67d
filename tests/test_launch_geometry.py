"""The shape of every GPU launch (:func:`deepnet_gpu.kernels.launch_geometry`), computed without a GPU."""

from __future__ import annotations

import re
import types

import numpy as np
import pytest

from deepnet_gpu.kernel_entry_points import COLUMNS, ELEMENTS, KERNEL_LAUNCHES, KERNEL_SIGNATURES, ONE_BLOCK
from deepnet_gpu.kernels import (
    BLOCK_SIZE,
    MAX_LANES,
    PACK_BYTES,
    CupyKernels,
    column_block,
    kernel_source_dir,
    launch_geometry,
)

MAX_BLOCKS = 32 * 132


def test_every_kernel_has_a_launch_kind():
    assert set(KERNEL_LAUNCHES) == set(KERNEL_SIGNATURES)
    assert set(KERNEL_LAUNCHES.values()) == {ELEMENTS, COLUMNS, ONE_BLOCK}


@pytest.mark.parametrize(
    "rows, block",
    [(1, (256, 1)), (2, (128, 2)), (3, (128, 2)), (10, (32, 8)), (16, (16, 16)), (17, (16, 16)), (4096, (16, 16))],
)
def test_a_column_block_gives_each_column_up_to_16_lanes_and_no_more_lanes_than_rows(rows, block):
    assert column_block(rows) == block


@pytest.mark.parametrize("rows", range(1, 70))
def test_column_blocks_are_full_blocks_of_whole_lanes(rows):
    columns, lanes = column_block(rows)
    assert columns * lanes == BLOCK_SIZE
    assert lanes <= min(rows, MAX_LANES) < 2 * lanes
    assert columns >= 16


@pytest.mark.parametrize(
    "kernel, work, rows, itemsize, expected",
    [
        ("sgd_update", 1, 1, 4, (1, (256, 1))),
        ("sgd_update", 1024, 1, 4, (1, (256, 1))),
        ("sgd_update", 1025, 1, 4, (2, (256, 1))),
        ("sgd_update", 1025, 1, 8, (3, (256, 1))),
        ("output_gradient", 2049, 1, 8, (5, (256, 1))),
        ("activation_forward", 1 << 26, 1, 4, (MAX_BLOCKS, (256, 1))),
        ("bias_softmax", 8192, 4096, 4, (512, (16, 16))),
        ("bias_softmax", 8192, 4096, 8, (512, (16, 16))),
        ("loss_terms", 8192, 10, 4, (256, (32, 8))),
        ("loss_terms", 209, 1, 8, (1, (256, 1))),
        ("bias_softmax", 1 << 24, 10, 4, (MAX_BLOCKS, (32, 8))),
        ("accumulate_cost", 8192, 1, 4, (1, (256, 1))),
    ],
)
def test_launch_geometry(kernel, work, rows, itemsize, expected):
    assert launch_geometry(kernel, work, rows, MAX_BLOCKS, itemsize) == expected


@pytest.mark.parametrize("kernel", [kernel for kernel, launch in KERNEL_LAUNCHES.items() if launch == ELEMENTS])
@pytest.mark.parametrize("itemsize", [4, 8])
@pytest.mark.parametrize("work", [1, 3, 4, 5, 1023, 1024, 1025, 4096 * 209 + 3])
def test_an_elementwise_launch_has_a_thread_for_every_pack_and_no_idle_block(kernel, itemsize, work):
    blocks, (threads, _) = launch_geometry(kernel, work, 1, MAX_BLOCKS, itemsize)
    packs = -(-work * itemsize // PACK_BYTES)
    assert (blocks - 1) * threads < packs <= blocks * threads


@pytest.mark.parametrize("kernel", [kernel for kernel, launch in KERNEL_LAUNCHES.items() if launch == ELEMENTS])
@pytest.mark.parametrize("work", [1, 3, 4, 1025, 4096 * 209 + 3])
def test_an_elementwise_launch_on_arrays_off_the_boundary_has_a_thread_for_every_element(kernel, work):
    blocks, (threads, _) = launch_geometry(kernel, work, 1, MAX_BLOCKS, 4, packed=False)
    assert (blocks - 1) * threads < work <= blocks * threads


@pytest.mark.parametrize("kernel", ["bias_softmax", "loss_terms", "accumulate_cost"])
def test_packing_changes_nothing_for_kernels_that_do_not_pack(kernel):
    assert launch_geometry(kernel, 5000, 10, MAX_BLOCKS, 4, packed=False) == launch_geometry(
        kernel, 5000, 10, MAX_BLOCKS, 4
    )


class _DeviceArray:
    """What ``CupyKernels._prepare`` reads of a CuPy array: its device pointer and size."""

    def __init__(self, ptr: int, size: int):
        self.data = types.SimpleNamespace(ptr=ptr)
        self.size = size


@pytest.mark.parametrize(
    "params, grads, guard, threads_per_value",
    [(4096, 8192, 64, 1 / 4), (4096, 8192, 68, 1 / 4), (4096, 8196, 64, 1), (4100, 8192, 64, 1), (4104, 8200, 68, 1)],
)
def test_the_gpu_launcher_sizes_the_grid_for_packs_only_when_the_arrays_walked_are_on_the_boundary(
    params, grads, guard, threads_per_value
):
    """sgd_update walks params and grads; its guard (one value, read whole) does not decide."""
    launches = []
    kernels = object.__new__(CupyKernels)
    kernels.xp = types.SimpleNamespace(ndarray=_DeviceArray)
    kernels._max_blocks = MAX_BLOCKS
    kernels._functions = {("sgd_update", np.dtype(np.float32)): lambda grid, block, args: launches.append(grid)}
    work = 1 << 20
    args = (_DeviceArray(params, work), _DeviceArray(grads, work), np.float32(0.1), _DeviceArray(guard, 1),
            np.int64(work))
    kernels._prepare("sgd_update", np.dtype(np.float32), work, 1, args)()
    assert launches == [(int(work * threads_per_value) // BLOCK_SIZE,)]


def test_the_pack_size_is_the_kernels_own():
    text = (kernel_source_dir() / "elementwise.cuh").read_text()
    assert re.findall(r"constexpr int PACK_BYTES = (\d+);", text) == [str(PACK_BYTES)]

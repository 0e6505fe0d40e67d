"""The shape of every GPU launch (:func:`deepnet_gpu.kernels.launch_geometry`), computed without a GPU."""

from __future__ import annotations

import pytest

from deepnet_gpu.kernel_entry_points import COLUMNS, ELEMENTS, KERNEL_LAUNCHES, KERNEL_SIGNATURES, ONE_BLOCK
from deepnet_gpu.kernels import BLOCK_SIZE, MAX_LANES, column_block, launch_geometry

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
    "kernel, work, rows, expected",
    [
        ("sgd_update", 1, 1, (1, (256, 1))),
        ("sgd_update", 257, 1, (2, (256, 1))),
        ("activation_forward", 1 << 26, 1, (MAX_BLOCKS, (256, 1))),
        ("bias_softmax", 8192, 4096, (512, (16, 16))),
        ("loss_terms", 8192, 10, (256, (32, 8))),
        ("loss_terms", 209, 1, (1, (256, 1))),
        ("bias_softmax", 1 << 24, 10, (MAX_BLOCKS, (32, 8))),
        ("accumulate_cost", 8192, 1, (1, (256, 1))),
    ],
)
def test_launch_geometry(kernel, work, rows, expected):
    assert launch_geometry(kernel, work, rows, MAX_BLOCKS) == expected

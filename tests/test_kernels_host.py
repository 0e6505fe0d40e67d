"""The CUDA kernel sources, compiled for the host by the harness, against their NumPy twins; and
the twins themselves against independent float64 formulas.

Every kernel runs on a grid of 3 small blocks, so the grid-stride loops go round many times; the
kernels that reduce through shared memory also run on blocks of other shapes, down to one thread
and up to the largest a GPU launch uses.
"""

from __future__ import annotations

import functools
import re
import warnings

import numpy as np
import pytest

from deepnet_gpu.kernels import KernelLauncher, sources_digest
from deepnet_gpu.numpy_kernels import (
    BINARY_CROSS_ENTROPY,
    CATEGORICAL_CROSS_ENTROPY,
    LEAKY_RELU,
    LINEAR,
    RELU,
    SIGMOID,
    SQUARED_ERROR,
    TANH,
)
from deepnet_gpu.kernel_entry_points import KERNEL_LAUNCHES, ONE_BLOCK
from tests.host_harness import HostKernels, host_kernels_available
from tests.kernel_cases import ALL_CASES, BLOCK_KERNEL_CASES, ELEMENTWISE_CASES, MISALIGNMENTS, TWINS, edge_values

needs_harness = pytest.mark.skipif(not host_kernels_available(), reason="the host harness needs g++ (or $CXX)")


@pytest.fixture(scope="module")
def host_kernels():
    return HostKernels()


@needs_harness
@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_kernel_matches_its_numpy_twin(host_kernels, case):
    case.build().check(host_kernels)


@needs_harness
@pytest.mark.parametrize("misalignment", MISALIGNMENTS)
@pytest.mark.parametrize("case", ELEMENTWISE_CASES, ids=str)
def test_the_elementwise_kernels_match_their_twins_on_arrays_off_the_16_byte_boundary(host_kernels, case, misalignment):
    call = case.build()
    call.check(host_kernels, offsets=MISALIGNMENTS[misalignment](call))


BLOCKS = ((1, 1), (2, 8), (3, 5), (16, 16))


@functools.cache
def kernels_on_blocks(block) -> HostKernels:
    return HostKernels(column_block=block, reduction_block=block)


@needs_harness
@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: f"{block[0]}x{block[1]}")
@pytest.mark.parametrize("case", BLOCK_KERNEL_CASES, ids=str)
def test_the_reducing_kernels_match_their_twins_on_blocks_of_any_shape(case, block):
    case.build().check(kernels_on_blocks(block))


def test_the_block_sweep_covers_the_column_kernels_and_the_cost():
    assert {case.name.split("-")[0] for case in BLOCK_KERNEL_CASES} == {"bias_softmax", "loss_terms", "accumulate_cost"}
    assert KERNEL_LAUNCHES["accumulate_cost"] == ONE_BLOCK


@needs_harness
@pytest.mark.parametrize("guard", [np.nan, np.inf, -np.inf])
def test_sgd_update_leaves_params_alone_when_the_cost_is_not_finite(host_kernels, guard):
    params = np.arange(12, dtype=np.float32)
    before = params.copy()
    host_kernels.sgd_update(params, np.ones_like(params), 0.5, np.array(guard, np.float32))
    np.testing.assert_array_equal(params, before)


@needs_harness
@pytest.mark.parametrize("guard", [np.float64(2.0), 2.0, np.array([[2.0]])])
def test_sgd_update_steps_when_the_cost_is_finite(host_kernels, guard):
    params = np.arange(1000, dtype=np.float32)
    grads = np.linspace(-1, 1, 1000, dtype=np.float32)
    host_kernels.sgd_update(params, grads, 0.5, guard)
    np.testing.assert_array_equal(params, np.arange(1000, dtype=np.float32) - np.float32(0.5) * grads)


@needs_harness
def test_accumulate_cost_adds_once_whatever_the_grid(host_kernels):
    epoch_cost, guard = np.array(1.0), np.array(10.0)
    host_kernels.accumulate_cost(np.array([[1.5, 0.5, 2.0]]), 0.25, epoch_cost, guard)
    assert (float(epoch_cost), float(guard)) == (2.0, 10.0)


@needs_harness
def test_views_are_read_through_contiguous_copies(host_kernels):
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(209, 20)).astype(np.float32).T
    b = rng.normal(size=(20, 3)).astype(np.float32)[:, 1:2]
    expected = TWINS.bias_activation_forward(np.ascontiguousarray(Z), b, np.empty(Z.shape, np.float32), TANH, 0.0)
    A = np.empty(Z.shape, np.float32)
    host_kernels.activation_forward(Z + b, A, TANH, 0.0)
    np.testing.assert_allclose(A, expected, rtol=1e-6)
    dZ = np.empty(Z.shape, np.float32)
    host_kernels.activation_backward_from_z(Z, Z, dZ, SIGMOID, 0.0)
    expected = TWINS.activation_backward_from_z(Z, Z, np.empty_like(dZ), SIGMOID, 0.0)
    np.testing.assert_allclose(dZ, expected, rtol=1e-6, atol=8 * np.finfo(np.float32).eps * np.abs(Z).max())


@needs_harness
def test_read_only_arguments_of_another_dtype_are_converted(host_kernels):
    A = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4)
    Y = np.eye(3, 4)
    dZ = np.empty_like(A)
    host_kernels.output_gradient(A, Y, dZ)
    np.testing.assert_array_equal(dZ, A - Y.astype(np.float32))


@needs_harness
def test_loss_terms_may_omit_the_array_a_loss_does_not_read(host_kernels):
    Z = np.linspace(-3, 3, 12).reshape(3, 4)
    Y = np.eye(3, 4)
    for loss, Z_arg, A_arg in (
        (SQUARED_ERROR, None, Z),
        (BINARY_CROSS_ENTROPY, Z, None),
        (CATEGORICAL_CROSS_ENTROPY, Z, None),
    ):
        out, expected = np.empty((1, 4)), np.empty((1, 4))
        host_kernels.loss_terms(Z_arg, A_arg, Y, loss, out)
        TWINS.loss_terms(Z_arg, A_arg, Y, loss, expected)
        np.testing.assert_allclose(out, expected, rtol=1e-12)


@needs_harness
def test_empty_arrays_launch_nothing(host_kernels):
    Z = np.empty((0, 5))
    assert host_kernels.activation_forward(Z, Z, RELU, 0.0) is Z
    no_examples = np.empty((3, 0))
    assert host_kernels.loss_terms(no_examples, None, no_examples, BINARY_CROSS_ENTROPY, np.empty((1, 0))).size == 0
    assert host_kernels.sgd_update(np.empty(0), np.empty(0), 0.1, 1.0).size == 0


def ones(*shape, dtype=np.float64):
    return np.ones(shape, dtype)


BAD_CALLS = {
    "strided output": (lambda k: k.activation_forward(ones(2, 3), ones(3, 2).T, RELU, 0), ValueError, "C-contiguous"),
    "int output": (
        lambda k: k.activation_forward(ones(2, 3), ones(2, 3, dtype=np.int32), RELU, 0),
        TypeError,
        "float32",
    ),
    "half output": (
        lambda k: k.activation_forward(ones(2, 3), ones(2, 3, dtype=np.float16), RELU, 0),
        TypeError,
        "float32",
    ),
    "list output": (lambda k: k.activation_forward(ones(2, 3), [[1.0] * 3] * 2, RELU, 0), TypeError, "numpy array"),
    "shapes differ": (lambda k: k.activation_forward(ones(2, 3), ones(3, 2), RELU, 0), ValueError, "shape"),
    "unknown activation": (
        lambda k: k.activation_forward(ones(2, 3), ones(2, 3), 7, 0),
        ValueError,
        "activation code 7",
    ),
    "dtypes differ": (
        lambda k: k.bias_activation_forward(ones(2, 3), ones(2, 1), ones(2, 3, dtype=np.float32), RELU, 0),
        TypeError,
        "dtype float64",
    ),
    "flat bias": (lambda k: k.bias_activation_forward(ones(2, 3), ones(2), ones(2, 3), RELU, 0), ValueError, "(2, 1)"),
    "bias rows": (lambda k: k.bias_softmax(ones(2, 3), ones(3, 1), ones(2, 3)), ValueError, "(2, 1)"),
    "softmax of nothing": (lambda k: k.bias_softmax(ones(0, 3), ones(0, 1), ones(0, 3)), ValueError, "at least 1 row"),
    "unknown loss": (lambda k: k.loss_terms(ones(2, 3), None, ones(2, 3), 5, ones(1, 3)), ValueError, "loss code 5"),
    "flat out": (lambda k: k.loss_terms(ones(2, 3), None, ones(2, 3), 0, ones(3)), ValueError, "(1, 3)"),
    "two guards": (lambda k: k.sgd_update(ones(4), ones(4), 0.1, ones(2)), ValueError, "1 value"),
    "two costs": (lambda k: k.accumulate_cost(ones(), 0.5, ones(2), ones()), ValueError, "one value"),
    "A not an array": (lambda k: k.activation_forward(ones(2, 3), [[1.0] * 3] * 2, RELU, 0), TypeError, "A must be a numpy"),
    "Z of another shape": (
        lambda k: k.activation_forward(ones(2, 3), ones(3, 2), RELU, 0), ValueError, "Z must have shape (3, 2); got (2, 3)"
    ),
    "biased Z not an array": (
        lambda k: k.bias_activation_forward([[1.0] * 3] * 2, ones(2, 1), ones(2, 3), RELU, 0), TypeError, "Z must be a numpy"
    ),
    "biased A of another dtype": (
        lambda k: k.bias_activation_forward(ones(2, 3), ones(2, 1), ones(2, 3, dtype=np.float32), RELU, 0),
        TypeError,
        "A must have dtype float64 like the other written arrays; got float32",
    ),
    "biased Z not a matrix": (
        lambda k: k.bias_activation_forward(ones(3), ones(3, 1), ones(3), RELU, 0), ValueError, "Z must be a (rows, m) matrix"
    ),
    "biased A of another shape": (
        lambda k: k.bias_activation_forward(ones(2, 3), ones(2, 1), ones(3, 2), RELU, 0),
        ValueError,
        "A must have shape (2, 3); got (3, 2)",
    ),
    "flat bias named": (
        lambda k: k.bias_activation_forward(ones(2, 3), ones(2), ones(2, 3), RELU, 0), ValueError, "b must have shape (2, 1)"
    ),
    "backward A of another shape": (
        lambda k: k.activation_backward_from_a(ones(2, 3), ones(3, 2), ones(2, 3), RELU, 0),
        ValueError,
        "A must have shape (2, 3); got (3, 2)",
    ),
    "backward Z of another shape": (
        lambda k: k.activation_backward_from_z(ones(2, 3), ones(3, 2), ones(2, 3), RELU, 0),
        ValueError,
        "Z must have shape (2, 3); got (3, 2)",
    ),
    "backward dA of another shape": (
        lambda k: k.activation_backward_from_z(ones(3, 2), ones(2, 3), ones(2, 3), RELU, 0),
        ValueError,
        "dA must have shape (2, 3); got (3, 2)",
    ),
    "backward dZ not an array": (
        lambda k: k.activation_backward_from_z(ones(2, 3), ones(2, 3), [[1.0] * 3] * 2, RELU, 0),
        TypeError,
        "dZ must be a numpy",
    ),
    "softmax Z not an array": (
        lambda k: k.bias_softmax([[1.0] * 3] * 2, ones(2, 1), ones(2, 3)), TypeError, "Z must be a numpy"
    ),
    "softmax A of another dtype": (
        lambda k: k.bias_softmax(ones(2, 3), ones(2, 1), ones(2, 3, dtype=np.float32)),
        TypeError,
        "A must have dtype float64 like the other written arrays; got float32",
    ),
    "softmax Z not a matrix": (
        lambda k: k.bias_softmax(ones(3), ones(3, 1), ones(3)), ValueError, "Z must be a (rows, m) matrix with at least 1 row"
    ),
    "softmax A of another shape": (
        lambda k: k.bias_softmax(ones(2, 3), ones(2, 1), ones(3, 2)), ValueError, "A must have shape (2, 3); got (3, 2)"
    ),
    "softmax bias named": (lambda k: k.bias_softmax(ones(2, 3), ones(3, 1), ones(2, 3)), ValueError, "b must have shape (2, 1)"),
    "gradient dZ not an array": (
        lambda k: k.output_gradient(ones(2, 3), ones(2, 3), [[1.0] * 3] * 2), TypeError, "dZ must be a numpy"
    ),
    "gradient A of another shape": (
        lambda k: k.output_gradient(ones(3, 2), ones(2, 3), ones(2, 3)), ValueError, "A must have shape (2, 3); got (3, 2)"
    ),
    "gradient Y of another shape": (
        lambda k: k.output_gradient(ones(2, 3), ones(3, 2), ones(2, 3)), ValueError, "Y must have shape (2, 3); got (3, 2)"
    ),
    "squared error of a flat A": (
        lambda k: k.loss_terms(None, ones(3), ones(3), SQUARED_ERROR, ones(1, 3)), ValueError, "A must be a (rows, m) matrix"
    ),
    "cross-entropy of a flat Z": (
        lambda k: k.loss_terms(ones(3), None, ones(3), BINARY_CROSS_ENTROPY, ones(1, 3)),
        ValueError,
        "Z must be a (rows, m) matrix",
    ),
    "loss of no rows": (
        lambda k: k.loss_terms(ones(0, 3), None, ones(0, 3), BINARY_CROSS_ENTROPY, ones(1, 3)),
        ValueError,
        "Z must be a (rows, m) matrix with at least 1 row(s); got shape (0, 3)",
    ),
    "loss Y of another shape": (
        lambda k: k.loss_terms(ones(2, 3), None, ones(3, 2), BINARY_CROSS_ENTROPY, ones(1, 3)),
        ValueError,
        "Y must have shape (2, 3); got (3, 2)",
    ),
    "guard of another dtype": (
        lambda k: k.accumulate_cost(ones(), 0.5, ones(), ones(dtype=np.float32)),
        TypeError,
        "guard must have dtype float64 like the other written arrays; got float32",
    ),
    "grads of another shape": (
        lambda k: k.sgd_update(ones(4), ones(3), 0.1, 1.0), ValueError, "grads must have shape (4,); got (3,)"
    ),
}


@needs_harness
@pytest.mark.parametrize("call, error, match", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_bad_arguments_are_refused_before_any_launch(host_kernels, call, error, match):
    with pytest.raises(error, match=re.escape(match)):
        call(host_kernels)


SIGMOID_POINTS = np.array([-745.0, -100.0, -30.0, -5.0, -1e-8, 0.0, 1e-8, 0.5, 5.0, 30.0, 100.0, 745.0])


def test_the_sigmoid_twin_matches_the_textbook_formula():
    with np.errstate(over="ignore"):
        expected = 1 / (1 + np.exp(-SIGMOID_POINTS))
    actual = TWINS.activation_forward(SIGMOID_POINTS, np.empty(12), SIGMOID, 0.0)
    np.testing.assert_allclose(actual, expected, rtol=1e-14, atol=np.finfo(np.float64).tiny)


@pytest.mark.parametrize("code", [SIGMOID, TANH, RELU, LEAKY_RELU, LINEAR])
def test_the_slope_twins_match_central_differences_of_the_forward_twin(code):
    z = np.array([-3.0, -0.7, -1e-3, 1e-3, 0.4, 2.5]).reshape(2, 3)
    step = 1e-6
    forward = lambda values: TWINS.activation_forward(values, np.empty_like(values), code, 0.1)  # noqa: E731
    numeric = (forward(z + step) - forward(z - step)) / (2 * step)
    dA = np.linspace(0.5, 2.0, 6).reshape(2, 3)
    np.testing.assert_allclose(
        TWINS.activation_backward_from_z(dA, z, np.empty_like(z), code, 0.1), dA * numeric, rtol=1e-8
    )
    A = forward(z)
    np.testing.assert_allclose(
        TWINS.activation_backward_from_a(dA, A, np.empty_like(z), code, 0.1), dA * numeric, rtol=1e-8
    )


def test_the_softmax_and_loss_twins_match_textbook_formulas():
    rng = np.random.default_rng(1)
    Z = rng.normal(size=(4, 6)) * 3
    b = rng.normal(size=(4, 1))
    Y = np.eye(4, 6)
    logits = Z + b
    softmax = np.exp(logits) / np.exp(logits).sum(axis=0)
    np.testing.assert_allclose(TWINS.bias_softmax(Z.copy(), b, np.empty_like(Z)), softmax, rtol=1e-13)
    out = np.empty((1, 6))
    np.testing.assert_allclose(
        TWINS.loss_terms(logits, softmax, Y, CATEGORICAL_CROSS_ENTROPY, out),
        -(Y * np.log(softmax)).sum(axis=0, keepdims=True),
        rtol=1e-12,
    )
    a = 1 / (1 + np.exp(-Z))
    bce = -(Y * np.log(a) + (1 - Y) * np.log(1 - a)).sum(axis=0, keepdims=True)
    np.testing.assert_allclose(TWINS.loss_terms(Z, a, Y, BINARY_CROSS_ENTROPY, out), bce, rtol=1e-12)
    np.testing.assert_allclose(
        TWINS.loss_terms(Z, a, Y, SQUARED_ERROR, out), 0.5 * ((a - Y) ** 2).sum(axis=0, keepdims=True), rtol=1e-14
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_softmax_and_losses_never_overflow_up_to_1e4(dtype):
    Z = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4], [1e4, 3.0, -1.0, -1e4, 1e4]], dtype=dtype)
    Y = np.array([[0, 1, 0, 1, 1], [1, 0, 1, 0, 0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        warnings.simplefilter("error")
        A = TWINS.activation_forward(Z, np.empty_like(Z), SIGMOID, 0.0)
        S = TWINS.bias_softmax(Z.copy(), np.zeros((2, 1), dtype), np.empty_like(Z))
        losses = [
            TWINS.loss_terms(Z, S, Y, loss, np.empty((1, 5), dtype))
            for loss in (BINARY_CROSS_ENTROPY, CATEGORICAL_CROSS_ENTROPY)
        ]
    assert np.all((A >= 0) & (A <= 1)) and A[0, 0] == 0 and A[0, 4] == 1
    np.testing.assert_allclose(S.sum(axis=0), 1, rtol=1e-6)
    assert all(np.all(np.isfinite(loss)) and np.all(loss >= 0) for loss in losses)


def test_edge_values_cover_the_kinks_and_both_infinities():
    values = edge_values(np.float32)
    assert 0.0 in values and np.isinf(values).sum() == 2 and np.isnan(values).sum() == 1


UNKNOWN_CODE_CALLS = {
    "activation_forward": lambda Z, A: TWINS.activation_forward(Z, A, 7, 0.0),
    "bias_activation_forward": lambda Z, A: TWINS.bias_activation_forward(Z, np.ones((2, 1)), A, 7, 0.0),
    "activation_backward_from_a": lambda Z, A: TWINS.activation_backward_from_a(Z, Z.copy(), A, 7, 0.0),
    "activation_backward_from_z": lambda Z, A: TWINS.activation_backward_from_z(Z, Z.copy(), A, 7, 0.0),
    "loss_terms": lambda Z, A: TWINS.loss_terms(Z, Z.copy(), Z.copy(), 5, A[:1]),
}


@pytest.mark.parametrize("call", UNKNOWN_CODE_CALLS.values(), ids=UNKNOWN_CODE_CALLS.keys())
def test_the_twins_refuse_unknown_codes_before_writing_anything(call):
    Z = np.arange(6.0).reshape(2, 3)
    A = np.full((2, 3), -1.0)
    with pytest.raises(ValueError, match=r"unknown (activation|loss) code [75]"):
        call(Z, A)
    np.testing.assert_array_equal(Z, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(A, np.full((2, 3), -1.0))


def test_the_sgd_update_twin_returns_the_params_it_stepped():
    params, grads = np.arange(4.0), np.ones(4)
    assert TWINS.sgd_update(params, grads, 0.5, np.array(1.0)) is params
    np.testing.assert_array_equal(params, np.arange(4.0) - 0.5)


@needs_harness
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("hot_row", [0, 1, 2, 3])
def test_categorical_cross_entropy_shifts_by_the_largest_logit_of_each_column(host_kernels, dtype, hot_row):
    """logsumexp must subtract the maximum over every row: one logit far above the others, in each
    row in turn, overflows exp if any row is left out of the maximum (the random and edge cases
    never put the extreme value in row 1)."""
    Z = np.zeros((4, 3), dtype)
    Z[hot_row] = [1e4, 1e3, 200.0]
    Y = np.zeros((4, 3), dtype)
    Y[hot_row, 0] = Y[(hot_row + 1) % 4, 1:] = 1
    out, expected = np.empty((1, 3), dtype), np.empty((1, 3), dtype)
    host_kernels.loss_terms(Z, None, Y, CATEGORICAL_CROSS_ENTROPY, out)
    TWINS.loss_terms(Z, None, Y, CATEGORICAL_CROSS_ENTROPY, expected)
    np.testing.assert_allclose(expected, [[0.0, 1e3, 200.0]], rtol=1e-6)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


@needs_harness
def test_the_forward_kernels_return_their_output(host_kernels):
    Z, b, A = ones(2, 3), ones(2, 1), np.empty((2, 3))
    assert host_kernels.bias_activation_forward(Z, b, A, RELU, 0.0) is A
    assert host_kernels.bias_softmax(ones(2, 3), b, A) is A


@needs_harness
def test_read_only_arguments_may_be_lists(host_kernels):
    rng = np.random.default_rng(5)
    Z, Y = rng.normal(size=(1, 4)), np.array([[0.0, 1.0, 1.0, 0.0]])
    out, expected = np.empty((1, 4)), np.empty((1, 4))
    host_kernels.loss_terms(Z.tolist(), None, Y.tolist(), BINARY_CROSS_ENTROPY, out)
    TWINS.loss_terms(Z, None, Y, BINARY_CROSS_ENTROPY, expected)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    A, dZ = rng.normal(size=(2, 3)), np.empty((2, 3))
    host_kernels.output_gradient(A.astype(np.float32), Y[:, :3].repeat(2, axis=0).tolist(), dZ)
    np.testing.assert_allclose(dZ, A.astype(np.float32) - Y[:, :3], rtol=1e-12)
    epoch_cost, guard = np.zeros(()), np.zeros(())
    host_kernels.accumulate_cost(2.0, 0.5, epoch_cost, guard)
    assert epoch_cost == 1.0 and guard == 0.0
    params = np.ones(3)
    host_kernels.sgd_update(params, [1.0, 2.0, 3.0], 0.5, 1.0)
    np.testing.assert_allclose(params, [0.5, 0.0, -0.5])


class _ListingLauncher(KernelLauncher):
    xp = np

    def __init__(self):
        self.launches = []

    def _prepare(self, kernel, dtype, work, rows, args):
        return lambda: self.launches.append((kernel, work, rows))


def test_a_launcher_launches_only_when_there_is_work():
    launcher = _ListingLauncher()
    launcher.activation_forward(np.empty((0, 5)), np.empty((0, 5)), RELU, 0.0)
    launcher.sgd_update(np.empty(0), np.empty(0), 0.1, 1.0)
    assert launcher.launches == []
    launcher.activation_forward(ones(2, 3), np.empty((2, 3)), RELU, 0.0)
    assert launcher.launches == [("activation_forward", 6, 1)]
    launcher.bias_softmax(ones(2, 3), ones(2, 1), np.empty((2, 3)))
    launcher.accumulate_cost(ones(1, 3), 0.5, ones(), ones())
    assert launcher.launches[1:] == [("bias_softmax", 3, 2), ("accumulate_cost", 3, 1)]


def test_a_launcher_without_a_launch_refuses_to_run():
    class Bare(KernelLauncher):
        xp = np

    with pytest.raises(NotImplementedError):
        Bare().sgd_update(ones(2), ones(2), 0.1, 1.0)


def test_the_sources_digest_depends_on_the_file_names(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.cu").write_text("xy")
    (first / "b.cu").write_text("")
    (second / "a.cu").write_text("x")
    (second / "b.cu").write_text("y")
    assert sources_digest(first) != sources_digest(second)

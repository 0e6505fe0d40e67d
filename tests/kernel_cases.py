"""Calls of every kernel method on random data and edge values, for comparing an implementation of
the kernel interface (the host harness, CuPy) with the NumPy twins.

A :class:`Case` builds its data on the host from a fixed seed; :meth:`Call.run` copies it to the
implementation's arrays, makes the call and brings every array back, inputs included, so a
comparison also sees an input the kernel should not have written. Each array is placed on a
16-byte boundary, where the elementwise kernels move whole 16-byte packs, or, when asked, some
values past one, where they must move single values (``kernels/elementwise.cuh``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from deepnet_gpu.kernel_entry_points import ELEMENTS, KERNEL_LAUNCHES
from deepnet_gpu.numpy_kernels import (
    BINARY_CROSS_ENTROPY,
    CATEGORICAL_CROSS_ENTROPY,
    LEAKY_RELU,
    LINEAR,
    RELU,
    SIGMOID,
    SQUARED_ERROR,
    TANH,
    NumpyKernels,
)

DTYPES = (np.float32, np.float64)
SHAPES = ((1, 1), (7, 1), (5, 3), (3, 7), (20, 209), (10, 1000))
ACTIVATIONS = {"linear": LINEAR, "relu": RELU, "leaky_relu": LEAKY_RELU, "sigmoid": SIGMOID, "tanh": TANH}
LOSSES = {"bce": BINARY_CROSS_ENTROPY, "cce": CATEGORICAL_CROSS_ENTROPY, "se": SQUARED_ERROR}
ALPHA = 0.01
RTOL = {np.dtype(np.float32): 1e-6, np.dtype(np.float64): 1e-12}
TWINS = NumpyKernels()
BOUNDARY = 16
"""The alignment in bytes that the elementwise kernels' 16-byte packs need."""
MARGIN = -7777.0
"""The value around every placed array, which a kernel must leave as it is."""


def address(array) -> int:
    """The address of a NumPy or CuPy array's first value."""
    return array.data.ptr if hasattr(array.data, "ptr") else array.ctypes.data


@dataclass
class Placement:
    """A copy of a host array in a larger fresh buffer, ``start`` values in, with :data:`MARGIN`
    before and after it; ``view`` is the copy, a C-contiguous part of ``buffer``."""

    buffer: object
    start: int
    view: object

    @classmethod
    def of(cls, value: np.ndarray, offset: int, asarray) -> Placement:
        """``value`` copied by ``asarray``, starting ``offset`` values past a 16-byte boundary."""
        buffer = asarray(np.full(value.size + 2 * BOUNDARY // value.itemsize, MARGIN, value.dtype))
        start = (-address(buffer) % BOUNDARY) // value.itemsize + offset
        view = buffer[start:start + value.size].reshape(value.shape)
        view[...] = asarray(value)
        return cls(buffer, start, view)

    def margins(self, to_numpy) -> np.ndarray:
        """The values of the buffer before and after the copy, on the host."""
        values = to_numpy(self.buffer)
        return np.concatenate([values[:self.start], values[self.start + self.view.size:]])


@dataclass
class Call:
    """``method(*args)``: a string in ``args`` names an array of ``arrays`` (the same name twice
    passes one array twice, as in ``activation_forward(Z, Z, ...)``); anything else passes as is.

    ``error_scale`` is the size of the absolute error that the few-ulp differences of exp, log and
    tanh can legitimately cause through cancellation (for instance 1 - a² for a near 1, times dA);
    results are compared at ``RTOL`` plus an absolute tolerance of 8 ulp of that scale.
    """

    method: str
    arrays: dict[str, np.ndarray]
    args: tuple
    error_scale: float = 0.0

    def run(self, ops, asarray=np.array, to_numpy=np.asarray, offsets=None) -> dict[str, np.ndarray]:
        """Make the call on ``ops``, each array placed ``offsets.get(name, 0)`` values past a
        16-byte boundary; every array afterwards, as NumPy arrays."""
        offsets = offsets or {}
        placements = {name: Placement.of(value, offsets.get(name, 0), asarray) for name, value in self.arrays.items()}
        args = [placements[arg].view if isinstance(arg, str) else arg for arg in self.args]
        with np.errstate(all="ignore"):
            getattr(ops, self.method)(*args)
        for name, placement in placements.items():
            margins = placement.margins(to_numpy)
            assert np.all(margins == MARGIN), f"{self.method} wrote around {name}: {margins}"
        return {name: to_numpy(placement.view) for name, placement in placements.items()}

    def tolerance(self) -> tuple[float, float]:
        dtype = next(iter(self.arrays.values())).dtype
        info = np.finfo(dtype)
        return RTOL[dtype], max(float(info.tiny), 8 * float(info.eps) * self.error_scale)

    def check(self, ops, asarray=np.array, to_numpy=np.asarray, offsets=None):
        """Run this call on ``ops`` (its arrays placed as ``offsets`` says, see :meth:`run`) and on
        the NumPy twins and compare every array."""
        expected = self.run(TWINS)
        actual = self.run(ops, asarray, to_numpy, offsets)
        rtol, atol = self.tolerance()
        for name, value in expected.items():
            np.testing.assert_allclose(actual[name], value, rtol=rtol, atol=atol, err_msg=f"{self.method}: {name}")


@dataclass(frozen=True)
class Case:
    """A named way to build a :class:`Call`; ``str(case)`` is its test id."""

    name: str
    build: Callable[[], Call] = field(compare=False)

    def __str__(self):
        return self.name


def _rng(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def edge_values(dtype) -> np.ndarray:
    """0, -0, ±1, ±the smallest normal number, ±1e-30 (and ±1e-300 in float64), ±1e4, ±a quarter
    of the largest finite value, ±inf and NaN."""
    info = np.finfo(dtype)
    values = [0.0, -0.0, 1.0, -1.0, float(info.tiny), -float(info.tiny), 1e-30, -1e-30, 1e4, -1e4]
    values += [float(info.max) / 4, -float(info.max) / 4]
    if np.dtype(dtype) == np.float64:
        values += [1e-300, -1e-300]
    values += [np.inf, -np.inf, np.nan]
    return np.array(values, dtype=dtype)


@dataclass(frozen=True)
class Data:
    """Where a case's matrices come from: random normal values of ``shape`` (with exact zeros where
    asked), or, when ``shape`` is None, (4, k) matrices whose k columns hold edge value v at row 0
    and -v at row 2 among random values (``finite`` puts ±2 and 0.5 in place of ±inf and NaN)."""

    dtype: type
    shape: tuple[int, int] | None = None

    def __str__(self):
        where = "edges" if self.shape is None else f"{self.shape[0]}x{self.shape[1]}"
        return f"{np.dtype(self.dtype).name}-{where}"

    def matrix(self, name: str, finite: bool = False, zeros: bool = False) -> np.ndarray:
        if self.shape is None:
            edges = edge_values(self.dtype)
            if finite:
                edges = np.nan_to_num(edges, nan=0.5, posinf=2.0, neginf=-2.0)
            matrix = _rng(str(self), name).normal(size=(4, edges.size)).astype(self.dtype)
            matrix[0] = edges
            matrix[2] = -edges
            return matrix
        matrix = (_rng(str(self), name).normal(size=self.shape) * 3).astype(self.dtype)
        if zeros:
            matrix.reshape(-1)[::3] = 0
        return matrix

    def bias(self, rows: int) -> np.ndarray:
        return _rng(str(self), "b").normal(size=(rows, 1)).astype(self.dtype)

    def labels(self, loss: int, shape) -> np.ndarray:
        rng = _rng(str(self), "Y", loss)
        rows, m = shape
        if loss == CATEGORICAL_CROSS_ENTROPY:
            labels = np.zeros(shape, dtype=self.dtype)
            labels[rng.integers(rows, size=m), np.arange(m)] = 1
            return labels
        if loss == BINARY_CROSS_ENTROPY:
            return rng.integers(2, size=shape).astype(self.dtype)
        return rng.normal(size=shape).astype(self.dtype)


def _target(alias: bool, own: str, aliased: str) -> str:
    return aliased if alias else own


def activation_forward(data: Data, code: int, alias: bool, alpha: float = ALPHA) -> Call:
    Z = data.matrix("Z")
    arrays = {"Z": Z, "A": np.zeros_like(Z)}
    return Call("activation_forward", arrays, ("Z", _target(alias, "A", "Z"), code, alpha))


def bias_activation_forward(data: Data, code: int, alias: bool, alpha: float = ALPHA) -> Call:
    Z = data.matrix("Z")
    arrays = {"Z": Z, "b": data.bias(Z.shape[0]), "A": np.zeros_like(Z)}
    return Call("bias_activation_forward", arrays, ("Z", "b", _target(alias, "A", "Z"), code, alpha))


def activation_backward_from_a(data: Data, code: int, alias: bool) -> Call:
    """A as a forward pass leaves it: g(Z) for Z with exact zeros (edge values include zeros)."""
    Z = data.matrix("Z", zeros=True)
    with np.errstate(all="ignore"):
        A = TWINS.activation_forward(Z, np.empty_like(Z), code, ALPHA)
    dA = data.matrix("dA")
    arrays = {"dA": dA, "A": A, "dZ": np.zeros_like(dA)}
    return Call("activation_backward_from_a", arrays, ("dA", "A", _target(alias, "dZ", "dA"), code, ALPHA))


def activation_backward_from_z(data: Data, code: int, alias: bool) -> Call:
    """Z with exact zeros, where relu's and leaky_relu's slopes jump."""
    dA = data.matrix("dA", finite=True)
    arrays = {"dA": dA, "Z": data.matrix("Z", zeros=True), "dZ": np.zeros_like(dA)}
    scale = float(np.abs(dA).max()) if code in (SIGMOID, TANH) else 0.0
    return Call("activation_backward_from_z", arrays, ("dA", "Z", _target(alias, "dZ", "dA"), code, ALPHA), scale)


def bias_softmax(data: Data, alias: bool) -> Call:
    Z = data.matrix("Z", finite=True)
    arrays = {"Z": Z, "b": data.bias(Z.shape[0]), "A": np.zeros_like(Z)}
    return Call("bias_softmax", arrays, ("Z", "b", _target(alias, "A", "Z")))


def output_gradient(data: Data, alias: bool) -> Call:
    A = data.matrix("A")
    arrays = {"A": A, "Y": data.matrix("Y"), "dZ": np.zeros_like(A)}
    return Call("output_gradient", arrays, ("A", "Y", _target(alias, "dZ", "A")))


def loss_terms(data: Data, loss: int) -> Call:
    """Logits Z, outputs A of the activation that pairs with the loss, labels Y."""
    Z = data.matrix("Z", finite=True)
    A = np.empty_like(Z)
    with np.errstate(all="ignore"):
        if loss == BINARY_CROSS_ENTROPY:
            TWINS.activation_forward(Z, A, SIGMOID, 0.0)
        elif loss == CATEGORICAL_CROSS_ENTROPY:
            TWINS.bias_softmax(Z.copy(), np.zeros((Z.shape[0], 1), Z.dtype), A)
        else:
            A[...] = Z
    arrays = {"Z": Z, "A": A, "Y": data.labels(loss, Z.shape), "out": np.zeros((1, Z.shape[1]), Z.dtype)}
    return Call("loss_terms", arrays, ("Z", "A", "Y", loss, "out"), error_scale=Z.shape[0])


def sgd_update(data: Data, guard: float, learning_rate: float = 0.05) -> Call:
    params = data.matrix("W").reshape(-1)
    arrays = {"params": params, "grads": data.matrix("dW").reshape(-1), "guard": np.array(guard, params.dtype)}
    return Call("sgd_update", arrays, ("params", "grads", learning_rate, "guard"))


def accumulate_cost(data: Data, special: float | None = None, scale: float = 1 / 209) -> Call:
    """The losses of a batch: positive random values (the (1, m) row of the matrix's shape, or
    the edge matrix's first row, made finite), one of them replaced by ``special`` if given."""
    terms = np.abs(data.matrix("terms", finite=True)[:1])
    error_scale = float(terms.sum(dtype=np.float64))
    if special is not None:
        terms[0, terms.shape[1] // 2] = special
    arrays = {"terms": terms, "epoch_cost": np.array(2.5, data.dtype), "guard": np.array(-0.75, data.dtype)}
    return Call("accumulate_cost", arrays, ("terms", scale, "epoch_cost", "guard"), error_scale)


def _cases_for(data: Data) -> list[Case]:
    cases = []
    for act, code in ACTIVATIONS.items():
        for alias in (False, True):
            tag = f"{data}-{act}" + ("-aliased" if alias else "")
            cases += [
                Case(f"activation_forward-{tag}", partial(activation_forward, data, code, alias)),
                Case(f"bias_activation_forward-{tag}", partial(bias_activation_forward, data, code, alias)),
                Case(f"activation_backward_from_a-{tag}", partial(activation_backward_from_a, data, code, alias)),
                Case(f"activation_backward_from_z-{tag}", partial(activation_backward_from_z, data, code, alias)),
            ]
    for alias in (False, True):
        tag = f"{data}" + ("-aliased" if alias else "")
        cases += [
            Case(f"bias_softmax-{tag}", partial(bias_softmax, data, alias)),
            Case(f"output_gradient-{tag}", partial(output_gradient, data, alias)),
        ]
    cases += [Case(f"loss_terms-{data}-{name}", partial(loss_terms, data, loss)) for name, loss in LOSSES.items()]
    cases.append(Case(f"sgd_update-{data}", partial(sgd_update, data, 0.693)))
    cases.append(Case(f"accumulate_cost-{data}", partial(accumulate_cost, data)))
    return cases


def _edge_only_cases(dtype) -> list[Case]:
    """leaky_relu with alpha 0 (0·-inf is NaN), sgd_update's guard at finite and non-finite costs,
    accumulate_cost with a loss of 0, a large one and non-finite ones among finite losses."""
    data = Data(dtype)
    cases = [
        Case(f"activation_forward-{data}-leaky_relu-alpha0", partial(activation_forward, data, LEAKY_RELU, False, 0.0))
    ]
    cases += [
        Case(f"sgd_update-{data}-guard{guard}", partial(sgd_update, data, guard))
        for guard in (1e4, np.inf, -np.inf, np.nan)
    ]
    cases += [
        Case(f"accumulate_cost-{data}-{value}", partial(accumulate_cost, data, value))
        for value in (0.0, 3.25, 1e4, np.inf, np.nan)
    ]
    return cases


def all_cases() -> list[Case]:
    """Every method on random data of each shape and on edge values, in float32 and float64, with
    every activation and loss code, with and without aliasing."""
    cases = []
    for dtype in DTYPES:
        for shape in (*SHAPES, None):
            cases += _cases_for(Data(dtype, shape))
        cases += _edge_only_cases(dtype)
    return cases


def _kernel(case: Case) -> str:
    return case.name.split("-")[0]


ALL_CASES = all_cases()
BLOCK_KERNEL_CASES = [case for case in ALL_CASES if KERNEL_LAUNCHES[_kernel(case)] != ELEMENTS]
"""The cases of the kernels whose threads work together through shared memory and barriers."""
ELEMENTWISE_CASES = [
    case
    for dtype in DTYPES
    for shape in ((5, 3), (3, 7))
    for case in _cases_for(Data(dtype, shape))
    if KERNEL_LAUNCHES[_kernel(case)] == ELEMENTS
]
"""The elementwise kernels' cases on matrices whose sizes are not whole packs, for :data:`MISALIGNMENTS`."""
MISALIGNMENTS = {
    "every-array-off-the-boundary": lambda call: {name: 1 for name in call.arrays},
    "only-the-first-array-off": lambda call: {next(iter(call.arrays)): 1},
}
"""Ways to place a call's arrays so that the elementwise kernels cannot move packs: its ``offsets``."""

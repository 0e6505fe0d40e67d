"""Buffers for one batch width m, allocated once and reused by every step of that width.

Hidden layer l keeps one (n[l], m) buffer that holds Z[l] and then, in place, A[l] = g(Z[l]);
backward needs only A[l], since every hidden g' is a function of A. The output layer keeps
Z[L] (the cross-entropies are computed from the logits) and A[L] apart. dA[l] and dZ[l] share
one (n[l], m) buffer: the fused backward kernel overwrites dA with dZ.
"""

from __future__ import annotations

from .errors import DeviceMemoryError


class Workspace:
    """The step's buffers for a batch of width ``m``.

    ``training`` adds the gradient buffers dZ[l] (n[l], m) and the ones (m, 1) that sum dZ over
    the batch; ``gather`` adds the mini-batch buffers X (m, n0) (examples as rows, so a shuffled
    batch is a copy of whole rows) and Y (n[L], m).
    """

    def __init__(self, backend, layer_dims, m: int, dtype, *, training: bool, gather: bool = False):
        self.m = m
        dims = layer_dims
        shapes = {"A": [(n, m) for n in dims[1:-1]], "out": [(dims[-1], m)] * 2 + [(1, m)]}
        if training:
            shapes["dZ"] = [(n, m) for n in dims[1:]] + [(m, 1)]
        if gather:
            shapes["batch"] = [(m, dims[0]), (dims[-1], m)]
        needed = dtype.itemsize * sum(_count(shape) for group in shapes.values() for shape in group)
        xp = backend.xp
        try:
            with backend.device_scope():
                self.A = [None] + [xp.empty(shape, dtype) for shape in shapes["A"]]
                self.ZL, self.AL, self.terms = (xp.empty(shape, dtype) for shape in shapes["out"])
                if training:
                    *dZ, ones_shape = shapes["dZ"]
                    self.dZ = [None] + [xp.empty(shape, dtype) for shape in dZ]
                    self.ones = xp.ones(ones_shape, dtype)
                if gather:
                    self.X, self.Y = (xp.empty(shape, dtype) for shape in shapes["batch"])
        except backend.out_of_memory_errors as exc:
            raise DeviceMemoryError(
                f"out of memory on {backend.device} for a batch of {m} examples: its buffers "
                f"need {needed / 2**20:.1f} MiB ({exc}); pass fewer examples at a time (fit's batch_size)"
            ) from exc


def _count(shape) -> int:
    count = 1
    for n in shape:
        count *= n
    return count

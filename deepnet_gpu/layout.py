"""The flat parameter buffer: W1, b1, W2, b2, ... laid end to end in one array.

One buffer for the parameters and one of the same layout for their gradients let a single
update kernel step every parameter at once. ``W[l]`` is a C-contiguous (n[l], n[l-1]) view of
the buffer and ``b[l]`` an (n[l], 1) view, so the GEMMs read them in place.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParameterLayout:
    """Where each W[l] and b[l] lives in a flat buffer, for ``layer_dims`` = [n0, n1, ..., nL]."""

    layer_dims: tuple

    def shapes(self):
        """[(("W1", (n1, n0)), ("b1", (n1, 1))), ...] in buffer order."""
        dims = self.layer_dims
        return [((f"W{l}", (dims[l], dims[l - 1])), (f"b{l}", (dims[l], 1))) for l in range(1, len(dims))]

    def named_shapes(self) -> dict:
        """{"W1": (n1, n0), "b1": (n1, 1), ...} in buffer order."""
        return dict(named for pair in self.shapes() for named in pair)

    @property
    def size(self) -> int:
        """The number of scalars in the buffer: Σ n[l]·(n[l-1] + 1)."""
        dims = self.layer_dims
        return sum(dims[l] * (dims[l - 1] + 1) for l in range(1, len(dims)))

    def views(self, flat):
        """[(W1, b1), (W2, b2), ...] as views into ``flat``."""
        layers, offset = [], 0
        for (_, w_shape), (_, b_shape) in self.shapes():
            w_size = w_shape[0] * w_shape[1]
            W = flat[offset:offset + w_size].reshape(w_shape)
            offset += w_size
            b = flat[offset:offset + b_shape[0]].reshape(b_shape)
            offset += b_shape[0]
            layers.append((W, b))
        return layers

    def named_views(self, flat, prefix: str = ""):
        """{"W1": W1, "b1": b1, ...} (with ``prefix``, e.g. "d" for the gradients) as views into ``flat``."""
        named = {}
        for ((w_name, _), (b_name, _)), (W, b) in zip(self.shapes(), self.views(flat)):
            named[prefix + w_name] = W
            named[prefix + b_name] = b
        return named

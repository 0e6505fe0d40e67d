"""A training step recorded once and replayed: the same GEMM and kernel calls, checked once.

The first step on a set of buffers runs through a :class:`Recording`: each GEMM and kernel call is
checked and run as usual, and kept as a prepared call that repeats it on the same arrays with
its arguments already in the form the launch takes (the grid, the device pointers, cuBLAS's
column-major operands). Each later step on the same buffers is a :class:`Replay` of those calls,
in order, without the Python that chose and checked them. On a GPU a small network's step is
bound by that host work, not by the GPU: a dozen GEMMs and kernels of microseconds each.

A prepared call holds arrays, not values: a replay reads the buffers as they are when it runs
(the batch gathered into the workspace, the parameters after the last update). So a kernel call
that had to convert an argument (another dtype or layout: its launch would read a copy made
during the recording) cannot be kept, and such a step runs through the propagation code each
time instead of being replayed. A call given one of the step's ``live`` arguments (the slot of
the epoch's cost, a different one each epoch) is kept as the call itself, and made again, checks
included, with the argument of the moment.
"""

from __future__ import annotations


def gemm_label(transa: str, transb: str, out) -> str:
    """A GEMM by its operands' transposes and its output's shape: ``gemm N·T → 512×784``."""
    return f"gemm {transa}·{transb} → {out.shape[0]}×{out.shape[1]}"


class Replay:
    """The calls of one recorded step, in order: ``(label, call, takes_live)``. A call that takes
    live arguments is given the step's, a dict; the others take nothing."""

    def __init__(self):
        self.calls = []

    def __call__(self, live: dict, after_call=None):
        """Make every call; ``after_call(label)`` after each, when given."""
        for label, call, takes_live in self.calls:
            if takes_live:
                call(live)
            else:
                call()
            if after_call is not None:
                after_call(label)


class _Live:
    """The place of the live argument ``name`` in a kept call's arguments."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name


class Recording:
    """What propagation code sees as the backend while a step is recorded: ``gemm`` and ``ops``
    run each call on ``backend`` and keep it in ``replay``. ``replayable`` turns false when a
    call cannot be kept; ``after_call(label)`` runs after each call, when given."""

    def __init__(self, backend, live: dict, after_call=None):
        self._backend, self._live, self._after_call = backend, live, after_call
        self.ops = _RecordingOps(self)
        self.replay = Replay()
        self.replayable = True

    def gemm(self, transa: str, transb: str, a, b, out, alpha: float = 1.0):
        call = self._backend.prepared_gemm(transa, transb, a, b, out, alpha)
        call()
        self._kept(gemm_label(transa, transb, out), [call])
        return out

    def kernel_call(self, method: str, args: tuple):
        """Run ``ops.method(*args)`` and keep it; return what it returns."""
        ops = self._backend.ops
        places = {index: _Live(name) for index, arg in enumerate(args)
                  for name, value in self._live.items() if arg is value}
        if places:
            template = tuple(places.get(index, arg) for index, arg in enumerate(args))
            function = getattr(ops, method)

            def call(live):
                return function(*(live[arg.name] if isinstance(arg, _Live) else arg for arg in template))

            result = call(self._live)
            self._kept(method, [call], takes_live=True)
            return result
        result, calls = ops.recorded(method, *args)
        if calls is None:
            self.replayable = False
            calls = []
        self._kept(method, calls)
        return result

    def _kept(self, label: str, calls: list, takes_live: bool = False):
        self.replay.calls += [(label, call, takes_live) for call in calls]
        if self._after_call is not None:
            self._after_call(label)


class _RecordingOps:
    """The kernel interface of a :class:`Recording`: every method runs and keeps its call."""

    def __init__(self, recording: Recording):
        self._recording = recording

    def __getattr__(self, method: str):
        return lambda *args: self._recording.kernel_call(method, args)

"""How the benchmark runner times a callable: clocks, warm-up, repetitions, the median.

A *clock* runs ``fn`` ``count`` times back to back and returns the elapsed milliseconds:

* :class:`HostClock`: ``time.perf_counter`` around the calls, then ``synchronize()`` (a no-op
  on the CPU) before the clock stops;
* :class:`EventClock`: a pair of CUDA events recorded on the current stream around the calls,
  read after the end event completes (CuPy's ``cuda.Event`` or PyTorch's ``cuda.Event``).
  The device is synchronised first, so the interval starts on an idle GPU and measures what the
  host can keep queued: for launch-bound steps, the launch rate; for large ones, the kernels.

:func:`measure` warms up for at least 250 ms, sizes a repetition to at least ``min_rep_ms``
(several calls for a tiny workload), then times ``repeats`` repetitions and reports the median
time per call; :func:`measure_pair` does the same for our step and PyTorch's with their
repetitions alternating, so that the ratio of the two holds on a machine whose load drifts.
:func:`time_once` times a single call on the wall clock, synchronised: the time to a first step,
whatever the host does in it (allocation, kernel compilation).
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass

MIN_REPEATS = 5
DEFAULT_MIN_REP_MS = 20.0
WARMUP_MS = 250.0
SETTLE_MS = 150.0


class HostClock:
    """Wall-clock timing with ``time.perf_counter``; ``synchronize`` runs before the clock stops."""

    kind = "perf_counter"

    def __init__(self, synchronize=lambda: None):
        self.synchronize = synchronize

    def elapsed_ms(self, fn, count: int) -> float:
        self.synchronize()
        start = time.perf_counter()
        for _ in range(count):
            fn()
        self.synchronize()
        return (time.perf_counter() - start) * 1e3


class EventClock:
    """GPU timing with CUDA events: ``make_event()`` gives an event with ``record()`` and
    ``synchronize()``; ``elapsed(start, end)`` the milliseconds between two recorded events."""

    kind = "cuda_events"

    def __init__(self, make_event, elapsed, synchronize):
        self.make_event = make_event
        self.elapsed = elapsed
        self.synchronize = synchronize

    def elapsed_ms(self, fn, count: int) -> float:
        self.synchronize()
        start, end = self.make_event(), self.make_event()
        start.record()
        for _ in range(count):
            fn()
        end.record()
        end.synchronize()
        return float(self.elapsed(start, end))


@dataclass(frozen=True)
class Timing:
    """``ms``: the median milliseconds per call over the repetitions; ``rep_ms``: each
    repetition's milliseconds per call; ``calls_per_rep``: calls in one repetition."""

    ms: float
    rep_ms: tuple
    calls_per_rep: int
    clock: str


def clock_for(backend):
    """The clock for our side on ``backend``: CuPy's CUDA events on a GPU, ``perf_counter`` on the CPU."""
    if backend.name == "cuda":
        cuda = backend.xp.cuda
        return EventClock(cuda.Event, cuda.get_elapsed_time, backend.synchronize)
    return HostClock(backend.synchronize)


def time_once(fn, synchronize) -> float:
    """Milliseconds of one call of ``fn`` on the wall clock, the device synchronised before and after."""
    synchronize()
    start = time.perf_counter()
    fn()
    synchronize()
    return (time.perf_counter() - start) * 1e3


class _Series:
    """The repetitions of one callable: warmed up and sized on creation, then timed one at a time."""

    def __init__(self, fn, clock, min_rep_ms: float):
        self.fn, self.clock = fn, clock
        warmed, batch = 0.0, 1
        while True:
            elapsed = clock.elapsed_ms(fn, batch)
            warmed += elapsed
            if warmed >= WARMUP_MS:
                break
            batch *= 2
        per_call = max(elapsed / batch, 1e-6)
        self.calls = max(1, math.ceil(min_rep_ms / per_call))
        self.settle_calls = math.ceil(SETTLE_MS / per_call) if per_call < SETTLE_MS else 0
        self.per_call = []

    def repetition(self, settle: bool):
        if settle and self.settle_calls:
            self.clock.elapsed_ms(self.fn, self.settle_calls)
        self.per_call.append(self.clock.elapsed_ms(self.fn, self.calls) / self.calls)

    def timing(self) -> Timing:
        return Timing(statistics.median(self.per_call), tuple(self.per_call), self.calls, self.clock.kind)


def _check_repeats(repeats: int):
    if repeats < MIN_REPEATS:
        raise ValueError(f"repeats must be at least {MIN_REPEATS}; got {repeats}")


def measure(fn, clock, *, repeats: int = MIN_REPEATS, min_rep_ms: float = DEFAULT_MIN_REP_MS) -> Timing:
    """Time ``fn`` with ``clock``: warm up for at least ``WARMUP_MS`` (1, 2, 4, ... calls at a time),
    size a repetition from the last warm-up batch to at least ``min_rep_ms``, then time ``repeats``
    repetitions; the result is their median per call."""
    _check_repeats(repeats)
    series = _Series(fn, clock, min_rep_ms)
    for _ in range(repeats):
        series.repetition(settle=False)
    return series.timing()


def measure_pair(first, first_clock, second, second_clock, *, repeats: int = MIN_REPEATS,
                 min_rep_ms: float = DEFAULT_MIN_REP_MS) -> tuple:
    """Time two callables side by side: (Timing of ``first``, Timing of ``second``).

    Each is warmed up and sized as in :func:`measure`; then their repetitions alternate, first,
    second, first, ..., so that both see the same machine (a shared machine's load drifts).
    Before each repetition, ``SETTLE_MS`` of untimed calls (none for calls longer than that) let
    the worker threads the other library left spinning go idle (OpenBLAS's spin for about 0.1 s).
    """
    _check_repeats(repeats)
    series = (_Series(first, first_clock, min_rep_ms), _Series(second, second_clock, min_rep_ms))
    for _ in range(repeats):
        for one in series:
            one.repetition(settle=True)
    return tuple(one.timing() for one in series)

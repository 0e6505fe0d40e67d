"""Where a training step's time goes: each GEMM and kernel call of the benchmark's steps, timed apart.

    python -m deepnet_gpu.bench_breakdown [--device cpu|cuda] [--dtype float32] [--quick]
                                          [--steps N] [--seed N] [--json FILE] [--markdown FILE]

For each network workload of the benchmark (:func:`~deepnet_gpu.bench_workloads.catalogue`), the
training step, replayed as the benchmark replays it (:mod:`~deepnet_gpu.step_replay`), leaves a
timing mark after each GEMM and kernel call: a CUDA event recorded on the stream on a GPU, read
only after the step, so the step never waits for the host; ``perf_counter`` on the CPU, where
every call has finished when it returns. The part of a call is the interval from the mark before
it to its own. On a GPU that is the call's GPU time when the GPU is behind the host (large
layers), and mostly the host's launch time when the GPU waits for the host (small layers). The
marks follow one another, so the parts add up to the step.

A part is labelled by what ran: a kernel by its method, a GEMM by its operands' transposes and
its output's shape (``gemm N·T → 512×784`` is dW[1] = dZ[1]·A[0]ᵀ). Per label: the calls in one
step, the median milliseconds per step over the timed steps, and the share of the step. The
report opens with the date, the command and the machine; the JSON holds ``machine`` (as ``deepnet
bench`` records it) and ``workloads``, one entry per table.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time

from . import arguments, bench_machine, bench_report
from .backend import DeviceUnavailableError, get_backend
from .bench_workloads import OursNetwork, catalogue
from .validation import DTYPES

WARMUP_STEPS = 3
DEFAULT_STEPS = 20


class _HostEvent:
    """A timing mark on the host clock, for the CPU, where each call has finished when it returns."""

    def record(self):
        self.seconds = time.perf_counter()

    def synchronize(self):
        pass


def _host_elapsed_ms(start: _HostEvent, end: _HostEvent) -> float:
    return (end.seconds - start.seconds) * 1e3


class Marks:
    """The timing marks of one step: ``start()``, then ``mark(label)`` after each call, then
    ``parts()``: [(label, ms)], the interval up to each mark.

    The events are made during the first step and recorded again in the later ones (each step's
    ``parts()`` waits for its last event), so that no step but the first times their creation."""

    def __init__(self, make_event, elapsed_ms):
        self._make_event, self._elapsed_ms = make_event, elapsed_ms
        self._events = []
        self._marks = []

    def start(self):
        self._marks = []
        self.mark(None)

    def mark(self, label):
        if len(self._marks) == len(self._events):
            self._events.append(self._make_event())
        event = self._events[len(self._marks)]
        event.record()
        self._marks.append((label, event))

    def parts(self) -> list[tuple[str, float]]:
        self._marks[-1][1].synchronize()
        pairs = zip(self._marks, self._marks[1:])
        return [(label, float(self._elapsed_ms(before, event))) for (_, before), (label, event) in pairs]


def marks_for(backend) -> Marks:
    """CUDA events on a GPU backend, the host clock on the CPU."""
    if backend.name == "cuda":
        cuda = backend.xp.cuda
        return Marks(cuda.Event, cuda.get_elapsed_time)
    return Marks(_HostEvent, _host_elapsed_ms)


def breakdown(workload, backend, dtype, seed: int, steps: int = DEFAULT_STEPS) -> dict:
    """The parts of ``workload``'s training step on ``backend``: ``steps`` marked steps after the
    first (allocation, kernel compilation, the recording), ``WARMUP_STEPS`` unmarked ones and one
    marked step that makes the timing events, none of them counted."""
    marks = marks_for(backend)
    with backend.device_scope():
        run = OursNetwork(workload, backend, dtype, seed)
        run.first()
        for _ in range(WARMUP_STEPS):
            run()
        marks.start()
        run(after_call=marks.mark)
        marks.parts()
        per_step = []
        for _ in range(steps):
            marks.start()
            run(after_call=marks.mark)
            per_step.append(marks.parts())
        run.check()
    calls = {}
    for label, _ in per_step[0]:
        calls[label] = calls.get(label, 0) + 1
    medians = {label: statistics.median(sum(ms for name, ms in step if name == label) for step in per_step)
               for label in calls}
    whole = sum(medians.values())
    return {
        "name": workload.name, "device": backend.device, "dtype": str(dtype), "dims": list(workload.dims),
        "batch": workload.batch, "steps": steps, "step_ms": statistics.median(sum(ms for _, ms in step) for step in per_step),
        "parts": [{"label": label, "calls": calls[label], "ms": medians[label], "share": medians[label] / whole}
                  for label in calls],
    }


def command_line(args) -> str:
    """The command that repeats this run."""
    words = ["python", "-m", "deepnet_gpu.bench_breakdown", "--device", args.device, "--dtype", args.dtype,
             "--steps", str(args.steps), "--seed", str(args.seed)]
    if args.quick:
        words.append("--quick")
    for option in ("json", "markdown"):
        if getattr(args, option):
            words += [f"--{option}", getattr(args, option)]
    return shlex.join(words)


def markdown(machine: dict, results: list[dict]) -> str:
    """The machine and the command, then one table per workload: its parts in the order they first
    run, with calls, ms per step and share."""
    lines = [f"# deepnet_gpu step breakdown, {machine['date']}", "", f"Command: `{machine['command']}`", "",
             bench_report.machine_line(machine, torch=False), ""]
    for result in results:
        dims = "-".join(str(n) for n in result["dims"])
        lines += [f"### {result['name']} [{dims}], batch {result['batch']}, {result['dtype']} on {result['device']}",
                  "", f"Median step: {result['step_ms']:.3f} ms over {result['steps']} marked steps.", "",
                  "| part | calls | ms/step | share |", "|---|---:|---:|---:|"]
        lines += [f"| {part['label']} | {part['calls']} | {part['ms']:.4f} | {100 * part['share']:.1f}% |"
                  for part in result["parts"]]
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deepnet_gpu.bench_breakdown", description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda", help="default cuda")
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="default float32")
    parser.add_argument("--quick", action="store_true", help="the --quick workloads of deepnet bench")
    parser.add_argument("--steps", type=arguments.positive_int, default=DEFAULT_STEPS, metavar="N",
                        help=f"marked steps per workload (default {DEFAULT_STEPS})")
    parser.add_argument("--seed", type=arguments.seed, default=0, metavar="N",
                        help="the seed of the workloads' data and weights (default 0)")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--markdown", metavar="FILE")
    args = parser.parse_args(argv)
    try:
        arguments.check_output_files((("--json", args.json, None), ("--markdown", args.markdown, None)))
        backend = get_backend(args.device)
    except ValueError as exc:
        parser.error(str(exc))
    except DeviceUnavailableError as exc:
        parser.error(arguments.device_error(exc))
    workloads = [w for w in catalogue(backend.name, args.quick)[0] if w.kind == "network"]
    machine = bench_machine.describe(backend if backend.name == "cuda" else None, None, command_line(args))
    results = [breakdown(workload, backend, args.dtype, args.seed, args.steps) for workload in workloads]
    report = markdown(machine, results)
    print(report)
    if args.json is not None:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"machine": machine, "workloads": results}, handle, indent=1)
    if args.markdown is not None:
        with open(args.markdown, "w", encoding="utf-8") as handle:
            handle.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

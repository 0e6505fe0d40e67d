"""``deepnet bench``: our NumPy and CuPy paths against each other, PyTorch and the hardware, in one run.

For each device asked for (``--device cpu|cuda|all``) the run first measures the device's ceilings
(GEMM rate and copy bandwidth, :mod:`deepnet_gpu.bench_machine`), then times every workload of
:func:`~deepnet_gpu.bench_workloads.catalogue` on our side and, where PyTorch is installed and
can use the device, the same workload in PyTorch eager (:mod:`deepnet_gpu.bench_torch`). Each
row holds the median time per step (:func:`~deepnet_gpu.bench_timing.measure`), throughput,
% of the measured ceiling, PyTorch's throughput and our ratio to it, and the time to a first step.
The report (:mod:`deepnet_gpu.bench_report`) judges the issue's targets from those rows.

``add_arguments(parser)`` and ``run(args)`` are the subcommand's two halves, for the CLI to register.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import numpy as np

from . import arguments, bench_machine, bench_report, bench_torch
from .backend import DeviceUnavailableError, cuda_status, get_backend
from .bench_timing import MIN_REPEATS, clock_for, measure, measure_pair, time_once
from .bench_workloads import OursKernel, OursNetwork, catalogue
from .validation import DTYPES

DEVICES = ("cpu", "cuda", "all")


_repeats = arguments.number(int, lambda n: n >= MIN_REPEATS,
                           f"an integer >= {MIN_REPEATS} (a median of at least {MIN_REPEATS})")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``deepnet bench``."""
    parser.add_argument("--device", choices=DEVICES, default="all",
                        help="cpu, cuda, or all: the CPU plus the GPU when one is usable (default all)")
    parser.add_argument("--quick", action="store_true",
                        help="a few small rows only (the cat network, 784-512-512-10 at batch 256, kernels at 1M)")
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="(default float32)")
    parser.add_argument("--repeats", type=_repeats, default=MIN_REPEATS, metavar="N",
                        help=f"timed repetitions per row, the median is reported (default and minimum {MIN_REPEATS})")
    parser.add_argument("--seed", type=arguments.seed, default=0, metavar="N", help="seed of the networks and the data (default 0)")
    parser.add_argument("--json", metavar="FILE", help="write the full result, machine included, as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="write the report (tables and targets) as markdown")
    parser.add_argument("--plot", metavar="FILE",
                        help=f"plot the speedup against batch size, in the format the extension names "
                             f"({', '.join(arguments.PLOT_FORMATS)}; needs matplotlib)")


def _backends(device: str):
    """([backends to measure], {device: why it is not measured}); DeviceUnavailableError for --device cuda without a GPU."""
    if device == "cpu":
        return [get_backend("cpu")], {}
    if device == "cuda":
        return [get_backend("cuda")], {}
    status = cuda_status()
    if status.usable:
        return [get_backend("cpu"), get_backend("cuda")], {}
    return [get_backend("cpu")], {"cuda": status.reason}


def make_row(workload, device: str, dtype, peak: dict, ours, ours_first_ms: float, theirs, theirs_first_ms,
             torch_note: str) -> dict:
    """One row of the report from the timings of our side (``ours``) and PyTorch's (``theirs``, or None).

    Network rows rate FLOPs against the GEMM ceiling, kernel rows bytes against the copy bandwidth.
    ``speedup_vs_torch`` is the ratio of the two medians; ``speedup_per_pair`` the ratio within
    each pair of alternating repetitions (PyTorch's i-th over our i-th), whose spread shows how
    far the machine's noise moves the ratio.
    """
    if workload.kind == "network":
        samples, dims = workload.batch, list(workload.dims)
        work = {"flops": workload.flops, "gflops": workload.flops / ours.ms / 1e6,
                "executed_gflops": workload.executed_flops / ours.ms / 1e6, "bytes": None, "gb_per_s": None}
        ceiling, rate = peak["gemm_gflops"], work["gflops"]
        executed_pct = 100 * work["executed_gflops"] / ceiling
    else:
        samples, dims = workload.elements, list(workload.shape)
        moved = workload.bytes(np.dtype(dtype).itemsize)
        work = {"flops": None, "gflops": None, "executed_gflops": None, "bytes": moved, "gb_per_s": moved / ours.ms / 1e6}
        ceiling, rate = peak["copy_gb_per_s"], work["gb_per_s"]
        executed_pct = None
    return {
        "name": workload.name,
        "kind": workload.kind,
        "device": device,
        "dtype": str(dtype),
        "dims": dims,
        "batch": samples,
        "note": workload.note,
        "ms_per_step": ours.ms,
        "rep_ms": list(ours.rep_ms),
        "steps_per_rep": ours.calls_per_rep,
        "clock": ours.clock,
        "samples_per_s": samples / ours.ms * 1e3,
        "first_step_ms": ours_first_ms,
        **work,
        "peak": ceiling,
        "pct_of_peak": 100 * rate / ceiling,
        "executed_pct_of_peak": executed_pct,
        "torch_ms_per_step": theirs.ms if theirs else None,
        "torch_rep_ms": list(theirs.rep_ms) if theirs else None,
        "torch_samples_per_s": samples / theirs.ms * 1e3 if theirs else None,
        "torch_first_step_ms": theirs_first_ms,
        "speedup_vs_torch": theirs.ms / ours.ms if theirs else None,
        "speedup_per_pair": [t / o for o, t in zip(ours.rep_ms, theirs.rep_ms)] if theirs else None,
        "torch_note": torch_note,
    }


def measure_row(workload, backend, dtype, peak: dict, torch_side, repeats: int, seed: int) -> dict:
    """Time ``workload`` on our side on ``backend`` and, when ``torch_side`` is usable, in PyTorch,
    their repetitions alternating; each side's first step is timed apart, on a fresh build."""
    ours_run = (OursNetwork if workload.kind == "network" else OursKernel)(workload, backend, dtype, seed)
    first_ms = time_once(ours_run.first, backend.synchronize)
    if not torch_side.usable:
        ours = measure(ours_run, clock_for(backend), repeats=repeats)
        ours_run.check()
        return make_row(workload, backend.device, dtype, peak, ours, first_ms, None, None, torch_side.reason)
    torch_run = torch_side.build(workload, dtype, seed)
    theirs_first_ms = time_once(torch_run.first, torch_side.synchronize)
    ours, theirs = measure_pair(ours_run, clock_for(backend), torch_run, torch_side.clock, repeats=repeats)
    ours_run.check()
    torch_run.check()
    return make_row(workload, backend.device, dtype, peak, ours, first_ms, theirs, theirs_first_ms, "")


def command_line(args) -> str:
    """The ``deepnet bench`` command that repeats this run."""
    words = ["deepnet", "bench", "--device", args.device, "--dtype", args.dtype, "--repeats", str(args.repeats),
             "--seed", str(args.seed)]
    if args.quick:
        words.append("--quick")
    for option in ("json", "markdown", "plot"):
        if getattr(args, option):
            words += [f"--{option}", getattr(args, option)]
    return shlex.join(words)


def _progress(row: dict) -> str:
    ratio = "PyTorch n/a" if row["speedup_vs_torch"] is None else f"{row['speedup_vs_torch']:.2f}× PyTorch"
    rate = f"{row['gflops']:.1f} GFLOP/s" if row["kind"] == "network" else f"{row['gb_per_s']:.1f} GB/s"
    return (f"{row['device']} {row['name']} batch {row['batch']}: {row['ms_per_step']:.3f} ms/step, {rate}, "
            f"{row['pct_of_peak']:.1f}% of peak, {ratio}")


def _measure_device(backend, args, torch, torch_reason: str, result: dict) -> None:
    """Measure ``backend``'s ceilings, then every workload of its catalogue, into ``result``."""
    torch_side = bench_torch.TorchSide(torch, torch_reason, backend.device)
    with backend.device_scope():
        peak = bench_machine.measure_peaks(backend, args.dtype, clock_for(backend), args.repeats)
        peak["torch_gemm_gflops"] = (
            torch_side.gemm_gflops(peak["gemm"]["n"], args.dtype, args.repeats, bench_machine.PEAK_MIN_REP_MS)
            if torch_side.usable else None)
        result["peaks"][backend.device] = peak
        print(f"{backend.device}: GEMM {peak['gemm_gflops']:.1f} GFLOP/s, copy {peak['copy_gb_per_s']:.1f} GB/s "
              f"({args.dtype}, measured)", flush=True)
        workloads, notes = catalogue(backend.name, args.quick)
        result["notes"] += [f"{backend.device}: {note}" for note in notes]
        if torch is not None and not torch_side.usable:
            result["notes"].append(f"{backend.device}: PyTorch columns are n/a: {torch_side.reason}")
        for workload in workloads:
            try:
                row = measure_row(workload, backend, args.dtype, peak, torch_side, args.repeats, args.seed)
            except Exception as exc:  # one failed row (out of memory, a diverged check) must not lose the run
                size = f"batch {workload.batch}" if workload.kind == "network" else f"{workload.elements:,} elements"
                failure = f"{backend.device}: {workload.name} at {size} failed, not measured: {type(exc).__name__}: {exc}"
                result["failed"].append(failure)
                print(failure, flush=True)
                continue
            result["rows"].append(row)
            print(_progress(row), flush=True)


def run(args) -> int:
    """Run the benchmark described by ``args``; print the report; write --json/--markdown/--plot; return 0,
    1 when a row failed or an output could not be written (the other rows are still measured,
    reported and written, the failure among the notes), 2 for a bad argument, found before any
    work: an output file that cannot be written, a --plot without matplotlib or with nothing to
    plot, --device cuda without a usable GPU."""
    arguments.check_output_files((("--json", args.json, None), ("--markdown", args.markdown, None),
                                  ("--plot", args.plot, arguments.PLOT_FORMATS)))
    if args.plot is not None:
        arguments.check_matplotlib("--plot")
    try:
        backends, skipped = _backends(args.device)
    except DeviceUnavailableError as exc:
        raise ValueError(arguments.device_error(exc)) from None
    torch, torch_reason = bench_torch.load()
    gpu = next((b for b in backends if b.name == "cuda"), None)
    if args.plot is not None:
        _check_something_to_plot(backends, torch, torch_reason)
    for device, why in skipped.items():
        print(f"{device}: not measured: {why}", flush=True)
    result = {"machine": bench_machine.describe(gpu, torch, command_line(args)), "peaks": {}, "rows": [], "notes": [],
              "skipped": skipped, "failed": []}
    if torch is None:
        result["notes"].append(f"PyTorch columns are n/a: {torch_reason}")
    with bench_torch.threads(torch, result["machine"]["cpu"]["blas_threads"]):
        for backend in backends:
            _measure_device(backend, args, torch, torch_reason, result)
    result["targets"] = bench_report.evaluate_targets(result["rows"])
    report = bench_report.markdown(result)
    print()
    print(report)
    written = _write_outputs(args, result, report)
    return 1 if result["failed"] or not written else 0


def _check_something_to_plot(backends, torch, torch_reason: str) -> None:
    """ValueError naming --plot unless a series can come out of the run: ours ÷ PyTorch needs
    PyTorch on a measured device, our GPU ÷ our CPU both devices."""
    sides = [bench_torch.TorchSide(torch, torch_reason, backend.device) for backend in backends]
    if len(backends) < 2 and not any(side.usable for side in sides):
        why = "; ".join(dict.fromkeys(side.reason for side in sides))
        raise ValueError(f"argument --plot: nothing to plot: it shows ours ÷ PyTorch and our GPU ÷ our CPU, "
                         f"but only {backends[0].device} is measured and {why}")


def _write_outputs(args, result: dict, report: str) -> bool:
    """Write each output asked for, each apart, so that one that fails (a full disk, a plot with no
    series) costs no other; say what was written and what was not; True when every one was."""
    outputs = (("--json", args.json, lambda path: f"JSON: {bench_report.write_json(result, path)}"),
               ("--markdown", args.markdown, lambda path: _write_text(path, report, "markdown")),
               ("--plot", args.plot, lambda path: bench_report.plot(result, path)))
    every = True
    for option, path, write in outputs:
        if path is None:
            continue
        try:
            print(write(path))
        except (OSError, ValueError, ImportError) as exc:
            print(f"deepnet bench: error: argument {option}: {path} not written: {exc}", file=sys.stderr)
            every = False
    return every


def _write_text(path, text: str, what: str) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return f"{what}: {path}"

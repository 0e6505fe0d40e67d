"""The benchmark's report: the issue's targets judged from the rows, and the JSON, markdown and plot.

A result is a dict: ``machine`` (see :mod:`deepnet_gpu.bench_machine`), ``peaks`` per device,
``rows`` (one dict per workload and device, see :mod:`deepnet_gpu.benchmark`), ``targets``,
``notes``, ``skipped`` (devices asked for and not measured, with the reason) and ``failed`` (a
line for each row whose measurement raised). Every number in
the report comes from a row or a peak of the same run; a target whose row was not measured says
"not measured", never a guess.
"""

from __future__ import annotations

import json
from pathlib import Path

from .arguments import plot_format
from .bench_workloads import MLP_DIMS, WIDE_DIMS

MET, MISSED, NOT_MEASURED = "met", "missed", "not measured"

COUNTING_NOTES = (
    ("ms/step: the median of the timed repetitions after a warm-up of at least 250 ms (CPU: time.perf_counter; "
     "GPU: CUDA events); a repetition holds as many steps as fill 20 ms, and ours and PyTorch's alternate, each "
     "after 150 ms of untimed steps. First step: one synchronised wall-clock step of a fresh network or fresh "
     "buffers (allocation; on a GPU any kernel compile or load not yet done in this process)."),
    ("GFLOP/s counts 2·m·Σ n[l]·n[l-1] forward and twice that backward (the issue's count). Neither we nor "
     "PyTorch compute dA[0] = W[1]ᵀ·dZ[1], so the GEMMs actually run do 2·m·n[1]·n[0] fewer FLOPs: the JSON's "
     "executed_gflops and executed_pct_of_peak."),
    "Kernel rows: a sample is an element; GB/s counts each input read once and each output written once.",
    ("% of peak: against the GEMM rate (network rows) or the copy bandwidth (kernel rows) measured at the start "
     "of this run on the same device and dtype. On a CPU a kernel row can pass 100%: arrays that fit in its caches, "
     "and in-place kernels (sgd_update) that skip the read-for-ownership a copy's fresh destination costs. "
     "ours ÷ PyTorch > 1 means we are faster: the ratio of the medians, then in brackets the lowest and highest "
     "ratio within a pair of alternating repetitions, which shows how far this run's noise moves it."),
)


def _find(rows, **match):
    for row in rows:
        if all(row.get(key) == value for key, value in match.items()):
            return row
    return None


def _gpu(row) -> bool:
    return row["device"].startswith("cuda")


def _label(row) -> str:
    return f"{row['name']} batch {row['batch']}" if row["kind"] == "network" else f"{row['name']} {row['batch'] >> 20}M"


def _ratio(row) -> str:
    """Our ratio to PyTorch, with the range of the paired repetitions' ratios: ``1.06× (0.98–1.10)``."""
    if row["speedup_vs_torch"] is None:
        return "n/a"
    pairs = row.get("speedup_per_pair")
    spread = f" ({min(pairs):.2f}–{max(pairs):.2f})" if pairs else ""
    return f"{row['speedup_vs_torch']:.2f}×{spread}"


def _straddles_one(row) -> bool:
    """True when some pairs of repetitions put us ahead of PyTorch and others behind, to the two
    decimals the report shows."""
    pairs = row.get("speedup_per_pair")
    return bool(pairs) and round(min(pairs), 2) < 1.0 < round(max(pairs), 2)


def _target(text, status, detail):
    return {"target": text, "status": status, "detail": detail}


def evaluate_targets(rows) -> list:
    """The issue's five targets, each met, missed or not measured, with the numbers behind the verdict."""
    targets = []
    mlp = _find(rows, device="cpu", dims=list(MLP_DIMS), batch=256, dtype="float32")
    text = "CPU: ≥ 1.0× PyTorch's CPU eager on 784-512-512-10 at batch 256, float32"
    if mlp is None:
        targets.append(_target(text, NOT_MEASURED, "no CPU float32 row of 784-512-512-10 at batch 256 in this run"))
    elif mlp["speedup_vs_torch"] is None:
        targets.append(_target(text, NOT_MEASURED, f"PyTorch not measured: {mlp['torch_note']}"))
    else:
        ratio = mlp["speedup_vs_torch"]
        detail = (f"ours {mlp['ms_per_step']:.3f} ms/step, PyTorch {mlp['torch_ms_per_step']:.3f} ms/step: "
                  f"{_ratio(mlp)}")
        if _straddles_one(mlp):
            detail += "; the paired repetitions fall on both sides of 1.0×, so the verdict is within this run's noise"
        targets.append(_target(text, MET if ratio >= 1.0 else MISSED, detail))
    text = "CPU: ≥ 85% of the measured SGEMM rate on 784-512-512-10 at batch 256, float32"
    if mlp is None:
        targets.append(_target(text, NOT_MEASURED, "no CPU float32 row of 784-512-512-10 at batch 256 in this run"))
    else:
        targets.append(_target(text, MET if mlp["pct_of_peak"] >= 85 else MISSED,
                               f"{mlp['gflops']:.1f} GFLOP/s = {mlp['pct_of_peak']:.1f}% of the measured "
                               f"{mlp['peak']:.1f} GFLOP/s ({mlp['executed_pct_of_peak']:.1f}% counting only the "
                               "GEMMs actually run)"))
    gpu_rows = [row for row in rows if _gpu(row)]
    text = "GPU: faster than PyTorch eager on every row"
    compared = [row for row in gpu_rows if row["speedup_vs_torch"] is not None]
    if not compared:
        why = "no GPU rows in this run" if not gpu_rows else f"PyTorch not measured: {gpu_rows[0]['torch_note']}"
        targets.append(_target(text, NOT_MEASURED, why))
    else:
        slower = [row for row in compared if row["speedup_vs_torch"] <= 1.0]
        detail = (f"{len(compared) - len(slower)} of {len(compared)} rows faster; slowest ratio "
                  f"{min(row['speedup_vs_torch'] for row in compared):.2f}×")
        if slower:
            detail += "; not faster: " + ", ".join(f"{_label(r)} at {_ratio(r)}" for r in slower)
        noisy = [row for row in compared if _straddles_one(row)]
        if noisy:
            detail += "; paired repetitions on both sides of 1.0×: " + ", ".join(_label(r) for r in noisy)
        if len(compared) < len(gpu_rows):
            detail += f"; {len(gpu_rows) - len(compared)} GPU rows without a PyTorch measurement"
        targets.append(_target(text, MISSED if slower else MET, detail))
    text = "GPU: ≥ 70% of the measured GEMM rate on the 4096-wide network"
    wide = [row for row in gpu_rows if row["dims"] == list(WIDE_DIMS)]
    if not wide:
        targets.append(_target(text, NOT_MEASURED, "no GPU row of the 4096-wide network in this run"))
    else:
        row = wide[0]
        targets.append(_target(text, MET if row["pct_of_peak"] >= 70 else MISSED,
                               f"{row['gflops']:.0f} GFLOP/s = {row['pct_of_peak']:.1f}% of the measured "
                               f"{row['peak']:.0f} GFLOP/s {row['dtype']} GEMM at batch {row['batch']} "
                               f"({row['executed_pct_of_peak']:.1f}% counting only the GEMMs actually run)"))
    text = "GPU: elementwise kernels ≥ 80% of the copy bandwidth"
    kernels = [row for row in gpu_rows if row["kind"] == "kernel"]
    if not kernels:
        targets.append(_target(text, NOT_MEASURED, "no GPU kernel rows in this run"))
    else:
        below = [row for row in kernels if row["pct_of_peak"] < 80]
        detail = (f"{len(kernels) - len(below)} of {len(kernels)} rows at ≥ 80% of the measured "
                  f"{kernels[0]['peak']:.0f} GB/s")
        if below:
            detail += "; below: " + ", ".join(f"{_label(r)} ({r['pct_of_peak']:.0f}%)" for r in below)
        targets.append(_target(text, MISSED if below else MET, detail))
    return targets


def write_json(result: dict, path) -> Path:
    """Write the whole result as indented JSON."""
    path = Path(path)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path


def _number(value, digits=1, unit=""):
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def _three_digits(value) -> str:
    """``value`` to three significant digits, without a trailing point or an exponent: 0.200, 24.4, 175, 1,965."""
    value = float(f"{value:.3g}")
    return f"{value:,.0f}" if value >= 100 else f"{value:#.3g}"


def _rate(value):
    """A count per second to three digits with an SI prefix: 48.8k, 1.84G."""
    if value is None:
        return "n/a"
    value = float(f"{value:.3g}")
    for prefix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return _three_digits(value / scale) + prefix
    return _three_digits(value)


def _ms(value):
    """Milliseconds: three significant digits below 100, whole milliseconds above."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value >= 99.95 else _three_digits(value)


def results_table(rows) -> str:
    """The rows as a markdown table."""
    lines = [
        ("| workload | device | dtype | dims | batch | ms/step | samples/s | throughput | % of peak "
         "| PyTorch samples/s | ours ÷ PyTorch | first step ms (ours / PyTorch) | note |"),
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for row in rows:
        if row["kind"] == "network":
            throughput = _number(row["gflops"], 1, " GFLOP/s")
        else:
            throughput = _number(row["gb_per_s"], 1, " GB/s")
        ratio = _ratio(row)
        lines.append(
            f"| {row['name']} | {row['device']} | {row['dtype']} | {'-'.join(map(str, row['dims']))} | {row['batch']:,} "
            f"| {_ms(row['ms_per_step'])} | {_rate(row['samples_per_s'])} | {throughput} "
            f"| {_number(row['pct_of_peak'], 1, '%')} | {_rate(row['torch_samples_per_s'])} | {ratio} "
            f"| {_ms(row['first_step_ms'])} / {_ms(row['torch_first_step_ms'])} | {row['note']} |"
        )
    return "\n".join(lines)


def peaks_table(peaks: dict) -> str:
    """The ceilings measured at the start of the run, one line per device."""
    lines = ["| device | dtype | GEMM GFLOP/s (n×n×n) | PyTorch GEMM GFLOP/s | copy GB/s |", "|---|---|--:|--:|--:|"]
    for device, peak in peaks.items():
        lines.append(f"| {device} | {peak['gemm']['dtype']} | {peak['gemm_gflops']:,.1f} (n = {peak['gemm']['n']}) "
                     f"| {_number(peak['torch_gemm_gflops'])} | {peak['copy_gb_per_s']:,.1f} |")
    return "\n".join(lines)


def machine_line(machine: dict, torch: bool = True) -> str:
    """The machine of a run (:func:`~deepnet_gpu.bench_machine.describe`) in one line; without
    PyTorch's version and threads for a run that did not use it (``torch=False``)."""
    cpu, blas, versions = machine["cpu"], machine["blas"], machine["versions"]
    blas_name = blas.get("error") or f"{blas['name']} {blas['version']}"
    gpu = machine["gpu"]
    if gpu is None:
        gpu_text = f"none measured: {machine['cuda']['reason']}"
    elif "error" in gpu:
        gpu_text = gpu["error"]
    else:
        gpu_text = (f"{gpu['name']}, {gpu['sm_count']} SMs, {gpu['memory_bytes'] / 2**30:.0f} GiB, "
                    f"CUDA driver {gpu['cuda'].get('driver', '?')} / runtime {gpu['cuda'].get('runtime', '?')}")
    torch_threads = "" if not torch or cpu["torch_threads"] is None else f" (PyTorch set to {cpu['torch_threads']})"
    torch_version = f"PyTorch {versions['torch'] or 'not installed'}, " if torch else ""
    return (f"CPU: {cpu['model']}, {cpu['usable_cpus']} usable CPUs, BLAS {blas_name} with {cpu['blas_threads']} "
            f"threads{torch_threads}. GPU: {gpu_text}. NumPy {versions['numpy']}, "
            f"CuPy {versions['cupy'] or 'not installed'}, {torch_version}deepnet_gpu {versions['deepnet_gpu']}.")


def markdown(result: dict) -> str:
    """The report: machine, ceilings, results table, targets, notes."""
    machine = result["machine"]
    parts = [
        f"# deepnet_gpu benchmark, {machine['date']}",
        f"Command: `{machine['command']}`",
        machine_line(machine),
        "## Measured ceilings",
        peaks_table(result["peaks"]),
        "## Results",
        results_table(result["rows"]),
        "## Targets",
        "\n".join(f"- **{t['status']}**: {t['target']}: {t['detail']}" for t in result["targets"]),
        "## Notes",
        "\n".join(f"- {note}" for note in (*COUNTING_NOTES, *result["notes"], *result["failed"],
                                             *(f"{device}: not measured: {why}" for device, why in result["skipped"].items()))),
    ]
    return "\n\n".join(parts) + "\n"


def speedup_series(rows) -> list:
    """[(label, batches, ratios)] for the 784-512-512-10 rows: ours ÷ PyTorch per device, and our
    GPU ÷ our CPU where both were measured at the same batch and dtype."""
    mlp = sorted((row for row in rows if row["dims"] == list(MLP_DIMS)), key=lambda row: row["batch"])
    series = []
    for device in dict.fromkeys(row["device"] for row in mlp):
        points = [(row["batch"], row["speedup_vs_torch"]) for row in mlp
                  if row["device"] == device and row["speedup_vs_torch"] is not None]
        if points:
            series.append((f"ours ÷ PyTorch ({device})", *map(list, zip(*points))))
    cpu = {(row["batch"], row["dtype"]): row for row in mlp if row["device"] == "cpu"}
    points = [(row["batch"], row["samples_per_s"] / cpu[row["batch"], row["dtype"]]["samples_per_s"])
              for row in mlp if _gpu(row) and (row["batch"], row["dtype"]) in cpu]
    if points:
        series.append(("ours: GPU ÷ CPU", *map(list, zip(*points))))
    return series


def plot(result: dict, path) -> str:
    """Write the speedup against batch size in the format ``path``'s extension names; return a line
    saying so. ValueError when no row has a ratio to plot; ImportError without matplotlib."""
    series = speedup_series(result["rows"])
    if not series:
        raise ValueError("no 784-512-512-10 row has a ratio to plot: none measured against PyTorch, "
                         "and no GPU row beside a CPU row of the same batch")
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter

    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    axes = figure.add_subplot()
    for label, batches, ratios in series:
        axes.plot(batches, ratios, marker="o", label=label)
    axes.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
    axes.set_xscale("log", base=2)
    batches = sorted({batch for _, xs, _ in series for batch in xs})
    axes.set_xticks(batches, [str(batch) for batch in batches])
    axes.xaxis.set_minor_formatter(NullFormatter())
    ratios = [ratio for *_, ys in series for ratio in ys] + [1.0]
    if max(ratios) / min(ratios) > 10:
        axes.set_yscale("log")
        axes.yaxis.set_minor_formatter(NullFormatter())
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}×"))
    axes.set_xlabel("batch size m")
    axes.set_ylabel("speedup (ratio of samples/s)")
    axes.set_title(f"784-512-512-10 training step, {result['rows'][0]['dtype']}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, format=plot_format(path))
    return f"plot: {path}"

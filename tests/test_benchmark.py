"""The benchmark runner's logic on the CPU, on tiny workloads: counting, timing, rows, report, targets, errors."""

import argparse
import importlib.util
import json
import subprocess
import sys
import time
import types

import numpy as np
import pytest

from deepnet_gpu import (
    backend,
    bench_machine,
    bench_report,
    bench_timing,
    bench_torch,
    benchmark,
    cli,
)
from deepnet_gpu.backend import CudaStatus
from deepnet_gpu.bench_timing import Timing
from deepnet_gpu.numpy_kernels import RELU, SIGMOID
from deepnet_gpu.bench_workloads import (
    CAT_DIMS,
    LEARNING_RATE,
    MLP_DIMS,
    WIDE_DIMS,
    KernelWorkload,
    NetworkWorkload,
    OursKernel,
    OursNetwork,
    catalogue,
    executed_training_flops,
    training_flops,
)

MLP_256 = NetworkWorkload("mnist-mlp", MLP_DIMS, 256)
TINY = [
    NetworkWorkload("tiny", (8, 4, 1), 16),
    MLP_256,
    KernelWorkload("activation_backward_from_a(relu)", "activation_backward_from_a", 1 << 12, "relu"),
    KernelWorkload("sgd_update", "sgd_update", 1 << 12),
]


@pytest.fixture
def no_gpu(monkeypatch):
    status = CudaStatus(False, "no GPU is usable: cudaErrorNoDevice", "run on a machine with an NVIDIA GPU", "14.0.0")
    monkeypatch.setattr(backend, "cuda_status", lambda: status)
    monkeypatch.setattr(benchmark, "cuda_status", lambda: status)
    monkeypatch.setattr(bench_machine, "cuda_status", lambda: status)
    return status


@pytest.fixture
def tiny(monkeypatch, no_gpu):
    """The runner on TINY with small ceilings and a short warm-up."""
    monkeypatch.setattr(benchmark, "catalogue", lambda kind, quick: (TINY, ["tiny catalogue"]))
    monkeypatch.setattr(bench_machine, "GEMM_SIZE", {"cpu": 128})
    monkeypatch.setattr(bench_machine, "COPY_ELEMENTS", {"cpu": 1 << 16})
    monkeypatch.setattr(bench_machine, "PEAK_MIN_REP_MS", 2.0)
    monkeypatch.setattr(bench_timing, "WARMUP_MS", 5.0)
    monkeypatch.setattr(bench_timing, "SETTLE_MS", 1.0)


def run_bench(argv):
    """``deepnet bench`` with ``argv``, in this process: its exit status."""
    return cli.main(["bench", *argv])


def test_flops_follow_the_issue_count_and_the_gemms_run():
    assert training_flops((2, 3, 1), 4) == 6 * 4 * (3 * 2 + 1 * 3)
    assert executed_training_flops((2, 3, 1), 4) == 6 * 4 * 9 - 2 * 4 * 3 * 2
    assert training_flops(CAT_DIMS, 209) == 6 * 209 * (12288 * 20 + 20 * 7 + 7 * 5 + 5 * 1)
    assert executed_training_flops(CAT_DIMS, 209) == training_flops(CAT_DIMS, 209) - 2 * 209 * 20 * 12288
    assert NetworkWorkload("mnist-mlp", MLP_DIMS, 256).flops == 6 * 256 * (784 * 512 + 512 * 512 + 512 * 10)


def test_kernel_bytes_count_each_input_read_and_output_written_once():
    n = 1 << 12
    assert KernelWorkload("f", "bias_activation_forward", n, "relu").bytes(4) == (2 * n + 1024) * 4
    assert KernelWorkload("b", "activation_backward_from_a", n, "sigmoid").bytes(8) == 3 * n * 8
    assert KernelWorkload("u", "sgd_update", n).bytes(4) == (3 * n + 1) * 4


def test_the_catalogue_says_what_the_cpu_scales_down():
    workloads, notes = catalogue("cpu", quick=False)
    networks = [w for w in workloads if w.kind == "network"]
    wide = [w for w in networks if w.dims == WIDE_DIMS]
    assert len(wide) == 1 and wide[0].batch == 1024 and "scaled from 8192 to 1024" in wide[0].note
    assert any("64M not measured" in note for note in notes)
    assert sorted(w.batch for w in networks if w.dims == MLP_DIMS) == [64, 256, 1024, 8192]
    gpu, _ = catalogue("cuda", quick=False)
    assert max(w.elements for w in gpu if w.kind == "kernel") == 1 << 26
    assert [w.batch for w in gpu if w.kind == "network" and w.dims == WIDE_DIMS] == [8192]
    quick, _ = catalogue("cpu", quick=True)
    assert {w.elements for w in quick if w.kind == "kernel"} == {1 << 20} and len(quick) == 6


def test_measure_reports_the_median_per_call_over_at_least_five_repetitions():
    class FakeClock:
        kind = "fake"
        costs = iter([9.0] + [2.0] * 1000)

        def elapsed_ms(self, fn, count):
            return sum(next(self.costs) for _ in range(count))

    timing = bench_timing.measure(lambda: None, FakeClock(), repeats=5, min_rep_ms=20.0)
    assert timing.ms == 2.0 and len(timing.rep_ms) == 5 and timing.calls_per_rep == 10
    with pytest.raises(ValueError, match="at least 5"):
        bench_timing.measure(lambda: None, FakeClock(), repeats=4)


def test_measure_pair_alternates_the_repetitions_after_settling():
    log = []

    class Clock:
        kind = "fake"

        def __init__(self, name, ms):
            self.name, self.ms = name, ms

        def elapsed_ms(self, fn, count):
            log.append((self.name, count))
            return self.ms * count

    ours, theirs = bench_timing.measure_pair(None, Clock("ours", 50.0), None, Clock("theirs", 400.0), repeats=5)
    assert (ours.ms, ours.calls_per_rep, theirs.ms, theirs.calls_per_rep) == (50.0, 1, 400.0, 1)
    timed = log[log.index(("theirs", 1)) + 1:]
    assert timed == [("ours", 3), ("ours", 1), ("theirs", 1)] * 5  # ours settles 150 ms first, theirs need not


def test_fewer_than_five_repeats_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_bench(["--repeats", "3"])
    assert exit_info.value.code == 2 and "a median of at least 5" in capsys.readouterr().err


def test_cuda_without_a_gpu_exits_2_with_the_device_error(no_gpu, capsys):
    assert run_bench(["--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepnet bench: error: argument --device: device='cuda' needs a usable GPU")
    assert "cudaErrorNoDevice" in err


def test_a_cpu_run_writes_rows_json_markdown_and_consistent_targets(tiny, tmp_path, capsys):
    pytest.importorskip("torch")
    paths = {name: tmp_path / f"bench.{name}" for name in ("json", "markdown")}
    assert run_bench(["--device", "all", "--json", str(paths["json"]), "--markdown", str(paths["markdown"])]) == 0
    out = capsys.readouterr().out
    assert "cuda: not measured: no GPU is usable: cudaErrorNoDevice" in out
    result = json.loads(paths["json"].read_text())
    assert result["skipped"] == {"cuda": "no GPU is usable: cudaErrorNoDevice"}
    assert result["machine"]["command"].startswith("deepnet bench --device all")
    assert result["machine"]["cpu"]["blas_threads"] >= 1 and result["machine"]["versions"]["numpy"]
    assert result["peaks"]["cpu"]["gemm_gflops"] > 0 and result["peaks"]["cpu"]["copy_gb_per_s"] > 0
    rows = result["rows"]
    assert [row["name"] for row in rows] == [w.name for w in TINY]
    for row in rows:
        for field in ("ms_per_step", "samples_per_s", "pct_of_peak", "first_step_ms", "torch_ms_per_step",
                      "torch_samples_per_s", "torch_first_step_ms", "speedup_vs_torch"):
            assert row[field] > 0, field
        assert len(row["rep_ms"]) == 5 and row["device"] == "cpu" and row["dtype"] == "float32"
        assert row["speedup_vs_torch"] == pytest.approx(row["samples_per_s"] / row["torch_samples_per_s"])
        assert row["speedup_per_pair"] == pytest.approx([t / o for o, t in zip(row["rep_ms"], row["torch_rep_ms"])])
    network, kernel = rows[1], rows[3]
    assert network["gflops"] == pytest.approx(MLP_256.flops / network["ms_per_step"] / 1e6)
    assert network["pct_of_peak"] == pytest.approx(100 * network["gflops"] / result["peaks"]["cpu"]["gemm_gflops"])
    assert kernel["gb_per_s"] == pytest.approx(kernel["bytes"] / kernel["ms_per_step"] / 1e6) and kernel["gflops"] is None
    first, second = result["targets"][:2]
    assert first["status"] == ("met" if network["speedup_vs_torch"] >= 1.0 else "missed")
    assert second["status"] == ("met" if network["pct_of_peak"] >= 85 else "missed")
    assert f"{network['pct_of_peak']:.1f}%" in second["detail"]
    assert [t["status"] for t in result["targets"][2:]] == ["not measured"] * 3
    report = paths["markdown"].read_text()
    assert "| workload | device | dtype |" in report and "## Targets" in report
    assert f"- **{first['status']}**: CPU: ≥ 1.0× PyTorch" in report
    assert "cuda: not measured: no GPU is usable" in report and "tiny catalogue" in report


def test_without_pytorch_the_torch_columns_are_n_a(tiny, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch", None)
    path = tmp_path / "bench.json"
    assert run_bench(["--device", "cpu", "--json", str(path)]) == 0
    result = json.loads(path.read_text())
    for row in result["rows"]:
        assert row["torch_ms_per_step"] is None and row["speedup_vs_torch"] is None
        assert row["torch_note"].startswith("PyTorch is not installed")
    assert result["machine"]["versions"]["torch"] is None and result["peaks"]["cpu"]["torch_gemm_gflops"] is None
    assert result["targets"][0]["status"] == "not measured" and "PyTorch not measured" in result["targets"][0]["detail"]
    assert result["targets"][1]["status"] in ("met", "missed")
    assert "| n/a | n/a |" in bench_report.results_table(result["rows"])
    assert "- PyTorch columns are n/a: PyTorch is not installed" in bench_report.markdown(result)


@pytest.fixture
def no_measuring(monkeypatch):
    def measure(*args, **kwargs):
        raise AssertionError("measuring started")

    monkeypatch.setattr(benchmark, "_measure_device", measure)
    monkeypatch.setattr(bench_machine, "describe", measure)


@pytest.mark.parametrize("blocked, message", [
    ("matplotlib", "argument --plot: needs matplotlib, which is not installed (pip install 'deepnet_gpu[plot]')"),
    ("torch", "argument --plot: nothing to plot: it shows ours ÷ PyTorch and our GPU ÷ our CPU, but only cpu is "
              "measured and PyTorch is not installed"),
])
def test_a_plot_that_cannot_be_drawn_stops_the_run_before_any_measuring(no_gpu, no_measuring, monkeypatch, tmp_path,
                                                                        capsys, blocked, message):
    monkeypatch.setitem(sys.modules, blocked, None)
    assert run_bench(["--device", "cpu", "--plot", str(tmp_path / "plot.png")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("deepnet bench: error: " + message)
    assert not (tmp_path / "plot.png").exists()


def test_an_output_that_fails_at_the_end_costs_no_other_and_exits_1(tiny, monkeypatch, tmp_path, capsys):
    def full_disk(result, path):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bench_report, "write_json", full_disk)
    markdown = tmp_path / "bench.md"
    assert run_bench(["--device", "cpu", "--json", str(tmp_path / "bench.json"), "--markdown", str(markdown)]) == 1
    out, err = capsys.readouterr()
    assert f"argument --json: {tmp_path / 'bench.json'} not written: [Errno 28] No space left on device" in err
    assert markdown.read_text(encoding="utf-8") in out and f"markdown: {markdown}" in out


def test_a_failing_row_is_reported_and_the_rest_still_measured_and_written(tiny, monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)
    measure_row = benchmark.measure_row

    def out_of_memory_on_mlp(workload, *args):
        if workload is MLP_256:
            raise MemoryError("out of memory allocating 3.2 GB")
        return measure_row(workload, *args)

    monkeypatch.setattr(benchmark, "measure_row", out_of_memory_on_mlp)
    paths = {name: tmp_path / f"bench.{name}" for name in ("json", "markdown")}
    assert run_bench(["--device", "cpu", "--json", str(paths["json"]), "--markdown", str(paths["markdown"])]) == 1
    failure = "cpu: mnist-mlp at batch 256 failed, not measured: MemoryError: out of memory allocating 3.2 GB"
    assert failure in capsys.readouterr().out
    result = json.loads(paths["json"].read_text())
    assert [row["name"] for row in result["rows"]] == [w.name for w in TINY if w is not MLP_256]
    assert result["failed"] == [failure]
    assert f"- {failure}" in paths["markdown"].read_text()
    assert result["targets"][1]["status"] == "not measured"


def _row(name, dims, batch, device, ms, torch_ms, peak, kind="network", torch_reps=None):
    workload = (NetworkWorkload(name, dims, batch) if kind == "network"
                else KernelWorkload(name, "sgd_update", batch))
    timing = Timing(ms, (ms,) * 5, 1, "fake")
    theirs = Timing(torch_ms, torch_reps or (torch_ms,) * 5, 1, "fake") if torch_ms else None
    peaks = {"gemm_gflops": peak, "copy_gb_per_s": peak}
    return benchmark.make_row(workload, device, "float32", peaks, timing, 1.0, theirs, 2.0 if theirs else None, "")


def test_targets_are_met_or_missed_by_the_numbers():
    fast_mlp = _row("mnist-mlp", MLP_DIMS, 256, "cpu", 1.0, 1.2, 10_000.0)  # 1,027 GFLOP/s = 10.3% of 10,000
    gpu = [_row("wide-4096", WIDE_DIMS, 8192, "cuda:0", 60.0, 72.0, 60_000.0),
           _row("mnist-mlp", MLP_DIMS, 64, "cuda:0", 0.2, 0.1, 60_000.0),
           _row("sgd_update", None, 1 << 20, "cuda:0", 0.01, 0.02, 500.0, kind="kernel")]
    targets = bench_report.evaluate_targets([fast_mlp, *gpu])
    status = [t["status"] for t in targets]
    assert status == ["met", "missed", "missed", "met", "met"]
    assert "1.20×" in targets[0]["detail"] and "10.3% of the measured 10000.0 GFLOP/s" in targets[1]["detail"]
    assert "not faster: mnist-mlp batch 64 at 0.50× (0.50–0.50)" in targets[2]["detail"] and "2 of 3 rows faster" in targets[2]["detail"]
    assert gpu[0]["pct_of_peak"] == pytest.approx(100 * training_flops(WIDE_DIMS, 8192) / 60.0 / 1e6 / 60_000)
    assert f"{gpu[0]['pct_of_peak']:.1f}%" in targets[3]["detail"]
    assert gpu[2]["pct_of_peak"] > 80 and "1 of 1 rows" in targets[4]["detail"]
    slow_kernel = _row("sgd_update", None, 1 << 20, "cuda:0", 1.0, 2.0, 500.0, kind="kernel")
    missed = bench_report.evaluate_targets([fast_mlp, slow_kernel])[4]
    assert missed["status"] == "missed" and "sgd_update 1M (3%)" in missed["detail"]


def test_the_ratio_shows_the_spread_of_the_paired_repetitions_and_says_when_it_crosses_one():
    noisy = _row("mnist-mlp", MLP_DIMS, 256, "cpu", 1.0, 1.05, 10_000.0, torch_reps=(0.9, 1.0, 1.05, 1.1, 1.2))
    steady = _row("mnist-mlp", MLP_DIMS, 64, "cuda:0", 1.0, 1.05, 60_000.0, torch_reps=(1.02, 1.05, 1.05, 1.1, 1.2))
    assert noisy["speedup_per_pair"] == pytest.approx([0.9, 1.0, 1.05, 1.1, 1.2])
    table = bench_report.results_table([noisy, steady])
    assert "| 1.05× (0.90–1.20) |" in table and "| 1.05× (1.02–1.20) |" in table
    cpu_ratio, _, every_row = bench_report.evaluate_targets([noisy, steady])[:3]
    assert cpu_ratio["status"] == "met" and "1.05× (0.90–1.20)" in cpu_ratio["detail"]
    assert "within this run's noise" in cpu_ratio["detail"]
    assert every_row["status"] == "met" and "both sides of 1.0×" not in every_row["detail"]
    noisy_gpu = dict(noisy, device="cuda:0")
    every_row = bench_report.evaluate_targets([noisy, noisy_gpu])[2]
    assert "paired repetitions on both sides of 1.0×: mnist-mlp batch 256" in every_row["detail"]
    steady_cpu = dict(steady, device="cpu", batch=256)
    assert "noise" not in bench_report.evaluate_targets([steady_cpu])[0]["detail"]
    at_parity = dict(steady_cpu, speedup_per_pair=[0.998, 1.05, 1.1, 1.1, 1.2])
    assert "noise" not in bench_report.evaluate_targets([at_parity])[0]["detail"]


def test_the_plot_series_are_speedups_against_batch():
    rows = [_row("mnist-mlp", MLP_DIMS, m, "cpu", 2.0, 3.0, 100.0) for m in (64, 256)]
    rows += [_row("mnist-mlp", MLP_DIMS, 256, "cuda:0", 0.5, 1.0, 100.0)]
    series = bench_report.speedup_series(rows)
    assert series == [("ours ÷ PyTorch (cpu)", [64, 256], [1.5, 1.5]), ("ours ÷ PyTorch (cuda:0)", [256], [2.0]),
                      ("ours: GPU ÷ CPU", [256], [4.0])]


def test_a_plot_needs_pytorch_on_a_measured_device_or_both_devices():
    cpu, gpu = types.SimpleNamespace(device="cpu"), types.SimpleNamespace(device="cuda:0")
    cpu_only_torch = types.SimpleNamespace(__version__="2.0-cpu", cuda=types.SimpleNamespace(is_available=lambda: False))
    benchmark._check_something_to_plot([cpu, gpu], None, "PyTorch is not installed")
    benchmark._check_something_to_plot([cpu], cpu_only_torch, "")
    with pytest.raises(ValueError, match=r"argument --plot: nothing to plot: .* but only cuda:0 is measured and "
                                         r"PyTorch 2.0-cpu cannot use CUDA here"):
        benchmark._check_something_to_plot([gpu], cpu_only_torch, "")
    with pytest.raises(ValueError, match="but only cpu is measured and PyTorch is not installed$"):
        benchmark._check_something_to_plot([cpu], None, "PyTorch is not installed")


def test_a_plot_with_no_ratio_to_draw_is_refused(tmp_path):
    rows = [_row("mnist-mlp", MLP_DIMS, 64, "cpu", 2.0, None, 100.0)]
    with pytest.raises(ValueError, match="no 784-512-512-10 row has a ratio to plot"):
        bench_report.plot({"rows": rows}, tmp_path / "p.png")
    assert not (tmp_path / "p.png").exists()


def test_the_event_clock_times_between_two_recorded_events():
    log = []

    class Event:
        def record(self):
            log.append(("record", self))

        def synchronize(self):
            log.append(("synchronize", self))

    def elapsed(start, end):
        assert log == [("device", None), ("record", start), *[("call", None)] * 3, ("record", end), ("synchronize", end)]
        return 12.5

    clock = bench_timing.EventClock(Event, elapsed, lambda: log.append(("device", None)))
    assert clock.elapsed_ms(lambda: log.append(("call", None)), 3) == 12.5


def test_the_gpu_description_falls_back_to_device_attributes(monkeypatch):
    class Runtime:
        @staticmethod
        def getDeviceProperties(index):
            return {"name": b"NVIDIA H100 80GB HBM3", "multiProcessorCount": 132, "major": 9, "minor": 0,
                    "totalGlobalMem": 80 * 2**30, "l2CacheSize": 50 * 2**20, "memoryBusWidth": 5120}

        @staticmethod
        def deviceGetAttribute(attribute, index):
            return {13: 1_980_000, 36: 2_619_000}[attribute]

    class Cuda:
        runtime = Runtime

    class Xp:
        cuda = Cuda

    class FakeGpu:
        xp, index = Xp, 0

    monkeypatch.setattr(bench_machine.info, "cuda_versions", lambda: {"driver": "12.8", "runtime": "12.8"})
    monkeypatch.setattr(bench_machine, "nvidia_smi", lambda index: {"error": "nvidia-smi is not on PATH"})
    gpu = bench_machine.gpu_description(FakeGpu)
    assert gpu["name"] == "NVIDIA H100 80GB HBM3" and gpu["sm_count"] == 132 and gpu["compute_capability"] == "9.0"
    assert gpu["max_sm_clock_mhz"] == 1980 and gpu["memory_clock_mhz"] == 2619 and gpu["memory_bus_bits"] == 5120
    assert gpu["cuda"] == {"driver": "12.8", "runtime": "12.8"}


def test_pytorch_without_cuda_is_reported_for_the_gpu_rows():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this PyTorch can use CUDA")
    side = bench_torch.TorchSide(torch, "", "cuda:0")
    assert not side.usable and "cannot use CUDA here" in side.reason


def test_a_row_counts_samples_flops_and_bytes_per_second():
    net = _row("mnist-mlp", MLP_DIMS, 256, "cpu", 2.0, 3.0, 400.0)
    assert net["samples_per_s"] == pytest.approx(256 / 2.0 * 1e3)
    assert net["torch_samples_per_s"] == pytest.approx(256 / 3.0 * 1e3) and net["torch_rep_ms"] == [3.0] * 5
    assert net["gflops"] == pytest.approx(MLP_256.flops / 2.0 / 1e6)
    assert net["executed_gflops"] == pytest.approx(MLP_256.executed_flops / 2.0 / 1e6)
    assert net["executed_pct_of_peak"] == pytest.approx(100 * net["executed_gflops"] / 400.0)
    assert net["speedup_vs_torch"] == pytest.approx(1.5)
    kernel = _row("sgd_update", None, 1 << 20, "cuda:0", 0.5, None, 500.0, kind="kernel")
    assert kernel["samples_per_s"] == pytest.approx((1 << 20) / 0.5 * 1e3) and kernel["dims"] == [1 << 20]
    assert kernel["bytes"] == (3 * (1 << 20) + 1) * 4
    assert kernel["gb_per_s"] == pytest.approx(kernel["bytes"] / 0.5 / 1e6)
    assert kernel["pct_of_peak"] == pytest.approx(100 * kernel["gb_per_s"] / 500.0)
    assert kernel["executed_pct_of_peak"] is None and kernel["gflops"] is None
    assert kernel["torch_samples_per_s"] is None and kernel["speedup_vs_torch"] is None and kernel["torch_rep_ms"] is None


def test_each_target_flips_at_its_threshold():
    def verdicts(rows):
        return [t["status"] for t in bench_report.evaluate_targets(rows)]

    def cpu(ratio, pct):
        return dict(_row("mnist-mlp", MLP_DIMS, 256, "cpu", 1.0, ratio, 10_000.0), pct_of_peak=pct)

    assert verdicts([cpu(1.0, 85.0)])[:2] == ["met", "met"]
    assert verdicts([cpu(0.99, 84.9)])[:2] == ["missed", "missed"]
    wide = _row("wide-4096", WIDE_DIMS, 8192, "cuda:0", 60.0, 72.0, 60_000.0)
    kernel = _row("sgd_update", None, 1 << 20, "cuda:0", 0.01, 0.02, 500.0, kind="kernel")
    assert verdicts([dict(wide, pct_of_peak=70.0), dict(kernel, pct_of_peak=80.0)])[2:] == ["met"] * 3
    assert verdicts([dict(wide, pct_of_peak=69.9), dict(kernel, pct_of_peak=79.9)])[2:] == ["met", "missed", "missed"]
    at_parity = dict(wide, speedup_vs_torch=1.0, speedup_per_pair=[1.0] * 5)
    assert verdicts([at_parity])[2] == "missed"  # "faster" is > 1.0
    targets = bench_report.evaluate_targets([])
    assert [t["target"].split(" ", 2)[:2] for t in targets] == [["CPU:", "≥"], ["CPU:", "≥"], ["GPU:", "faster"],
                                                                ["GPU:", "≥"], ["GPU:", "elementwise"]]
    assert "85% of the measured SGEMM" in targets[1]["target"] and "4096-wide" in targets[3]["target"]
    assert [t["status"] for t in targets] == ["not measured"] * 5
    assert [t["detail"] for t in targets][2:] == ["no GPU rows in this run", "no GPU row of the 4096-wide network in this run",
                                                  "no GPU kernel rows in this run"]
    assert targets[0]["detail"] == targets[1]["detail"] == "no CPU float32 row of 784-512-512-10 at batch 256 in this run"
    no_torch = _row("mnist-mlp", MLP_DIMS, 64, "cuda:0", 0.2, None, 60_000.0)
    assert bench_report.evaluate_targets([dict(no_torch, torch_note="why")])[2]["detail"] == "PyTorch not measured: why"


def test_the_noise_flag_needs_pairs_on_both_sides_at_two_decimals():
    row = _row("mnist-mlp", MLP_DIMS, 256, "cpu", 1.0, 0.99, 10_000.0, torch_reps=(0.95, 0.97, 0.99, 1.0, 1.004))
    assert "(0.95–1.00)" in bench_report.evaluate_targets([row])[0]["detail"]
    assert "noise" not in bench_report.evaluate_targets([row])[0]["detail"]


def test_the_target_details_count_the_rows():
    slow = _row("mnist-mlp", MLP_DIMS, 64, "cuda:0", 0.2, 0.1, 60_000.0)
    fast = _row("mnist-mlp", MLP_DIMS, 256, "cuda:0", 0.1, 0.3, 60_000.0)
    no_torch = _row("mnist-mlp", MLP_DIMS, 1024, "cuda:0", 0.1, None, 60_000.0)
    detail = bench_report.evaluate_targets([slow, fast, no_torch])[2]["detail"]
    assert detail.startswith("1 of 2 rows faster; slowest ratio 0.50×")
    assert detail.endswith("; 1 GPU rows without a PyTorch measurement")
    assert "without a PyTorch" not in bench_report.evaluate_targets([slow, fast])[2]["detail"]
    kernels = [_row("sgd_update", None, 1 << 20, "cuda:0", ms, 0.02, 500.0, kind="kernel") for ms in (0.01, 1.0)]
    assert bench_report.evaluate_targets(kernels)[4]["detail"].startswith("1 of 2 rows at ≥ 80% of the measured 500 GB/s")


def test_the_table_numbers_are_rounded_as_the_readme_shows():
    assert [bench_report._ms(v) for v in (0.2, 3.344, 19.44, 99.94, 99.96, 177.3, 1946.2)] == [
        "0.200", "3.34", "19.4", "99.9", "100", "177", "1,946"]
    assert [bench_report._rate(v) for v in (100.0, 526.4, 999.6, 62_512.0, 99_960.0, 1.84e6, 2.5e9)] == [
        "100", "526", "1.00k", "62.5k", "100k", "1.84M", "2.50G"]
    assert bench_report._ms(None) == bench_report._rate(None) == bench_report._number(None) == "n/a"
    net = _row("mnist-mlp", MLP_DIMS, 256, "cpu", 5.08, 5.38, 203.8)
    kernel = _row("sgd_update", None, 1 << 20, "cpu", 0.5, None, 20.0, kind="kernel")
    lines = bench_report.results_table([net, kernel]).splitlines()[2:]
    assert lines[0].startswith(f"| mnist-mlp | cpu | float32 | 784-512-512-10 | 256 | 5.08 | 50.4k | "
                               f"{net['gflops']:,.1f} GFLOP/s | {net['pct_of_peak']:.1f}% | 47.6k | 1.06× (1.06–1.06) |")
    assert lines[1].startswith(f"| sgd_update | cpu | float32 | 1048576 | 1,048,576 | 0.500 | 2.10G | "
                               f"{kernel['gb_per_s']:,.1f} GB/s | {kernel['pct_of_peak']:.1f}% | n/a | n/a |")


def test_the_report_shows_the_measured_ceilings_and_the_machine():
    peaks = {"cpu": {"gemm_gflops": 203.84, "gemm": {"n": 2048, "dtype": "float32"}, "torch_gemm_gflops": 178.94,
                     "copy_gb_per_s": 22.43},
             "cuda:0": {"gemm_gflops": 51234.5, "gemm": {"n": 8192, "dtype": "float32"}, "torch_gemm_gflops": None,
                        "copy_gb_per_s": 3012.0}}
    assert bench_report.peaks_table(peaks).splitlines()[2:] == [
        "| cpu | float32 | 203.8 (n = 2048) | 178.9 | 22.4 |",
        "| cuda:0 | float32 | 51,234.5 (n = 8192) | n/a | 3,012.0 |",
    ]
    machine = {"cpu": {"model": "EPYC", "usable_cpus": 2, "blas_threads": 2, "torch_threads": None},
               "blas": {"name": "OpenBLAS", "version": "0.3.31"}, "gpu": None, "cuda": {"reason": "no GPU"},
               "versions": {"numpy": "2.3.0", "cupy": None, "torch": None, "deepnet_gpu": "0.1.0"}}
    assert bench_report.machine_line(machine) == (
        "CPU: EPYC, 2 usable CPUs, BLAS OpenBLAS 0.3.31 with 2 threads. GPU: none measured: no GPU. "
        "NumPy 2.3.0, CuPy not installed, PyTorch not installed, deepnet_gpu 0.1.0.")
    machine["cpu"]["torch_threads"] = 2
    machine["blas"] = {"error": "threadpoolctl is not installed"}
    machine["versions"].update(cupy="13.6.0", torch="2.13.0")
    machine["gpu"] = {"name": "NVIDIA H100", "sm_count": 132, "memory_bytes": 80 * 2**30,
                      "cuda": {"driver": "12.8", "runtime": "12.9"}}
    assert bench_report.machine_line(machine) == (
        "CPU: EPYC, 2 usable CPUs, BLAS threadpoolctl is not installed with 2 threads (PyTorch set to 2). "
        "GPU: NVIDIA H100, 132 SMs, 80 GiB, CUDA driver 12.8 / runtime 12.9. "
        "NumPy 2.3.0, CuPy 13.6.0, PyTorch 2.13.0, deepnet_gpu 0.1.0.")
    assert bench_report.machine_line(machine, torch=False) == (
        "CPU: EPYC, 2 usable CPUs, BLAS threadpoolctl is not installed with 2 threads. "
        "GPU: NVIDIA H100, 132 SMs, 80 GiB, CUDA driver 12.8 / runtime 12.9. "
        "NumPy 2.3.0, CuPy 13.6.0, deepnet_gpu 0.1.0.")
    machine["gpu"] = {"error": "CUDARuntimeError: cudaErrorNoDevice"}
    assert "GPU: CUDARuntimeError: cudaErrorNoDevice. " in bench_report.machine_line(machine)


def test_the_plot_draws_each_series_against_batch_on_log_axes(tmp_path, monkeypatch):
    figure_module = pytest.importorskip("matplotlib.figure")
    rows = [_row("mnist-mlp", MLP_DIMS, m, "cpu", 2.0, 3.0, 100.0) for m in (64, 256)]
    path = tmp_path / "speedup.png"
    assert bench_report.plot({"rows": rows}, path) == f"plot: {path}"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = []
    monkeypatch.setattr(figure_module.Figure, "savefig", lambda self, *args, **kwargs: saved.append(self))
    rows.append(_row("mnist-mlp", MLP_DIMS, 256, "cuda:0", 0.05, 1.0, 100.0))  # GPU ÷ CPU = 40×
    bench_report.plot({"rows": rows}, path)
    axes = saved[0].axes[0]
    lines = {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in axes.get_lines()}
    assert lines["ours ÷ PyTorch (cpu)"] == ([64, 256], [1.5, 1.5]) and lines["ours: GPU ÷ CPU"] == ([256], [40.0])
    assert any(ys == [1.0, 1.0] for label, (_, ys) in lines.items() if label.startswith("_"))  # the parity line
    assert (axes.get_xscale(), axes.get_yscale()) == ("log", "log") and list(axes.get_xticks()) == [64, 256]
    assert axes.get_title() == "784-512-512-10 training step, float32" and axes.get_legend() is not None
    assert axes.get_xlabel() == "batch size m" and axes.get_ylabel() == "speedup (ratio of samples/s)"
    saved.clear()
    bench_report.plot({"rows": rows[:2]}, path)
    assert saved[0].axes[0].get_yscale() == "linear"


def test_the_repeats_option_takes_five_and_the_devices_asked_for(monkeypatch, no_gpu):
    parser = argparse.ArgumentParser()
    benchmark.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.device, args.dtype, args.repeats, args.seed) == ("all", "float32", 5, 0)
    assert parser.parse_args(["--repeats", "5"]).repeats == 5
    monkeypatch.setattr(benchmark, "get_backend", lambda name: name)
    assert benchmark._backends("cpu") == (["cpu"], {})
    assert benchmark._backends("all") == (["cpu"], {"cuda": no_gpu.reason})
    monkeypatch.setattr(benchmark, "cuda_status", lambda: CudaStatus(True, "", "", "14.0.0", 1))
    assert benchmark._backends("all") == (["cpu", "cuda"], {})


def test_the_recorded_command_repeats_the_run():
    parser = argparse.ArgumentParser()
    benchmark.add_arguments(parser)
    args = parser.parse_args(["--device", "cpu", "--quick", "--repeats", "7", "--json", "r.json", "--plot", "p.png"])
    assert benchmark.command_line(args) == (
        "deepnet bench --device cpu --dtype float32 --repeats 7 --seed 0 --quick --json r.json --plot p.png")


def test_a_run_against_a_stand_in_pytorch_fills_the_torch_columns(tiny, no_gpu, monkeypatch, tmp_path, capsys):
    """The PyTorch-compared path of the runner without PyTorch installed: a stand-in side whose
    clock says 0.5 ms per step."""
    log = []

    class Clock:
        kind = "fake"

        def elapsed_ms(self, fn, count):
            for _ in range(count):
                fn()
            return 0.5 * count

    class Run:
        def first(self):
            log.append("first")

        def __call__(self):
            pass

        def check(self):
            log.append("check")

    class Side:
        usable, reason, clock = True, "", Clock()

        def __init__(self, torch, reason, device):
            self.synchronize = lambda: None

        def build(self, workload, dtype, seed):
            return Run()

        def gemm_gflops(self, n, dtype, repeats, min_rep_ms):
            return 123.0

    fake_torch = types.SimpleNamespace(
        __version__="0.0-fake", get_num_threads=lambda: 1, set_num_threads=lambda n: None,
        backends=types.SimpleNamespace(cuda=types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False))))
    monkeypatch.setattr(bench_torch, "load", lambda: (fake_torch, ""))
    monkeypatch.setattr(bench_torch, "TorchSide", Side)
    for ours in (OursKernel, OursNetwork):
        monkeypatch.setattr(ours, "check", lambda self: log.append("ours check"))
    path, markdown, png = tmp_path / "bench.json", tmp_path / "bench.md", tmp_path / "bench.png"
    assert run_bench(["--device", "all", "--json", str(path), "--markdown", str(markdown), "--plot", str(png)]) == 0
    result = json.loads(path.read_text())
    assert result["peaks"]["cpu"]["torch_gemm_gflops"] == 123.0 and result["skipped"] == {"cuda": no_gpu.reason}
    assert "cpu: tiny catalogue" in result["notes"]
    machine = result["machine"]
    assert machine["versions"]["torch"] == "0.0-fake" and machine["tf32"]["torch_allow_tf32"] is False
    assert machine["cpu"]["torch_threads"] == machine["cpu"]["blas_threads"] and machine["gpu"] is None
    assert not any("PyTorch columns are n/a" in note for note in result["notes"])
    assert log == ["first", "ours check", "check"] * len(TINY)
    for row, workload in zip(result["rows"], TINY):
        assert row["torch_ms_per_step"] == 0.5 and row["torch_rep_ms"] == [0.5] * 5 and row["torch_first_step_ms"] > 0
        assert row["speedup_vs_torch"] == pytest.approx(0.5 / row["ms_per_step"])
        assert row["speedup_per_pair"] == pytest.approx([0.5 / o for o in row["rep_ms"]])
        samples = workload.batch if workload.kind == "network" else workload.elements
        assert row["samples_per_s"] == pytest.approx(samples / row["ms_per_step"] * 1e3)
        assert row["torch_samples_per_s"] == pytest.approx(samples / 0.5 * 1e3) and row["torch_note"] == ""
    assert result["targets"][0]["status"] == ("met" if result["rows"][1]["speedup_vs_torch"] >= 1.0 else "missed")
    out = capsys.readouterr().out
    assert f"cuda: not measured: {no_gpu.reason}" in out and f"{result['rows'][1]['speedup_vs_torch']:.2f}× PyTorch" in out
    report = markdown.read_text()
    assert "cpu: GEMM " in out and report in out and f"JSON: {path}" in out and f"markdown: {markdown}" in out
    assert "| 123.0 |" in report and "## Targets" in report
    if importlib.util.find_spec("matplotlib"):
        assert png.exists() and f"plot: {png}" in out


def test_the_catalogue_is_the_readme_list():
    workloads, notes = catalogue("cuda", quick=False)
    assert [(w.name, w.dims, w.batch) for w in workloads if w.kind == "network"] == [
        ("cat-net", (12288, 20, 7, 5, 1), 209), *[("mnist-mlp", MLP_DIMS, m) for m in (64, 256, 1024, 8192)],
        ("wide-4096", (4096,) * 5, 8192)]
    kernels = [w for w in workloads if w.kind == "kernel"]
    assert sorted({w.elements for w in kernels}) == [1 << 20, 1 << 22, 1 << 24, 1 << 26] and len(kernels) == 16
    assert {w.shape for w in kernels if w.elements == 1 << 20} == {(1024, 1024), (1 << 20,)}
    assert [w.shape for w in kernels if w.kernel == "sgd_update"][0] == (1 << 20,)
    cpu, notes = catalogue("cpu", quick=False)
    assert max(w.elements for w in cpu if w.kind == "kernel") == 1 << 24
    assert any(note.startswith("wide-4096: batch scaled from 8192 to 1024") and "is 3.3 TFLOP" in note for note in notes)
    assert any("stop at 16M elements" in note and note.endswith("(64M not measured)") for note in notes)
    quick, notes = catalogue("cpu", quick=True)
    assert any(note.startswith("--quick:") for note in notes)
    assert [w.batch for w in quick if w.kind == "network" and w.dims == MLP_DIMS] == [256]


def test_the_kernel_data_are_what_the_kernels_read():
    relu = KernelWorkload("b", "activation_backward_from_a", 1 << 12, "relu").data(0, np.float32)
    sigmoid = KernelWorkload("b", "activation_backward_from_a", 1 << 12, "sigmoid").data(0, np.float32)
    assert relu["A"].min() == 0 and relu["A"].max() > 1 and sigmoid["A"].shape == (1024, 4)
    assert 0 < sigmoid["A"].min() and sigmoid["A"].max() < 1 and abs(float(sigmoid["A"].mean()) - 0.5) < 0.05
    forward = KernelWorkload("f", "bias_activation_forward", 1 << 12, "relu").data(0, np.float32)
    assert forward["Z"].shape == (1024, 4) and forward["b"].shape == (1024, 1)


def test_our_side_times_real_training_steps_and_kernel_calls():
    cpu = backend.get_backend("cpu")
    run = OursNetwork(NetworkWorkload("tiny", (8, 4, 3), 16), cpu, "float32", 0)
    before = run.net.parameters
    run.first()
    after_first = float(run.epoch_cost)
    assert after_first > 0 and any(not np.array_equal(before[k], v) for k, v in run.net.parameters.items())
    run()
    assert float(run.epoch_cost) > after_first and float(run.guard) == 0
    run.check()
    run.guard[...] = np.nan
    with pytest.raises(RuntimeError, match="diverged"):
        run.check()

    calls = []

    class Ops:
        def recorded(self, name, *args):
            calls.append(("recorded " + name, args))
            return None, [lambda: calls.append((name, args))]

    fake = types.SimpleNamespace(asarray=np.asarray, ops=Ops())
    for kernel, activation, at, value in (("bias_activation_forward", "relu", 3, RELU),
                                          ("activation_backward_from_a", "sigmoid", 3, SIGMOID),
                                          ("sgd_update", None, 2, LEARNING_RATE)):
        calls.clear()
        one = OursKernel(KernelWorkload(kernel, kernel, 1 << 12, activation), fake, np.float32, 0)
        one.first()
        one()
        assert [name for name, _ in calls] == ["recorded " + kernel, kernel]
        args = calls[0][1]
        assert args[at] == value
        if kernel == "bias_activation_forward":
            assert args[0] is args[2]  # in place: A is Z


def test_a_kernel_row_replays_the_recorded_launch_on_the_same_arrays():
    cpu = backend.get_backend("cpu")
    one = OursKernel(KernelWorkload("sgd_update", "sgd_update", 1 << 12), cpu, np.float32, 0)
    _, params, grads, _, _ = one._call
    start = params.copy()
    one.first()
    one()
    one()
    np.testing.assert_allclose(params, start - 3 * np.float32(LEARNING_RATE) * grads, rtol=1e-5)


@pytest.mark.gpu
@pytest.mark.skipif(not backend.cuda_status().usable, reason="needs a usable CUDA GPU through CuPy")
def test_a_gpu_kernel_row_replays_its_launch_without_the_checking_path(monkeypatch):
    cuda = backend.get_backend("cuda")
    with cuda.device_scope():
        one = OursKernel(KernelWorkload("sgd_update", "sgd_update", 1 << 12), cuda, np.float32, 0)
        _, params, grads, _, _ = one._call
        start = cuda.to_numpy(params).copy()
        one.first()
        monkeypatch.setattr(type(cuda.ops), "sgd_update", lambda *args: pytest.fail("the checking path ran"))
        one()
        one()
    expected = start - 3 * np.float32(LEARNING_RATE) * cuda.to_numpy(grads)
    np.testing.assert_allclose(cuda.to_numpy(params), expected, rtol=1e-5)


def test_the_host_clock_and_time_once_synchronise_around_the_calls():
    log = []

    def call():
        log.append("call")
        time.sleep(0.01)

    clock = bench_timing.HostClock(lambda: log.append("sync"))
    start = time.perf_counter()
    ms = clock.elapsed_ms(call, 3)
    wall = (time.perf_counter() - start) * 1e3
    assert log == ["sync", "call", "call", "call", "sync"] and 30 <= ms <= wall
    log.clear()
    start = time.perf_counter()
    ms = bench_timing.time_once(call, lambda: log.append("sync"))
    wall = (time.perf_counter() - start) * 1e3
    assert log == ["sync", "call", "sync"] and 10 <= ms <= wall


def test_clock_for_picks_cuda_events_on_a_gpu():
    cuda = types.SimpleNamespace(Event=object(), get_elapsed_time=object())
    gpu = types.SimpleNamespace(name="cuda", xp=types.SimpleNamespace(cuda=cuda), synchronize=object())
    clock = bench_timing.clock_for(gpu)
    assert isinstance(clock, bench_timing.EventClock) and clock.kind == "cuda_events"
    assert (clock.make_event, clock.elapsed, clock.synchronize) == (cuda.Event, cuda.get_elapsed_time, gpu.synchronize)
    assert isinstance(bench_timing.clock_for(backend.get_backend("cpu")), bench_timing.HostClock)


def test_the_warm_up_doubles_to_250_ms_and_a_repetition_fills_20_ms():
    class Clock:
        kind = "fake"
        batches = []

        def elapsed_ms(self, fn, count):
            self.batches.append(count)
            return 2.0 * count

    clock = Clock()
    timing = bench_timing.measure(lambda: None, clock)
    assert clock.batches[:7] == [1, 2, 4, 8, 16, 32, 64]  # 254 ms of warm-up: the first total >= 250
    assert clock.batches[7:] == [10] * 5 and timing.calls_per_rep == 10 and timing.ms == 2.0
    with pytest.raises(ValueError, match="at least 5"):
        bench_timing.measure_pair(lambda: None, clock, lambda: None, clock, repeats=4)


def test_the_ceilings_count_2n3_flops_and_a_copys_read_and_write(monkeypatch):
    assert bench_machine.GEMM_SIZE == {"cpu": 2048, "cuda": 8192}
    assert bench_machine.COPY_ELEMENTS == {"cpu": 1 << 25, "cuda": 1 << 28}
    monkeypatch.setattr(bench_machine, "GEMM_SIZE", {"cpu": 64})
    monkeypatch.setattr(bench_machine, "COPY_ELEMENTS", {"cpu": 1 << 10})

    class Clock:  # 4 ms per call, whatever the call
        kind = "fake"

        def elapsed_ms(self, fn, count):
            for _ in range(count):
                fn()
            return 4.0 * count

    peaks = bench_machine.measure_peaks(backend.get_backend("cpu"), "float64", Clock(), 5)
    assert peaks["gemm_gflops"] == pytest.approx(2 * 64**3 / 4.0 / 1e6)
    assert peaks["copy"]["bytes_moved"] == 2 * 1024 * 8
    assert peaks["copy_gb_per_s"] == pytest.approx(2 * 1024 * 8 / 4.0 / 1e6)
    assert peaks["gemm"] == {"n": 64, "dtype": "float64", "ms": 4.0, "rep_ms": [4.0] * 5}


def test_blas_threads_come_from_the_first_thread_variable_set(monkeypatch):
    for name in bench_machine.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(bench_machine.info, "cpu_info", lambda: {"usable_cpus": 6})
    assert bench_machine.blas_threads()[0] == 6
    monkeypatch.setenv("OMP_NUM_THREADS", "0")
    assert bench_machine.blas_threads()[0] == 6
    monkeypatch.setenv("MKL_NUM_THREADS", "1")
    assert bench_machine.blas_threads() == (1, "$MKL_NUM_THREADS")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", " 2 ")
    assert bench_machine.blas_threads() == (2, "$OPENBLAS_NUM_THREADS")


def test_nvidia_smi_fields_are_read_back_by_name(monkeypatch):
    monkeypatch.setattr(bench_machine.shutil, "which", lambda name: None)
    assert bench_machine.nvidia_smi(0) == {"error": "nvidia-smi is not on PATH"}
    monkeypatch.setattr(bench_machine.shutil, "which", lambda name: "/usr/bin/nvidia-smi")
    seen = []

    def fake_run(command, **kwargs):
        seen.append(command)
        return types.SimpleNamespace(stdout="NVIDIA H100, 570.1, 1980 MHz, 1980 MHz, 2619 MHz, 700.00 W\n")

    monkeypatch.setattr(bench_machine.subprocess, "run", fake_run)
    assert bench_machine.nvidia_smi(1) == {"name": "NVIDIA H100", "driver_version": "570.1", "clocks.sm": "1980 MHz",
                                           "clocks.max.sm": "1980 MHz", "clocks.mem": "2619 MHz",
                                           "power.limit": "700.00 W"}
    assert seen[0][:2] == ["nvidia-smi", "--id=1"]

    def failing_run(command, **kwargs):
        raise subprocess.TimeoutExpired(command, 20)

    monkeypatch.setattr(bench_machine.subprocess, "run", failing_run)
    assert bench_machine.nvidia_smi(0)["error"].startswith("TimeoutExpired")

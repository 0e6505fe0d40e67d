"""The benchmark runner's logic on the CPU, on tiny workloads: counting, timing, rows, report, targets, errors."""

import argparse
import json
import sys

import pytest

from deepnet_gpu import (
    backend,
    bench_machine,
    bench_report,
    bench_timing,
    bench_torch,
    benchmark,
)
from deepnet_gpu.backend import CudaStatus
from deepnet_gpu.bench_timing import Timing
from deepnet_gpu.bench_workloads import (
    CAT_DIMS,
    MLP_DIMS,
    WIDE_DIMS,
    KernelWorkload,
    NetworkWorkload,
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
    parser = argparse.ArgumentParser()
    benchmark.add_arguments(parser)
    return benchmark.run(parser.parse_args(argv))


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
    assert err.startswith("deepnet bench: error: device='cuda' needs a usable GPU") and "cudaErrorNoDevice" in err


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
    assert run_bench(["--device", "cpu", "--json", str(path), "--plot", str(tmp_path / "plot.png")]) == 0
    result = json.loads(path.read_text())
    for row in result["rows"]:
        assert row["torch_ms_per_step"] is None and row["speedup_vs_torch"] is None
        assert row["torch_note"].startswith("PyTorch is not installed")
    assert result["machine"]["versions"]["torch"] is None and result["peaks"]["cpu"]["torch_gemm_gflops"] is None
    assert result["targets"][0]["status"] == "not measured" and "PyTorch not measured" in result["targets"][0]["detail"]
    assert result["targets"][1]["status"] in ("met", "missed")
    assert "| n/a | n/a |" in bench_report.results_table(result["rows"])
    assert "- PyTorch columns are n/a: PyTorch is not installed" in bench_report.markdown(result)
    assert not (tmp_path / "plot.png").exists()


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


def test_the_plot_without_matplotlib_says_so(monkeypatch, tmp_path):
    rows = [_row("mnist-mlp", MLP_DIMS, 64, "cpu", 2.0, 3.0, 100.0)]
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    message = bench_report.plot({"rows": rows}, tmp_path / "p.png")
    assert "matplotlib is not installed" in message and not (tmp_path / "p.png").exists()


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

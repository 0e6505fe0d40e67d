"""The step breakdown (deepnet_gpu.bench_breakdown): every GEMM and kernel call of a step is marked
and labelled, the parts add up to the step, the marks leave the math alone, and the command writes
its report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepnet_gpu import bench_breakdown
from deepnet_gpu.backend import Backend, cuda_status, get_backend
from deepnet_gpu.bench_workloads import NetworkWorkload, OursNetwork
from tests.host_harness import HostKernels, host_kernels_available

SOFTMAX_NET = NetworkWorkload("tiny-softmax", (6, 5, 4, 3), 17)
SIGMOID_NET = NetworkWorkload("tiny-sigmoid", (6, 5, 1), 9)


def expected_calls(dims, m):
    """What one step runs: per layer a forward GEMM and kernel; the loss, the cost and dZ[L];
    per layer dW and db, and dA and its kernel below the top layer; one update."""
    L = len(dims) - 1
    calls = {"bias_activation_forward": L - 1 if dims[-1] > 1 else L, "loss_terms": 1, "accumulate_cost": 1,
             "output_gradient": 1, "activation_backward_from_a": L - 1, "sgd_update": 1}
    if dims[-1] > 1:
        calls["bias_softmax"] = 1
    for l in range(1, L + 1):
        for label in (f"gemm N·N → {dims[l]}×{m}", f"gemm N·T → {dims[l]}×{dims[l - 1]}", f"gemm N·N → {dims[l]}×1"):
            calls[label] = calls.get(label, 0) + 1
        if l > 1:
            label = f"gemm T·N → {dims[l - 1]}×{m}"
            calls[label] = calls.get(label, 0) + 1
    return calls


@pytest.mark.parametrize("workload", [SOFTMAX_NET, SIGMOID_NET], ids=lambda w: w.name)
def test_every_call_of_a_step_is_a_labelled_part_and_the_parts_add_up(workload):
    result = bench_breakdown.breakdown(workload, get_backend("cpu"), "float64", seed=1, steps=5)
    assert {part["label"]: part["calls"] for part in result["parts"]} == expected_calls(workload.dims, workload.batch)
    assert result["parts"][0]["label"] == f"gemm N·N → {workload.dims[1]}×{workload.batch}"
    assert result["parts"][-1]["label"] == "sgd_update"
    assert all(part["ms"] >= 0 for part in result["parts"])
    assert sum(part["share"] for part in result["parts"]) == pytest.approx(1.0)
    assert (result["name"], result["batch"], result["steps"], result["dims"]) == (workload.name, workload.batch, 5,
                                                                                   list(workload.dims))


@pytest.mark.skipif(not host_kernels_available(), reason="the host harness needs g++ (or $CXX)")
def test_the_host_kernels_show_the_same_parts():
    result = bench_breakdown.breakdown(SOFTMAX_NET, Backend(ops=HostKernels()), "float32", seed=1, steps=2)
    assert {part["label"]: part["calls"] for part in result["parts"]} == expected_calls(SOFTMAX_NET.dims, 17)


def test_a_marked_step_computes_what_an_unmarked_one_does():
    backend = get_backend("cpu")
    marks = bench_breakdown.marks_for(backend)
    runs = [OursNetwork(SOFTMAX_NET, backend, "float64", 3) for _ in range(2)]
    for run, after_call in zip(runs, (None, marks.mark)):
        run.first()
        marks.start()
        run(after_call=after_call)
    np.testing.assert_array_equal(runs[1].net._flat, runs[0].net._flat)
    assert float(runs[1].epoch_cost) == float(runs[0].epoch_cost)
    assert len(marks.parts()) == sum(expected_calls(SOFTMAX_NET.dims, SOFTMAX_NET.batch).values())


def test_the_marks_measure_the_interval_before_each_mark():
    clock = iter([10.0, 10.5, 12.0, 12.25, 20.0, 20.25, 21.0, 23.0])
    made = []

    class Event:
        def __init__(self):
            made.append(self)

        def record(self):
            self.at = next(clock)

        def synchronize(self):
            pass

    marks = bench_breakdown.Marks(Event, lambda start, end: (end.at - start.at) * 1e3)
    for expected in ([("a", 500.0), ("b", 1500.0), ("a", 250.0)], [("a", 250.0), ("b", 750.0), ("a", 2000.0)]):
        marks.start()
        for label in ("a", "b", "a"):
            marks.mark(label)
        assert marks.parts() == expected
    assert len(made) == 4  # made in the first step, recorded again in the second


def test_the_command_writes_its_report(tmp_path, capsys):
    json_path, markdown_path = tmp_path / "breakdown.json", tmp_path / "breakdown.md"
    status = bench_breakdown.main(["--device", "cpu", "--quick", "--steps", "1", "--json", str(json_path),
                                   "--markdown", str(markdown_path)])
    assert status == 0
    results = json.loads(json_path.read_text())
    assert [result["name"] for result in results["workloads"]] == ["cat-net", "mnist-mlp"]
    command = results["machine"]["command"]
    assert command.startswith("python -m deepnet_gpu.bench_breakdown --device cpu --dtype float32 --steps 1")
    assert "--quick" in command and f"--json {json_path}" in command
    assert results["machine"]["gpu"] is None and results["machine"]["versions"]["numpy"] == np.__version__
    report = markdown_path.read_text()
    assert report.startswith(f"# deepnet_gpu step breakdown, {results['machine']['date']}\n\nCommand: `{command}`")
    assert "CPU: " in report and "PyTorch" not in report
    assert "### cat-net [12288-20-7-5-1], batch 209, float32 on cpu" in report
    assert "| gemm N·T → 20×12288 | 1 |" in report
    assert report in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "--steps"),
    (["--json", "/no/such/folder/b.json"], "--json"),
])
def test_bad_arguments_are_refused_before_any_work(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        bench_breakdown.main(["--device", "cpu", *argv])
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.skipif(cuda_status().usable, reason="a usable GPU is present")
def test_without_a_gpu_the_cuda_breakdown_says_why(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench_breakdown.main([])
    assert exit_info.value.code == 2
    assert "error: argument --device: device='cuda' needs a usable GPU" in capsys.readouterr().err

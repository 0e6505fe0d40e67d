"""benchmarks/gpu_session.sh, the one command of a GPU session, run here with stand-ins for the GPU
tools: it checks its steps, runs each sanitizer tool under its time limit and logs every step."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "gpu_session.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None,
                                reason="needs bash and coreutils' timeout")

STAND_IN = """#!/bin/sh
echo "$0 $* CUPY_ACCELERATORS=${CUPY_ACCELERATORS-unset}" >> "$CALLS"
[ "$2" != "$FAIL_TOOL" ]
"""

PYTHON_STAND_IN = """#!/bin/sh
echo "python3 $* CUPY_ACCELERATORS=${CUPY_ACCELERATORS-unset}" >> "$PYTHON_CALLS"
[ -z "$FAIL_PYTHON" ]
"""


def stand_in(tools: Path, name: str, text: str):
    tools.mkdir(exist_ok=True)
    path = tools / name
    path.write_text(text)
    path.chmod(0o755)


def run_session(tmp_path, *steps, **environment):
    tools = tmp_path / "bin"
    stand_in(tools, "compute-sanitizer", STAND_IN)
    stand_in(tools, "python3", PYTHON_STAND_IN)
    calls, python_calls = tmp_path / "calls", tmp_path / "python-calls"
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "CALLS": str(calls), "PYTHON_CALLS": str(python_calls),
           "FAIL_TOOL": "", "FAIL_PYTHON": "", **environment}
    out = tmp_path / "out"
    result = subprocess.run(["bash", str(SCRIPT), str(out), *steps], cwd=REPO, env=env, capture_output=True, text=True)
    lines = calls.read_text().splitlines() if calls.exists() else []
    result.python_calls = python_calls.read_text().splitlines() if python_calls.exists() else []
    return result, lines, out


def test_an_unknown_step_is_refused_before_anything_runs(tmp_path):
    result, calls, out = run_session(tmp_path, "sanitizer", "benchh")
    assert result.returncode == 2
    assert "unknown step 'benchh'; the steps are: machine gpu-tests tests sanitizer" in result.stderr
    assert calls == [] and not out.exists()


def test_the_sanitizer_step_runs_the_four_tools_and_logs_them(tmp_path):
    result, calls, out = run_session(tmp_path, "sanitizer")
    assert result.returncode == 0, result.stdout + result.stderr
    assert [call.split()[2] for call in calls] == ["memcheck", "initcheck", "racecheck", "synccheck"]
    assert all("--error-exitcode 1 python3 benchmarks/sanitizer_workload.py" in call for call in calls)
    assert [call.rsplit(" ", 1)[1] for call in calls] == ["CUPY_ACCELERATORS=unset", "CUPY_ACCELERATORS=",
                                                           "CUPY_ACCELERATORS=unset", "CUPY_ACCELERATORS=unset"]
    log = (out / "session.log").read_text()
    assert "timeout 140 compute-sanitizer --tool racecheck" in log
    assert result.stdout.count("exit 0 after") == 5
    assert result.stdout.startswith("sanitizer-warm-up: exit 0")
    assert result.python_calls == ["python3 benchmarks/sanitizer_workload.py CUPY_ACCELERATORS=unset",
                               "python3 benchmarks/sanitizer_workload.py CUPY_ACCELERATORS="]


def test_a_failing_warm_up_fails_the_session_and_the_tools_still_run(tmp_path):
    result, calls, _ = run_session(tmp_path, "sanitizer", FAIL_PYTHON="1")
    assert result.returncode == 1
    assert "sanitizer-warm-up: exit 1" in result.stdout and len(calls) == 4


def test_a_failing_tool_fails_the_session_and_the_others_still_run(tmp_path):
    result, calls, _ = run_session(tmp_path, "sanitizer", FAIL_TOOL="racecheck", SANITIZER_LIMIT_S="30")
    assert result.returncode == 1
    assert len(calls) == 4
    assert "racecheck: exit 1" in result.stdout and "synccheck: exit 0" in result.stdout


def test_a_tool_that_runs_past_its_limit_is_stopped(tmp_path):
    tools = tmp_path / "bin"
    stand_in(tools, "compute-sanitizer", "#!/bin/sh\nsleep 30\n")
    stand_in(tools, "python3", "#!/bin/sh\n")
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "SANITIZER_LIMIT_S": "1"}
    result = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out"), "sanitizer"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout.count("exit 124") == 4


def test_the_machine_step_ends_on_the_cuda_backend_so_an_unusable_gpu_fails_the_session(tmp_path):
    stand_in(tmp_path / "bin", "nvidia-smi", "#!/bin/sh\necho 'NVIDIA H100'\n")
    result, _, out = run_session(tmp_path, "machine")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.python_calls[-1].startswith("python3 -c from deepnet_gpu.backend import get_backend; ")
    assert 'get_backend("cuda")' in result.python_calls[-1]
    assert "NVIDIA H100" in (out / "session.log").read_text()
    failing, _, _ = run_session(tmp_path, "machine", FAIL_PYTHON="1")
    assert failing.returncode == 1 and "machine: exit 1" in failing.stdout

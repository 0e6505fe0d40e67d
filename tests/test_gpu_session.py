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


def run_session(tmp_path, *steps, **environment):
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    stand_in = tools / "compute-sanitizer"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    calls = tmp_path / "calls"
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "CALLS": str(calls), "FAIL_TOOL": "", **environment}
    out = tmp_path / "out"
    result = subprocess.run(["bash", str(SCRIPT), str(out), *steps], cwd=REPO, env=env, capture_output=True, text=True)
    lines = calls.read_text().splitlines() if calls.exists() else []
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
    assert result.stdout.count("exit 0 after") == 4


def test_a_failing_tool_fails_the_session_and_the_others_still_run(tmp_path):
    result, calls, _ = run_session(tmp_path, "sanitizer", FAIL_TOOL="racecheck", SANITIZER_LIMIT_S="30")
    assert result.returncode == 1
    assert len(calls) == 4
    assert "racecheck: exit 1" in result.stdout and "synccheck: exit 0" in result.stdout


def test_a_tool_that_runs_past_its_limit_is_stopped(tmp_path):
    tools = tmp_path / "bin"
    tools.mkdir()
    slow = tools / "compute-sanitizer"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    env = {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "SANITIZER_LIMIT_S": "1"}
    result = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out"), "sanitizer"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout.count("exit 124") == 4

"""A real campaign interrupted (Ctrl-C or SIGTERM) and resumed: finished reps are not rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from builder.run.probe import host_tools

pytestmark = pytest.mark.integration

CHILD = Path(__file__).with_name("campaign_child.py")


def _child_env(tmp_path: Path) -> dict[str, str]:
    # The stand-in "image" finds the same C ping-pong on PATH as the host.
    tools = host_tools(tmp_path / "runs" / ".cache")
    if tools["pingpong"] is None:
        pytest.skip("mpicc is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "pingpong").symlink_to(tools["pingpong"][0])
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def _processes_using(folder: Path) -> list[str]:
    """Live processes whose program or command line lies under ``folder`` (zombies excluded)."""
    found = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if "State:\tZ" in (proc / "status").read_text():
                    continue
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                exe = os.readlink(proc / "exe")
            except OSError:
                continue
            if str(folder) in command or exe.startswith(str(folder)):
                found.append(f"{proc.name}: {command}")
        if not found:
            break
        time.sleep(0.2)  # a SIGKILLed group may take a moment to disappear
    return found


def _records(run_dir: Path) -> dict[str, dict[str, object]]:
    return {
        str(path.parent.relative_to(run_dir)): json.loads(path.read_text())
        for path in sorted(run_dir.glob("*/*/*/record.json"))
    }


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_campaign_resumes_without_rerunning_finished_reps(
    tmp_path: Path, stop: signal.Signals
) -> None:
    env = _child_env(tmp_path)
    runs = tmp_path / "runs"
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(runs)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(runs.glob("*/*/*/*/record.json"))) < 3:
            assert child.poll() is None, child.communicate()
            time.sleep(0.05)
        child.send_signal(stop)
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    # The interrupted campaign stopped its running job's whole process group.
    assert _processes_using(tmp_path) == []
    (run_dir,) = [p for p in runs.iterdir() if p.name != ".cache"]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    before = _records(run_dir)
    assert 3 <= len(before) < 8

    done = subprocess.run(
        [sys.executable, str(CHILD), str(runs), str(run_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    after = _records(run_dir)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "complete"
    assert len(after) == 8  # 2 logging runs + 3 reps x 2 modes
    for rep, record in before.items():
        assert after[rep]["started"] == record["started"], f"{rep} was run again"
    for rep in set(after) - set(before):
        assert after[rep]["returncode"] == 0, rep
    # No process of the campaign survived it.
    assert child.returncode is not None

"""`storecast serve`'s supervisor, with real child processes: a crash is restarted, a crash
loop stops everything and exits non-zero with the child's last error."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.processes import ROOT

SUPERVISE = """
import sys
from server.settings import Settings
from server.supervisor import Child, CrashPolicy, Supervisor

children = [Child(name, [sys.executable, "-c", code], dict()) for name, code in {children!r}]
policy = CrashPolicy(first_backoff_s=0.01, give_up_after=5, window_s=60)
Supervisor(Settings(), policy=policy).watch(children)
"""


def supervise(children: dict[str, str]) -> subprocess.Popen[str]:
    script = SUPERVISE.format(children=list(children.items()))
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def until(condition: Callable[[], bool], within: float = 30.0) -> None:
    """Wait for a condition another process makes true; fail after `within`."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not within {within} s"
        time.sleep(0.05)


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def sleeper(pid_file: Path) -> str:
    return f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)"


def test_a_child_that_keeps_crashing_stops_everything_with_its_last_error(tmp_path: Path) -> None:
    pid_file = tmp_path / "steady.pid"
    crasher = "import sys; print('cannot bind 0.0.0.0:8000', file=sys.stderr); sys.exit(3)"
    supervisor = supervise({"steady": sleeper(pid_file), "crasher": crasher})
    _, stderr = supervisor.communicate(timeout=60)
    assert supervisor.returncode == 1
    assert "gave up after 5 crashes: crasher exited 3" in stderr
    assert "cannot bind 0.0.0.0:8000" in stderr.split("gave up")[-1]
    assert not running(int(pid_file.read_text()))


def test_a_single_crash_is_restarted_and_the_supervisor_keeps_running(tmp_path: Path) -> None:
    crashed_once, restarted = tmp_path / "crashed-once", tmp_path / "restarted.pid"
    flaky = (
        "import os, sys, time, pathlib\n"
        f"crashed = pathlib.Path({str(crashed_once)!r})\n"
        "if not crashed.exists():\n"
        "    crashed.touch(); sys.exit(1)\n"
        f"open({str(restarted)!r}, 'w').write(str(os.getpid())); time.sleep(600)\n"
    )
    supervisor = supervise({"flaky": flaky})
    try:
        until(lambda: restarted.exists() and restarted.read_text() != "")
        assert supervisor.poll() is None
    finally:
        supervisor.send_signal(signal.SIGTERM)
        supervisor.communicate(timeout=30)
    assert supervisor.returncode == 0
    assert not running(int(restarted.read_text()))

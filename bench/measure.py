"""What the benchmarks measure besides their own figures: CPU per process, from /proc, and
percentiles."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """CPU time of one process; pid 0: busy time of the whole machine (all cores)."""
    if pid == 0:
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # - idle, iowait
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_percent(used_seconds: dict[str, float], elapsed: float) -> dict[str, float]:
    """Percent of one core per process, and "other": what else kept the cores busy meanwhile
    (other programs, interrupts, the idle system's processes), which should be near 0."""
    used = {name: 100 * seconds / elapsed for name, seconds in used_seconds.items()}
    used["other"] = used.pop("machine") - sum(used.values())
    return used


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_text(cpu: dict[str, float]) -> str:
    return " ".join(f"{name} {value:.0f}%" for name, value in cpu.items())

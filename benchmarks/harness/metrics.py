"""CPU time, memory and open files of processes, and the machine's load, from /proc."""

from __future__ import annotations

import os
import re
from pathlib import Path


def cpu_seconds(pids: list[int]) -> float | None:
    """utime + stime of the processes (all their threads), in seconds."""
    if not pids:
        return None
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # fields 14 and 15 of stat
    return total


def machine_cpu() -> list[int]:
    """The machine's CPU time counters (all cores): user nice system idle iowait irq ..."""
    try:
        return [
            int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        ]
    except (OSError, ValueError):
        return []


def machine_load(before: list[int], after: list[int]) -> dict[str, float]:
    """Busy and I/O-wait share of all cores between two machine_cpu() readings, in percent."""
    if not before or len(before) != len(after):
        return {}
    delta = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(delta[:8]) or 1
    idle, iowait = delta[3], delta[4]
    return {
        "machine_busy_pct": round(100 * (total - idle - iowait) / total, 1),
        "machine_iowait_pct": round(100 * iowait / total, 1),
    }


def memory_mb(pids: list[int], field: str) -> float | None:
    """VmHWM (peak resident) or VmRSS of the processes, summed, in MB."""
    if not pids:
        return None
    total = 0.0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None
        found = re.search(rf"^{field}:\s+(\d+) kB", status, re.M)
        if not found:
            return None
        total += int(found[1]) / 1024
    return round(total, 1)


def open_fds(pid: int) -> int | None:
    """Open file descriptors of the process (entries of /proc/PID/fd)."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None

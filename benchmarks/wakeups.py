"""What the machine charges for the steps a vote takes beyond the bare stack, in CPU.

    python -m benchmarks.wakeups

The floor benchmark (floor_server.py) puts polling's CPU per vote next to the bare stack's.
Beyond the floor, a vote in polling wakes the event loop for its batch, hands the batch to an
OS thread and back, and commits it to disk before the phone gets its "✓". What each of those
costs in CPU depends on the machine far more than on the code: on a host where a system call
or a thread wake-up is expensive (a sandbox, a small virtual machine), these steps are a larger
share of a vote. This measures each one alone, in a fresh process, as microseconds of the
process's CPU (user + system) per step; the last line on stdout is one JSON object.

- `sleep_plain_us`: one `time.sleep(0.01)` of a plain Python thread: the cost of one wake-up;
- `sleep_loop_us`: one `eventlet.sleep(0.01)`: one turn of the event loop woken by a timer;
- `thread_round_trip_us`: one `tpool.execute()` of a function that does nothing, on top of
  its turn of the loop: the hand-over to an OS thread and back, as the vote writer does;
- `commit_full_us` / `commit_normal_us`: one SQLite transaction of one upsert in WAL mode,
  `synchronous=FULL` (what polling uses: a committed vote survives a power cut) or NORMAL.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

STEPS = 500
KINDS = ("plain", "loop", "full", "normal")


def cpu_seconds() -> float:
    # getrusage, not the harness's /proc reading: its clock ticks (10 ms) are coarser than
    # all 500 steps of a cheap commit together.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def per_step_us(step: Callable[[], object], steps: int = STEPS) -> float:
    """Microseconds of CPU per call of `step`, after one call to warm up."""
    step()
    started = cpu_seconds()
    for _ in range(steps):
        step()
    return round((cpu_seconds() - started) / steps * 1e6, 1)


def measure_plain() -> float:
    import time

    return per_step_us(lambda: time.sleep(0.01))


def measure_loop() -> dict[str, float]:
    from polling.runtime import blocking_runner, patch_first

    patch_first("eventlet")
    import eventlet

    run_blocking = blocking_runner("eventlet")  # what the vote writer hands its batches to

    def nothing() -> None:
        return None

    loop = per_step_us(lambda: eventlet.sleep(0.01))
    with_thread = per_step_us(lambda: (eventlet.sleep(0.01), run_blocking(nothing)))
    return {"sleep_loop_us": loop, "thread_round_trip_us": round(with_thread - loop, 1)}


def measure_commit(synchronous: str) -> float:
    """The commit alone, without SQLAlchemy; polling's own pragmas are in polling.database."""
    import sqlite3

    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(Path(folder) / "votes.sqlite3", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"PRAGMA synchronous={synchronous}")
        connection.execute("CREATE TABLE votes (voter INTEGER PRIMARY KEY, choice TEXT)")
        voter = itertools.count()

        def commit_one() -> None:
            connection.execute("BEGIN")
            connection.execute(
                "INSERT INTO votes VALUES (?, 'agree') "
                "ON CONFLICT (voter) DO UPDATE SET choice = excluded.choice",
                (next(voter),),
            )
            connection.execute("COMMIT")

        figure = per_step_us(commit_one)
        connection.close()
        return figure


def one(kind: str) -> dict[str, float]:
    """One measurement, in this process (eventlet patches the process it runs in)."""
    if kind == "plain":
        return {"sleep_plain_us": measure_plain()}
    if kind == "loop":
        return measure_loop()
    return {f"commit_{kind}_us": measure_commit(kind.upper())}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.wakeups",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--one", choices=KINDS, help=argparse.SUPPRESS)  # a child's run
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one(args.one)))
        return 0
    result: dict[str, float] = {}
    for kind in KINDS:
        run = subprocess.run(
            [sys.executable, "-m", "benchmarks.wakeups", "--one", kind],
            capture_output=True,
            text=True,
            check=True,
        )
        result.update(json.loads(run.stdout.strip().splitlines()[-1]))
        print(f"{kind}: {run.stdout.strip()}", file=sys.stderr)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What the benchmarks share: a harness of small modules under thin command lines.

- servers: start `polling serve` (or several, or none with --url), its database, restarts
- metrics: CPU seconds, memory and file descriptors of processes, the machine's load (/proc)
- clients: the presenter and moderator connections, the phone's cookie, client-library logs
- generator: a load generator process (its voters on one asyncio loop), spoken to in JSON lines
- workers: the coordinator's side of the generator processes
- stats: percentiles, slopes, merging the generators' reports
- verify: is every acknowledged vote (upvote, reason) in the database as acknowledged; the exit
  status
- hall: the Q&A benchmark's phones on generator processes, their timed requests and what they
  are sent, the moderator's timed requests
- cli: the command-line options the benchmarks share, signals and limits
"""

from __future__ import annotations

import sys
import time


def log(message: str) -> None:
    """Progress, on stderr (stdout's last line is the benchmark's JSON)."""
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    """The run cannot go on; the message says why."""

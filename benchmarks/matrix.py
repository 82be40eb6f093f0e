"""Run load.py over the setups of docs/performance.md and print the medians as a table.

    python -m benchmarks.matrix --runs 3 [--only NAME ...]

(from the project root). Each setup runs --runs times; the table shows the median of every
figure. The raw JSON of every run goes to benchmarks/results/<date>.jsonl (not committed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETUPS = {
    # name: load.py arguments
    "1k-sqlite": ["--voters", "1000", "--window", "10"],
    "1k-sqlite-gevent": ["--voters", "1000", "--window", "10", "--async-mode", "gevent"],
    "1k-postgres": ["--voters", "1000", "--window", "10", "--database", "postgres"],
    "1k-postgres-2proc": ["--voters", "1000", "--window", "10", "--processes", "2"],
    "10k-sqlite": ["--voters", "10000", "--window", "10"],
    "10k-sqlite-gevent": ["--voters", "10000", "--window", "10", "--async-mode", "gevent"],
    "10k-postgres": ["--voters", "10000", "--window", "10", "--database", "postgres"],
    "10k-postgres-2proc": ["--voters", "10000", "--window", "10", "--processes", "2"],
    # Throughput: the same 10,000 votes in 4 s, one process against two.
    "10k-in-4s-postgres": ["--voters", "10000", "--window", "4", "--database", "postgres"],
    "10k-in-4s-postgres-2proc": ["--voters", "10000", "--window", "4", "--processes", "2"],
}
COLUMNS = (
    "connected",
    "acked",
    "committed",
    "votes_per_s",
    "ack_p50_ms",
    "ack_p95_ms",
    "ack_p99_ms",
    "presenter_final_ms",
    "server_cpu_s",
    "server_rss_mb",
    "connect_s",
)


def run(arguments: list[str]) -> dict:
    command = [sys.executable, "-m", "benchmarks.load", *arguments]
    done = subprocess.run(command, cwd=HERE.parent, capture_output=True, text=True, timeout=900)
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {"error": done.stderr[-2000:]}
    result["exit_code"] = done.returncode
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", nargs="*", choices=sorted(SETUPS), help="setups to run")
    args = parser.parse_args()
    log = HERE / "results" / f"{time.strftime('%Y-%m-%d-%H%M')}.jsonl"
    log.parent.mkdir(exist_ok=True)
    print("| setup | " + " | ".join(COLUMNS) + " | lost |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    failed = False
    for name in args.only or SETUPS:
        results = []
        for number in range(args.runs):
            result = run(SETUPS[name])
            result["setup"], result["run"] = name, number + 1
            with log.open("a") as out:
                out.write(json.dumps(result) + "\n")
            results.append(result)
            print(f"  {name} run {number + 1}: exit {result['exit_code']}", file=sys.stderr)
        lost = sum(max(0, r.get("acked", 0) - r.get("committed", 0)) for r in results)
        failed |= lost > 0 or any(r["exit_code"] == 1 for r in results)
        cells = []
        for column in COLUMNS:
            values = [r[column] for r in results if isinstance(r.get(column), (int, float))]
            cells.append(f"{statistics.median(values):g}" if values else "-")
        print(f"| {name} | " + " | ".join(cells) + f" | {lost} |", flush=True)
    print(f"raw results: {log}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

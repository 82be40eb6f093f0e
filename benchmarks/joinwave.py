"""Join wave: thousands of phones scan the QR code within a minute while the hall votes.

    python -m benchmarks.joinwave --voters 1000 --joiners 10000 --window 60

(from the project root). It starts the server as load.py does (the same code: a fresh
database, `polling serve`), connects a presenter and a moderator, connects --voters phones over
WebSocket and opens a statement. The voters then change their vote every --vote-every seconds:
first for --baseline seconds alone (what their votes cost and how fast they are acked in a
quiet hall), then for --window seconds while --joiners new phones arrive, spread uniformly over
the window, each joining as a browser does (benchmarks/harness/wave.py): the vote page for its
cookie, the Socket.IO connect (WebSocket at once as the page does, or --polling-first), its
`state`, and after a "busy_retry" refusal another try after the server's delay plus up to half
of it. Joiners still joining at the end of the window get --join-grace seconds more.

Reported (the last line on stdout is one JSON object, see benchmarks/README.md): the voters'
ack p50/p95/p99 during the wave and per 10 s, joiners joined within the window and by the end,
join time p50/p95 (page to state), busy_retry refusals and other failures, the server's CPU per
join (its CPU during the wave minus what the voters' votes cost at the baseline's CPU per vote),
RSS, how busy the machine was, and every voter's last acknowledged vote looked up in the
database.

Exit status: 0 done, 1 a voter's last acknowledged vote is missing from the database or stored
with another choice, 2 the run failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from typing import Any

from benchmarks import load
from benchmarks.harness import BenchError, log
from benchmarks.harness.cli import add_client_options, add_server_options, prepare_process
from benchmarks.harness.clients import Screen, control, count_library_logs
from benchmarks.harness.metrics import cpu_seconds, machine_cpu, machine_load, memory_mb
from benchmarks.harness.servers import DEFAULT_DECK, REDIS_URL, Servers
from benchmarks.harness.stats import merged, percentile
from benchmarks.harness.workers import WorkerProcess, collect, start_workers, stop_workers

SLICE_S = 10  # the ack latency is also reported per slice of this many seconds of the wave


async def bench(
    args: argparse.Namespace, target: dict[str, Any], result: dict[str, Any], checks: dict
) -> None:
    """The run (load.run calls it); fills `result` as it goes and `checks` with each voter's
    last acknowledged vote, which load.run looks up in the database."""
    bases, pids = target["bases"], target["pids"]
    presenter = Screen("presenter", args.client_watchdog)
    moderator = Screen("moderator", args.client_watchdog)
    workers: list[WorkerProcess] = []
    try:
        await presenter.connect(bases[0], target["code"], "presenter", target["presenter_key"])
        await moderator.connect(bases[-1], target["code"], "moderator", target["moderator_key"])
        workers, _concurrency = await start_workers(args, bases, target["code"])
        log(f"connecting {args.voters} voters from {args.workers} generator process(es)")
        await load.connect_phase(args, workers, result)
        round_id = await open_statement(moderator, result)
        await wave(args, pids, workers, round_id, result, checks)
    finally:
        cpu = await stop_workers(workers)
        if workers:
            result["generator_cpu_s"] = round(cpu, 2)
        await presenter.close()
        await moderator.close()


async def open_statement(moderator: Screen, result: dict[str, Any]) -> int:
    """Results live on the projector (as in load.py), the next statement, open; its round."""
    for action in ("results_live", "next", "open"):
        await control(moderator, action)
    synced = await moderator.client.call("sync", timeout=30)
    current = (synced or {}).get("state", {}).get("round") or {}
    if not current.get("open"):
        raise BenchError(f"voting did not open: {synced}")
    result["round_id"] = current["id"]
    return current["id"]


async def wave(
    args: argparse.Namespace,
    pids: list[int],
    workers: list[WorkerProcess],
    round_id: int,
    result: dict[str, Any],
    checks: dict[str, Any],
) -> None:
    """The baseline, then the wave; the server's CPU is read at the start of each and when
    every joiner is in (or the grace is over)."""
    start_at = time.time() + 1
    wave_at = start_at + args.baseline
    until = wave_at + args.window
    deadline = until + args.join_grace
    log(
        f"voters vote every ~{args.vote_every:g} s from now; {args.joiners} joiners arrive "
        f"within {args.window:g} s after a {args.baseline:g} s baseline"
    )
    for worker in workers:
        worker.send(
            {
                "cmd": "wave",
                "round": round_id,
                "start_at": start_at,
                "wave_at": wave_at,
                "until": until,
                "deadline": deadline,
                "vote_every": args.vote_every,
                "joiners": args.joiners,
                "polling_first": args.polling_first,
                "ack_timeout": args.ack_timeout,
            }
        )
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu_start = cpu_seconds(pids)
    await asyncio.sleep(max(0.0, wave_at - time.time()))
    cpu_wave, machine_before = cpu_seconds(pids), machine_cpu()
    reports = await collect(
        workers, "waved", deadline - time.time() + 60, "wave", ("acked", "joined", "busy")
    )
    ended = time.time()
    cpu_end = cpu_seconds(pids)
    result.update(machine_load(machine_before, machine_cpu()))
    result["wave_measured_s"] = round(ended - wave_at, 1)
    result["server_rss_mb"] = memory_mb(pids, "VmHWM")
    result["server_rss_end_mb"] = memory_mb(pids, "VmRSS")
    vote_figures(reports, args, result)
    join_figures(reports, args, result)
    if None not in (cpu_start, cpu_wave, cpu_end):
        cpu_figures(cpu_wave - cpu_start, cpu_end - cpu_wave, result)
    checks["opened"] = start_at
    checks["acked_votes"] = [vote for report in reports for vote in report["acked_votes"]]
    result["acked"] = len(checks["acked_votes"])
    log(
        f"wave: ack p95 {result['ack_p95_ms']} ms (baseline {result['baseline_ack_p95_ms']}), "
        f"joined {result['joined_in_window']} in the window, {result['joined']} by the end, "
        f"join p95 {result['join_p95_s']} s, busy_retry {result['busy_retry_refusals']}, "
        f"CPU per join {result['server_cpu_ms_per_join']} ms"
    )


def latency_figures(latencies: list[float], prefix: str) -> dict[str, Any]:
    """p50/p95/p99 (and the count) of ack latencies in ms."""
    ordered = sorted(latencies)
    figures: dict[str, Any] = {f"{prefix}acked": len(ordered)}
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        figures[f"{prefix}ack_{name}_ms"] = percentile(ordered, fraction)
    return figures


def vote_figures(reports: list[dict], args: argparse.Namespace, result: dict[str, Any]) -> None:
    """The voters' acks of the votes sent in the baseline, during the wave, and in each slice
    of the wave."""
    acks = [ack for report in reports for ack in report["acks"]]  # [sent after wave start, ms]
    result["votes_sent"] = sum(report["sent"] for report in reports)
    result["vote_errors"] = merged(reports, "vote_errors")
    result["unsure_voters"] = sum(report["unsure_voters"] for report in reports)
    result["voter_disconnects"] = sum(report["disconnects"] for report in reports)
    baseline = latency_figures([ms for at, ms in acks if at < 0], "baseline_")
    during = latency_figures([ms for at, ms in acks if 0 <= at < args.window], "")
    result.update(baseline)
    result["votes_acked_in_wave"] = during.pop("acked")
    result.update(during)
    slices = []
    for start in range(0, math.ceil(args.window), SLICE_S):
        end = min(start + SLICE_S, args.window)
        figures = latency_figures([ms for at, ms in acks if start <= at < end], "")
        slices.append({"from_s": start, **figures})
    result["ack_by_10s"] = slices


def join_figures(reports: list[dict], args: argparse.Namespace, result: dict[str, Any]) -> None:
    """When each joiner arrived and how long it took (page to state), or that it never did."""
    joins = [join for report in reports for join in report["joins"]]  # [arrived, s or None]
    done = [(arrived, took) for arrived, took in joins if took is not None]
    result["joined"] = len(done)
    result["joined_in_window"] = sum(1 for arrived, took in done if arrived + took <= args.window)
    result["not_joined"] = args.joiners - len(done)
    times = sorted(took * 1000 for _arrived, took in done)
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("max", 1.0)):
        value = percentile(times, fraction)
        result[f"join_{name}_s"] = round(value / 1000, 2) if value is not None else None
    result["busy_retry_refusals"] = sum(report["busy_refusals"] for report in reports)
    result["join_errors"] = merged(reports, "join_errors")
    result["joiners_on_websocket"] = sum(report["on_websocket"] for report in reports)
    result["joined_by_10s"] = [
        sum(1 for arrived, took in done if start <= arrived + took < start + SLICE_S)
        for start in range(0, math.ceil(args.window + args.join_grace), SLICE_S)
    ]


def cpu_figures(baseline_cpu: float, wave_cpu: float, result: dict[str, Any]) -> None:
    """The server's CPU per join: its CPU during the wave minus what the wave's votes cost at
    the baseline's CPU per vote (which holds everything else the idle hall costs too)."""
    result["baseline_server_cpu_s"] = round(baseline_cpu, 2)
    result["server_cpu_s"] = round(wave_cpu, 2)
    per_vote = baseline_cpu / result["baseline_acked"] if result["baseline_acked"] else None
    result["server_cpu_ms_per_vote"] = round(per_vote * 1000, 2) if per_vote else None
    votes_cpu = (per_vote or 0) * result["votes_acked_in_wave"]
    result["server_vote_cpu_s"] = round(votes_cpu, 2)
    joined = result["joined"]
    result["server_cpu_ms_per_join"] = (
        round(1000 * (wave_cpu - votes_cpu) / joined, 2) if joined else None
    )
    result["server_cpu_ms_per_join_gross"] = round(1000 * wave_cpu / joined, 2) if joined else None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--voters", type=int, default=1000, help="phones already in (1000)")
    parser.add_argument("--joiners", type=int, default=10000, help="phones joining (10000)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds of the wave (60)")
    parser.add_argument(
        "--baseline", type=float, default=10.0, help="seconds of voting before the wave (10)"
    )
    parser.add_argument(
        "--vote-every",
        type=float,
        default=5.0,
        help="seconds between a voter's votes, ±40%% (5; the server allows one per 2 s)",
    )
    parser.add_argument(
        "--join-grace", type=float, default=60.0, help="seconds after the window for joiners"
    )
    parser.add_argument(
        "--polling-first",
        action="store_true",
        help="joiners connect by long-polling, then upgrade (the page's way before 2026-12-02; "
        "default: WebSocket at once, as the page does)",
    )
    parser.add_argument(
        "--workers", type=int, help="generator processes (default ceil((voters+joiners)/2500))"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes (>1: PostgreSQL + Redis)"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        help="database of the server(s) (default sqlite; postgres with --processes > 1)",
    )
    parser.add_argument("--tally-interval", type=float, help="POLLING_TALLY_INTERVAL")
    add_server_options(parser)
    add_client_options(parser, connect_concurrency=100, ack_timeout=30.0)
    args = parser.parse_args(argv)
    if min(args.voters, args.processes) < 1 or args.joiners < 0 or args.window <= 0:
        parser.error("need a voter, a server process, no negative joiners, a positive window")
    if args.database is None:
        args.database = "postgres" if args.processes > 1 else "sqlite"
    args.message_queue = REDIS_URL if args.processes > 1 else None
    if args.workers is None:
        args.workers = min(8, max(1, math.ceil((args.voters + args.joiners) / 2500)))
    args.workers = max(1, min(args.workers, args.voters))
    # What harness.servers.Servers and harness.workers read, as load.py sets them.
    args.deck, args.url, args.reconnect_wait = DEFAULT_DECK, None, None
    args.connect_retries, args.connect_phase_timeout = 2, max(120.0, args.voters / 20)
    return args


def main(argv: list[str]) -> int:
    library_logs = count_library_logs()
    args = parse_args(argv)
    prepare_process()
    result: dict[str, Any] = {
        "voters": args.voters,
        "joiners": args.joiners,
        "window_s": args.window,
        "vote_every_s": args.vote_every,
        "transports": "polling,websocket" if args.polling_first else "websocket",
        "processes": args.processes,
        "database": args.database,
        "workers": args.workers,
        "committed": None,
        "acked": 0,
    }
    load.measure_idle_machine(result)
    servers = Servers(args)
    try:
        failure, problems = load.run(args, servers, result, benchmark=bench)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        servers.shut_down(result)
    if library_logs.counts:
        log(f"client library warnings (presenter, moderator): {dict(library_logs.counts)}")
    return load.report(result, failure, problems)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Load benchmark: a thousand phones voting in the same ten seconds.

    python -m benchmarks.load --voters 1000 --window 10
    python -m benchmarks.load --voters 1000 --window 10 --processes 2   # PostgreSQL + Redis
    python -m benchmarks.load --voters 1000 --window 5 --restart   # then SIGKILL + restart

(from the project root). It starts the server (or targets a running one with --url), opens N
real Socket.IO connections from several generator processes, lets a moderator open a round,
has every voter vote once at a random moment within the window, and measures ack latency,
what reached the database, how soon the projector's tally showed every vote, and the server's
CPU time and memory. With --restart it then kills the server, starts it again on the same port
and database, and times how every client comes back with its own vote. Progress goes to
stderr; the last line on stdout is one JSON object. See benchmarks/README.md; the parts are in
benchmarks/harness/.

Exit status: 0 done, 1 an acknowledged vote is missing from the database (or, with --restart,
was given back to its voter as another choice), 2 the run failed
(the JSON line then has "error"), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import BenchError, log
from benchmarks.harness.cli import (
    add_client_options,
    add_server_options,
    prepare_process,
    print_result,
)
from benchmarks.harness.clients import LIBRARY_LOGS, Screen, control, count_library_logs, error_name
from benchmarks.harness.metrics import cpu_seconds, machine_cpu, machine_load, memory_mb
from benchmarks.harness.servers import DEFAULT_DECK, REDIS_URL, Servers, count_votes
from benchmarks.harness.stats import arrivals, merged, summarize_connects, summarize_votes
from benchmarks.harness.verify import (
    check_acked_votes,
    exit_status,
    storm_wrong_choices,
)
from benchmarks.harness.workers import WorkerProcess, collect, start_workers, stop_workers

# --------------------------------------------------------------------------------------------
# The run: screens, generators, the round, the figures
# --------------------------------------------------------------------------------------------


@dataclass
class OpenRound:
    """The round the voters vote in: when it opened, the server's CPU seconds just before,
    and when the last ack came (time.time())."""

    id: int
    opened: float
    cpu_before: float | None
    last_ack: float


async def bench(
    args: argparse.Namespace, target: dict[str, Any], result: dict[str, Any], checks: dict
) -> None:
    """The run; fills `result` as it goes, so a failure still reports what was measured, and
    `checks` with the acknowledged votes to look up in the database."""
    bases: list[str] = target["bases"]
    presenter = Screen("presenter", args.client_watchdog)
    moderator = Screen("moderator", args.client_watchdog)
    workers: list[WorkerProcess] = []
    try:
        await presenter.connect(bases[0], target["code"], "presenter", target["presenter_key"])
        await moderator.connect(bases[-1], target["code"], "moderator", target["moderator_key"])
        log(f"presenter on {bases[0]}, moderator on {bases[-1]}")
        workers, concurrency = await start_workers(args, bases, target["code"])
        log(
            f"connecting {args.voters} voters from {args.workers} worker process(es), "
            f"at most {concurrency * args.workers} connects in flight"
        )
        await connect_phase(args, workers, result)
        voting = await vote_phase(args, target["pids"], workers, moderator, result, checks)
        await final_tallies(target["pids"], voting, args, presenter, moderator, result)
        if args.restart:
            await storm(args, target["servers"], workers, presenter, moderator, voting.id, result)
    finally:
        cpu = await stop_workers(workers)
        if workers:
            result["generator_cpu_s"] = round(cpu, 2)
        LIBRARY_LOGS.paused = True
        await presenter.close()
        await moderator.close()
        LIBRARY_LOGS.paused = False


async def connect_phase(
    args: argparse.Namespace, workers: list[WorkerProcess], result: dict[str, Any]
) -> None:
    """Every generator connects its voters; at least one must get through."""
    started = time.monotonic()
    connected = await collect(
        workers, "connected", args.connect_phase_timeout + 30, "connect", ("connected", "failed")
    )
    result["connect_s"] = round(time.monotonic() - started, 2)
    summarize_connects(connected, result)
    log(f"connected {result['connected']}/{args.voters} in {result['connect_s']} s")
    if result["connect_errors"]:
        log(f"connect errors: {result['connect_errors']}")
    if result["connected"] == 0:
        raise BenchError("no voter could connect")


async def vote_phase(
    args: argparse.Namespace,
    pids: list[int],
    workers: list[WorkerProcess],
    moderator: Screen,
    result: dict[str, Any],
    checks: dict[str, Any],
) -> OpenRound:
    """The moderator opens a round, every voter votes once within the window; `checks` gets
    the acknowledged votes to look up in the database."""
    await control(moderator, "results_live")
    await control(moderator, "next")
    cpu_before = cpu_seconds(pids)
    await control(moderator, "open")
    opened = time.time()
    machine_before = machine_cpu()
    synced = await moderator.client.call("sync", timeout=30)
    current = (synced or {}).get("state", {}).get("round") or {}
    if not current.get("open"):
        raise BenchError(f"voting did not open: {synced}")
    round_id = current["id"]
    result["round_id"] = round_id
    log(f"round {round_id} open: {result['connected']} votes within {args.window} s")
    for worker in workers:
        worker.send(
            {
                "cmd": "vote",
                "round": round_id,
                "start_at": opened,
                "window": args.window,
                "ack_timeout": args.ack_timeout,
            }
        )
    voted = await collect(
        workers, "voted", args.window + args.ack_timeout + 30, "vote", ("sent", "acked")
    )
    result.update(machine_load(machine_before, machine_cpu()))
    last_ack = summarize_votes(voted, opened, result)
    checks["opened"] = opened
    checks["acked_votes"] = [vote for report in voted for vote in report["acked_votes"]]
    return OpenRound(round_id, opened, cpu_before, last_ack)


async def final_tallies(
    pids: list[int],
    voting: OpenRound,
    args: argparse.Namespace,
    presenter: Screen,
    moderator: Screen,
    result: dict[str, Any],
) -> None:
    """How soon each screen showed every acknowledged vote; the server's CPU and memory."""
    acked, round_id, last_ack = result["acked"], voting.id, voting.last_ack
    for screen in (presenter, moderator):
        seen_at = await screen.wait_complete(round_id, acked, args.final_timeout)
        key = f"{screen.name}_final_ms"
        if seen_at is None:
            most = max((v for _t, r, v in screen.tallies if r == round_id), default=0)
            log(f"{screen.name}: no tally showed all {acked} votes (at most {most})")
            result[key] = None
        else:
            result[key] = round((seen_at - last_ack) * 1000, 1) if last_ack else None
    result["presenter_tallies"] = sum(1 for _t, r, _v in presenter.tallies if r == round_id)
    result["screen_reconnects"] = max(0, presenter.connects - 1) + max(0, moderator.connects - 1)
    cpu_after = cpu_seconds(pids)
    if voting.cpu_before is not None and cpu_after is not None:
        result["server_cpu_s"] = round(cpu_after - voting.cpu_before, 2)
    result["server_rss_mb"] = memory_mb(pids, "VmHWM")
    result["server_rss_end_mb"] = memory_mb(pids, "VmRSS")


async def storm(
    args: argparse.Namespace,
    servers: Servers,
    workers: list[WorkerProcess],
    presenter: Screen,
    moderator: Screen,
    round_id: int,
    result: dict[str, Any],
) -> None:
    """--restart: SIGKILL the server(s) with every vote acknowledged and the round open, start
    them again on the same ports and database, and time how every client comes back by itself
    (python-socketio's reconnection) to its personal state, with its own vote in it."""
    acked = result["acked"]
    result["storm_reconnect_wait_s"] = args.reconnect_wait or 1.0
    for worker in workers:
        worker.send({"cmd": "storm_arm"})
    await collect(workers, "armed", 30, "arm", ())
    presenter.storm, moderator.storm = [], []
    log(f"killing the server(s) with SIGKILL (pids {', '.join(map(str, servers.pids))})")
    # In a thread: this loop keeps serving the presenter and moderator clients meanwhile.
    restart = await asyncio.to_thread(servers.restart)
    killed, listening = restart["killed"], restart["listening"]
    pids = servers.pids
    result["storm_restart_s"] = round(listening - killed, 2)
    result["storm_server_start_cpu_s"] = restart["start_cpu_s"]
    log(
        f"restarted (pids {', '.join(map(str, pids))}): listening {listening - killed:.2f} s "
        f"after the kill; waiting up to {args.storm_timeout:.0f} s for every client"
    )
    for worker in workers:
        worker.send({"cmd": "storm_wait", "killed": killed, "timeout": args.storm_timeout})
    reports = await collect(
        workers, "storm", args.storm_timeout + 30, "storm", ("back", "attempts")
    )
    cpu_end = cpu_seconds(pids)
    deadline = time.monotonic() + max(5.0, args.storm_timeout - (time.time() - listening))
    while time.monotonic() < deadline and not (
        presenter.storm_back(killed) and moderator.storm_back(killed)
    ):
        await asyncio.sleep(0.05)
    voters = [voter for report in reports for voter in report["voters"]]
    back, wrong = voter_figures(voters, restart, round_id, result)
    for screen in (presenter, moderator):
        screen_figures(screen, restart, round_id, acked, result)
    server_figures(servers, restart, cpu_end, result)
    result["storm_attempts"] = sum(report["attempts"] for report in reports)
    result["storm_attempt_errors"] = merged(reports, "attempt_errors")
    result["storm_disconnects"] = sum(report["disconnects"] for report in reports)
    client_log = merged(reports, "client_log")
    if client_log:
        log(f"client library warnings during the storm: {client_log}")
    if wrong:
        shown = "\n".join(f"  {line}" for line in wrong[:50])
        log(f"STORM: voters told another choice than they had acked:\n{shown}")
    log(
        f"storm: {len(back)}/{len(voters)} voters back, all back "
        f"{result['storm_all_back_s']} s after listening, p50 {result['storm_p50_s']} s, "
        f"p95 {result['storm_p95_s']} s, wrong choice {len(wrong)}, "
        f"presenter ok {result['storm_presenter_ok']}, attempts {result['storm_attempts']}"
    )


def voter_figures(
    voters: list[list[Any]], restart: dict[str, Any], round_id: int, result: dict[str, Any]
) -> tuple[list[float], list[str]]:
    """How the voters came back after the restart; returns the seconds each took after the
    ready line (ascending) and the voters given back another choice than they had acked."""
    killed, listening = restart["killed"], restart["listening"]
    back = sorted(at - listening for _v, at, *_rest in voters if at is not None)
    wrong = storm_wrong_choices(voters)
    result["storm_voters"] = len(voters)
    result["storm_reconnected"] = len(back)
    result["storm_missing"] = len(voters) - len(back)
    last = listening + back[-1] if back else None
    complete = bool(voters) and not result["storm_missing"]
    result["storm_all_back_s"] = round(last - listening, 2) if complete else None
    result["storm_all_back_from_kill_s"] = round(last - killed, 2) if complete else None
    result.update(arrivals(back, "storm"))
    result["storm_wrong_choice"] = len(wrong)
    result["storm_no_vote_acked"] = sum(1 for voter in voters if voter[3] is None)
    result["storm_wrong_round"] = sum(
        1 for _v, at, _c, _e, seen, phase in voters if at and (seen != round_id or phase != "open")
    )
    return back, wrong


def screen_figures(
    screen: Screen, restart: dict[str, Any], round_id: int, acked: int, result: dict[str, Any]
) -> None:
    """When the presenter or moderator was back, and whether it showed every acked vote."""
    came = screen.storm_back(restart["killed"])
    back_s = round(came[0] - restart["listening"], 2) if came else None
    result[f"storm_{screen.name}_back_s"] = back_s
    result[f"storm_{screen.name}_ok"] = screen.storm_showed(restart["killed"], round_id, acked)
    if not result[f"storm_{screen.name}_ok"]:
        log(f"{screen.name} after the restart: {(screen.storm or [])[:5]} (acked {acked})")


def server_figures(
    servers: Servers, restart: dict[str, Any], cpu_end: float | None, result: dict[str, Any]
) -> None:
    """What the storm cost the restarted server(s), and what they printed wrong."""
    if cpu_end is not None and restart["start_cpu_s"] is not None:
        result["storm_server_cpu_s"] = round(cpu_end - restart["start_cpu_s"], 2)
    result["storm_server_rss_mb"] = memory_mb(servers.pids, "VmHWM")
    result["storm_server_rss_end_mb"] = memory_mb(servers.pids, "VmRSS")
    tracebacks, kinds, _tail = servers.error_report(restart["err_offsets"])
    result["storm_server_tracebacks"] = tracebacks
    result["storm_server_messages"] = kinds


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Load benchmark: N phones vote once each within a window of S seconds.",
    )
    parser.add_argument("--voters", type=int, default=1000, help="audience connections (N)")
    parser.add_argument("--window", type=float, default=10.0, help="seconds to spread votes (S)")
    parser.add_argument(
        "--workers", type=int, help="generator processes (default min(8, ceil(N/1500)))"
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes (>1: PostgreSQL + Redis)"
    )
    add_server_options(parser)
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        help="database of the started server(s) (default sqlite; postgres with --processes > 1)",
    )
    parser.add_argument(
        "--message-queue", help=f"POLLING_MESSAGE_QUEUE (default {REDIS_URL} with --processes > 1)"
    )
    parser.add_argument("--deck", type=Path, default=DEFAULT_DECK, help="deck (--processes > 1)")
    parser.add_argument("--tally-interval", type=float, help="POLLING_TALLY_INTERVAL")
    add_client_options(parser, connect_concurrency=100, ack_timeout=60.0)
    parser.add_argument("--connect-retries", type=int, default=2, help="retries per voter")
    parser.add_argument(
        "--connect-phase-timeout", type=float, help="seconds for all connects (default N/20, ≥120)"
    )
    parser.add_argument(
        "--final-timeout", type=float, default=30.0, help="seconds to wait for the final tally"
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="reconnect storm: once every vote is acked, SIGKILL the server(s), start them "
        "again on the same port and database, and time how the clients come back",
    )
    parser.add_argument(
        "--storm-timeout",
        type=float,
        default=120.0,
        help="--restart: seconds after the restart to wait for every client (default 120)",
    )
    parser.add_argument(
        "--reconnect-wait",
        type=float,
        help="--restart: seconds a voter's reconnect attempt waits for the Socket.IO connect "
        "to be accepted (default: python-socketio's 1 s; a browser waits 20 s)",
    )
    target = parser.add_argument_group("a running server instead (all of these)")
    target.add_argument(
        "--url", action="append", help="server base URL; repeat for several processes"
    )
    target.add_argument("--code", help="the event's join code")
    target.add_argument("--moderator-key")
    target.add_argument("--presenter-key")
    target.add_argument(
        "--database-url", help="where to count votes (sqlite:///PATH or postgresql://...)"
    )
    target.add_argument(
        "--server-pid", type=int, action="append", default=[], help="for CPU and memory"
    )
    args = parser.parse_args(argv)
    if args.voters < 1 or args.window < 0 or args.processes < 1:
        parser.error("--voters and --processes must be at least 1, --window not negative")
    if args.url and not (args.code and args.moderator_key and args.presenter_key):
        parser.error("--url needs --code, --moderator-key and --presenter-key")
    if args.url and args.restart:
        parser.error("--restart needs a server this benchmark starts (not --url)")
    if args.database is None:
        args.database = "postgres" if args.processes > 1 else "sqlite"
    if args.message_queue is None and args.processes > 1:
        args.message_queue = REDIS_URL
    if args.workers is None:
        args.workers = min(8, math.ceil(args.voters / 1500))
    args.workers = max(1, min(args.workers, args.voters))
    if args.connect_phase_timeout is None:
        args.connect_phase_timeout = max(120.0, args.voters / 20)
    return args


def initial_result(args: argparse.Namespace) -> dict[str, Any]:
    """The figures every result line has, null until measured."""
    return {
        "voters": args.voters,
        "connected": 0,
        "sent": 0,
        "acked": 0,
        "committed": None,
        "ack_p50_ms": None,
        "ack_p95_ms": None,
        "ack_p99_ms": None,
        "presenter_final_ms": None,
        "server_cpu_s": None,
        "server_rss_mb": None,
        "processes": len(args.url) if args.url else args.processes,
        "async_mode": None if args.url else args.async_mode,
        "database": None if args.url else args.database,
        "window_s": args.window,
        "connect_s": None,
        "workers": args.workers,
    }


def measure_idle_machine(result: dict[str, Any]) -> None:
    """The machine's load over one second before the run: busy already means noisy figures."""
    before = machine_cpu()
    time.sleep(1)
    result.update(
        {f"{key}_before": value for key, value in machine_load(before, machine_cpu()).items()}
    )
    if result.get("machine_busy_pct_before", 0) > 25:
        busy = result["machine_busy_pct_before"]
        log(f"the machine is already {busy}% busy before the run: figures will be noisy")


def start_target(args: argparse.Namespace, servers: Servers | None) -> dict[str, Any]:
    """The servers to load: the ones just started, or those of --url."""
    if servers is None:
        return {
            "bases": [url.rstrip("/") for url in args.url],
            "code": args.code.replace(" ", ""),
            "presenter_key": args.presenter_key,
            "moderator_key": args.moderator_key,
            "pids": args.server_pid,
        }
    servers.start()
    return {
        "bases": servers.bases,
        "code": servers.code,
        "presenter_key": servers.presenter_key,
        "moderator_key": servers.moderator_key,
        "pids": servers.pids,
        "servers": servers,
    }


def run(
    args: argparse.Namespace, servers: Servers | None, result: dict[str, Any], benchmark=None
) -> tuple[str | None, list[str]]:
    """Start (or target) the servers, run the benchmark (`bench`, or another coroutine
    function with its arguments: benchmarks/joinwave.py), then count and verify the votes in
    the database; returns why the run failed (if it did) and the votes not stored as acked."""
    failure, problems, checks = None, [], {}
    try:
        target = start_target(args, servers)
        if not target["pids"]:
            log("no server pid known (--server-pid): no CPU and memory figures")
        asyncio.run((benchmark or bench)(args, target, result, checks))
    except (BenchError, OSError, TimeoutError) as error:
        failure = str(error) or type(error).__name__
    except Exception as error:  # report it in the JSON line too, then fail
        failure = error_name(error)
    if "round_id" not in result:
        return failure, problems
    database_url = args.database_url if servers is None else servers.database_url
    if not database_url:
        log("no --database-url: committed votes not counted")
        return failure, problems
    try:
        result["committed"] = count_votes(database_url, result["round_id"])
        if checks.get("acked_votes"):
            problems = check_acked_votes(
                database_url, result["round_id"], checks["acked_votes"], checks["opened"], result
            )
    except Exception as error:
        failure = failure or f"reading the votes failed: {error_name(error)}"
    return failure, problems


def report(result: dict[str, Any], failure: str | None, problems: list[str]) -> int:
    """Say what went wrong on stderr, print the result line, and return the exit status."""
    if failure:
        result["error"] = failure
        log(f"FAILED: {failure}")
    committed, acked = result["committed"], result["acked"]
    if committed is not None and committed < acked:
        log(f"LOST VOTES: {acked} acked but only {committed} in the database")
    if problems:
        shown = "\n".join(f"  {line}" for line in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        log(f"acknowledged votes not in the database as acked:\n{shown}{more}")
    print_result(result)
    if result.get("storm_wrong_choice"):
        log(f"STORM: {result['storm_wrong_choice']} voters were given back another choice")
    return exit_status(result, failure)


def main(argv: list[str]) -> int:
    library_logs = count_library_logs()
    args = parse_args(argv)
    prepare_process()
    result = initial_result(args)
    measure_idle_machine(result)
    servers = None if args.url else Servers(args)
    try:
        failure, problems = run(args, servers, result)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        if servers is not None:
            servers.shut_down(result)
    if library_logs.counts:
        log(f"client library warnings (presenter, moderator): {dict(library_logs.counts)}")
    return report(result, failure, problems)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

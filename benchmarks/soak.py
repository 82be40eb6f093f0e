"""Soak: phones keep coming, voting and going for minutes; does the server keep growing?

    python -m benchmarks.soak --duration 300 --population 300

It starts the server as load.py does (the same code, in benchmarks/harness), keeps about
--population phones connected while new ones join and others leave (cleanly, by dropping the
connection, or by going silent), lets them vote and change their votes, and has a moderator
cycle through the statements so state broadcasts and tallies go out. Every --sample-interval
seconds it reads the server's resident memory (VmRSS) and open file descriptors (/proc/PID/fd)
and prints them to stderr; the last line on stdout is one JSON object. Everything stops by
itself after --duration seconds (plus at most about a minute of cleaning up). See
benchmarks/README.md.

Exit status: 0 done, 2 the run failed (the JSON line then has "error"), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import random
import sys
import time
from typing import Any

from benchmarks.harness import BenchError, log
from benchmarks.harness.cli import (
    add_client_options,
    add_server_options,
    prepare_process,
    print_result,
)
from benchmarks.harness.clients import (
    CHOICES,
    Screen,
    count_library_logs,
    error_name,
    participant_cookie,
    relax_watchdog,
)
from benchmarks.harness.metrics import cpu_seconds, memory_mb, open_fds
from benchmarks.harness.servers import DEFAULT_DECK, Servers
from benchmarks.harness.stats import least_squares_slope, percentile

LEAVE_KINDS = ("clean", "drop", "vanish")
# A vanished phone's socket is closed on our side only after this long: by then the server
# has given up on it (pingInterval + pingTimeout = 45 s by default).
VANISH_CLOSE_AFTER = 60.0


def percentile_ms(values: list[float], fraction: float) -> float | None:
    return percentile(sorted(values), fraction)


class Phone:
    """One audience connection and what it knows: the round on screen and its own choices."""

    def __init__(self, number: int, cookie: str, client: Any) -> None:
        self.number = number
        self.cookie = cookie
        self.client = client
        self.round_id: int | None = None
        self.open = False
        self.choices: dict[int, str] = {}  # round id -> acknowledged choice
        self.leaving = False
        self.voting = False

    def on_state(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        current = message.get("round")
        self.round_id = current.get("id") if isinstance(current, dict) else None
        self.open = bool(current and current.get("open")) and message.get("phase") == "open"
        you = message.get("you")
        if isinstance(you, dict) and self.round_id and you.get("choice"):
            self.choices[self.round_id] = you["choice"]


class Soak:
    def __init__(self, args: argparse.Namespace, servers: Servers) -> None:
        self.args = args
        self.servers = servers
        self.base = servers.bases[0]
        self.code = servers.code
        self.pid = servers.pids[0]
        self.random = random.Random(args.seed)
        self.phones: dict[int, Phone] = {}
        self.numbers = 0
        self.joining = 0
        self.vanished: list[tuple[float, Phone]] = []  # (when to close our side, phone)
        self.tasks: set[asyncio.Task] = set()
        self.join_slots = asyncio.Semaphore(args.connect_concurrency)
        self.counts: collections.Counter[str] = collections.Counter()
        self.errors: collections.Counter[str] = collections.Counter()
        self.refusals: collections.Counter[str] = collections.Counter()
        self.ack_ms: list[float] = []
        self.join_ms: list[float] = []
        self.samples: list[dict[str, Any]] = []
        self.populations: list[int] = []
        self.started = 0.0
        self.deadline = 0.0
        self.filled = False
        self.logs = count_library_logs()

    # ---- the run ------------------------------------------------------------------------

    async def run(self, result: dict[str, Any]) -> None:
        import aiohttp

        args = self.args
        self.presenter = Screen("presenter", args.client_watchdog)
        self.moderator = Screen("moderator", args.client_watchdog)
        await self.presenter.connect(self.base, self.code, "presenter", self.servers.presenter_key)
        await self.moderator.connect(self.base, self.code, "moderator", self.servers.moderator_key)
        await self.control("results_live")
        timeout = aiohttp.ClientTimeout(total=args.connect_timeout)
        connector = aiohttp.TCPConnector(limit=args.connect_concurrency)
        self.started = time.monotonic()
        self.deadline = self.started + args.duration
        cpu_start = cpu_seconds([self.pid])
        try:
            async with aiohttp.ClientSession(
                timeout=timeout, connector=connector, cookie_jar=aiohttp.DummyCookieJar()
            ) as http:
                self.http = http
                loops = [
                    self.sampler(),
                    self.joiner(),
                    self.leaver(),
                    self.voter(),
                    self.moderate(),
                    self.closer(),
                ]
                await asyncio.gather(*loops)
                # The last sample is at the deadline; wait for what is still in flight.
                await self.settle(30)
        finally:
            cpu_end = cpu_seconds([self.pid])
            if cpu_start is not None and cpu_end is not None:
                result["server_cpu_s"] = round(cpu_end - cpu_start, 2)
            await self.leave_all()
            await asyncio.sleep(3)  # let the server close what we closed
            result["rss_after_leave_mb"] = memory_mb([self.pid], "VmRSS")
            result["fds_after_leave"] = open_fds(self.pid)
            self.logs.paused = True
            await self.presenter.close()
            await self.moderator.close()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    async def pause(self, seconds: float) -> None:
        """Sleep, but not past the deadline."""
        await asyncio.sleep(max(0.0, min(seconds, self.deadline - time.monotonic())))

    def spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def settle(self, timeout: float) -> None:
        if self.tasks:
            _done, pending = await asyncio.wait(set(self.tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                self.errors["still running at the end"] += len(pending)
                await asyncio.wait(pending, timeout=5)

    # ---- server readings ----------------------------------------------------------------

    async def sampler(self) -> None:
        """Every --sample-interval seconds, and once at the deadline."""
        interval = self.args.sample_interval
        while True:
            sample = {
                "t": round(self.elapsed(), 1),
                "rss_mb": memory_mb([self.pid], "VmRSS"),
                "fds": open_fds(self.pid),
                "population": len(self.phones),
                "vanishing": len(self.vanished),
                "cpu_s": cpu_seconds([self.pid]),
            }
            self.samples.append(sample)
            c = self.counts
            log(
                f"t={sample['t']:.0f}s rss {sample['rss_mb']} MB, fds {sample['fds']}, "
                f"phones {sample['population']} (+{len(self.vanished)} silent), "
                f"joins {c['joins']}, leaves {c['leaves']}, votes {c['votes']} "
                f"(acked {c['acked']}), errors {sum(self.errors.values())}"
            )
            if sample["rss_mb"] is None:
                raise BenchError("the server process is gone")
            if not self.running():
                return
            next_at = self.started + interval * len(self.samples)
            await asyncio.sleep(max(0.0, min(next_at, self.deadline) - time.monotonic()))

    # ---- phones -------------------------------------------------------------------------

    async def joiner(self) -> None:
        """Fill up to --population at --fill-rate, then --join-rate, within ±10 % of it."""
        args = self.args
        while self.running():
            population = len(self.phones) + self.joining
            if not self.filled and population >= args.population:
                self.filled = True
                log(f"filled: {len(self.phones)} phones after {self.elapsed():.1f} s")
            rate = args.join_rate if self.filled else args.fill_rate
            if population < args.population * (1.1 if self.filled else 1.0):
                self.joining += 1
                self.spawn(self.join())
            elif self.filled:
                self.counts["joins_skipped"] += 1
            await self.pause(self.random.expovariate(rate) if self.filled else 1 / rate)

    async def join(self) -> None:
        import socketio

        args = self.args
        self.numbers += 1
        number = self.numbers
        client = None
        started = time.monotonic()
        try:
            async with self.join_slots, asyncio.timeout(args.connect_timeout):
                cookie = await participant_cookie(self.http, self.base, self.code)
                client = socketio.AsyncClient(
                    handle_sigint=False, reconnection_delay=0.5, reconnection_delay_max=5
                )
                phone = Phone(number, cookie, client)
                client.on("state", phone.on_state)
                client.on("connect", lambda: self.on_connect(phone))
                client.on("disconnect", lambda *_reason: self.on_disconnect(phone))
                await client.connect(
                    self.base,
                    auth={"code": self.code, "role": "audience"},
                    # A function: engine.io deletes the Cookie from a dict it is given.
                    headers=lambda: {"Cookie": f"polling={cookie}"},
                    transports=["websocket"],
                    wait_timeout=args.connect_timeout,
                )
            self.phones[number] = phone
            self.counts["joins"] += 1
            self.join_ms.append((time.monotonic() - started) * 1000)
        except Exception as error:
            self.errors[f"join: {error_name(error)}"] += 1
            if client is not None:
                await self.close_client(client)
        finally:
            self.joining -= 1

    def on_connect(self, phone: Phone) -> None:
        relax_watchdog(phone.client, self.args.client_watchdog)
        if getattr(phone.client, "was_connected", False):
            self.counts["reconnects"] += 1
        phone.client.was_connected = True

    def on_disconnect(self, phone: Phone) -> None:
        if not phone.leaving:
            self.errors["unexpected disconnect"] += 1

    async def leaver(self) -> None:
        """At --leave-rate, while more than 90 % of --population are connected."""
        args = self.args
        weights = args.leave_mix
        while self.running():
            await self.pause(self.random.expovariate(args.leave_rate))
            if not self.running() or not self.filled:
                continue
            if len(self.phones) <= args.population * 0.9:
                self.counts["leaves_skipped"] += 1
                continue
            number = self.random.choice(list(self.phones))
            phone = self.phones.pop(number)
            kind = self.random.choices(LEAVE_KINDS, weights)[0]
            self.counts["leaves"] += 1
            self.counts[f"leaves_{kind}"] += 1
            self.spawn(self.leave(phone, kind))

    async def leave(self, phone: Phone, kind: str) -> None:
        """clean: Socket.IO disconnect. drop: the TCP connection closes with no goodbye (a
        tab closed mid-way). vanish: the phone goes silent with its connection open (out of
        Wi-Fi range): the server must notice by its pings; our side closes a minute later."""
        phone.leaving = True
        client = phone.client
        client.reconnection = False
        if kind == "clean":
            await self.close_client(client)
            return
        transport = self.transport(client)
        if transport is None:
            self.errors[f"leave {kind}: no transport, left cleanly"] += 1
            await self.close_client(client)
            return
        if kind == "drop":
            transport.abort()
            await asyncio.sleep(1)
            await self.close_client(client)
            return
        # vanish: stop the client's reader and writer so it neither answers nor closes.
        for name in ("read_loop_task", "write_loop_task"):
            task = getattr(client.eio, name, None)
            if task is not None:
                task.cancel()
        self.vanished.append((time.monotonic() + VANISH_CLOSE_AFTER, phone))

    @staticmethod
    def transport(client: Any) -> Any:
        ws = getattr(client.eio, "ws", None)
        connection = getattr(ws, "_conn", None)
        return getattr(connection, "transport", None)

    async def closer(self) -> None:
        """Close our side of vanished phones once the server has had time to drop them."""
        while self.running():
            await self.pause(1)
            now = time.monotonic()
            due = [phone for at, phone in self.vanished if at <= now]
            self.vanished = [(at, phone) for at, phone in self.vanished if at > now]
            for phone in due:
                self.spawn(self.close_vanished(phone, check=True))

    async def close_vanished(self, phone: Phone, check: bool = False) -> None:
        """With `check`: the server should have closed the connection by now (it noticed the
        missing pongs); if it did not, that is counted as an error."""
        transport = self.transport(phone.client)
        if check:
            if transport is None or transport.is_closing():
                self.counts["vanished_closed_by_server"] += 1
            else:
                self.errors["silent phone still connected after 60 s"] += 1
        if transport is not None:
            transport.abort()
        await self.close_client(phone.client, disconnect=False)

    @staticmethod
    async def close_client(client: Any, disconnect: bool = True) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                if disconnect:
                    await client.shutdown()
        http = getattr(client.eio, "http", None)
        if http is not None and not http.closed:
            with contextlib.suppress(Exception):
                await http.close()

    async def leave_all(self) -> None:
        self.logs.paused = True
        phones = list(self.phones.values())
        self.phones.clear()
        for phone in phones:
            phone.leaving = True
        vanished = [phone for _at, phone in self.vanished]
        self.vanished = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await asyncio.gather(
                    *(self.close_client(phone.client) for phone in phones),
                    *(self.close_vanished(phone) for phone in vanished),
                )

    # ---- votes --------------------------------------------------------------------------

    async def voter(self) -> None:
        """At --vote-rate: a random phone that sees an open round votes (again)."""
        args = self.args
        while self.running():
            await self.pause(self.random.expovariate(args.vote_rate))
            candidates = [
                phone
                for phone in self.phones.values()
                if phone.open and phone.round_id and not phone.voting and phone.client.connected
            ]
            if not candidates or not self.running():
                continue
            phone = self.random.choice(candidates)
            before = phone.choices.get(phone.round_id)
            if before is not None and self.random.random() < args.change_share:
                choice = next(option for option in CHOICES if option != before)
            else:
                choice = self.random.choice(CHOICES)
            self.spawn(self.vote(phone, phone.round_id, choice, before))

    async def vote(self, phone: Phone, round_id: int, choice: str, before: str | None) -> None:
        phone.voting = True
        self.counts["votes"] += 1
        started = time.monotonic()
        try:
            reply = await phone.client.call(
                "vote", {"round": round_id, "choice": choice}, timeout=self.args.ack_timeout
            )
        except Exception as error:
            if phone.leaving:
                self.counts["votes_cut_by_leaving"] += 1
            else:
                self.errors[f"vote: {error_name(error)}"] += 1
            return
        finally:
            phone.voting = False
        if isinstance(reply, dict) and reply.get("ok") is True:
            self.counts["acked"] += 1
            if before is not None and before != choice:
                self.counts["vote_changes"] += 1
            phone.choices[round_id] = choice
            self.ack_ms.append((time.monotonic() - started) * 1000)
            return
        code = reply.get("error") if isinstance(reply, dict) else repr(reply)[:40]
        if code == "voting_closed":
            self.refusals[code] += 1  # the moderator closed the round meanwhile: expected
        else:
            self.errors[f"vote refused: {code}"] += 1

    # ---- the moderator ------------------------------------------------------------------

    async def control(self, action: str) -> bool:
        try:
            reply = await self.moderator.client.call(
                "control", {"action": action}, timeout=self.args.ack_timeout
            )
        except Exception as error:
            self.errors[f"control {action}: {error_name(error)}"] += 1
            return False
        if isinstance(reply, dict) and reply.get("ok"):
            self.counts["moderator_actions"] += 1
            return True
        self.errors[f"control {action} refused: {(reply or {}).get('error')}"] += 1
        return False

    async def moderate(self) -> None:
        """Every --cycle seconds: next (or previous, walking back from the last statement),
        open, close after 60 % of the cycle, reveal; a third of the time a second round too."""
        cycle = self.args.cycle
        direction = 1
        while self.running():
            started = time.monotonic()
            try:
                synced = await self.moderator.client.call("sync", timeout=self.args.ack_timeout)
            except Exception as error:
                self.errors[f"sync: {error_name(error)}"] += 1
                await self.pause(1)
                continue
            current = (synced or {}).get("state") or {}
            position, total = current.get("position", 0), current.get("total", 1)
            if direction == 1 and position >= total:
                direction = -1
            elif direction == -1 and position <= 1:
                direction = 1
            await self.control("next" if direction == 1 else "previous")
            await self.control("open")
            await self.pause(cycle * 0.6)
            if not self.running():
                return
            await self.control("close")
            await self.control("reveal")
            if self.random.random() < 1 / 3:
                await self.pause(cycle * 0.05)
                await self.control("new_round")
                await self.control("open")
                await self.pause(cycle * 0.2)
                await self.control("close")
                await self.control("reveal")
            self.counts["statements_shown"] += 1
            await self.pause(cycle - (time.monotonic() - started))


# ---- figures --------------------------------------------------------------------------------


def summarize(soak: Soak, result: dict[str, Any]) -> None:
    args = soak.args
    samples = [s for s in soak.samples if s["rss_mb"] is not None and s["fds"] is not None]
    result.update({key: soak.counts[key] for key in ("joins", "votes", "acked", "leaves")})
    if samples:
        rss = [s["rss_mb"] for s in samples]
        fds = [s["fds"] for s in samples]
        result.update(
            rss_start_mb=rss[0],
            rss_end_mb=rss[-1],
            rss_max_mb=max(rss),
            fds_start=fds[0],
            fds_end=fds[-1],
            fds_max=max(fds),
        )
        steady = [s for s in samples if s["t"] >= args.warmup]
        for key, name in (
            ("rss_mb", "rss_slope_mb_per_min"),
            ("fds", "fds_slope_per_min"),
            ("population", "population_slope_per_min"),
        ):
            slope = least_squares_slope([(s["t"] / 60, s[key]) for s in steady])
            result[name] = round(slope, 3) if slope is not None else None
        if steady:
            result["rss_steady_min_mb"] = min(s["rss_mb"] for s in steady)
            result["rss_steady_max_mb"] = max(s["rss_mb"] for s in steady)
            result["fds_steady_min"] = min(s["fds"] for s in steady)
            result["fds_steady_max"] = max(s["fds"] for s in steady)
            result["population_steady_min"] = min(s["population"] for s in steady)
            result["population_steady_max"] = max(s["population"] for s in steady)
    result["errors"] = dict(soak.errors)
    result["vote_refusals"] = dict(soak.refusals)
    for key in (
        "vote_changes",
        "leaves_clean",
        "leaves_drop",
        "leaves_vanish",
        "vanished_closed_by_server",
        "votes_cut_by_leaving",
        "reconnects",
        "moderator_actions",
        "statements_shown",
        "joins_skipped",
        "leaves_skipped",
    ):
        result[key] = soak.counts[key]
    result["population_end"] = len(soak.phones)
    result["ack_p50_ms"] = percentile_ms(soak.ack_ms, 0.5)
    result["ack_p95_ms"] = percentile_ms(soak.ack_ms, 0.95)
    result["join_p50_ms"] = percentile_ms(soak.join_ms, 0.5)
    result["join_p95_ms"] = percentile_ms(soak.join_ms, 0.95)
    result["samples"] = [[s["t"], s["rss_mb"], s["fds"], s["population"]] for s in samples]


# ---- command line ---------------------------------------------------------------------------


def leave_mix(text: str) -> list[float]:
    weights = [float(part) for part in text.split(",")]
    if len(weights) != len(LEAVE_KINDS) or min(weights) < 0 or sum(weights) <= 0:
        raise argparse.ArgumentTypeError("three weights, e.g. 0.4,0.3,0.3")
    return weights


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds (default 300)")
    parser.add_argument("--population", type=int, default=300, help="phones to keep (300)")
    parser.add_argument("--join-rate", type=float, default=2.0, help="new phones per second (2)")
    parser.add_argument("--leave-rate", type=float, default=2.0, help="phones leaving/s (2)")
    parser.add_argument(
        "--leave-mix",
        type=leave_mix,
        default=[0.4, 0.3, 0.3],
        help="weights of clean,drop,vanish leaves (default 0.4,0.3,0.3)",
    )
    parser.add_argument("--fill-rate", type=float, default=30.0, help="joins/s at first (30)")
    parser.add_argument("--vote-rate", type=float, default=5.0, help="votes per second (5)")
    parser.add_argument(
        "--change-share", type=float, default=0.5, help="share of re-votes that change (0.5)"
    )
    parser.add_argument("--cycle", type=float, default=20.0, help="seconds per statement (20)")
    parser.add_argument("--sample-interval", type=float, default=10.0, help="seconds (10)")
    parser.add_argument(
        "--warmup", type=float, default=60.0, help="seconds left out of the slopes (60)"
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    add_server_options(parser)
    add_client_options(parser, connect_concurrency=20, ack_timeout=30.0)
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.population < 1 or min(args.join_rate, args.leave_rate) <= 0:
        parser.error("--duration, --population and the rates must be positive")
    if min(args.vote_rate, args.fill_rate, args.cycle, args.sample_interval) <= 0:
        parser.error("--vote-rate, --fill-rate, --cycle and --sample-interval must be positive")
    # What Servers reads.
    args.processes, args.message_queue, args.tally_interval = 1, None, None
    args.voters, args.deck = args.population * 2, DEFAULT_DECK
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    prepare_process()
    result: dict[str, Any] = {
        "duration_s": args.duration,
        "population": args.population,
        "join_rate": args.join_rate,
        "leave_rate": args.leave_rate,
        "vote_rate": args.vote_rate,
        "async_mode": args.async_mode,
        "database": args.database,
    }
    servers = Servers(args)
    soak = None
    failure = None
    started = time.monotonic()
    try:
        try:
            servers.start()
            soak = Soak(args, servers)
            asyncio.run(soak.run(result))
        except (BenchError, OSError, TimeoutError) as error:
            failure = str(error) or type(error).__name__
        except Exception as error:
            failure = error_name(error)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        result["wall_s"] = round(time.monotonic() - started, 1)
        if soak is not None:
            summarize(soak, result)
            if soak.logs.counts:
                log(f"client library warnings: {dict(soak.logs.counts)}")
        servers.shut_down(result)
    if failure:
        result["error"] = failure
        log(f"FAILED: {failure}")
    samples = result.pop("samples", [])
    log("samples [t s, rss MB, fds, phones]: " + json.dumps(samples))
    print_result(result)
    return 2 if failure else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

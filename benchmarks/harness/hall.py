"""A full hall for the Q&A benchmarks (benchmarks/qa.py): phones as real Socket.IO clients on
generator processes, started together, each request's ack timed by kind, what every phone is
sent counted per event, and a moderator whose requests are timed too.

A phase (the questions, the reasons) subclasses `Phones` with what its page sends after the
connect (`joined`), what it learns from what it is sent (`heard`) and its timed requests
(`plan`); the coordinator runs it with `run_hall` and puts the figures together with
`summarize_phones`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import multiprocessing
import random
import resource
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from benchmarks.harness import cli, clients, log, metrics, stats, verify
from benchmarks.harness import servers as harness_servers

WORDS = (
    *("privacy", "kosten", "opleiding", "data", "huisarts", "ziekenhuis", "patient", "regie"),
    *("toezicht", "algoritme", "wetgeving", "validatie", "werkdruk", "innovatie", "regels"),
)
# An answer that leaves open whether the server stored the request: the phone was told to
# try again, or heard nothing. Such a request may be in the database, or not.
UNDECIDED = ("busy", "storage_error")
# After the window: how long a phone that was sent nothing to upvote keeps looking.
UPVOTE_GRACE_S = 5


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.sample(WORDS, count))


def compact_size(data: Any) -> int:
    """A message's size as the server sends it: compact JSON."""
    return len(json.dumps(data, separators=(",", ":")))


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.time()))


def undecided(reply: dict[str, Any]) -> bool:
    return bool(reply.get("unanswered")) or reply.get("error") in UNDECIDED


# --------------------------------------------------------------------------------------------
# Generator processes: each runs its share of the phones on one asyncio loop
# --------------------------------------------------------------------------------------------


class Phones:
    """One generator process's phones and what they measured.

    Subclasses name the events a phone listens to (`listens`), and override `joined`, `heard`
    and `plan`. Acks are kept per kind (`"vote"`, `"upvote"`, ...): their latency in `ms`,
    what was acknowledged in `acked`, requests that may or may not be stored in `unsure`.
    """

    listens: tuple[str, ...] = ("state",)

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.rng = random.Random(config["seed"] * 1000 + config["worker"])
        self.clients: dict[int, Any] = {}
        self.cookies: dict[int, str] = {}
        self.tokens: dict[int, str] = {}
        self.seen: dict[int, list[int]] = {}  # phone -> ids of the items it may upvote
        self.own: dict[int, set[int]] = collections.defaultdict(set)
        self.upvoted: dict[int, set[int]] = collections.defaultdict(set)
        self.ms: dict[str, list[float]] = collections.defaultdict(list)
        self.sent_at: dict[str, list[float]] = collections.defaultdict(list)  # as `ms`
        self.acked: dict[str, list[Any]] = collections.defaultdict(list)
        self.unsure: dict[str, list[Any]] = collections.defaultdict(list)
        self.errors: collections.Counter[str] = collections.Counter()
        # event -> phone -> messages (and bytes) received while counting
        self.messages: dict[str, collections.Counter[int]] = collections.defaultdict(
            collections.Counter
        )
        self.bytes: dict[str, collections.Counter[int]] = collections.defaultdict(
            collections.Counter
        )
        self.largest: collections.Counter[str] = collections.Counter()
        self.counting = False
        self.last_ack = 0.0
        self.no_target = 0

    # ---- what a phase says ----

    async def joined(self, phone: int, client: Any) -> None:
        """What the page sends once connected (e.g. questions_sync)."""

    def heard(self, phone: int, name: str, data: Any) -> None:
        """A message of one of the `listens` events arrived."""

    def plan(self, mine: list[int], began: float) -> Iterable[Coroutine[Any, Any, None]]:
        """The timed requests of these phones, from `began` (time.time()) on."""
        return ()

    # ---- the machinery ----

    def on_message(self, phone: int, name: str, data: Any) -> None:
        if self.counting:
            size = compact_size(data)
            self.messages[name][phone] += 1
            self.bytes[name][phone] += size
            self.largest[name] = max(self.largest[name], size)
        self.heard(phone, name, data)

    async def connect(self, http: Any, semaphore: asyncio.Semaphore, phone: int) -> None:
        """Open the vote page for a cookie, connect over WebSocket with it, then `joined`."""
        import socketio

        base, code = self.config["base"], self.config["code"]
        async with semaphore:
            try:
                async with asyncio.timeout(self.config["connect_timeout"]):
                    cookie = await clients.participant_cookie(http, base, code)
                    client = socketio.AsyncClient(handle_sigint=False, reconnection=False)
                    for name in self.listens:
                        client.on(name, lambda data, n=name, p=phone: self.on_message(p, n, data))
                    await client.connect(
                        base,
                        auth={"code": code, "role": "audience"},
                        headers=lambda cookie=cookie: {"Cookie": f"polling={cookie}"},
                        transports=["websocket"],
                        wait_timeout=self.config["connect_timeout"],
                    )
                    clients.relax_watchdog(client, self.config["client_watchdog"])
                    await self.joined(phone, client)
                self.clients[phone] = client
                self.cookies[phone] = cookie
                self.tokens[phone] = verify.cookie_token(cookie) or ""
            except Exception as error:
                self.errors[f"connect: {clients.error_name(error)}"] += 1

    async def request(
        self, phone: int, kind: str, event: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        """Send one request and time its ack (kept under `kind` if ok). Not ok is counted as
        `"<kind>: <error>"`; an exception (no answer in time) gives `unanswered`."""
        client = self.clients.get(phone)
        if client is None:
            self.errors[f"{kind}: not connected"] += 1
            return {"ok": False, "error": "not connected"}
        sent, sent_at = time.perf_counter(), time.time()
        try:
            reply = await client.call(event, payload, timeout=self.config["ack_timeout"])
        except Exception as error:
            self.errors[f"{kind}: {clients.error_name(error)}"] += 1
            return {"ok": False, "error": clients.error_name(error), "unanswered": True}
        if not isinstance(reply, dict) or not reply.get("ok"):
            error = reply.get("error") if isinstance(reply, dict) else repr(reply)
            self.errors[f"{kind}: {error}"] += 1
            return reply if isinstance(reply, dict) else {"ok": False, "error": error}
        self.ms[kind].append((time.perf_counter() - sent) * 1000)
        self.sent_at[kind].append(sent_at)
        self.last_ack = max(self.last_ack, time.time())
        return reply

    def upvote_share(self, phone: int) -> int:
        """This phone's part of the --upvotes, spread evenly over the phones."""
        upvotes, phones = self.config["upvotes"], self.config["phones"]
        return upvotes // phones + (phone < upvotes % phones)

    async def upvote(self, phone: int, at: float, until: float, event: str, field: str) -> None:
        """At `at`, support one item this phone was sent (`seen`), never its own nor one it
        supported already; if there is none yet, look again every second until `until`.
        Phones only support what they can see, as in the hall."""
        await sleep_until(at)
        while phone in self.clients:
            choices = [
                item
                for item in self.seen.get(phone, [])
                if item not in self.own[phone] and item not in self.upvoted[phone]
            ]
            if choices:
                break
            if time.time() > until:  # nothing to support was ever sent to this phone
                self.no_target += 1
                return
            await asyncio.sleep(1)
        else:
            return
        item = self.rng.choice(choices)
        self.upvoted[phone].add(item)
        reply = await self.request(phone, "upvote", event, {field: item})
        if reply.get("ok"):
            self.acked["upvote"].append((self.tokens[phone], item))
        elif undecided(reply):
            self.unsure["upvote"].append((self.tokens[phone], item))

    def report(self) -> dict[str, Any]:
        """What the coordinator merges: plain lists and dicts (they cross a process queue)."""
        received = {}
        for name in self.listens:
            counts = [self.messages[name][phone] for phone in self.clients]
            sizes = [self.bytes[name][phone] for phone in self.clients]
            received[name] = {
                "phones": len(counts),
                "messages": sum(counts),
                "bytes": sum(sizes),
                "min": min(counts, default=0),
                "max": max(counts, default=0),
                "largest": self.largest[name],
            }
        return {
            "connected": len(self.clients),
            "ms": dict(self.ms),
            "sent_at": dict(self.sent_at),
            "acked": dict(self.acked),
            "unsure": dict(self.unsure),
            "errors": dict(self.errors),
            "received": received,
            "last_ack": self.last_ack,
            "no_target": self.no_target,
        }


@dataclass
class Signals:
    """Between the coordinator and its generator processes (multiprocessing's): each puts its
    phones connected in `ready`, starts at `go` from `start` (time.time()), puts its report in
    `out`, and disconnects its phones at `leave`."""

    ready: Any
    go: Any
    start: Any
    out: Any
    leave: Any


async def _run_phones(phones_class: type[Phones], config: dict[str, Any], signals: Signals) -> None:
    import aiohttp

    phones = phones_class(config)
    mine = list(range(config["worker"], config["phones"], config["workers"]))
    semaphore = asyncio.Semaphore(config["concurrency"])
    connector = aiohttp.TCPConnector(limit=config["concurrency"])
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        await asyncio.gather(*(phones.connect(http, semaphore, phone) for phone in mine))
    signals.ready.put(len(phones.clients))
    while not signals.go.is_set():
        await asyncio.sleep(0.05)
    phones.counting = True
    cpu_before = cpu_seconds()
    await asyncio.gather(*phones.plan(mine, signals.start.value))
    phones.counting = False
    signals.out.put({**phones.report(), "cpu_s": cpu_seconds() - cpu_before})
    # Not before every process is done and the server measured: python-socketio's server
    # looks through every room at each disconnect, so 10,000 phones leaving cost it tens of
    # seconds of CPU, which would land on the phones of the processes still running.
    while not signals.leave.is_set():
        await asyncio.sleep(0.1)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            await asyncio.gather(
                *(client.disconnect() for client in phones.clients.values()),
                return_exceptions=True,
            )


def cpu_seconds() -> float:
    """This process's CPU seconds so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phones_main(phones_class: type[Phones], config: dict[str, Any], signals: Signals) -> None:
    """A generator process (multiprocessing's spawn: a fresh interpreter)."""
    cli.raise_file_limit()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator stops us
    asyncio.run(_run_phones(phones_class, config, signals))


# --------------------------------------------------------------------------------------------
# The coordinator's side
# --------------------------------------------------------------------------------------------


class Received:
    """What one screen (projector or moderator) got of one event: count, bytes, and the
    messages themselves with their time if `keep`."""

    def __init__(self, client: Any, event: str, *, keep: bool = False) -> None:
        self.event = event
        self.count = 0
        self.bytes = 0
        self.largest = 0
        self.kept: list[tuple[float, Any]] | None = [] if keep else None
        self.last: Any = None
        client.on(event, self.on_message)

    def on_message(self, data: Any) -> None:
        size = compact_size(data)
        self.count += 1
        self.bytes += size
        self.largest = max(self.largest, size)
        self.last = data
        if self.kept is not None:
            self.kept.append((time.time(), data))

    def figures(self, prefix: str) -> dict[str, int]:
        return {
            f"{prefix}_messages": self.count,
            f"{prefix}_bytes": self.bytes,
            f"{prefix}_largest_bytes": self.largest,
        }


class Moderator:
    """The moderator's connection: requests timed per event, refusals and failures counted,
    and the moderator goes on after either."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.ms: dict[str, list[float]] = collections.defaultdict(list)
        self.sent_at: dict[str, list[float]] = collections.defaultdict(list)  # as `ms`
        self.errors: collections.Counter[str] = collections.Counter()

    async def call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        sent = time.perf_counter()
        try:
            reply = await self.client.call(event, payload, timeout=30)
        except Exception as error:
            self.errors[f"{event}: {clients.error_name(error)}"] += 1
            return {}
        if not reply.get("ok"):
            self.errors[f"{event}: {reply.get('error')}"] += 1
        else:
            self.ms[event].append((time.perf_counter() - sent) * 1000)
        return reply

    def figures(self) -> dict[str, Any]:
        """moderator_errors, and per event the acks' p50 and slowest."""
        acks = {
            event: {
                "acked": len(values),
                "p50_ms": stats.percentile(sorted(values), 0.5),
                "max_ms": stats.percentile(sorted(values), 1.0),
            }
            for event, values in self.ms.items()
        }
        return {"moderator_errors": dict(self.errors), "moderator_acks": acks}


async def connect_screens(
    servers: harness_servers.Servers, watchdog: float
) -> tuple[clients.Screen, clients.Screen]:
    """The projector (presenter key) and the moderator, connected."""
    presenter = clients.Screen("presenter", watchdog)
    moderator = clients.Screen("moderator", watchdog)
    base, code = servers.bases[0], servers.code
    await presenter.connect(base, code, "presenter", servers.presenter_key)
    await moderator.connect(base, code, "moderator", servers.moderator_key)
    return presenter, moderator


def phone_config(args: argparse.Namespace, servers: harness_servers.Servers) -> dict[str, Any]:
    """What every generator process is told (a phase adds its own keys)."""
    return {
        "workers": args.workers,
        "phones": args.phones,
        "upvotes": args.upvotes,
        "window": args.window,
        "seed": args.seed,
        "base": servers.bases[0],
        "code": servers.code,
        "concurrency": max(1, args.connect_concurrency // args.workers),
        "connect_timeout": args.connect_timeout,
        "ack_timeout": args.ack_timeout,
        "client_watchdog": args.client_watchdog,
    }


async def run_hall(
    args: argparse.Namespace,
    servers: harness_servers.Servers,
    phones_class: type[Phones],
    config: dict[str, Any],
    direct: Callable[[float], Awaitable[Any]],
    result: dict[str, Any],
) -> dict[str, Any]:
    """Connect the phones on --workers processes, start them together and measure the server
    while they run; `direct(began)` is the moderator's part, cancelled once every phone is
    done. Puts connected, connect_s, server CPU and memory and the machine's load in `result`;
    returns the phones' reports, `began`, `elapsed` and `last_ack`."""
    context = multiprocessing.get_context("spawn")
    signals = Signals(
        ready=context.Queue(),
        go=context.Event(),
        start=context.Value("d", 0.0),
        out=context.Queue(),
        leave=context.Event(),
    )
    workers = [
        context.Process(
            target=phones_main, args=(phones_class, {**config, "worker": index}, signals)
        )
        for index in range(args.workers)
    ]
    for worker in workers:
        worker.start()
    try:
        connected_at = time.monotonic()
        connected = 0
        for _ in workers:
            connected += await asyncio.to_thread(signals.ready.get, True, args.connect_timeout * 20)
        result["connected"] = connected
        result["connect_s"] = round(time.monotonic() - connected_at, 1)
        log(f"{connected} phones connected in {result['connect_s']} s; go")
        cpu_before = metrics.cpu_seconds(servers.pids)
        machine_before = metrics.machine_cpu()
        began = signals.start.value = time.time() + 1
        signals.go.set()
        directing = asyncio.create_task(direct(began))
        timeout = args.window + 2 * args.ack_timeout + 60
        reports = [await asyncio.to_thread(signals.out.get, True, timeout) for _ in workers]
        elapsed = time.time() - began
        directing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await directing
        result["server_cpu_s"] = round(
            (metrics.cpu_seconds(servers.pids) or 0) - (cpu_before or 0), 1
        )
        result.update(metrics.machine_load(machine_before, metrics.machine_cpu()))
        result["server_rss_mb"] = metrics.memory_mb(servers.pids, "VmRSS")
        result["server_peak_rss_mb"] = metrics.memory_mb(servers.pids, "VmHWM")
        # One more interval and a bit: the projector's last message after the last ack.
        await asyncio.sleep(2.5)
        return {
            "reports": reports,
            "began": began,
            "elapsed": elapsed,
            "last_ack": max(report["last_ack"] for report in reports),
        }
    finally:
        signals.leave.set()
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()


def merged_list(reports: list[dict[str, Any]], key: str, kind: str) -> list[Any]:
    """One kind's entries of `key` ("ms", "acked", "unsure") over every generator."""
    return [entry for report in reports for entry in report[key].get(kind, [])]


def summarize_phones(run: dict[str, Any], kinds: Iterable[str], result: dict[str, Any]) -> None:
    """Per kind: `<kind>s_acked` and `<kind>_ack_p50_ms` / p95 / p99; `errors`; what a phone
    was sent during the window, in all per second and per event (`received`)."""
    reports = run["reports"]
    slices: dict[str, dict[str, float | None]] = {}
    for kind in kinds:
        values = sorted(merged_list(reports, "ms", kind))
        result[f"{kind}s_acked"] = len(values)
        for label, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            result[f"{kind}_ack_{label}_ms"] = stats.percentile(values, fraction)
        sent = zip(
            merged_list(reports, "sent_at", kind), merged_list(reports, "ms", kind), strict=True
        )
        slices[kind] = p95_by_slice(sent, run["began"])
    result["ack_p95_ms_by_10s"] = slices
    result["errors"] = stats.merged(reports, "errors")
    result["upvotes_without_target"] = sum(report["no_target"] for report in reports)
    result["generator_cpu_s"] = round(sum(report["cpu_s"] for report in reports), 1)
    phones, seconds = max(result["connected"], 1), max(run["elapsed"], 1e-9)
    received: dict[str, dict[str, Any]] = {}
    for name in reports[0]["received"]:
        parts = [report["received"][name] for report in reports]
        received[name] = {
            "messages_per_phone": round(sum(p["messages"] for p in parts) / phones, 2),
            "min_per_phone": min(p["min"] for p in parts),
            "max_per_phone": max(p["max"] for p in parts),
            "bytes_per_phone": round(sum(p["bytes"] for p in parts) / phones),
            "largest_bytes": max(p["largest"] for p in parts),
        }
    result["received"] = received
    result["messages_per_phone_per_s"] = round(
        sum(figures["messages_per_phone"] for figures in received.values()) / seconds, 3
    )
    result["bytes_per_phone_per_s"] = round(
        sum(figures["bytes_per_phone"] for figures in received.values()) / seconds, 1
    )


def p95_by_slice(
    sent: Iterable[tuple[float, float]], began: float, seconds: int = 10
) -> dict[str, float | None]:
    """Ack p95 of the requests sent in each slice of the window ("0-10": the first ten
    seconds): when in the window the acks got slow."""
    by_slice: dict[int, list[float]] = collections.defaultdict(list)
    for at, ms in sent:
        by_slice[int((at - began) // seconds)].append(ms)
    return {
        f"{n * seconds}-{(n + 1) * seconds}": stats.percentile(sorted(by_slice[n]), 0.95)
        for n in sorted(by_slice)
    }


def digests(event_id: int, entries: Iterable[Any]) -> set[tuple[Any, ...]]:
    """(token, *rest) entries of the phones as (the server's participant digest, *rest)."""
    return {(verify.token_digest(event_id, token), *rest) for token, *rest in entries}


def check_stored(
    name: str, run: dict[str, Any], kind: str, event_id: int, stored: list[tuple[Any, ...]]
) -> dict[str, int]:
    """Every acked request of `kind` among the `stored` rows (digest first), exactly once, and
    nothing stored that was not sent: `<name>_missing`, `_duplicated`, `_unexpected`,
    `_stored_unacked` and `<name>_in_database`."""
    acked = digests(event_id, merged_list(run["reports"], "acked", kind))
    unsure = digests(event_id, merged_list(run["reports"], "unsure", kind))
    figures = verify.compare_acked(acked, [tuple(row) for row in stored], unsure)
    return {
        **{f"{name}_{key}": value for key, value in figures.items()},
        f"{name}_in_database": len(stored),
    }


def final_correct_since(
    screens: list[tuple[float, Any]],
    counts: dict[int, int],
    shown: Callable[[Any], Iterable[dict[str, Any]]],
) -> float | None:
    """When a screen started showing only right upvote counts (the first message of the run
    of right ones that lasts to the end), or None if its last message is wrong. `shown`
    gives the items a message shows, each with its `id` and `upvotes`."""
    since = None
    for at, screen in screens:
        right = all(item["upvotes"] == counts.get(item["id"], 0) for item in shown(screen))
        since = (since or at) if right else None
    return since


def projector_final_ms(
    screens: list[tuple[float, Any]],
    counts: dict[int, int],
    shown: Callable[[Any], Iterable[dict[str, Any]]],
    last_ack: float,
) -> int | None:
    """From the last ack to the projector showing the database's counts for good (0: it did
    already), or None if it never did."""
    since = final_correct_since(screens, counts, shown)
    return None if since is None else round(max(0.0, since - last_ack) * 1000)

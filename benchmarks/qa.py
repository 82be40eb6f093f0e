"""Q&A benchmark: N phones connected, Q questions asked and U upvotes cast within S seconds,
while a moderator approves the questions held for moderation and moves the question on screen.

    .venv/bin/python -m benchmarks.qa --phones 10000 --questions 500 --upvotes 20000 --window 60

It starts the server as load.py does (same code: a fresh database, `polling serve`), connects a
projector and a moderator, then the phones, spread over --workers generator processes. Phones
only upvote questions they were sent (the hall's lists), never their own. Every tenth question
contains a word of the built-in list, so it waits for the moderator, who approves it (within
the moderator's rate limit) and presses *Volgende vraag* every --next-every seconds.

Reported (the last line on stdout is one JSON object): ask and upvote ack p50/p95/p99, acked
upvotes found in the database exactly once (`upvotes_missing`, `upvotes_unexpected`), how long
after the last upvote the projector showed the final counts (`projector_final_ms`), messages and
bytes per phone per second during the window, server CPU seconds and RSS.

Exit status: 0 done; 1 an acked upvote is not in the database, or one is there that was not
acked; 2 the run failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import multiprocessing
import os
import random
import signal
import sys
import time
from typing import Any

# The harness the other benchmarks share: the server start, /proc readings, cookies, percentiles.
from benchmarks.harness import BenchError, cli, clients, log, metrics, stats, verify
from benchmarks.harness import servers as harness_servers

WORDS = (
    *("privacy", "kosten", "opleiding", "data", "huisarts", "ziekenhuis", "patient", "regie"),
    *("toezicht", "algoritme", "wetgeving", "validatie", "werkdruk", "innovatie", "regels"),
)


def question_text(index: int, rng: random.Random) -> str:
    """A unique question; every tenth holds a word of the built-in list (so it is held)."""
    words = " ".join(rng.sample(WORDS, 4))
    held = " of is het bullshit" if index % 10 == 0 else ""
    return f"Vraag {index}: hoe zit het met {words}{held}?"


def check_upvotes(
    acked: set[tuple[str, int]],
    stored: list[tuple[str, int]],
    unsure: set[tuple[str, int]] | None = None,
) -> dict[str, int]:
    """Compare acked upvotes (participant digest, question id) with the rows in the database:
    each acked one must be there exactly once, and nothing else but upvotes whose phone was
    told "busy, try again" or got no answer (`unsure`: they may or may not be stored)."""
    counted = collections.Counter(stored)
    unsure = unsure or set()
    return {
        "upvotes_missing": sum(1 for pair in acked if counted[pair] == 0),
        "upvotes_duplicated": sum(n - 1 for n in counted.values() if n > 1),
        "upvotes_unexpected": sum(1 for p in counted if p not in acked and p not in unsure),
        "upvotes_stored_unacked": sum(1 for p in counted if p in unsure and p not in acked),
    }


def final_correct_since(
    screens: list[tuple[float, dict[str, Any]]], counts: dict[int, int]
) -> float | None:
    """When the projector started showing only right counts (the first message of the run of
    right ones that lasts to the end), or None if its last message is wrong."""
    since = None
    for at, screen in screens:
        shown = [q for q in [screen.get("on_screen"), *screen.get("next", [])] if q]
        right = all(q["upvotes"] == counts.get(q["id"], 0) for q in shown)
        since = (since or at) if right else None
    return since


# --------------------------------------------------------------------------------------------
# Generator processes: each runs its share of the phones on one asyncio loop
# --------------------------------------------------------------------------------------------


class Phones:
    """One generator process's phones and what they measured."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.rng = random.Random(config["seed"] * 1000 + config["worker"])
        self.clients: dict[int, Any] = {}
        self.tokens: dict[int, str] = {}
        self.seen: dict[int, list[int]] = {}  # phone -> ids of the questions it was sent
        self.own: dict[int, set[int]] = collections.defaultdict(set)
        self.upvoted: dict[int, set[int]] = collections.defaultdict(set)
        self.ask_ms: list[float] = []
        self.upvote_ms: list[float] = []
        self.acked: list[tuple[str, int]] = []
        self.unsure: list[tuple[str, int]] = []  # sent, answered "busy" or not at all
        self.errors: collections.Counter[str] = collections.Counter()
        self.messages = 0
        self.bytes = 0
        self.counting = False
        self.last_ack = 0.0
        self.no_target = 0
        self.answered: set[int] = set()  # question ids, shared by this process's phones

    def on_message(self, phone: int, name: str, data: Any) -> None:
        if self.counting:
            self.messages += 1
            self.bytes += len(json.dumps(data, separators=(",", ":")))
        if name == "questions" and isinstance(data, dict):
            # The hall's update: ids of the lists; answered ones cannot be supported.
            answered = self.answered
            answered.update(q["id"] for q in data.get("changed", []) if q["state"] == "answered")
            listed = [
                q for q in data.get("popular", []) + data.get("newest", []) if q not in answered
            ]
            if data.get("on_screen"):
                listed.append(data["on_screen"])
            self.seen[phone] = listed

    async def connect(self, http: Any, semaphore: asyncio.Semaphore, phone: int) -> None:
        import socketio

        base, code = self.config["base"], self.config["code"]
        async with semaphore:
            try:
                async with asyncio.timeout(self.config["connect_timeout"]):
                    cookie = await clients.participant_cookie(http, base, code)
                    client = socketio.AsyncClient(handle_sigint=False, reconnection=False)
                    for name in ("questions", "questions_mine", "state"):
                        client.on(name, lambda data, n=name, p=phone: self.on_message(p, n, data))
                    await client.connect(
                        base,
                        auth={"code": code, "role": "audience"},
                        headers=lambda cookie=cookie: {"Cookie": f"polling={cookie}"},
                        transports=["websocket"],
                        wait_timeout=self.config["connect_timeout"],
                    )
                    clients.relax_watchdog(client, 120)
                    reply = await client.call("questions_sync", {}, timeout=30)
                    if reply.get("ok"):
                        hall = reply["questions"]
                        self.seen[phone] = [
                            q["id"] for q in hall["popular"] if q["state"] == "visible"
                        ]
                self.clients[phone] = client
                self.tokens[phone] = verify.cookie_token(cookie) or ""
            except Exception as error:
                self.errors[f"connect: {clients.error_name(error)}"] += 1

    async def ask(self, phone: int, at: float) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        client = self.clients.get(phone)
        if client is None:
            return
        sent = time.perf_counter()
        try:
            reply = await client.call(
                "question_ask", {"text": question_text(phone, self.rng)}, timeout=60
            )
        except Exception as error:
            self.errors[f"ask: {clients.error_name(error)}"] += 1
            return
        if reply.get("ok"):
            self.ask_ms.append((time.perf_counter() - sent) * 1000)
            self.own[phone].add(reply["question"]["id"])
        else:
            self.errors[f"ask: {reply.get('error')}"] += 1

    async def upvote(self, phone: int, at: float, until: float) -> None:
        await asyncio.sleep(max(0.0, at - time.time()))
        client = self.clients.get(phone)
        while client is not None:
            choices = [
                q
                for q in self.seen.get(phone, [])
                if q not in self.own[phone] and q not in self.upvoted[phone]
            ]
            if choices:
                break
            if time.time() > until:  # nothing to support was ever sent to this phone
                self.no_target += 1
                return
            await asyncio.sleep(1)
        if client is None:
            return
        question = self.rng.choice(choices)
        self.upvoted[phone].add(question)
        sent = time.perf_counter()
        try:
            reply = await client.call("question_upvote", {"question": question}, timeout=60)
        except Exception as error:
            self.errors[f"upvote: {clients.error_name(error)}"] += 1
            self.unsure.append((self.tokens[phone], question))
            return
        if reply.get("ok"):
            self.upvote_ms.append((time.perf_counter() - sent) * 1000)
            self.acked.append((self.tokens[phone], question))
            self.last_ack = max(self.last_ack, time.time())
        else:
            self.errors[f"upvote: {reply.get('error')}"] += 1
            if reply.get("error") in ("busy", "storage_error"):
                self.unsure.append((self.tokens[phone], question))


async def run_worker(config: dict[str, Any], ready: Any, go: Any, start: Any, out: Any) -> None:
    import aiohttp

    phones = Phones(config)
    mine = list(range(config["worker"], config["phones"], config["workers"]))
    semaphore = asyncio.Semaphore(config["concurrency"])
    connector = aiohttp.TCPConnector(limit=config["concurrency"])
    async with aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        await asyncio.gather(*(phones.connect(http, semaphore, phone) for phone in mine))
    ready.put(len(phones.clients))
    while not go.is_set():
        await asyncio.sleep(0.05)
    began, window = start.value, config["window"]
    phones.counting = True
    tasks = []
    for phone in mine:
        if phone < config["questions"]:
            tasks.append(phones.ask(phone, began + phones.rng.uniform(0, window * 0.6)))
        share = config["upvotes"] // config["phones"] + (
            phone < config["upvotes"] % config["phones"]
        )
        for _ in range(share):
            at = began + phones.rng.uniform(window * 0.05, window)
            tasks.append(phones.upvote(phone, at, began + window + 5))
    await asyncio.gather(*tasks)
    phones.counting = False
    out.put(
        {
            "connected": len(phones.clients),
            "ask_ms": phones.ask_ms,
            "upvote_ms": phones.upvote_ms,
            "acked": phones.acked,
            "unsure": phones.unsure,
            "errors": dict(phones.errors),
            "messages": phones.messages,
            "bytes": phones.bytes,
            "last_ack": phones.last_ack,
            "no_target": phones.no_target,
        }
    )
    for client in phones.clients.values():
        with contextlib.suppress(Exception):
            await client.disconnect()


def worker_main(config: dict[str, Any], ready: Any, go: Any, start: Any, out: Any) -> None:
    cli.raise_file_limit()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator stops us
    asyncio.run(run_worker(config, ready, go, start, out))


# --------------------------------------------------------------------------------------------
# The coordinator: server, projector, moderator, and the figures
# --------------------------------------------------------------------------------------------


class Moderator:
    """Approves every held question it is shown, a few a second (its rate limit), and moves
    to the next question on screen every `next_every` seconds."""

    def __init__(self, client: Any, next_every: float) -> None:
        self.client = client
        self.next_every = next_every
        self.waiting: list[int] = []
        self.handled: set[int] = set()
        self.approved = 0
        self.shown = 0
        self.errors: collections.Counter[str] = collections.Counter()
        client.on("questions_moderator", self.on_board)

    def on_board(self, board: dict[str, Any]) -> None:
        for question in board.get("questions", []):
            if question["state"] == "pending" and question["id"] not in self.handled:
                self.handled.add(question["id"])
                self.waiting.append(question["id"])

    async def run(self, until: float) -> None:
        next_at = time.time() + self.next_every
        while time.time() < until:
            if self.waiting:
                reply = await self.call(
                    "question_moderate", {"question": self.waiting.pop(0), "action": "approve"}
                )
                self.approved += bool(reply.get("ok"))
            if time.time() >= next_at:
                next_at += self.next_every
                reply = await self.call("question_next", {})
                self.shown += reply.get("number") is not None
            await asyncio.sleep(0.4)  # under the moderator's limit of 3 requests a second

    async def call(self, event: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A moderator request; a slow or failed one is counted, and the moderator goes on."""
        try:
            reply = await self.client.call(event, payload, timeout=30)
        except Exception as error:
            self.errors[f"{event}: {clients.error_name(error)}"] += 1
            return {}
        if not reply.get("ok"):
            self.errors[f"{event}: {reply.get('error')}"] += 1
        return reply


async def coordinate(
    args: argparse.Namespace, servers: harness_servers.Servers, result: dict
) -> dict:
    import socketio

    base, code = servers.bases[0], servers.code
    presenter = socketio.AsyncClient(handle_sigint=False)
    moderator = socketio.AsyncClient(handle_sigint=False)
    screens: list[tuple[float, dict[str, Any]]] = []
    presenter.on("questions_screen", lambda data: screens.append((time.time(), data)))
    for client, role, key in (
        (presenter, "presenter", servers.presenter_key),
        (moderator, "moderator", servers.moderator_key),
    ):
        await client.connect(
            base, auth={"code": code, "role": role, "key": key}, transports=["websocket"]
        )
        clients.relax_watchdog(client, 120)
    reply = await moderator.call("question_settings", {"premoderation": False}, timeout=30)
    if not reply.get("ok"):
        raise BenchError(f"question_settings: {reply}")
    boss = Moderator(moderator, args.next_every)

    context = multiprocessing.get_context("spawn")
    ready, out, go = context.Queue(), context.Queue(), context.Event()
    start = context.Value("d", 0.0)
    concurrency = max(1, args.connect_concurrency // args.workers)
    workers = [
        context.Process(
            target=worker_main,
            args=(
                {
                    "worker": index,
                    "workers": args.workers,
                    "phones": args.phones,
                    "questions": args.questions,
                    "upvotes": args.upvotes,
                    "window": args.window,
                    "seed": args.seed,
                    "base": base,
                    "code": code,
                    "concurrency": concurrency,
                    "connect_timeout": args.connect_timeout,
                },
                ready,
                go,
                start,
                out,
            ),
        )
        for index in range(args.workers)
    ]
    for worker in workers:
        worker.start()
    try:
        connected_at = time.monotonic()
        connected = 0
        for _ in workers:
            connected += await asyncio.to_thread(ready.get, True, args.connect_timeout * 20)
        result["connected"] = connected
        result["connect_s"] = round(time.monotonic() - connected_at, 1)
        log(f"{connected} phones connected in {result['connect_s']} s; go")
        cpu_before = metrics.cpu_seconds(servers.pids)
        machine_before = metrics.machine_cpu()
        start.value = time.time() + 1
        go.set()
        await asyncio.sleep(1)
        moderating = asyncio.create_task(boss.run(start.value + args.window))
        reports = [await asyncio.to_thread(out.get, True, args.window + 300) for _ in workers]
        elapsed = time.time() - start.value
        moderating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await moderating
        result["server_cpu_s"] = round(
            (metrics.cpu_seconds(servers.pids) or 0) - (cpu_before or 0), 1
        )
        result.update(metrics.machine_load(machine_before, metrics.machine_cpu()))
        result["server_rss_mb"] = metrics.memory_mb(servers.pids, "VmRSS")
        result["server_peak_rss_mb"] = metrics.memory_mb(servers.pids, "VmHWM")
        last_ack = max(report["last_ack"] for report in reports)
        # One more interval and a bit: the projector's last message after the last upvote.
        await asyncio.sleep(2.5)
        return {
            "reports": reports,
            "elapsed": elapsed,
            "last_ack": last_ack,
            "screens": screens,
            "approved": boss.approved,
            "shown": boss.shown,
            "moderator_errors": dict(boss.errors),
        }
    finally:
        for worker in workers:
            worker.join(timeout=60)
            if worker.is_alive():
                worker.kill()
        for client in (presenter, moderator):
            with contextlib.suppress(Exception):
                await client.disconnect()


def summarize(
    run: dict[str, Any], servers: harness_servers.Servers, result: dict[str, Any]
) -> bool:
    """Fill in the figures; False if an acked upvote is missing or an unacked one is stored."""
    reports = run["reports"]
    ask_ms = sorted(ms for report in reports for ms in report["ask_ms"])
    upvote_ms = sorted(ms for report in reports for ms in report["upvote_ms"])
    for name, values in (("ask", ask_ms), ("upvote", upvote_ms)):
        result[f"{name}s_acked"] = len(values)
        for label, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            value = stats.percentile(values, fraction)
            result[f"{name}_ack_{label}_ms"] = round(value, 1) if value is not None else None
    errors: collections.Counter[str] = collections.Counter()
    for report in reports:
        errors.update(report["errors"])
    result["errors"] = dict(errors)
    result["upvotes_without_target"] = sum(report["no_target"] for report in reports)
    result["moderator_approved"] = run["approved"]
    result["moderator_put_on_screen"] = run["shown"]
    result["moderator_errors"] = run["moderator_errors"]
    phones, seconds = max(result["connected"], 1), max(run["elapsed"], 1e-9)
    messages = sum(report["messages"] for report in reports)
    result["messages_per_phone_per_s"] = round(messages / phones / seconds, 3)
    result["bytes_per_phone_per_s"] = round(
        sum(report["bytes"] for report in reports) / phones / seconds, 1
    )

    url = servers.database_url
    event_id = harness_servers.query(url, "SELECT id FROM events WHERE code = ?", servers.code)[0][
        0
    ]
    stored = harness_servers.query(
        url,
        "SELECT p.token_digest, v.question_id FROM question_votes v "
        "JOIN participants p ON p.id = v.participant_id",
    )
    acked = {
        (verify.token_digest(event_id, token), question)
        for report in reports
        for token, question in report["acked"]
    }
    unsure = {
        (verify.token_digest(event_id, token), question)
        for report in reports
        for token, question in report["unsure"]
    }
    result.update(check_upvotes(acked, [(d, q) for d, q in stored], unsure))
    result["upvotes_in_database"] = len(stored)
    result["questions_in_database"] = harness_servers.query(
        url, "SELECT count(*) FROM questions WHERE event_id = ?", event_id
    )[0][0]
    counts = collections.Counter(question for _digest, question in stored)
    since = final_correct_since(run["screens"], dict(counts))
    result["projector_messages"] = len(run["screens"])
    result["projector_final_ms"] = (
        None if since is None else round(max(0.0, since - run["last_ack"]) * 1000)
    )
    return not (
        result["upvotes_missing"] or result["upvotes_unexpected"] or result["upvotes_duplicated"]
    )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phones", type=int, default=500, help="audience connections (500)")
    parser.add_argument("--questions", type=int, default=50, help="questions asked (50)")
    parser.add_argument("--upvotes", type=int, default=1000, help="upvotes cast (1000)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds (60)")
    parser.add_argument("--workers", type=int, default=1, help="generator processes (1)")
    parser.add_argument("--next-every", type=float, default=5.0, help="Volgende vraag, s (5)")
    parser.add_argument("--question-interval", type=float, help="POLLING_QUESTION_INTERVAL")
    parser.add_argument(
        "--async-mode", choices=("eventlet", "gevent", "threading"), default="eventlet"
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-admin-url", default=harness_servers.PG_ADMIN_URL)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir with server logs")
    args = parser.parse_args(argv)
    if min(args.phones, args.workers) < 1 or args.questions > args.phones or args.window <= 0:
        parser.error("need phones >= questions, at least one worker and a positive window")
    # What harness_servers.Servers reads.
    args.processes, args.message_queue, args.tally_interval = 1, None, None
    args.voters, args.deck = args.phones, harness_servers.DEFAULT_DECK
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    cli.raise_file_limit()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, cli.on_sigterm)
    result: dict[str, Any] = {
        "phones": args.phones,
        "questions": args.questions,
        "upvotes": args.upvotes,
        "window_s": args.window,
        "workers": args.workers,
        "database": args.database,
        "async_mode": args.async_mode,
    }
    servers = harness_servers.Servers(args)
    failure, sound = None, True
    try:
        try:
            if (
                args.question_interval is not None
            ):  # harness_servers.Servers passes the environment on
                os.environ["POLLING_QUESTION_INTERVAL"] = str(args.question_interval)
            servers.start()
            run = asyncio.run(coordinate(args, servers, result))
            sound = summarize(run, servers, result)
        except (BenchError, OSError, TimeoutError) as error:
            failure = str(error) or type(error).__name__
        except Exception as error:
            failure = clients.error_name(error)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        servers.shut_down(result)
    if failure:
        result["error"] = failure
        log(f"FAILED: {failure}")
    elif not sound:
        log("UPVOTES LOST OR WRONG: see upvotes_missing, upvotes_unexpected, upvotes_duplicated")
    print(json.dumps(result), flush=True)
    return 2 if failure else 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

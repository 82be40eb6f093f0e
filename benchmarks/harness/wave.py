"""The join wave inside a generator process (the `wave` command of harness.generator).

Its voters, already connected, keep changing their vote every few seconds while its share of
the new phones arrives, each joining as a browser does: the vote page (gzip accepted) for its
cookie, the Socket.IO connect (WebSocket at once, as static/js does, or long-polling then the
upgrade), until its `state`. A connect refused with "busy_retry" is tried again after
the server's delay plus up to half of it, as the page does; any other failure after
socket.io-client's back-off.

Each voter waits for an ack before its next vote, so its last acknowledged vote is the one the
database must hold; a voter with a vote left unanswered (a timeout) is not looked up: whether
that vote was stored cannot be known.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import time
from typing import TYPE_CHECKING, Any

from benchmarks.harness.clients import (
    CHOICES,
    CONNECT_TIMEOUT,
    browser_backoff,
    busy_retry_after,
    busy_retry_delay,
    error_name,
    participant_cookie,
    relax_watchdog,
)

if TYPE_CHECKING:
    from benchmarks.harness.generator import Worker


class Wave:
    """One generator's part of the wave: its voters' vote loops and its joiners."""

    def __init__(self, worker: Worker, command: dict[str, Any]) -> None:
        self.worker = worker
        self.command = command
        self.random = random.Random(worker.config["seed"] * 7919 + worker.index)
        self.wave_at: float = command["wave_at"]  # time.time() the joiners start arriving
        self.until: float = command["until"]  # the end of the window: voting stops
        self.deadline: float = command["deadline"]  # joiners not in by then have failed
        self.transports = ["polling", "websocket"] if command["polling_first"] else ["websocket"]
        self.acks: list[list[float]] = []  # [seconds after wave_at it was sent, ack ms]
        self.sent = 0
        self.vote_errors: collections.Counter[str] = collections.Counter()
        self.last_acked: dict[int, list[Any]] = {}  # voter -> [voter, cookie, choice, ack time]
        self.unsure: set[int] = set()  # voters with a vote that got no answer
        self.joins: list[list[Any]] = []  # [seconds after wave_at arrived, join s or None]
        self.busy_refusals = 0
        self.join_errors: collections.Counter[str] = collections.Counter()
        self.joined: list[tuple[Any, Any]] = []  # (socket.io client, http session) to close

    async def run(self) -> dict[str, Any]:
        from benchmarks.harness.generator import emit_message

        async def progress() -> None:
            while True:
                await asyncio.sleep(1)
                emit_message(
                    {
                        "type": "progress",
                        "worker": self.worker.index,
                        "phase": "wave",
                        "acked": len(self.acks),
                        "joined": len(self.joined),
                        "busy": self.busy_refusals,
                    }
                )

        reporter = asyncio.create_task(progress())
        voting = [
            asyncio.create_task(self.keep_voting(voter, client))
            for voter, client in self.worker.clients.items()
        ]
        config = self.worker.config
        mine = range(config["worker"], self.command["joiners"], config["workers"])
        spread = self.until - self.wave_at
        joining = [
            asyncio.create_task(self.join(joiner, self.wave_at + self.random.uniform(0, spread)))
            for joiner in mine
        ]
        left = self.deadline - time.time() + 10
        await self.worker.until_done_or_stopped(voting + joining, left)
        reporter.cancel()
        return {
            "type": "waved",
            "worker": self.worker.index,
            "sent": self.sent,
            "acks": self.acks,
            "vote_errors": dict(self.vote_errors),
            "acked_votes": [
                vote for voter, vote in self.last_acked.items() if voter not in self.unsure
            ],
            "unsure_voters": len(self.unsure),
            "joins": self.joins,
            "busy_refusals": self.busy_refusals,
            "join_errors": dict(self.join_errors),
            "on_websocket": sum(client.transport() == "websocket" for client, _ in self.joined),
            "disconnects": self.worker.disconnects,
        }

    async def keep_voting(self, voter: int, client: Any) -> None:
        """Vote from the command's start, then change the vote every `vote_every` seconds
        (±40 %) until the window ends; the first moment is spread over one period."""
        every, round_id = self.command["vote_every"], self.command["round"]
        at = self.command["start_at"] + self.random.uniform(0, every)
        choice = self.random.choice(CHOICES)
        while at < self.until:
            await asyncio.sleep(max(0.0, at - time.time()))
            at += every * self.random.uniform(0.6, 1.4)
            if not client.connected:
                self.vote_errors["not connected"] += 1
                continue
            self.sent += 1
            sent_at, started = time.time(), time.monotonic()
            try:
                reply = await client.call(
                    "vote",
                    {"round": round_id, "choice": choice},
                    timeout=self.command["ack_timeout"],
                )
            except Exception as error:
                self.vote_errors[error_name(error)] += 1
                self.unsure.add(voter)
                continue
            if isinstance(reply, dict) and reply.get("ok") is True:
                now = time.time()
                self.acks.append([sent_at - self.wave_at, (time.monotonic() - started) * 1000])
                self.last_acked[voter] = [voter, self.worker.cookies[voter], choice, now]
                choice = CHOICES[1 - CHOICES.index(choice)]
            else:
                code = reply.get("error") if isinstance(reply, dict) else repr(reply)[:40]
                self.vote_errors[f"refused: {code}"] += 1

    async def join(self, joiner: int, at: float) -> None:
        """One new phone, from opening the page to its first `state`."""
        import aiohttp

        await asyncio.sleep(max(0.0, at - time.time()))
        rng = random.Random(joiner)
        # The phone's own cookie jar (the server is an IP address: unsafe=True), used by the
        # page request, the long-polling requests and the WebSocket alike.
        http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            timeout=aiohttp.ClientTimeout(total=CONNECT_TIMEOUT),
        )
        began, cookie, attempt, delay = time.time(), None, 0, 0.0
        bases, code = self.worker.config["bases"], self.worker.config["code"]
        base = bases[joiner % len(bases)]
        try:
            while time.time() + delay < self.deadline:
                await asyncio.sleep(delay)
                try:
                    if cookie is None:
                        cookie = await participant_cookie(http, base, code)
                    client = await self.connect(http, base, code)
                except Busy as busy:
                    self.busy_refusals += 1
                    delay, attempt = busy_retry_delay(busy.retry_after, rng), 0
                    continue
                except Exception as error:
                    self.join_errors[error_name(error)] += 1
                    delay = browser_backoff(attempt, rng)
                    attempt += 1
                    continue
                self.joined.append((client, http))
                self.joins.append([at - self.wave_at, time.time() - began])
                return
        except asyncio.CancelledError:  # stopped: the phone never got in
            await http.close()
            raise
        self.joins.append([at - self.wave_at, None])
        self.join_errors["not joined by the deadline"] += 1
        await http.close()

    async def connect(self, http: Any, base: str, code: str) -> Any:
        """The Socket.IO connect until the phone's `state`; raises Busy on "busy_retry"."""
        import socketio

        client = socketio.AsyncClient(
            reconnection=False,
            http_session=http,
            handle_sigint=False,
            request_timeout=CONNECT_TIMEOUT,
        )
        state = asyncio.Event()
        refusal: list[Any] = []
        client.on("state", lambda _message: state.set())
        client.on("connect_error", lambda data=None: refusal.append(data))
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await client.connect(
                    f"{base}?role=audience",  # the page's handshake query (static/js/common.js)
                    auth={"code": code, "role": "audience"},
                    headers={"Origin": base},
                    transports=self.transports,
                    wait_timeout=CONNECT_TIMEOUT,
                )
                relax_watchdog(client, self.worker.config["client_watchdog"])
                await state.wait()
        except BaseException as error:
            await self.worker.drop(client)
            if refusal and not isinstance(error, asyncio.CancelledError):
                retry_after = busy_retry_after(refusal[0])
                if retry_after is not None:
                    raise Busy(retry_after) from None
                raise Refused(refusal[0]) from None
            raise
        return client

    async def close(self) -> None:
        """Disconnect the phones that joined, and close their cookie jars' sessions."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await asyncio.gather(*(self.worker.drop(client) for client, _ in self.joined))
        for _client, http in self.joined:
            with contextlib.suppress(Exception):
                await http.close()


class Busy(Exception):
    """The server refused the connect with "busy_retry": come back after `retry_after` s."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"busy_retry {retry_after:g} s")
        self.retry_after = retry_after


class Refused(Exception):
    """The server refused the connect otherwise; the message is its error code."""

    def __init__(self, data: Any) -> None:
        inner = data.get("data") if isinstance(data, dict) else None
        code = inner.get("error") if isinstance(inner, dict) else None
        super().__init__(code or repr(data)[:60])

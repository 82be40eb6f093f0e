"""Socket.IO clients as the benchmarks use them: the presenter and moderator screens, the
phone's cookie, a browser's patience, and the client libraries' warnings counted."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import math
import random
import re
import time
from typing import Any

from benchmarks.harness import BenchError

CHOICES = ("agree", "disagree")

# static/js/common.js: io({reconnectionDelay: 1000, reconnectionDelayMax: 10000,
# randomizationFactor: 0.5}); `timeout` is socket.io-client's default, 20 s.
RECONNECT_DELAY = 1.0
RECONNECT_DELAY_MAX = 10.0
RANDOMIZATION = 0.5
CONNECT_TIMEOUT = 20.0


def browser_backoff(attempt: int, rng: random.Random) -> float:
    """socket.io-client's reconnection delay before attempt `attempt` (0-based), in seconds.

    As its Backoff: 1 s * 2^attempt, moved by up to ±50 % of itself, capped at 10 s.
    """
    delay = RECONNECT_DELAY * 2**attempt
    if RANDOMIZATION:
        r = rng.random()
        deviation = math.floor(r * RANDOMIZATION * delay * 1000) / 1000
        delay = delay - deviation if math.floor(r * 10) & 1 == 0 else delay + deviation
    return min(delay, RECONNECT_DELAY_MAX)


def busy_retry_after(data: Any) -> float | None:
    """The seconds a `connect_error` asks to wait if it is admission control's "busy_retry"
    refusal (polling/realtime/admission.py), else None.

    python-socketio passes the refusal's data as Socket.IO 5 sends it, {message, data}.
    """
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    if isinstance(data, dict) and data.get("error") == "busy_retry":
        return float(data.get("retry_after") or 5)
    return None


def busy_retry_delay(retry_after: float, rng: random.Random) -> float:
    """How long the page waits after a "busy_retry": the server's delay plus up to half of it
    again, so phones refused together do not come back together (static/js/common.js)."""
    return retry_after * (1 + rng.random() / 2)


def error_name(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text[:80]}" if text else type(error).__name__


def relax_watchdog(client: Any, seconds: float) -> None:
    """Give a python-socketio client the patience of a browser.

    python-engineio's client gives up a connection when it has sent nothing for
    max(pingInterval, pingTimeout) + 5 s (30 s with the server's defaults): a server ping only
    5 s late already makes it stop answering, and the server then drops it. A browser waits
    pingInterval + pingTimeout (45 s) for a ping. Both watchdogs derive from the ping timeout
    the server announced, so raising it on our side makes both at least `seconds`.
    """
    if seconds > 0 and client.eio is not None:
        client.eio.ping_timeout = max(client.eio.ping_timeout, seconds - 5)


class CountingHandler(logging.Handler):
    """Counts the warnings and errors the client libraries log, instead of printing each."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: collections.Counter[str] = collections.Counter()
        # Set while we disconnect on purpose: python-engineio then warns "Server sent close
        # packet data None, aborting" for every client.
        self.paused = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.paused:
            return
        with contextlib.suppress(Exception):
            text = re.sub(r"0x[0-9a-f]+|\d+", "#", record.getMessage().splitlines()[0])
            self.counts[f"{record.name}: {text[:100]}"] += 1


LIBRARY_LOGS = CountingHandler()


def count_library_logs() -> CountingHandler:
    handler = LIBRARY_LOGS
    for name in ("engineio.client", "socketio.client", "asyncio", "aiohttp"):
        library = logging.getLogger(name)
        library.handlers[:] = [handler]
        library.propagate = False
        library.setLevel(logging.WARNING)
    return handler


async def participant_cookie(http: Any, base: str, code: str) -> str:
    """Open the vote page as a phone does, and return the participant cookie it sets."""
    async with http.get(f"{base}/{code}") as response:
        await response.read()
        morsel = response.cookies.get("polling")
        if response.status != 200 or morsel is None:
            raise BenchError(f"GET /{code}: HTTP {response.status}")
        return morsel.value


class Screen:
    """The presenter or moderator connection; keeps every tally it receives."""

    def __init__(self, name: str, watchdog: float) -> None:
        import socketio

        self.name = name
        self.watchdog = watchdog
        self.client = socketio.AsyncClient(handle_sigint=False)
        self.tallies: list[tuple[float, int | None, int]] = []  # (time, round id, votes)
        self.connects = 0
        # --restart: (time, "state" or "tally", round id, votes shown, personal) from storm_arm
        self.storm: list[tuple[float, str, int | None, int | None, bool]] | None = None
        self.client.on("tally", self.on_tally)
        self.client.on("connect", self.on_connect)
        self.client.on("state", self.on_state)

    def on_connect(self) -> None:
        relax_watchdog(self.client, self.watchdog)
        self.connects += 1

    def on_tally(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        results = message.get("results")
        if isinstance(results, dict) and isinstance(results.get("counts"), dict):
            votes = sum(results["counts"].values())
        else:
            votes = (message.get("turnout") or {}).get("voters") or 0
        self.tallies.append((time.time(), message.get("round_id"), votes))
        if self.storm is not None:
            self.storm.append((time.time(), "tally", message.get("round_id"), votes, False))

    def on_state(self, message: Any) -> None:
        if self.storm is None or not isinstance(message, dict):
            return
        results, current = message.get("results"), message.get("round")
        votes = None
        if isinstance(results, dict) and isinstance(results.get("counts"), dict):
            votes = sum(results["counts"].values())
        round_id = current.get("id") if isinstance(current, dict) else None
        self.storm.append((time.time(), "state", round_id, votes, "can_control" in message))

    def storm_back(self, since: float) -> tuple[float, int | None, int | None] | None:
        """The first personal state after `since`: (time, round id, votes it shows)."""
        for at, kind, round_id, votes, personal in self.storm or []:
            if at >= since and kind == "state" and personal:
                return at, round_id, votes
        return None

    def storm_showed(self, since: float, round_id: int, votes: int) -> bool:
        """Whether a state or tally after `since` showed exactly `votes` in the round."""
        return any(
            at >= since and seen_round == round_id and seen == votes
            for at, _kind, seen_round, seen, _personal in self.storm or []
        )

    async def connect(self, base: str, code: str, role: str, key: str) -> None:
        await self.client.connect(
            base,
            auth={"code": code, "role": role, "key": key},
            transports=["websocket"],
            wait_timeout=30,
        )

    def first_complete(self, round_id: int, votes: int) -> float | None:
        for at, tally_round, seen in self.tallies:
            if tally_round == round_id and seen >= votes:
                return at
        return None

    async def wait_complete(self, round_id: int, votes: int, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            at = self.first_complete(round_id, votes)
            if at is not None:
                return at
            await asyncio.sleep(0.05)
        return self.first_complete(round_id, votes)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await self.client.disconnect()


async def control(moderator: Screen, action: str) -> None:
    reply = await moderator.client.call("control", {"action": action}, timeout=30)
    if not (isinstance(reply, dict) and reply.get("ok")):
        raise BenchError(f"control {action!r} refused: {reply}")

"""Admission control: when more phones knock than the process can take, say "come back in N s".

A phone's namespace connect costs the most of a join (the cookie's participant looked up or
written, the state built). When a hall's Wi-Fi comes back, or a keynote scans the QR code,
thousands arrive in the same second; answered one after another, the last ones wait until
their handshake times out, and then all retry together. Instead, the process counts the
Engine.IO sessions that shook hands but have not joined the namespace yet (the flood guard's
`waiting`, polling/realtime/flood.py), and beyond a capacity refuses the connect at once with
`{error: "busy_retry", retry_after: seconds}`: a refusal that writes nothing and builds no
state.

- The projector and the moderator always get in (the caller does not ask for them).
- A phone that is already a participant of the event (it comes back, as every phone does
  after a blip or a restart) always gets in: by the time it asks, its handshake and WebSocket
  are paid for, so a refusal would only make it pay them again later. Refusing the phones
  coming back multiplied the work of a storm: a 10,000-phone blip took 111,000 attempts and
  174 s with them refused, 18,000-19,000 and 33-48 s without (docs/performance.md). Only new
  phones are refused, which is what protects those voting from a join wave.
- The delays are random, spread over twice the time the process needs for the handshakes
  already waiting, so the refused phones come back spread over that window, not together.

The capacity (POLLING_ADMISSION_CAPACITY, 750) is a few seconds of joins, well within the
20 s a browser waits for a connect, and below the flood guard's cap on waiting handshakes.

The page waits the delay plus its own jitter and connects again (static/js/common.js); a
refused connect is not retried by socket.io-client by itself.

Counting waiting handshakes cannot shed a join wave that arrives faster than the process
serves joins: by the time a phone reaches the namespace connect, its page, handshake and
WebSocket have been paid for, and the phones already voting wait behind them (10,000 joining
in a minute, measured: the acks went to 30 s and the wave collapsed under retries). So the
Engine.IO handshake itself, the first and cheapest step, is refused (HTTP 401, nothing
written, nothing built) while the event loop runs late (polling.realtime.lag): beyond
POLLING_ADMISSION_LAG (0.1 s) for a new phone; never for a phone coming back (its page says so
in the handshake's query, `back=1`, for the reason above) nor for the projector and the
moderator (`role=` in the query: a page that lies gets in, it does not get a key). The
page's socket.io-client retries a refused handshake by itself, with its back-off (1 s
doubling to 10 s, randomised), and says "Even geduld…" meanwhile.

Cheaper still is not to take the connection yet: while the loop runs late, the server accepts
new TCP connections only between short pauses (`pace_accept`), so the phones wait in the
kernel's accept queue, in the order they came, and are served as the process can take them.
A refused handshake costs the process its HTTP parsing and the phone a retry after its
back-off; waiting in the queue costs neither (10,000 phones back after a blip: 77,000 attempts
with refusals alone). A phone whose connection is not accepted in time gives up after its
own connect timeout (20 s) and tries again; one that does not fit the queue is retried by its
TCP stack. A pause is at most PACE_LONGEST, so the health check and the projector are never
kept out for long.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qs

from polling.domain.errors import AccessRefused
from polling.domain.roles import MODERATOR, PRESENTER

# Joins one process serves a second, roughly: a join costs about 5 ms of server CPU
# (docs/performance.md). The delays spread the refused phones over the time the process needs
# for those already waiting.
JOINS_PER_SECOND = 200
MIN_DELAY = 1.0
MAX_DELAY = 30.0
# While the loop is late, the next connection is accepted after pauses of PACE_STEP seconds,
# PACE_LONGEST at most.
PACE_STEP = 0.02
PACE_LONGEST = 1.0

T = TypeVar("T")


class Busy(AccessRefused):
    """The process is full for now: come back after `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__("busy_retry", f"The server is busy; try again in {retry_after:g} s.")
        self.retry_after = retry_after


class Admission:
    """The admission rule of one server process (see the module docstring)."""

    def __init__(
        self,
        capacity: int,
        waiting: Callable[[], int],
        rng: Callable[[], float] = random.random,
        *,
        lag: Callable[[], float] = lambda: 0.0,
        max_lag: float = 0.0,
        sleep: Callable[[float], object] = lambda _seconds: None,
    ) -> None:
        """`capacity`: handshakes waiting to join beyond which new phones are refused (0: never);
        `waiting`: how many wait now, the one asking included; `rng`: uniform in [0, 1);
        `lag`: how late the event loop runs now, in seconds; `max_lag`: beyond it new phones'
        handshakes are refused and connections accepted slowly (0: never); `sleep`: the
        loop's own sleep."""
        self.capacity = capacity
        self.waiting = waiting
        self.rng = rng
        self.lag = lag
        self.max_lag = max_lag
        self.sleep = sleep
        self.refused = 0  # phones refused so far, for /metrics and the logs
        self.shed = 0  # handshakes turned away while the loop ran late

    def pace_accept(self, look: Callable[[], T | None] = lambda: None) -> T | None:
        """Called before each accept(): wait, a little at a time, while the loop runs late.

        Between the steps, `look()` may find a connection that should not wait (the health
        check, a screen: polling.shedding); it is returned at once. None: accept as usual."""
        if self.max_lag <= 0:
            return None
        # A green accept() that finds connections queued returns without yielding: without
        # this turn, the whole queue would be taken in one go, before any timer (the lag
        # among them) could run.
        self.sleep(0)
        waited = 0.0
        while waited < PACE_LONGEST and self.lag() > self.max_lag:
            found = look()
            if found is not None:
                return found
            self.sleep(PACE_STEP)
            waited += PACE_STEP
        return None

    def admit_handshake(self, query_string: str) -> bool:
        """Whether to take an Engine.IO handshake now (see the module docstring)."""
        if self.max_lag <= 0:
            return True
        lag = self.lag()  # read for every handshake, so that the first one starts measuring
        try:
            query = parse_qs(query_string, max_num_fields=20)
        except ValueError:  # more fields than any page sends: a phone like any other
            query = {}
        if {PRESENTER, MODERATOR} & set(query.get("role", ())) or "1" in query.get("back", ()):
            return True
        if lag <= self.max_lag:
            return True
        self.shed += 1
        return False

    def admit_phone(self, *, known: bool) -> None:
        """Let a phone join, or raise Busy; `known`: whether it is a participant of the event
        already (it comes back)."""
        if self.capacity <= 0 or known:
            return
        waiting = self.waiting()
        if waiting <= self.capacity:
            return
        self.refused += 1
        raise Busy(self.retry_after(waiting))

    def retry_after(self, waiting: int) -> float:
        """A random delay in seconds, one decimal, uniform over [MIN_DELAY, MIN_DELAY + w]:
        w is twice the time the process needs for the handshakes waiting now (waiting /
        JOINS_PER_SECOND, at least 1 s); at most MAX_DELAY."""
        window = 2 * max(1.0, waiting / JOINS_PER_SECOND)
        return round(min(MAX_DELAY, MIN_DELAY + window * self.rng()), 1)

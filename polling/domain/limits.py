"""Rate limits that a real audience never meets but a script does.

Each limit is a token bucket per key: a connection, a participant, an event. None is per IP
address: a venue puts hundreds of phones behind one NAT address, and no IP address is kept.
The buckets live in this process's memory; with several processes each enforces its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimit:
    """Allow `burst` requests at once per key, refilling `per_second`."""

    def __init__(
        self,
        burst: float,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 200_000,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.clock = clock
        self.max_keys = max_keys
        self.buckets: dict[Hashable, Bucket] = {}
        self.refused = 0  # requests refused so far, for /metrics

    def allow(self, key: Hashable) -> bool:
        """Take one token for `key`; False if none is left."""
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= self.max_keys:
                self._forget_idle(now)
            bucket = self.buckets[key] = Bucket(tokens=self.burst, updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens < 1:
            self.refused += 1
            return False
        bucket.tokens -= 1
        return True

    def has_token(self, key: Hashable) -> bool:
        """Whether `allow(key)` would succeed now, without taking the token."""
        bucket = self.buckets.get(key)
        if bucket is None:
            return self.burst >= 1
        now = self.clock()
        return min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second) >= 1

    def forget(self, key: Hashable) -> None:
        """Drop a key's bucket (its connection is gone)."""
        self.buckets.pop(key, None)

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled completely: forgetting them changes nothing."""
        full_after = self.burst / self.per_second
        for key in [k for k, b in self.buckets.items() if now - b.updated >= full_after]:
            del self.buckets[key]


@dataclass
class Limits:
    """The limits of one server process (documented in docs/security.md)."""

    # A person taps a few times per statement; a script taps hundreds of times a second.
    votes_per_connection: RateLimit
    votes_per_participant: RateLimit
    # Reconnects after a lost network or a reload; a script opens connections in a loop.
    connects_per_participant: RateLimit
    requests_per_connection: RateLimit
    # Guessing a 128-bit key is hopeless anyway; this makes trying it noisy and slow.
    failed_keys_per_event: RateLimit
    # Tries of the organiser password, for the whole process: 10, then one per 6 s.
    organiser_logins: RateLimit
    # Questions: a person asks one or two in a panel; a script asks one a millisecond. Three
    # at once, then one every 20 s (so at most 5 a minute); the event's own cap is
    # polling.domain.questions.MAX_QUESTIONS_PER_EVENT (1,000).
    questions_per_participant: RateLimit = field(
        default_factory=lambda: RateLimit(burst=3, per_second=1 / 20)
    )
    # Upvotes: a thumb scrolling a list taps a few a second at most.
    upvotes_per_participant: RateLimit = field(
        default_factory=lambda: RateLimit(burst=10, per_second=3)
    )
    # Reasons: one per round, edited a few times at most; five at once, then one every 10 s.
    reasons_per_participant: RateLimit = field(
        default_factory=lambda: RateLimit(burst=5, per_second=1 / 10)
    )

    def refusals(self) -> dict[str, int]:
        """Requests refused so far, per limit."""
        return {name: limit.refused for name, limit in vars(self).items()}


def default_limits() -> Limits:
    return Limits(
        votes_per_connection=RateLimit(burst=10, per_second=0.5),
        votes_per_participant=RateLimit(burst=20, per_second=1),
        connects_per_participant=RateLimit(burst=30, per_second=0.5),
        requests_per_connection=RateLimit(burst=30, per_second=3),
        failed_keys_per_event=RateLimit(burst=20, per_second=1 / 6),
        organiser_logins=RateLimit(burst=10, per_second=1 / 6),
    )

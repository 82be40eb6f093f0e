"""What one server process counts for monitoring, written in Prometheus' text format.

Plain numbers in memory, per process (Prometheus adds up the processes of a deployment): the
phones and screens connected, the votes committed, the vote writer's commit time, the delay
between a vote and the tally that shows it, and the requests the rate limits refused. Served
at /metrics (see polling.web.operations); nothing here is personal.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass
class Summary:
    """A count and a sum (of seconds), as a Prometheus summary without quantiles."""

    count: int = 0
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds


@dataclass
class Metrics:
    """The counters of one process; handlers, the vote writer and the tally publisher add."""

    connected: dict[str, int] = field(default_factory=dict)  # role -> connections now
    votes: int = 0
    batch_commit: Summary = field(default_factory=Summary)
    tally_lag: Summary = field(default_factory=Summary)
    started: float = field(default_factory=time.time)

    def connect(self, role: str) -> None:
        self.connected[role] = self.connected.get(role, 0) + 1

    def disconnect(self, role: str) -> None:
        self.connected[role] = max(0, self.connected.get(role, 0) - 1)


def exposition(metrics: Metrics, refusals: Mapping[str, int], roles: Iterable[str]) -> str:
    """The metrics in Prometheus' text exposition format (version 0.0.4).

    `refusals` is the number of requests each rate limit refused (polling.domain.limits).
    """
    lines: list[str] = []

    def family(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {_number(value)}" for labels, value in samples)

    family(
        "polling_connections",
        "gauge",
        "Socket.IO connections to this process, per role (audience = phones).",
        [(f'{{role="{role}"}}', metrics.connected.get(role, 0)) for role in roles],
    )
    family(
        "polling_votes_total",
        "counter",
        "Votes committed by this process (votes per second: rate() of this).",
        [("", metrics.votes)],
    )
    for name, summary, text in (
        (
            "polling_vote_batch_commit_seconds",
            metrics.batch_commit,
            "Time to write and commit one batch of votes and joins.",
        ),
        (
            "polling_tally_publish_lag_seconds",
            metrics.tally_lag,
            "From a committed vote to the tally that includes it, sent to the screens.",
        ),
    ):
        family(name, "summary", text, [("_sum", summary.total), ("_count", summary.count)])
    family(
        "polling_rate_limit_refusals_total",
        "counter",
        "Requests refused by a rate limit, per limit.",
        [(f'{{limit="{limit}"}}', count) for limit, count in sorted(refusals.items())],
    )
    family(
        "polling_process_start_time_seconds",
        "gauge",
        "When this process started, in seconds since the epoch.",
        [("", metrics.started)],
    )
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6f}"

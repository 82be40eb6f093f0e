"""Figures from measurements: percentiles, slopes, and the generators' reports merged."""

from __future__ import annotations

import collections
import math
from typing import Any

from benchmarks.harness import log


def percentile(ordered: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1], 1)


def least_squares_slope(points: list[tuple[float, float]]) -> float | None:
    """Slope of the least-squares line through (x, y) points; None with fewer than two x."""
    if len({x for x, _y in points}) < 2:
        return None
    n = len(points)
    mean_x = sum(x for x, _y in points) / n
    mean_y = sum(y for _x, y in points) / n
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in points)
    variance = sum((x - mean_x) ** 2 for x, _y in points)
    return covariance / variance


def merged(reports: list[dict[str, Any]], key: str) -> dict[str, int]:
    """The counters under `key` of every report, added up."""
    total: collections.Counter[str] = collections.Counter()
    for report in reports:
        total.update(report[key])
    return dict(total)


def summarize_connects(connected: list[dict[str, Any]], result: dict[str, Any]) -> None:
    """Merge the generators' connect reports into `result`."""
    result["connected"] = sum(report["connected"] for report in connected)
    result["connect_retries"] = sum(report["connect_retries"] for report in connected)
    result["connect_errors"] = merged(connected, "connect_errors")


def summarize_votes(voted: list[dict[str, Any]], opened: float, result: dict[str, Any]) -> float:
    """Merge the generators' vote reports into `result`; returns the time of the last ack."""
    result["generator_vote_cpu_s"] = round(sum(report["cpu_s"] for report in voted), 2)
    latencies = sorted(value for report in voted for value in report["latencies_ms"])
    result["sent"] = sum(report["sent"] for report in voted)
    result["acked"] = sum(report["acked"] for report in voted)
    errors = merged(voted, "vote_errors")
    result["vote_errors"] = errors
    result["disconnects"] = sum(report["disconnects"] for report in voted)
    result["disconnects_by_phase"] = merged(voted, "disconnects_by_phase")
    result["reconnects"] = sum(report["reconnects"] for report in voted)
    client_log = merged(voted, "client_log")
    if client_log:
        log(f"client library warnings: {client_log}")
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)):
        result[f"ack_{name}_ms"] = percentile(latencies, fraction)
    last_ack = max((report["last_ack"] for report in voted), default=0.0)
    if last_ack:
        result["vote_phase_s"] = round(last_ack - opened, 2)
        result["votes_per_s"] = round(result["acked"] / max(last_ack - opened, 0.001), 1)
    log(
        f"sent {result['sent']}, acked {result['acked']}, ack p50 {result['ack_p50_ms']} ms, "
        f"p99 {result['ack_p99_ms']} ms" + (f", errors {errors}" if errors else "")
    )
    return last_ack


def arrivals(back: list[float], prefix: str) -> dict[str, Any]:
    """Percentiles of seconds until each client was back (ascending), and how many came back
    in each whole second: the waves of a reconnect backoff."""
    figures: dict[str, Any] = {}
    back_ms = [value * 1000 for value in back]
    for name, fraction in (("first", 0.0), ("p50", 0.5), ("p95", 0.95), ("max", 1.0)):
        value = percentile(back_ms, fraction)
        figures[f"{prefix}_{name}_s"] = round(value / 1000, 2) if value is not None else None
    waves = collections.Counter(math.floor(value) for value in back)
    figures[f"{prefix}_back_per_s"] = {str(second): waves[second] for second in sorted(waves)}
    return figures

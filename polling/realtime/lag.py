"""How late the event loop runs: the one measure of a process that is taking on too much.

A process serves everything on one event loop. When more work arrives than it can do (a hall
scanning the QR code faster than joins are served), every green thread waits longer for its
turn, and the first to notice are the phones already voting: their acknowledgements wait
behind the joins. A timer that should fire every INTERVAL seconds fires late by about that
wait; the mean lateness over the last WINDOW seconds is what admission control reads
(polling.realtime.admission) to turn new handshakes away before they cost anything. The mean,
not the largest: one pause (a garbage collection, a state sent to a full hall) is over once it
is measured, while a process that takes on too much is late at every tick.

Only handshakes read it, so it is measured only while phones knock: a hall that votes (or
sits through the discussion) costs no timer twenty times a second.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

INTERVAL = 0.05
WINDOW = 1.0
# Measuring stops when nobody read the lateness for this long (a hall is in: votes start
# within seconds of the last joins); the next read starts it again.
UNREAD_SECONDS = 2.0


class LoopLag:
    """The event loop's recent lateness, measured by a background task started on first use."""

    def __init__(
        self, sleep: Callable[[float], Any], start_task: Callable[[Callable[[], None]], Any]
    ) -> None:
        self.sleep = sleep
        self.start_task = start_task
        self.samples: deque[tuple[float, float]] = deque()  # (when, seconds late)
        self.running = False
        self.read_at = time.monotonic()

    def current(self) -> float:
        """The mean lateness, in seconds, of the loop's timers over the last WINDOW (0 when
        it was not being measured: the first handshakes after a quiet time get in)."""
        self.read_at = time.monotonic()
        if not self.running:
            self.running = True
            self.start_task(self._run)
            return 0.0
        horizon = time.monotonic() - WINDOW
        while self.samples and self.samples[0][0] < horizon:
            self.samples.popleft()
        if not self.samples:
            return 0.0
        return sum(late for _when, late in self.samples) / len(self.samples)

    def note(self, late: float) -> None:
        """Record one timer's lateness (the background task's, or a test's)."""
        self.samples.append((time.monotonic(), late))
        while len(self.samples) > 4 * WINDOW / INTERVAL:
            self.samples.popleft()

    def _run(self) -> None:
        while time.monotonic() - self.read_at < UNREAD_SECONDS:
            started = time.monotonic()
            self.sleep(INTERVAL)
            self.note(max(0.0, time.monotonic() - started - INTERVAL))
        self.running = False
        self.samples.clear()

"""Group commit: the votes and joins of many phones, written in one transaction at a time.

A thousand phones voting within seconds would otherwise mean a thousand transactions (and
disk flushes) one after another on the event loop. Here each handler hands its vote to the
writer and waits; every few milliseconds the writer takes everything waiting, writes it in
one transaction on an OS thread (so the event loop never waits on the disk), commits, and
only then wakes the handlers. So a "✓" still means the vote is on disk.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine

from polling.domain import questions, reasons, voting
from polling.domain.errors import Refused, WriteFailed
from polling.metrics import Metrics

log = logging.getLogger(__name__)

# How long a handler waits for its batch before giving up (and telling the phone to retry).
WAIT_SECONDS = 15


@dataclass
class Job:
    """One vote or join waiting for its transaction."""

    write: Callable[[Connection], Any]
    done: Any  # an event of the async mode in use
    result: Any = None
    error: Refused | None = None
    # A vote's (participant id, round id, choice): the votes next to each other in a batch
    # are written by one statement, executed for all of them at once.
    vote: voting.Ballot | None = None


@dataclass
class VoteWriter:
    """Collects jobs from handlers and writes them in batches.

    `run_blocking(function, *args)` runs a function on an OS thread and waits for it without
    blocking the event loop; `create_event` (a reusable event), `create_signal` (a one-shot
    one, one per job), `sleep` and `start_task` come from the async mode in use (see
    `polling.runtime` and `polling.realtime`).
    """

    engine: Engine
    run_blocking: Callable[..., Any]
    create_event: Callable[[], Any]
    create_signal: Callable[[], Any]
    sleep: Callable[[float], None]
    start_task: Callable[[Callable[[], None]], Any]
    # Seconds to gather a batch once its first job arrived. Each batch costs a turn of the
    # event loop, a trip to an OS thread and a durable commit, whatever its size: at 100 votes
    # a second, 25 ms instead of 10 took a third off the server's CPU per vote, for 15 ms more
    # before a "✓" (docs/performance.md).
    window: float = 0.025
    pending: list[Job] = field(default_factory=list)
    connection: Connection | None = None
    metrics: Metrics = field(default_factory=Metrics)

    def __post_init__(self) -> None:
        self.wakeup = self.create_event()
        # Guards `pending` between handlers and the writer (a green lock under eventlet).
        self.lock = threading.Lock()
        self.started = False
        # When the last vote (or question, or upvote) came in: the server collects garbage
        # once they are quiet. (Joins do not count: a hall filling up is the time to freeze
        # connected phones.)
        self.last_vote = time.monotonic()

    def cast_vote(self, participant_id: int, round_id: int, choice: str) -> None:
        """Record a vote; returns once it is committed, raises VotingError if the rules refuse it,
        WriteFailed if it could not be saved."""
        self.last_vote = time.monotonic()
        ballot = (participant_id, round_id, choice)
        self._submit(lambda c: voting.cast_vote(c, *ballot), vote=ballot)

    def upvote(self, participant_id: int, question_id: int, up: bool) -> int:
        """Upvote a question or withdraw it; returns its upvotes once committed, raises
        VotingError (a QuestionError) if refused."""
        self.last_vote = time.monotonic()
        count: int = self._submit(lambda c: questions.upvote(c, participant_id, question_id, up))
        return count

    def ask(self, event_id: int, participant_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        """Ask a question; returns it as its asker sees it once committed, raises
        VotingError (a QuestionError) if refused."""
        self.last_vote = time.monotonic()
        asked: dict[str, Any] = self._submit(
            lambda c: questions.ask_in_batch(
                c,
                event_id,
                participant_id,
                fields.get("text"),
                fields.get("name"),
                fields.get("panel"),
            )
        )
        return asked

    def give_reason(self, participant_id: int, round_id: int, text: Any) -> dict[str, Any]:
        """Give or replace a phone's reason in a round; returns it as its writer sees it once
        committed, raises VotingError (a ReasonError) if refused."""
        self.last_vote = time.monotonic()
        given: dict[str, Any] = self._submit(
            lambda c: reasons.give(c, participant_id, round_id, text)
        )
        return given

    def upvote_reason(self, participant_id: int, reason_id: int, up: bool) -> int:
        """Upvote a reason or withdraw it; returns its upvotes once committed."""
        self.last_vote = time.monotonic()
        count: int = self._submit(lambda c: reasons.upvote(c, participant_id, reason_id, up))
        return count

    def join(self, event_id: int, token: str) -> int:
        """The participant id of a phone in an event, created if new."""
        participant_id: int = self._submit(lambda c: voting.join(c, event_id, token))
        return participant_id

    def _submit(
        self, write: Callable[[Connection], Any], *, vote: voting.Ballot | None = None
    ) -> Any:
        job = Job(write=write, done=self.create_signal(), vote=vote)
        with self.lock:
            self.pending.append(job)
            first = len(self.pending) == 1
            if not self.started:
                self.started = True
                self.start_task(self._run)
        if first:  # the writer sleeps until a batch begins; later jobs join that batch
            self.wakeup.set()
        if not job.done.wait(WAIT_SECONDS):
            raise WriteFailed("busy", "The server is busy; please try again.")
        if job.error is not None:
            raise job.error
        return job.result

    def _run(self) -> None:
        while True:
            self.wakeup.wait()
            self.wakeup.clear()
            self.sleep(self.window)  # let more jobs join this batch
            with self.lock:
                batch, self.pending = self.pending, []
            if not batch:
                continue
            try:
                self.run_blocking(self._write_batch, batch)
            except Exception:  # never let the writer die: every waiting handler must wake
                log.exception("writing a batch of %d failed", len(batch))
                for job in batch:
                    job.error = job.error or _storage_error()
            for job in batch:
                job.done.set()

    def _write_batch(self, batch: list[Job]) -> None:
        """On an OS thread: write all jobs in one transaction; if it fails, one by one."""
        started = time.perf_counter()
        try:
            self._write(batch)
            self.metrics.batch_commit.observe(time.perf_counter() - started)
        except Exception:
            # One bad job must not cost the others their vote: retry each on its own.
            log.warning("a batch of %d failed; writing its jobs one by one", len(batch))
            for job in batch:
                try:
                    self._write([job])
                except Exception:
                    log.exception("a vote or join could not be written")
                    job.error = _storage_error()
        self.metrics.votes += sum(1 for job in batch if job.vote and job.error is None)

    def _write(self, jobs: list[Job]) -> None:
        connection = self._connection()
        try:
            with connection.begin():
                for run in _runs(jobs):
                    if len(run) > 1:
                        ballots = [job.vote for job in run if job.vote is not None]
                        refusals = voting.cast_votes(connection, ballots)
                        for job, refusal in zip(run, refusals, strict=True):
                            job.error = refusal
                        continue
                    for job in run:
                        job.error = None
                        try:
                            job.result = job.write(connection)
                        except Refused as refused:
                            job.error = refused
        except Exception:
            # The connection may be broken (database restarted): take a new one next time.
            self.connection = None
            connection.close()
            raise

    def _connection(self) -> Connection:
        # One connection, used by one batch at a time: batches never overlap.
        if self.connection is None:
            self.connection = self.engine.connect()
        return self.connection


def _runs(jobs: list[Job]) -> Iterator[list[Job]]:
    """The jobs in order, the votes next to each other together (in the order they came: a
    reason given right after its vote must find it written)."""
    for is_vote, run in itertools.groupby(jobs, key=lambda job: job.vote is not None):
        if is_vote:
            yield list(run)
        else:
            yield from ([job] for job in run)


def _storage_error() -> WriteFailed:
    return WriteFailed("storage_error", "The vote could not be saved; please try again.")

"""The group-commit writer on its own (OS threads, no event loop): what arrives together is
written in one transaction, and every job still gets its own answer."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from polling import db
from polling.domain.errors import VotingError
from polling.domain.models import Event
from polling.domain.state import current_tally
from polling.domain.voting import control, join
from polling.metrics import Metrics
from polling.realtime.vote_writer import VoteWriter

# Long enough that jobs submitted together by a few threads always share a batch.
WINDOW = 0.5


def writer() -> VoteWriter:
    return VoteWriter(
        engine=db.engine,
        run_blocking=lambda function, *args: function(*args),
        create_event=threading.Event,
        create_signal=threading.Event,
        sleep=time.sleep,
        start_task=lambda task: threading.Thread(target=task, daemon=True).start(),
        window=WINDOW,
        metrics=Metrics(),
    )


def counts(event_id: int) -> dict[str, int]:
    with db.connect() as connection:
        return current_tally(connection, event_id)[0].counts


def voting_open(event: Event) -> int:
    with db.session() as session:
        control(session, event.id, "next")
        return control(session, event.id, "open").current_statement.latest_round.id


def together(*calls):
    """Run the calls at the same moment, each on its own thread; their results or errors."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait()
        try:
            return call()
        except VotingError as refused:
            return refused.code

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_votes_that_arrive_together_share_one_commit_and_keep_their_own_answers(app, event):
    round_id = voting_open(event)
    with db.engine.begin() as connection:
        phones = [join(connection, event.id, f"phone-{n}") for n in range(5)]
    votes = writer()
    answers = together(
        lambda: votes.cast_vote(phones[0], round_id, "agree"),
        lambda: votes.cast_vote(phones[1], round_id, "maybe"),
        lambda: votes.cast_vote(phones[2], round_id, "disagree"),
        lambda: votes.cast_vote(phones[3], round_id + 1, "agree"),
        lambda: votes.cast_vote(phones[4], round_id, "agree"),
    )
    assert answers == [None, "unknown_option", None, "unknown_round", None]
    assert votes.metrics.batch_commit.count == 1
    assert votes.metrics.votes == 3
    assert counts(event.id) == {"agree": 2, "disagree": 1}


def test_a_reason_after_its_vote_in_the_same_batch_finds_the_vote(app, event):
    """Votes are executed together, but never moved ahead of or behind the other jobs."""
    round_id = voting_open(event)
    with db.engine.begin() as connection:
        voter, other = (join(connection, event.id, token) for token in ("voter", "other"))
    votes = writer()
    done = threading.Event()

    def vote_then_reason():
        votes.cast_vote(voter, round_id, "agree")
        done.set()

    # The reason is handed over right behind the vote, before the batch is written.
    first = threading.Thread(target=vote_then_reason)
    first.start()
    while not votes.pending:
        time.sleep(0.001)
    given = together(
        lambda: votes.give_reason(voter, round_id, "Omdat het helpt.")["text"],
        lambda: votes.give_reason(other, round_id, "Ik stemde niet."),
    )
    first.join()
    assert done.is_set()
    assert given == ["Omdat het helpt.", "not_voted"]
    assert votes.metrics.batch_commit.count == 1

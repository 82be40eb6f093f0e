"""The rules, without sockets: votes, rounds, moderator actions, and state kept in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from polling import create_app, db
from polling.domain.errors import VotingError
from polling.domain.models import Event, Vote, utcnow
from polling.domain.retention import purge
from polling.domain.state import current_tally, snapshot
from polling.domain.tally import Tally
from polling.domain.voting import cast_vote, cast_votes, control, join
from tests.support import app_settings


def act(event_id: int, *actions: str) -> Event:
    with db.session() as session:
        for action in actions:
            event = control(session, event_id, action)
        return event


def current_round_id(event_id: int) -> int:
    with db.session() as session:
        return session.get(Event, event_id).current_statement.latest_round.id


def participant(event_id: int, token: str) -> int:
    with db.engine.begin() as connection:
        return join(connection, event_id, token)


def vote(event_id: int, token: str, choice: str, round_id: int | None = None) -> None:
    round_id = round_id or current_round_id(event_id)
    voter = participant(event_id, token)
    with db.engine.begin() as connection:
        cast_vote(connection, voter, round_id, choice)


def counts(event_id: int) -> dict[str, int]:
    with db.session() as session:
        return current_tally(session, event_id)[0].counts


def projector_tally_equals_the_snapshot(event_id: int) -> Tally:
    """The tally publisher's one-query count and the state's own count of the round on screen."""
    with db.session() as session:
        published = current_tally(session, event_id)
        current = snapshot(session, event_id)
    assert current is not None
    stated = current.tally
    assert published is not None and stated is not None and published[0] == stated
    return stated


def test_the_published_tally_counts_as_the_state_does_open_closed_and_archived(event):
    act(event.id, "next", "open")
    for number, choice in enumerate(("agree", "agree", "disagree")):
        vote(event.id, f"phone-{number}", choice)
    assert projector_tally_equals_the_snapshot(event.id).participants == 3
    act(event.id, "close")
    participant(event.id, "late")  # joins after the close: not in the closed round's base
    closed = projector_tally_equals_the_snapshot(event.id)
    assert (closed.counts, closed.participants) == ({"agree": 2, "disagree": 1}, 3)
    with db.session() as session:
        purge(session, timedelta(days=1), now=utcnow() + timedelta(days=2))
    archived = projector_tally_equals_the_snapshot(event.id)
    assert (archived.counts, archived.participants) == ({"agree": 2, "disagree": 1}, 3)
    act(event.id, "new_round")
    assert projector_tally_equals_the_snapshot(event.id).counts == {"agree": 0, "disagree": 0}
    act(event.id, "next")  # statement 2, voting not opened yet: no tally to publish
    with db.session() as session:
        assert current_tally(session, event.id) is None


def test_a_new_event_waits_in_the_lobby(event):
    with db.session() as session:
        current = snapshot(session, event.id)
    assert current is not None
    state = current.for_role("audience")
    assert state["phase"] == "lobby"
    assert state["statement"] is None
    assert state["total"] == 4


def test_vote_counts_once_and_can_be_changed(event):
    act(event.id, "next", "open")
    vote(event.id, "phone-a", "agree")
    vote(event.id, "phone-b", "agree")
    vote(event.id, "phone-a", "disagree")
    assert counts(event.id) == {"agree": 1, "disagree": 1}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_batch_of_votes_is_written_as_each_alone_would_be(request, tmp_path, deck, database):
    """The vote writer executes the votes of a batch at once: each is still counted once, and
    each refused one is refused for its own reason, on either database."""
    settings = app_settings(tmp_path)
    if database == "postgresql":
        settings["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    from polling.domain.events import create_event

    with create_app(settings).app_context():
        with db.session() as session:
            event = create_event(session, deck)
            other = create_event(session, deck)
        act(event.id, "next", "open")
        round_id = current_round_id(event.id)
        a, b, c = (participant(event.id, f"phone-{n}") for n in "abc")
        outsider = participant(other.id, "phone")
        with db.engine.begin() as connection:
            assert cast_votes(connection, [(a, round_id, "agree"), (b, round_id, "agree")]) == [
                None,
                None,
            ]
        with db.engine.begin() as connection:
            refusals = cast_votes(
                connection,
                [
                    (a, round_id, "disagree"),  # a changed vote
                    (c, round_id, "maybe"),
                    (outsider, round_id, "agree"),
                    (c, round_id, "agree"),
                    (c, round_id, "disagree"),  # changed within the batch
                ],
            )
        codes = [refusal.code if refusal else None for refusal in refusals]
        assert codes == [None, "unknown_option", "unknown_round", None, None]
        assert counts(event.id) == {"agree": 1, "disagree": 2}
        with db.session() as session:
            assert session.scalar(select(func.count()).select_from(Vote)) == 3


def test_vote_refused_before_voting_opens_and_after_it_closes(event):
    act(event.id, "next")
    voter = participant(event.id, "phone")
    with db.engine.begin() as connection, pytest.raises(VotingError) as refused:
        cast_vote(connection, voter, 1, "agree")
    assert refused.value.code == "unknown_round"  # no round yet
    act(event.id, "open")
    round_id = current_round_id(event.id)
    act(event.id, "close")
    with db.engine.begin() as connection, pytest.raises(VotingError) as refused:
        cast_vote(connection, voter, round_id, "agree")
    assert refused.value.code == "voting_closed"
    assert counts(event.id) == {"agree": 0, "disagree": 0}


def test_vote_for_an_unknown_option_is_refused_and_writes_nothing(event):
    act(event.id, "next", "open")
    with pytest.raises(VotingError) as refused:
        vote(event.id, "phone", "maybe")
    assert refused.value.code == "unknown_option"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Vote)) == 0


def test_vote_on_a_statement_no_longer_on_screen_is_refused(event):
    act(event.id, "next", "open")
    first_round = current_round_id(event.id)
    act(event.id, "next", "open")
    with pytest.raises(VotingError) as refused:
        vote(event.id, "phone", "agree", round_id=first_round)
    assert refused.value.code == "voting_closed"


def test_a_participant_of_another_event_cannot_vote_in_this_one(app, deck, event):
    from polling.domain.events import create_event

    with db.session() as session:
        other = create_event(session, deck)
    act(event.id, "next", "open")
    outsider = participant(other.id, "phone")
    with db.engine.begin() as connection, pytest.raises(VotingError) as refused:
        cast_vote(connection, outsider, current_round_id(event.id), "agree")
    assert refused.value.code == "unknown_round"


def test_second_round_counts_separately(event):
    act(event.id, "next", "open")
    vote(event.id, "phone-a", "agree")
    act(event.id, "close", "new_round")
    assert counts(event.id) == {"agree": 0, "disagree": 0}
    vote(event.id, "phone-a", "disagree")
    assert counts(event.id) == {"agree": 0, "disagree": 1}
    with db.session() as session:
        rounds = session.get(Event, event.id).current_statement.rounds
        assert [r.number for r in rounds] == [1, 2]


def test_new_round_needs_the_current_round_closed(event):
    act(event.id, "next", "open")
    with pytest.raises(VotingError) as refused:
        act(event.id, "new_round")
    assert refused.value.code == "round_open"


def test_one_vote_per_phone_per_round_is_a_database_constraint(event):
    act(event.id, "next", "open")
    vote(event.id, "phone", "agree")
    with db.session() as session:
        existing = session.scalars(select(Vote)).one()
        session.add(
            Vote(
                round_id=existing.round_id,
                participant_id=existing.participant_id,
                option_id=existing.option_id,
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_moving_on_closes_voting_and_hides_results(event):
    event_state = act(event.id, "next", "open", "reveal", "next")
    assert event_state.current_position == 2
    assert event_state.results_revealed is False
    with db.session() as session:
        first = session.get(Event, event.id).statements[0].latest_round
        assert first.closed_at is not None


def test_moving_past_the_ends_is_refused(event):
    with pytest.raises(VotingError) as refused:
        act(event.id, "previous")
    assert refused.value.code == "no_more_statements"
    finished = act(event.id, "next", "next", "next", "next", "next")
    assert finished.stage == "finished"
    with pytest.raises(VotingError):
        act(event.id, "next")


def test_actions_that_need_a_statement_are_refused_in_the_lobby(event):
    for action in ("open", "close", "reveal", "new_round"):
        with pytest.raises(VotingError) as refused:
            act(event.id, action)
        assert refused.value.code == "no_statement"


def test_state_survives_a_restart(tmp_path, event):
    act(event.id, "next", "next", "open")
    vote(event.id, "phone", "disagree")
    act(event.id, "reveal")
    create_app(app_settings(tmp_path))  # a new process on the same database file
    with db.session() as session:
        current = snapshot(session, event.id)
    assert current is not None
    state = current.for_role("audience")
    assert state["phase"] == "open"
    assert state["statement"]["key"] == "readiness"
    assert state["revealed"] is True
    assert state["results"]["counts"] == {"agree": 0, "disagree": 1}


def test_events_keep_their_statements_when_the_deck_changes(tmp_path, app):
    from polling.domain.decks import load_deck
    from polling.domain.events import create_event

    path = tmp_path / "deck.toml"
    path.write_text('title = "T"\nlanguage = "en"\n[[statements]]\nkey = "a"\nstatement = "Old"\n')
    with db.session() as session:
        before = create_event(session, load_deck(path))
    path.write_text(path.read_text().replace("Old", "New"))
    with db.session() as session:
        stored = session.get(Event, before.id)
        assert stored.statements[0].texts["en"]["statement"] == "Old"


def test_phone_identity_is_per_event_and_stores_no_token(event):
    from polling.domain.models import Participant

    first = participant(event.id, "secret-token")
    assert participant(event.id, "secret-token") == first
    assert participant(event.id, "another-token") != first
    with db.session() as session:
        stored = session.get(Participant, first)
        assert "secret-token" not in stored.token_digest

"""The rules of the audience's questions, without sockets: states, limits, duplicates,
merge, mute, edits, settings and the lists each screen gets."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from polling import db
from polling.domain import questions, voting
from polling.domain.decks import DeckError, parse_deck
from polling.domain.question_models import Question, QuestionVote
from polling.domain.questions import QuestionError


def join(event, token: str) -> int:
    with db.engine.begin() as connection:
        return voting.join(connection, event.id, token)


def upvote(phone: int, question_id: int, up: bool = True) -> int:
    with db.engine.begin() as connection:
        return questions.upvote(connection, phone, question_id, up)


def ask(event, phone: int, text: str, **fields) -> Question:
    with db.session() as session:
        return questions.ask(session, event.id, phone, text, **fields)


def moderate(event, question: Question, action: str, text: str | None = None) -> Question:
    with db.session() as session:
        return questions.moderate(session, event.id, question.id, action, text)


def settings(event, **changes) -> None:
    with db.session() as session:
        questions.change_settings(session, event.id, changes)


def board(event) -> questions.Board:
    with db.session() as session:
        found = questions.board(session, event.id)
        assert found is not None
        return found


def state_of(question: Question) -> str:
    with db.session() as session:
        return session.get(Question, question.id).state


@pytest.fixture
def phones(event) -> list[int]:
    return [join(event, f"phone-{n}") for n in range(4)]


def test_a_question_is_trimmed_numbered_and_waits_for_approval_by_default(event, phones):
    first = ask(event, phones[0], "  Wat kost   dit?  ")
    second = ask(event, phones[1], "Wie betaalt het?", name=" Anna ", panel_member=1)
    assert (first.text, first.number, first.state) == ("Wat kost dit?", 1, "pending")
    assert (second.number, second.name, second.panel_member) == (2, "Anna", 1)
    # Nobody else sees a pending question; its asker sees it as pending.
    assert board(event).audience(20)["popular"] == []
    assert [q["state"] for q in board(event).own(phones[0])] == ["pending"]
    panel = board(event).view(second)["panel_member"]
    assert panel == "Karin Schoonenberg"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("ab", "too_short"),
        ("  a   ", "too_short"),
        ("!?!", "too_short"),
        ("x" * 301, "too_long"),
        (5, "bad_request"),
    ],
)
def test_length_and_type_are_checked(event, phones, text, code):
    with pytest.raises(QuestionError) as refused:
        ask(event, phones[0], text)
    assert refused.value.code == code
    assert board(event).questions == []


def test_names_off_optional_required_and_panel_members(event, phones):
    settings(event, names="required")
    with pytest.raises(QuestionError, match="name"):
        ask(event, phones[0], "Een vraag zonder naam")
    settings(event, names="off")
    assert ask(event, phones[0], "Een vraag met naam", name="Bob").name is None
    with pytest.raises(QuestionError) as refused:
        ask(event, phones[0], "Voor wie is dit?", panel_member=4)
    assert refused.value.code == "unknown_panel_member"


def test_modes_off_upvotes_only_and_closed_refuse_new_questions(event, phones):
    for mode in ("off", "upvotes", "closed"):
        settings(event, mode=mode)
        with pytest.raises(QuestionError) as refused:
            ask(event, phones[0], "Mag ik iets vragen?")
        assert refused.value.code == "questions_closed"


def test_without_premoderation_a_question_is_visible_at_once(event, phones):
    settings(event, premoderation=False)
    question = ask(event, phones[0], "Hoe meet je de waarde van AI?")
    assert question.state == "visible"
    assert [q["number"] for q in board(event).audience(20)["popular"]] == [1]


def test_blocklist_and_mute_send_a_question_to_the_queue_even_without_premoderation(event, phones):
    settings(event, premoderation=False)
    assert ask(event, phones[0], "Wat een KUT-idee is dit!").held == "blocklist"
    muted = ask(event, phones[1], "Een eerste gewone vraag")
    assert muted.state == "visible"
    moderate(event, muted, "mute")
    later = ask(event, phones[1], "Een tweede vraag van dezelfde telefoon")
    assert (later.state, later.held) == ("pending", "muted")
    assert board(event).view(later, moderator=True)["muted"] is True
    moderate(event, later, "unmute")
    assert ask(event, phones[1], "Een derde vraag na het opheffen").state == "visible"


def test_the_decks_blocklist_matches_whole_words_and_phrases(deck):
    assert questions.is_blocked(questions.normalise("Wat vindt Big Pharma?"), ["big pharma"])
    assert not questions.is_blocked(questions.normalise("Wat is pharmacie?"), ["pharma"])
    assert questions.is_blocked(questions.normalise("this is shit"))


def test_exact_duplicates_are_refused_with_a_pointer_to_the_public_one(event, phones):
    settings(event, premoderation=False)
    original = ask(event, phones[0], "Wie is verantwoordelijk bij een fout?")
    with pytest.raises(QuestionError) as refused:
        ask(event, phones[1], "wie is VERANTWOORDELIJK, bij een fout")
    assert refused.value.code == "duplicate"
    assert refused.value.details == {"question": original.id, "number": 1}
    # A dismissed one no longer counts.
    settings(event, premoderation=True)
    pending = ask(event, phones[1], "Een vraag die wordt afgewezen")
    with pytest.raises(QuestionError) as refused:
        ask(event, phones[2], "Een vraag die wordt afgewezen!")
    assert refused.value.details == {"question": None, "number": None}
    moderate(event, pending, "dismiss")
    assert ask(event, phones[2], "Een vraag die wordt afgewezen!").number == 3


def test_states_and_transitions(event, phones):
    question = ask(event, phones[0], "Wat doet de overheid?")
    with pytest.raises(QuestionError, match="cannot on_screen"):
        moderate(event, question, "on_screen")
    moderate(event, question, "approve")
    other = ask(event, phones[1], "Wat doen de ziekenhuizen?")
    moderate(event, other, "approve")
    moderate(event, question, "on_screen")
    moderate(event, other, "on_screen")  # one at a time: the first goes back to the list
    assert (state_of(question), state_of(other)) == ("visible", "on_screen")
    moderate(event, other, "answered")
    moderate(event, other, "hide")
    moderate(event, other, "restore")
    assert state_of(other) == "visible"
    dismissed = ask(event, phones[2], "Een vraag die niemand ziet")
    moderate(event, dismissed, "dismiss")
    # The asker is not told: it stays pending for them.
    assert [q["state"] for q in board(event).own(phones[2])] == ["pending"]
    moderate(event, dismissed, "restore")
    assert state_of(dismissed) == "visible"


def test_edit_before_approve_keeps_the_original(event, phones):
    question = ask(event, phones[0], "wat kost AI eigenlijk ??")
    moderate(event, question, "approve", "Wat kost AI eigenlijk?")
    with db.session() as session:
        stored = session.get(Question, question.id)
        assert (stored.text, stored.original_text, stored.state) == (
            "Wat kost AI eigenlijk?",
            "wat kost AI eigenlijk ??",
            "visible",
        )
    with pytest.raises(QuestionError):
        moderate(event, question, "edit", "no")


def test_upvotes_are_rows_once_per_phone_not_on_pending_or_own(event, phones):
    question = ask(event, phones[0], "Hoe zit het met privacy?")
    with pytest.raises(QuestionError) as refused:
        upvote(phones[1], question.id)
    assert refused.value.code == "not_upvotable"
    moderate(event, question, "approve")
    assert upvote(phones[1], question.id) == 1
    assert upvote(phones[1], question.id) == 1  # a second tap changes nothing
    assert upvote(phones[2], question.id) == 2
    with pytest.raises(QuestionError) as refused:
        upvote(phones[0], question.id)
    assert refused.value.code == "own_question"
    assert upvote(phones[1], question.id, up=False) == 1
    settings(event, mode="closed")
    with pytest.raises(QuestionError) as refused:
        upvote(phones[3], question.id)
    assert refused.value.code == "upvotes_closed"
    settings(event, mode="upvotes")
    assert upvote(phones[3], question.id) == 2
    # Hidden and restored: the votes are kept.
    moderate(event, question, "hide")
    moderate(event, question, "restore")
    assert board(event).counts == {question.id: 2}


def test_upvotes_of_another_event_are_refused(app, event, deck, phones):
    from polling.domain.events import create_event

    with db.session() as session:
        other = create_event(session, deck)
    stranger = join(other, "stranger")
    settings(event, premoderation=False)
    question = ask(event, phones[0], "Een vraag in dit evenement")
    with pytest.raises(QuestionError) as refused:
        upvote(stranger, question.id)
    assert refused.value.code == "unknown_question"


def test_popular_sorts_by_upvotes_then_older_first_and_next_question(event, phones):
    settings(event, premoderation=False)
    first = ask(event, phones[0], "De eerste vraag van de avond")
    second = ask(event, phones[1], "De tweede vraag van de avond")
    third = ask(event, phones[2], "De derde vraag van de avond")
    upvote(phones[3], third.id)
    assert [q["number"] for q in board(event).audience(20)["popular"]] == [3, 1, 2]
    assert [q["number"] for q in board(event).audience(20)["newest"]] == [3, 2, 1]
    with db.session() as session:
        assert questions.next_question(session, event.id).id == third.id
        assert questions.next_question(session, event.id).id == first.id
    assert (state_of(third), state_of(first), state_of(second)) == (
        "answered",
        "on_screen",
        "visible",
    )
    screen = board(event).screen()
    assert screen["on_screen"]["number"] == 1
    assert [q["number"] for q in screen["next"]] == [2]


def test_near_duplicates_are_suggested_and_a_merge_keeps_the_union_of_voters(event, phones):
    settings(event, premoderation=False)
    kept = ask(event, phones[0], "Wie is aansprakelijk als de AI een fout maakt?")
    near = ask(event, phones[1], "Wie is er aansprakelijk als AI een fout maakt")
    assert near.similar_to_id == kept.id
    assert board(event).view(near, moderator=True)["similar_to"]["number"] == 1
    upvote(phones[2], kept.id)
    upvote(phones[2], near.id)
    upvote(phones[3], near.id)
    with db.session() as session:
        questions.merge(session, event.id, near.id, kept.id)
    # phones 2 and 3 voted, phone 1 asked the merged one: three upvotes, none twice.
    assert board(event).counts == {kept.id: 3}
    assert state_of(near) == "merged"
    with db.session() as session:
        voters = session.scalars(
            select(QuestionVote.participant_id).where(QuestionVote.question_id == kept.id)
        )
        assert sorted(voters) == sorted(phones[1:4])
    with pytest.raises(QuestionError), db.session() as session:
        questions.merge(session, event.id, near.id, kept.id)


def test_an_event_takes_at_most_its_limit_of_questions(event, phones, monkeypatch):
    monkeypatch.setattr(questions, "MAX_QUESTIONS_PER_EVENT", 2)
    ask(event, phones[0], "Vraag nummer een")
    ask(event, phones[1], "Vraag nummer twee")
    with pytest.raises(QuestionError) as refused:
        ask(event, phones[2], "Vraag nummer drie")
    assert refused.value.code == "event_full"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Question)) == 2


def test_bad_settings_are_refused_and_change_nothing(event):
    for changes in ({}, {"mode": "sometimes"}, {"premoderation": "yes"}, {"view": 1}, {"x": 1}):
        with pytest.raises(QuestionError) as refused:
            settings(event, **changes)
        assert refused.value.code == "bad_request"
    assert board(event).settings.mode == "open"


def test_the_decks_qa_table_sets_the_events_settings(tmp_path):
    data = {
        "language": "nl",
        "title": "T",
        "statements": [{"key": "a", "statement": "S"}],
        "qa": {"mode": "upvotes", "names": "required", "premoderation": False},
    }
    deck = parse_deck(data, source="d.toml", name="d.toml")
    assert (deck.qa.mode, deck.qa.names, deck.qa.premoderation) == ("upvotes", "required", False)
    for bad, field in (
        ({"mode": "maybe"}, "qa.mode"),
        ({"premoderation": "yes"}, "qa.premoderation"),
        ({"blocklist": [""]}, "qa.blocklist[1]"),
        ({"colour": 1}, "qa.colour"),
    ):
        with pytest.raises(DeckError) as refused:
            parse_deck({**data, "qa": bad}, source="d.toml", name="d.toml")
        assert refused.value.field == field

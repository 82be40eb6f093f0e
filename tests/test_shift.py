"""Opinion shift: following each participant from one round to the next (a pure function)."""

from __future__ import annotations

import pytest

from polling.reports.shift import opinion_shift, statement_shifts

OPTIONS = ("agree", "disagree")


def votes(statement: str, round_: int, **choices: str) -> list[dict]:
    """Rows as polling.document.event_results gives them: participant -> choice."""
    return [
        {"participant": who, "statement_key": statement, "round": round_, "choice": choice}
        for who, choice in choices.items()
    ]


def test_counts_every_kind_of_transition():
    rows = [
        *votes("value", 1, ann="agree", bob="agree", cas="disagree", dee="agree", eve="disagree"),
        *votes("value", 2, ann="agree", bob="disagree", cas="agree", dee="disagree", fay="agree"),
    ]
    shift = opinion_shift(rows, "value", OPTIONS, 1, 2)
    assert shift.transitions == {
        ("agree", "agree"): 1,  # ann
        ("agree", "disagree"): 2,  # bob, dee
        ("disagree", "agree"): 1,  # cas
        ("disagree", "disagree"): 0,
    }
    assert (shift.unchanged, shift.changed, shift.voted_both) == (1, 3, 4)
    assert shift.newly_voted_by_choice == {"agree": 1, "disagree": 0}  # fay, only in round 2
    assert shift.dropped_out_by_choice == {"agree": 0, "disagree": 1}  # eve, only in round 1
    assert shift.changed_percent == 75


def test_other_statements_and_rounds_do_not_count():
    rows = [
        *votes("value", 1, ann="agree"),
        *votes("value", 2, ann="agree"),
        *votes("value", 3, ann="disagree"),
        *votes("ethics", 2, ann="disagree", bob="agree"),
    ]
    shift = opinion_shift(rows, "value", OPTIONS, 1, 2)
    assert shift.unchanged == 1 and shift.changed == 0
    newly_voted, dropped_out = shift.newly_voted_by_choice, shift.dropped_out_by_choice
    assert sum(newly_voted.values()) == sum(dropped_out.values()) == 0
    assert opinion_shift(rows, "value", OPTIONS, 2, 3).changed == 1


def test_as_dict_lists_every_pair_in_deck_order_with_zeros():
    rows = [*votes("s", 1, ann="no"), *votes("s", 2, ann="yes", bob="maybe")]
    data = opinion_shift(rows, "s", ("yes", "maybe", "no"), 1, 2).as_dict()
    assert data["options"] == ["yes", "maybe", "no"]
    assert [(t["from"], t["to"]) for t in data["transitions"][:3]] == [
        ("yes", "yes"),
        ("yes", "maybe"),
        ("yes", "no"),
    ]
    assert len(data["transitions"]) == 9
    assert {"from": "no", "to": "yes", "count": 1} in data["transitions"]
    assert (data["changed"], data["newly_voted"], data["dropped_out"]) == (1, 1, 0)
    assert data["newly_voted_by_choice"] == {"yes": 0, "maybe": 1, "no": 0}
    assert (data["from_round"], data["to_round"]) == (1, 2)


def test_nobody_voted_gives_zeros_not_an_error():
    shift = opinion_shift([], "value", OPTIONS, 1, 2)
    assert shift.voted_both == 0 and shift.changed_percent == 0
    assert set(shift.transitions.values()) == {0}


def test_a_choice_outside_the_options_is_kept_not_dropped():
    rows = [*votes("s", 1, ann="agree"), *votes("s", 2, ann="retired-option")]
    shift = opinion_shift(rows, "s", OPTIONS, 1, 2)
    assert shift.options == ("agree", "disagree", "retired-option")
    assert shift.transitions[("agree", "retired-option")] == 1


def test_two_votes_of_one_participant_in_a_round_are_refused():
    rows = [*votes("s", 1, ann="agree"), *votes("s", 1, ann="disagree")]
    with pytest.raises(ValueError, match="two votes in round 1"):
        opinion_shift(rows, "s", OPTIONS, 1, 2)


def test_statement_shifts_pairs_each_round_with_the_next():
    rows = [*votes("s", 1, a="agree"), *votes("s", 2, a="disagree"), *votes("s", 3, a="agree")]
    assert [(s.before, s.after) for s in statement_shifts(rows, "s", OPTIONS, 3)] == [
        (1, 2),
        (2, 3),
    ]
    assert statement_shifts(rows, "s", OPTIONS, 1) == []

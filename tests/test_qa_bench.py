"""The Q&A benchmark's verdicts, tested like product code: lost or doubled upvotes, when the
projector became right, and the hall's updates that carry only what changed."""

from __future__ import annotations

from benchmarks import qa
from polling.realtime.questions import hall_update


def test_every_acked_upvote_must_be_stored_exactly_once():
    acked = {("a", 1), ("b", 1), ("a", 2)}
    assert qa.check_upvotes(acked, [("a", 1), ("b", 1), ("a", 2)]) == {
        "upvotes_missing": 0,
        "upvotes_duplicated": 0,
        "upvotes_unexpected": 0,
        "upvotes_stored_unacked": 0,
    }
    found = qa.check_upvotes(acked, [("a", 1), ("a", 1), ("c", 2), ("d", 1)], {("d", 1)})
    assert found == {
        "upvotes_missing": 2,
        "upvotes_duplicated": 1,
        "upvotes_unexpected": 1,
        "upvotes_stored_unacked": 1,
    }


def test_the_projector_is_right_from_the_first_of_its_last_right_messages():
    def screen(upvotes):
        return {"on_screen": {"id": 1, "upvotes": upvotes}, "next": []}

    screens = [(1.0, screen(3)), (2.0, screen(5)), (3.0, screen(4)), (4.0, screen(5))]
    assert qa.final_correct_since(screens, {1: 5}) == 4.0
    assert qa.final_correct_since(screens[:2], {1: 5}) == 2.0
    assert qa.final_correct_since(screens[:3], {1: 5}) is None


def view(id_, upvotes=0, state="visible"):
    return {"id": id_, "number": id_, "text": f"q{id_}", "state": state, "upvotes": upvotes}


def hall(*questions, on_screen=None):
    return {
        "settings": {"mode": "open"},
        "total": len(questions),
        "on_screen": on_screen,
        "popular": list(questions),
        "newest": list(reversed(questions)),
    }


def test_the_halls_update_sends_new_questions_whole_and_counts_alone():
    first = hall_update(None, hall(view(1)))
    assert first["changed"] == [view(1)] and first["popular"] == [1]
    update = hall_update(hall(view(1)), hall(view(1, upvotes=2), view(2)))
    assert update["changed"] == [view(2)]
    assert update["upvotes"] == [[1, 2]]
    moved = hall_update(hall(view(1)), hall(on_screen=view(1, state="on_screen")))
    assert moved["changed"] == [view(1, state="on_screen")] and moved["on_screen"] == 1
    assert hall_update(hall(view(1)), hall(view(1))) is None

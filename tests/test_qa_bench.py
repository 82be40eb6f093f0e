"""The Q&A benchmark: its verdicts tested like product code (lost or doubled upvotes, when the
projector became right, the hall's updates that carry only what changed), and both phases run
end to end at a tiny scale, so the benchmark cannot rot unnoticed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import qa_questions, qa_reasons
from benchmarks.harness import hall
from benchmarks.harness.verify import compare_acked
from polling.realtime.questions import hall_update

ROOT = Path(__file__).resolve().parent.parent


def test_every_acked_upvote_must_be_stored_exactly_once():
    acked = {("a", 1), ("b", 1), ("a", 2)}
    assert compare_acked(acked, [("a", 1), ("b", 1), ("a", 2)]) == {
        "missing": 0,
        "duplicated": 0,
        "unexpected": 0,
        "stored_unacked": 0,
    }
    found = compare_acked(acked, [("a", 1), ("a", 1), ("c", 2), ("d", 1)], {("d", 1)})
    assert found == {"missing": 2, "duplicated": 1, "unexpected": 1, "stored_unacked": 1}


def test_the_projector_is_right_from_the_first_of_its_last_right_messages():
    def screen(upvotes):
        return {"on_screen": {"id": 1, "upvotes": upvotes}, "next": []}

    screens = [(1.0, screen(3)), (2.0, screen(5)), (3.0, screen(4)), (4.0, screen(5))]
    shown = qa_questions.on_projector
    assert hall.final_correct_since(screens, {1: 5}, shown) == 4.0
    assert hall.final_correct_since(screens[:2], {1: 5}, shown) == 2.0
    assert hall.final_correct_since(screens[:3], {1: 5}, shown) is None


def test_phones_upvote_the_reasons_of_both_sides_and_the_movers():
    def reason(id_):
        return {"id": id_, "upvotes": 0}

    view = {"sides": {"agree": [reason(1)], "disagree": [reason(2)]}, "movers": [reason(3)]}
    assert qa_reasons.listed(view) == [1, 2, 3]  # the reply to reasons_sync
    update = {"sides": {"agree": [1], "disagree": [2]}, "movers": [3], "changed": []}
    assert qa_reasons.listed(update) == [1, 2, 3]  # a `reasons` update names them by id
    assert qa_reasons.listed({"sides": {}, "movers": []}) == []  # not shown yet
    assert qa_reasons.listed(None) == []  # no statement on screen
    assert [r["id"] for r in qa_reasons.on_projector(view)] == [1, 2, 3]


def view(id_, upvotes=0, state="visible"):
    return {"id": id_, "number": id_, "text": f"q{id_}", "state": state, "upvotes": upvotes}


def hall_lists(*questions, on_screen=None):
    return {
        "settings": {"mode": "open"},
        "total": len(questions),
        "on_screen": on_screen,
        "popular": list(questions),
        "newest": list(reversed(questions)),
    }


def test_the_halls_update_sends_new_questions_whole_and_counts_alone():
    first = hall_update(None, hall_lists(view(1)))
    assert first["changed"] == [view(1)] and first["popular"] == [1]
    update = hall_update(hall_lists(view(1)), hall_lists(view(1, upvotes=2), view(2)))
    assert update["changed"] == [view(2)]
    assert update["upvotes"] == [[1, 2]]
    moved = hall_update(hall_lists(view(1)), hall_lists(on_screen=view(1, state="on_screen")))
    assert moved["changed"] == [view(1, state="on_screen")] and moved["on_screen"] == 1
    assert hall_update(hall_lists(view(1)), hall_lists(view(1))) is None


def run_benchmark(*arguments: str) -> dict:
    """benchmarks.qa as a user runs it; its exit status must be 0 (nothing acked was lost)."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.qa", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


TINY = ("--phones", "12", "--upvotes", "30", "--window", "6", "--workers", "2")


@pytest.mark.parametrize("phase", ["questions", "reasons"])
def test_each_phase_runs_at_a_tiny_scale_and_loses_nothing(phase):
    asked = "--questions" if phase == "questions" else "--reasons"
    result = run_benchmark("--phase", phase, *TINY, asked, "6", "--question-interval", "0.2")
    assert result["connected"] == 12 and "error" not in result
    assert result["upvotes_acked"] == result["upvotes_in_database"] == 30
    assert result["upvotes_missing"] == result["upvotes_unexpected"] == 0
    if phase == "questions":
        assert result["asks_acked"] == result["questions_in_database"] == 6
        assert result["received"]["questions"]["min_per_phone"] >= 1
    else:
        assert result["votes_acked"] == result["verified"] == 12
        assert result["reasons_acked"] == result["reasons_in_database"] == 6
        assert result["reasons_missing"] == result["reasons_unexpected"] == 0
        assert result["moderator_showed"] and result["moderator_picked"] >= 1
        # Every phone was sent the hall's reasons, and the projector the picked ones.
        assert result["received"]["reasons"]["min_per_phone"] >= 1
        assert result["projector_final_ms"] is not None
    assert result["server_tracebacks"] == 0

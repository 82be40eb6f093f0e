"""Server-rendered SVG charts, read back with a real XML parser."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from polling.reports.charts import chart_file, is_chart_file, round_chart, shift_chart
from polling.reports.shift import opinion_shift
from polling.web.i18n import strings

SVG = "{http://www.w3.org/2000/svg}"
NL = strings("nl")


def statement(key="value", labels=("Eens", "Oneens"), position=1) -> dict:
    keys = ("agree", "disagree", "abstain")[: len(labels)]
    return {
        "position": position,
        "key": key,
        "options": [{"key": k, "label": label} for k, label in zip(keys, labels, strict=True)],
        "rounds": [],
        "shifts": [],
    }


def round_(number=1, **counts: int) -> dict:
    total = sum(counts.values())
    return {
        "number": number,
        "counts": counts,
        "percentages": {k: round(100 * v / total) if total else 0 for k, v in counts.items()},
        "voters": total,
    }


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [element.text for element in root.iter(f"{SVG}text")]


def test_bar_chart_is_an_accessible_image_with_every_number_as_text():
    root = parse(round_chart(statement(), round_(agree=2, disagree=1), NL))
    label = root.get("aria-label")
    assert root.get("role") == "img"
    assert label == "Stelling 1, ronde 1: Eens 67% (2), Oneens 33% (1); 3 stemmen"
    assert root.find(f"{SVG}title").text == label
    # Labels and values are text in deck order, not told apart by colour alone.
    assert texts(root) == ["Eens", "67% (2)", "Oneens", "33% (1)"]


def test_bars_are_as_long_as_their_share_of_the_votes():
    root = parse(round_chart(statement(), round_(agree=3, disagree=1), NL))
    rects = list(root.iter(f"{SVG}rect"))
    track, agree, _track, disagree = (float(r.get("width")) for r in rects)
    assert agree == pytest.approx(0.75 * track, abs=0.1)  # drawn to a tenth of a pixel
    assert disagree == pytest.approx(0.25 * track, abs=0.1)
    assert rects[1].get("fill") != rects[3].get("fill")  # each option its own colour


def test_a_round_without_votes_draws_empty_tracks():
    root = parse(round_chart(statement(), round_(agree=0, disagree=0), NL))
    assert len(list(root.iter(f"{SVG}rect"))) == 2  # the tracks, no bars
    assert texts(root) == ["Eens", "0% (0)", "Oneens", "0% (0)"]


def test_no_style_attributes_that_the_content_security_policy_would_block():
    chart = round_chart(statement(), round_(agree=1, disagree=1), NL, caption=True)
    assert "style" not in chart
    assert "<script" not in chart


def test_labels_are_escaped_and_long_ones_shortened_on_screen_only():
    hostile = 'Eens <script>alert("x")</script> & meer tekst dan past'
    root = parse(round_chart(statement(labels=(hostile, "Nee")), round_(agree=1, disagree=0), NL))
    assert hostile in root.get("aria-label")  # the whole label for a screen reader
    shown = texts(root)[0]
    assert shown.endswith("…") and hostile.startswith(shown[:-1])
    assert not list(root.iter(f"{SVG}script"))


def test_caption_shows_statement_round_and_voters_on_a_chart_file():
    root = parse(
        round_chart(statement(), round_(2, agree=1, disagree=3), strings("en"), caption=True)
    )
    assert texts(root)[0] == "Statement 1, round 2 · 4 votes"


def shift_of(rows_before: dict, rows_after: dict) -> dict:
    rows = [
        {"participant": p, "statement_key": "value", "round": n, "choice": c}
        for n, choices in ((1, rows_before), (2, rows_after))
        for p, c in choices.items()
    ]
    return opinion_shift(rows, "value", ("agree", "disagree"), 1, 2).as_dict()


def test_shift_chart_draws_one_band_per_way_people_went():
    shift = shift_of(
        {"a": "agree", "b": "agree", "c": "agree", "d": "disagree"},
        {"a": "agree", "b": "disagree", "d": "disagree", "e": "agree"},
    )
    root = parse(shift_chart(statement(), shift, NL))
    bands = [p.find(f"{SVG}title").text for p in root.iter(f"{SVG}path")]
    assert sorted(bands) == sorted(
        [
            "Eens → Eens: 1",
            "Eens → Oneens: 1",
            "Eens → Niet gestemd: 1",  # c dropped out
            "Oneens → Oneens: 1",
            "Niet gestemd → Eens: 1",  # e came in
        ]
    )
    # Node labels carry the counts of each round: 3 agreed and 1 disagreed in round 1, ...
    shown = texts(root)
    assert shown[:2] == ["Ronde 1", "Ronde 2"]
    assert {"Eens  3", "Oneens  1", "Niet gestemd  1"} <= set(shown)  # round 1 + newcomers
    assert {"Eens  2", "Oneens  2"} <= set(shown)  # round 2 (and c dropped out: 1)
    assert root.get("role") == "img"
    assert "Eens → Oneens: 1" in root.get("aria-label")


def test_shift_band_thickness_is_proportional_to_people():
    shift = shift_of({f"p{i}": "agree" for i in range(4)}, {"p0": "agree", "p1": "disagree"})
    root = parse(shift_chart(statement(), shift, NL))
    thickness = {}
    for path in root.iter(f"{SVG}path"):
        numbers = [float(n) for n in re.findall(r"-?\d+\.\d", path.get("d"))]
        thickness[path.find(f"{SVG}title").text] = numbers[9] - numbers[7]  # after L: x1,y1+t
    assert thickness["Eens → Niet gestemd: 2"] == 2 * thickness["Eens → Eens: 1"]
    assert thickness["Eens → Oneens: 1"] == thickness["Eens → Eens: 1"]


def test_shift_chart_without_votes_says_so():
    root = parse(shift_chart(statement(), shift_of({}, {}), NL))
    assert "Nog geen stemmen" in texts(root)
    assert not list(root.iter(f"{SVG}path"))


def test_chart_files_are_found_by_name():
    value = statement(key="q-2")
    value["rounds"] = [round_(1, agree=1, disagree=0), round_(2, agree=0, disagree=1)]
    value["shifts"] = [shift_of({"a": "agree"}, {"a": "disagree"})]
    results = {"statements": [value]}
    # A key may end in digits: the round is always the last number.
    assert "ronde 2" in parse(chart_file(results, "chart-q-2-2.svg", NL)).get("aria-label")
    assert parse(chart_file(results, "shift-q-2-1-2.svg", NL)).get("role") == "img"
    for missing in ("chart-q-2-3.svg", "chart-other-1.svg", "shift-q-2-2-3.svg", "x.svg"):
        assert chart_file(results, missing, NL) is None
    assert is_chart_file("chart-q-2-3.svg") and not is_chart_file("chart-Q-1.svg")
    assert not is_chart_file("chart-../../etc-1.svg")

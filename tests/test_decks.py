"""Decks: the panel's deck loads as in the seed; every kind of broken deck is refused clearly."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from polling import db
from polling.domain.decks import DeckError, list_decks, load_deck, toml_too_complex
from polling.domain.events import create_event
from polling.domain.questions import public_settings, settings_for
from tests.support import PANEL_DECK


def test_panel_deck_has_the_four_statements_in_order(deck):
    assert deck.language == "nl"
    assert deck.title["nl"] == "Samen versnellen van AI in de zorg"
    assert [s.key for s in deck.statements] == ["value", "readiness", "ethics", "scaling"]
    value = deck.statements[0]
    assert value.texts["nl"]["theme"] == "Waarde en impact van AI"
    assert value.texts["nl"]["question"] == "Wat levert AI in de zorg écht op?"
    assert value.texts["nl"]["statement"].startswith("We investeren miljoenen in AI, maar")
    assert deck.statements[2].texts["nl"]["statement"] == (
        "AI maakt de zorg efficiënter, maar dreigt de menselijke maat te verliezen."
    )


def test_panel_deck_writes_ai_not_the_ocr_misreading(deck):
    for statement in deck.statements:
        for text in statement.texts["nl"].values():
            assert " Al " not in f" {text} " and "Al-" not in text, text


def test_panel_deck_has_english_and_default_options(deck):
    for statement in deck.statements:
        assert set(statement.texts) == {"nl", "en"}
        assert set(statement.texts["en"]) == {"theme", "question", "challenge", "statement"}
        assert [(o.key, o.labels["nl"], o.labels["en"]) for o in statement.options] == [
            ("agree", "Eens", "Agree"),
            ("disagree", "Oneens", "Disagree"),
        ]


def test_panel_deck_names_the_panel_and_gives_sourced_facts(deck):
    assert [member.name for member in deck.panel] == [
        "Dr. Daniel Vijlbrief",
        "Karin Schoonenberg",
        "Prof. Geert-Jan Geersing",
        "Merlijn Sevenster",
    ]
    assert all(set(member.role) == {"nl", "en"} for member in deck.panel)
    for statement in deck.statements:
        assert 2 <= len(statement.facts) <= 3, statement.key
        for fact in statement.facts:
            assert set(fact.text) == {"nl", "en"}
            assert fact.source["nl"].startswith("AI Monitor Ziekenhuizen 2025, M&I/Partners")
    readiness = deck.statements[1].facts
    assert any("52%" in fact.text["nl"] for fact in readiness)


def test_the_panel_deck_is_listed():
    assert PANEL_DECK in list_decks(PANEL_DECK.parent)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deck.toml"
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """
title = "Test"
language = "en"
[[statements]]
key = "one"
statement = "First"
"""


def test_deck_may_rename_options_and_add_abstain(tmp_path):
    deck = load_deck(
        write(
            tmp_path,
            MINIMAL
            + """
[[statements.options]]
key = "yes"
label = "Yes"
[[statements.options]]
key = "no"
label = "No"
[[statements.options]]
key = "abstain"
label = "Abstain"
""",
        )
    )
    assert [o.key for o in deck.statements[0].options] == ["yes", "no", "abstain"]


WITH_CONTEXT = (
    MINIMAL
    + """
[[statements.facts]]
text = "Half of all hospitals have nothing in order."
source = "A survey, p. 9"
[[panel]]
name = "Dr. A. Expert"
role = "Physician"
"""
)


def test_deck_may_name_the_panel_and_give_facts_with_sources(tmp_path):
    deck = load_deck(write(tmp_path, WITH_CONTEXT))
    assert [(m.name, m.role) for m in deck.panel] == [("Dr. A. Expert", {"en": "Physician"})]
    (fact,) = deck.statements[0].facts
    assert fact.as_dict() == {
        "text": {"en": "Half of all hospitals have nothing in order."},
        "source": {"en": "A survey, p. 9"},
    }


def test_the_qa_table_switches_the_reasons_of_new_events(app, tmp_path):
    off = MINIMAL + '[qa]\nreasons = "off"\nreasons_premoderation = true\n'
    with db.session() as session:
        quiet = create_event(session, load_deck(write(tmp_path, off)))
        default = create_event(session, load_deck(write(tmp_path, MINIMAL)))
        # What the phones and the moderator are told of the event's settings.
        told = [public_settings(settings_for(session, e.id)) for e in (quiet, default)]
    assert [(s["reasons"], s["reasons_premoderation"]) for s in told] == [
        ("off", True),
        # Without the keys: reasons open, and not held for the moderator first.
        ("open", False),
    ]


@pytest.mark.parametrize(
    ("text", "field", "problem"),
    [
        (MINIMAL.replace('key = "one"\n', ""), "statements[1].key", "is missing"),
        (
            MINIMAL + '[[statements]]\nkey = "one"\nstatement = "Again"\n',
            "statements[2].key",
            "duplicate key 'one'",
        ),
        (MINIMAL.replace('"First"', '"   "'), "statements[1].statement.en", "must not be empty"),
        (MINIMAL + 'colour = "red"\n', "statements[1].colour", "unknown field"),
        (MINIMAL.replace('"First"', "42"), "statements[1].statement", "must be a string"),
        (MINIMAL.replace('key = "one"', "key = 1"), "statements[1].key", "must be a string"),
        (MINIMAL.replace('language = "en"', 'language = "fr"'), "language", "must be one of"),
        (MINIMAL.replace('title = "Test"', ""), "title", "is missing"),
        ('title = "T"\nlanguage = "en"\n', "statements", "is missing"),
        (MINIMAL + "[[statements.options]]\nkey = 'only'\nlabel = 'One'\n", "options", "2 to 6"),
        ("title = 'unterminated\n", "file", "is not valid TOML"),
        (WITH_CONTEXT.replace('source = "A survey, p. 9"\n', ""), "facts[1].source", "missing"),
        (WITH_CONTEXT.replace("Half of all", "Half " * 60), "facts[1].text.en", "at most 130"),
        (WITH_CONTEXT + "x = 1\n", "panel[1].x", "unknown"),
        (WITH_CONTEXT.replace('name = "Dr. A. Expert"', "name.en = 'A'"), "name", "a string"),
        (MINIMAL + "[[statements.facts]]\ntext='a'\nsource='b'\n" * 5, "facts", "1 to 3"),
        (MINIMAL + "[qa]\nreasons = 'maybe'\n", "qa.reasons", "must be one of open, off"),
        (MINIMAL + "[qa]\nreasons_premoderation = 'yes'\n", "qa.reasons_premoderation", "true"),
    ],
    ids=[
        "missing-key",
        "duplicate-key",
        "empty-text",
        "unknown-field",
        "wrong-type",
        "key-not-string",
        "unknown-language",
        "missing-title",
        "no-statements",
        "one-option",
        "bad-toml",
        "fact-without-source",
        "fact-too-long",
        "panel-unknown-field",
        "panel-name-per-language",
        "too-many-facts",
        "reasons-mode",
        "reasons-premoderation",
    ],
)
def test_broken_deck_is_refused_naming_file_and_field(tmp_path, text, field, problem):
    path = write(tmp_path, text)
    with pytest.raises(DeckError) as refused:
        load_deck(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    assert refused.value.field.endswith(field)
    assert problem in message


def test_missing_deck_file_is_refused(tmp_path):
    with pytest.raises(DeckError, match="does not exist"):
        load_deck(tmp_path / "nope.toml")


HOSTILE_DECKS = {
    # tomllib's memory grows with the square of a dotted key's parts (100,000 took 22 GB).
    "a dotted key of 100,000 parts": ("a" + ".a" * 100_000 + " = 1\n", "dotted key"),
    # 120,000 nested arrays overflowed tomllib's recursion: an HTTP 500 with a traceback.
    "120,000 nested arrays": ("x = " + "[" * 120_000 + "\n", "nests more than"),
}


@pytest.mark.parametrize("name", HOSTILE_DECKS)
def test_a_hostile_deck_is_refused_quickly_naming_the_problem(tmp_path, name):
    text, problem = HOSTILE_DECKS[name]
    path = tmp_path / "hostile.toml"
    path.write_text(text)
    started = time.monotonic()
    with pytest.raises(DeckError, match=problem) as refused:
        load_deck(path)
    assert time.monotonic() - started < 1
    assert refused.value.field == "file"


def test_the_pre_scan_ignores_dots_and_brackets_in_strings_and_comments():
    text = (
        '"a.b.c.d.e.f.g.h.i.j" = "[[[[[[[[[[[[ {{{{{{{{{{{{"\n# a.b.c.d.e.f.g.h.i.j [[[[[[[[[[[[\n'
    )
    text += "x = '''a.b.c.d.e.f.g.h.i.j.k'''\n[a.b.c]\ny = 1.5\n"
    assert toml_too_complex(text) is None

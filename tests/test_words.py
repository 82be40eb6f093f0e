"""The words per side: what the words view of the reasons counts, and what it leaves out."""

from __future__ import annotations

from polling.domain.words import word_counts, words_by_side

HALL = [
    "Te duur: de kosten zijn in 2025 al 12% hoger",
    "De kost van AI is te hoog voor de zorg",
    "Patiënten willen een arts, geen computer",
    "Patienten hebben er niets aan, de zorg wordt duurder",
    "Het geld moet naar de patiënten",
    "The costs are too high and patients pay",
]


def test_stop_words_numbers_and_short_words_are_left_out_and_forms_grouped():
    counts = dict(word_counts(HALL, "nl"))
    # Dutch and English stop words, numbers and 1-2 letter tokens are not words of the view.
    for dropped in ("de", "te", "zijn", "een", "the", "are", "and", "2025", "12", "ai", "al"):
        assert dropped not in counts, dropped
    # Inflections count as one word, shown as written most: "patiënten" twice and
    # "patienten" once, "duur" and "duurder", "kosten" and "kost" (a tie: alphabetical).
    assert counts["patiënten"] == 3 and "patienten" not in counts
    assert counts["duur"] == 2 and "duurder" not in counts
    assert counts["kost"] == 2 and "kosten" not in counts
    assert counts["zorg"] == 2 and counts["hoog"] == 1


def test_the_most_used_words_come_first_then_alphabetically_up_to_the_limit():
    texts = ["zorg zorg tijd", "tijd zorg geld", "zorg"]
    assert word_counts(texts, "nl") == [("zorg", 4), ("tijd", 2), ("geld", 1)]
    assert word_counts(texts, "nl", limit=2) == [("zorg", 4), ("tijd", 2)]
    assert word_counts([], "nl") == []


def test_an_english_event_stems_in_english():
    counts = dict(word_counts(["costs costs cost", "nurses and a nurse", "nurses"], "en"))
    assert counts == {"costs": 3, "nurses": 3}


def test_blocklisted_words_never_reach_the_screen():
    texts = ["kut idee, farma wint", "Klote plan van Farma"]
    counts = dict(word_counts(texts, "nl", blocklist=["farma"]))
    assert "kut" not in counts and "klote" not in counts  # the built-in list
    assert "farma" not in counts  # the deck's
    assert counts == {"idee": 1, "wint": 1, "plan": 1}


def test_words_by_side_counts_each_option_apart():
    texts = {
        "agree": ["Sneller werken, minder wachten", "Minder administratie"],
        "disagree": ["Privacy van patiënten"],
        "abstain": [],
    }
    sides = words_by_side(texts, "nl", ["administratie"])
    assert list(sides) == ["agree", "disagree", "abstain"]
    # Lists, as the projector and the page get them.
    assert sides["agree"] == [["minder", 2], ["sneller", 1], ["wachten", 1], ["werken", 1]]
    assert sides["disagree"] == [["patiënten", 1], ["privacy", 1]]
    assert sides["abstain"] == []

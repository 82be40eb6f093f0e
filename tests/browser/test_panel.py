"""A whole panel in real browsers: projector, the moderator's phone and five voters' phones.

The voters are separate browser contexts, so each has its own cookie and is its own participant.
One voter goes offline and comes back, one reloads, one joins late through the join page; each
must land on the current statement with its own vote. The export must hold what they did.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from polling.domain.decks import load_deck
from polling.domain.events import display_code
from tests.browser.helpers import (
    PROJECT_ROOT,
    PROJECTOR,
    choice,
    control,
    expect,
    expect_own_open_vote,
    expect_phone_results,
    expect_projector_results,
    expect_statement,
    reveal,
    screenshot,
    vote,
)
from tests.server_process import ServerProcess

if TYPE_CHECKING:
    from tests.browser.conftest import Browse

DECK = load_deck(PROJECT_ROOT / "statements" / "ai-in-de-zorg.toml")
STATEMENTS = [statement.texts["nl"]["statement"] for statement in DECK.statements]
SUMMARY_COLUMNS = [
    "position",
    "statement_key",
    "statement",
    "round",
    "option",
    "label",
    "votes",
    "percent",
    "voters",
    "participants",
    "turnout_percent",
    "opened_at",
    "closed_at",
]
# What the five phones vote after statement 1 (None: does not vote).
LATER = {
    2: ["Eens", "Eens", None, None, None],
    3: [None, None, "Oneens", None, None],
    4: ["Eens", "Eens", "Eens", "Eens", "Oneens"],
}


def test_a_panel_from_the_lobby_to_the_download(browse: Browse, server: ServerProcess) -> None:
    presenter = browse.page("presenter", PROJECTOR)
    presenter.goto(server.urls["presenter"])
    moderator = browse.page("moderator")
    moderator.goto(server.urls["moderator"])
    voters = [browse.page(f"voter {n}") for n in range(1, 5)]
    for phone in voters:
        phone.goto(f"/{server.code}")
        expect(phone.get_by_role("heading", name="Welkom!")).to_be_visible()
    expect(presenter.locator("#statement-text")).to_have_text(DECK.title["nl"])
    expect(presenter.locator("#join-code")).to_have_text(display_code(server.code))
    expect(moderator.locator("#phase")).to_have_text("Wachten op de eerste stelling")
    # The waiting screens name the panel; the projector's facts wait for the first reveal.
    for page in (presenter, voters[0]):
        panel = page.get_by_role("region", name="Het panel")
        expect(panel.get_by_role("listitem")).to_have_count(len(DECK.panel))
        expect(panel).to_contain_text(DECK.panel[0].role["nl"])
    expect(presenter.locator("#context-facts")).to_be_hidden()
    screenshot(presenter, "presenter-lobby")

    # Statement 1 on screen, then open.
    control(moderator, "Volgende →", "ready")
    expect(presenter.get_by_role("region", name="Het panel")).to_be_hidden()
    for phone in voters:
        expect_statement(phone, 1, STATEMENTS[0])
        expect(phone.locator("#phase-note")).to_have_text("Stemmen gaat zo open.")
    expect(presenter.locator("#statement-text")).to_have_text(STATEMENTS[0])
    control(moderator, "Stemming openen", "open")
    expect(presenter.locator("#phase-badge")).to_have_text("Stemming geopend")

    round_one = ["Eens", "Eens", "Eens", "Oneens"]
    for phone, label in zip(voters, round_one, strict=True):
        vote(phone, label)
    screenshot(voters[0], "vote")

    # A latecomer types the code on the join page and lands on the open statement.
    late = browse.page("late voter")
    late.goto("/")
    late.get_by_label("Code (6 cijfers)").fill(server.code)
    late.get_by_role("button", name="Meedoen").tap()
    expect(late).to_have_url(server.urls["join"])
    expect_statement(late, 1, STATEMENTS[0])
    for label in ("Eens", "Oneens"):
        expect(choice(late, label)).to_have_attribute("aria-pressed", "false")
    vote(late, "Oneens")
    voters.append(late)
    round_one.append("Oneens")

    # The projector stays blind while voting is open; the moderator sees the live count.
    expect(presenter.locator("#turnout")).to_have_text("5 van 5 hebben gestemd")
    expect(presenter.locator("#results-bars")).to_have_text("De uitslag volgt zo.")
    expect(moderator.locator("#turnout")).to_have_text("5 van 5 hebben gestemd")
    expect(moderator.locator(".result-row.option-1 .result-value")).to_have_text("60% (3)")
    expect(moderator.locator(".result-row.option-2 .result-value")).to_have_text("40% (2)")

    # A reload keeps the vote: the cookie is the phone's identity.
    voters[1].reload()
    expect_statement(voters[1], 1, STATEMENTS[0])
    expect_own_open_vote(voters[1], "Eens", "Oneens")

    # A phone that is offline while voting closes catches up when it is back.
    offline = voters[3]
    offline.context.set_offline(True)
    expect(offline.locator("#connection")).to_be_visible()
    control(moderator, "Stemming sluiten", "closed")
    expect(voters[0].locator("#phase-note")).to_have_text("Het stemmen is gesloten.")
    expect(choice(offline, "Oneens")).to_be_visible()  # it missed the close
    expect(offline.locator("#choices")).to_have_class(re.compile(r"\boffline\b"))
    offline.context.set_offline(False)
    expect(offline.locator("#connection")).to_be_hidden()
    for phone, label in zip(voters, round_one, strict=True):
        expect_statement(phone, 1, STATEMENTS[0])
        expect(phone.locator("#choices")).to_be_hidden()
        expect(phone.locator("#vote-status")).to_have_text(f"Uw stem: {label}")
        expect(phone.locator("#results")).to_be_hidden()

    reveal(moderator)
    expect_projector_results(presenter, "60% · 3", "40% · 2", "5 van 5 hebben gestemd")
    facts = presenter.get_by_role("region", name="Ter context").get_by_role("listitem")
    expect(facts).to_have_count(len(DECK.statements[0].facts))
    first_fact = DECK.statements[0].facts[0]
    expect(facts.first).to_contain_text(first_fact.text["nl"])
    expect(facts.first).to_contain_text(f"Bron: {first_fact.source['nl']}")
    facts_box = presenter.locator("#context-facts").bounding_box()
    bars_box = presenter.locator(".presenter-results").bounding_box()
    assert facts_box and bars_box and facts_box["y"] + facts_box["height"] <= bars_box["y"]
    for phone, label in zip(voters, round_one, strict=True):
        expect_phone_results(phone, "60% (3)", "40% (2)", own=label)
    screenshot(presenter, "presenter")
    screenshot(moderator, "moderator")

    # A second round on the same statement: fresh buttons, blind projector again.
    control(moderator, "Nieuwe ronde", "open")
    round_two = ["Eens", "Oneens", "Oneens", "Oneens", None]
    for phone in voters:
        expect_statement(phone, 1, STATEMENTS[0], round_number=2)
        for label in ("Eens", "Oneens"):
            expect(choice(phone, label)).to_have_attribute("aria-pressed", "false")
        expect(phone.locator("#vote-status")).to_have_text("")
        expect(phone.locator("#results")).to_be_hidden()
    expect(presenter.locator("#results-bars")).to_have_text("De uitslag volgt zo.")
    expect(presenter.locator("#context-facts")).to_be_hidden()
    for phone, label in zip(voters, round_two, strict=True):
        if label:
            vote(phone, label)
    control(moderator, "Stemming sluiten", "closed")
    reveal(moderator)
    expect_projector_results(presenter, "25% · 1", "75% · 3", "4 van 5 hebben gestemd")
    for phone, label in zip(voters, round_two, strict=True):
        expect(phone.locator("#vote-status")).to_have_text(
            f"Uw stem: {label}" if label else "U heeft niet gestemd."
        )
        expect_phone_results(phone, "25% (1)", "75% (3)", own=label)

    # The other three statements, then the end.
    for position, labels in LATER.items():
        control(moderator, "Volgende →", "ready")
        expect(moderator.locator("#statement-position")).to_have_text(f"Stelling {position} van 4")
        control(moderator, "Stemming openen", "open")
        expect(presenter.locator("#statement-text")).to_have_text(STATEMENTS[position - 1])
        for phone, label in zip(voters, labels, strict=True):
            expect_statement(phone, position, STATEMENTS[position - 1])
            if label:
                vote(phone, label)
        control(moderator, "Stemming sluiten", "closed")
    control(moderator, "Volgende →", "finished")
    for phone in voters:
        expect(phone.get_by_role("heading", name="Bedankt!")).to_be_visible()
    expect(presenter.locator("#statement-text")).to_have_text("Bedankt!")

    with moderator.expect_download() as downloading:
        moderator.get_by_role("link", name="Uitslag (CSV)").tap()
    download = downloading.value
    assert download.suggested_filename == f"{server.code}-results.csv"
    table = csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8-sig")))
    rows = list(table)
    assert table.fieldnames == SUMMARY_COLUMNS
    assert [row_facts(row) for row in rows] == expected_rows(round_one, round_two)
    for row in rows:
        assert row["statement"] == STATEMENTS[int(row["position"]) - 1]
        assert row["opened_at"] and row["closed_at"] >= row["opened_at"]


def row_facts(row: dict[str, str]) -> tuple:
    """The columns of a summary row that follow from the votes (not the times or the text)."""
    return tuple(
        row[column]
        for column in SUMMARY_COLUMNS
        if column not in ("statement", "opened_at", "closed_at")
    )


def expected_rows(round_one: list[str], round_two: list[str | None]) -> list[tuple]:
    """The summary rows the votes of this test must give: five phones joined, each round."""
    rounds = [(1, 1, round_one), (1, 2, round_two)]
    rounds += [(position, 1, labels) for position, labels in LATER.items()]
    rows = []
    for position, number, labels in rounds:
        voters = sum(1 for label in labels if label)
        for key, label in (("agree", "Eens"), ("disagree", "Oneens")):
            votes = labels.count(label)
            percent = round(100 * votes / voters) if voters else 0
            rows.append(
                tuple(
                    str(value)
                    for value in (
                        position,
                        DECK.statements[position - 1].key,
                        number,
                        key,
                        label,
                        votes,
                        percent,
                        voters,
                        5,
                        round(100 * voters / 5),
                    )
                )
            )
    return rows

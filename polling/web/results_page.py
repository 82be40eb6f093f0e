"""The organiser's results page: every statement and round as a chart and as numbers, the
opinion shift between rounds, the audience's reasons and their words per side, and the
downloads. Printable to PDF from any browser.

The view only checks the key and reads the event; `build_report` turns the export's results
into what the template shows, so the page, the JSON and the spreadsheet never disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask
from markupsafe import Markup

from polling.domain.events import display_code
from polling.domain.question_models import QuestionSettings
from polling.domain.reason_models import DISMISSED, HIDDEN
from polling.domain.roles import MODERATOR
from polling.domain.words import words_by_side
from polling.reports import charts, document
from polling.reports.document import EventResults, OptionInfo, StatementResult
from polling.reports.reasons import ReasonRow
from polling.reports.shift import ShiftResult
from polling.web.helpers import db_session, event_or_404, page_language, render_page, require_key
from polling.web.i18n import strings

bp = Blueprint("results", __name__)


def init_app(app: Flask) -> None:
    """Register the page; after `pages.init_app`, which adds the `code` URL converter."""
    app.register_blueprint(bp)
    app.add_template_filter(local_time)


@bp.get("/<code:code>/results")
def results_page(code: str) -> str:
    """The results of one event, for the moderator key only (it shows every tally)."""
    event = event_or_404(code)
    key = require_key(event, (MODERATOR,))
    language = page_language(event)
    session = db_session()
    results = document.event_results(session, event, language)
    settings = session.get(QuestionSettings, event.id)
    text = strings(language)
    return render_page(
        "results.html",
        event,
        key=key,
        code_display=display_code(event.code),
        # The hall wrote in the event's language, whichever the reader chose.
        report=build_report(
            results,
            text,
            words_language=event.language,
            blocklist=settings.blocklist if settings else (),
        ),
        questions=results["questions"],
    )


# Reasons the moderator hid or dismissed are in the downloads (with their state), not here.
OFF_THE_PAGE = (HIDDEN, DISMISSED)
WORD_SIZES = 5  # the words view's font sizes, .word-size-1 to -5 in app.css


def build_report(
    results: EventResults,
    t: Mapping[str, str],
    *,
    words_language: str | None = None,
    blocklist: Sequence[str] = (),
) -> dict[str, Any]:
    """The page's content: per statement its rounds (chart, rows, turnout, times), its
    shifts (chart, the four numbers, the from/to table) and its reasons; and the words per
    side of the whole event. A pure function of the export; `words_language` (the event's,
    by default the document's) stems the words, `blocklist` (the deck's) leaves words out."""
    words_language = words_language or results["event"]["language"]
    on_page = [r for r in results["reasons"] if r["state"] not in OFF_THE_PAGE]
    statements = []
    for statement in results["statements"]:
        options = statement["options"]
        rounds = [
            {
                **round_,
                "chart": Markup(charts.round_chart(statement, round_, t)),
                "chart_file": f"chart-{statement['key']}-{round_['number']}.svg",
                "rows": [
                    {
                        "index": index,
                        "label": option["label"],
                        "count": round_["counts"][option["key"]],
                        "percent": round_["percentages"][option["key"]],
                    }
                    for index, option in enumerate(options, start=1)
                ],
            }
            for round_ in statement["rounds"]
        ]
        shifts = [
            {
                **shift,
                "chart": Markup(charts.shift_chart(statement, shift, t)),
                "chart_file": (
                    f"shift-{statement['key']}-{shift['from_round']}-{shift['to_round']}.svg"
                ),
                **shift_table(statement, shift, t),
            }
            for shift in statement["shifts"]
        ]
        mine = [r for r in on_page if r["statement_key"] == statement["key"]]
        statements.append(
            {
                **statement,
                "rounds": rounds,
                "shifts": shifts,
                "reasons": statement_reasons(statement, mine),
                "words": side_words(statement["options"], mine, words_language, blocklist),
            }
        )
    every_option: dict[str, OptionInfo] = {}
    for statement in results["statements"]:
        for option in statement["options"]:
            every_option.setdefault(option["key"], option)
    return {
        "event": results["event"],
        "statements": statements,
        "total": len(statements),
        # An event without reasons (they were off, or nobody gave one) shows none of it.
        "has_reasons": bool(results["reasons"]),
        "words": side_words(list(every_option.values()), on_page, words_language, blocklist),
    }


def statement_reasons(statement: StatementResult, reasons: list[ReasonRow]) -> list[dict[str, Any]]:
    """Per round with reasons: a column per option with the reasons of that side (as the
    document orders them: most upvoted first), and the reasons of those who changed their
    mind since the round before, each with the labels of its way: "eens → oneens"."""
    labels = {option["key"]: option["label"] for option in statement["options"]}
    rounds = []
    for number in sorted({reason["round"] for reason in reasons}):
        in_round = [reason for reason in reasons if reason["round"] == number]
        sides = [
            {
                "index": index,
                "label": option["label"],
                "reasons": [
                    r
                    for r in in_round
                    if r["choice"] == option["key"] and r["previous_choice"] is None
                ],
            }
            for index, option in enumerate(statement["options"], start=1)
        ]
        movers = [
            {
                **r,
                "from_label": labels.get(r["previous_choice"] or "", r["previous_choice"]),
                "to_label": labels.get(r["choice"] or "", r["choice"]),
            }
            for r in in_round
            if r["previous_choice"] is not None
        ]
        rounds.append({"number": number, "sides": sides, "movers": movers})
    return rounds


def side_words(
    options: list[OptionInfo], reasons: list[ReasonRow], language: str, blocklist: Sequence[str]
) -> list[dict[str, Any]]:
    """The words view: per option the words of its side's reasons, each with a size from 1 to
    WORD_SIZES by its count, relative to the most used word of all sides (so sizes compare
    across columns). Empty if no side has a word."""
    texts: dict[str, list[str]] = {option["key"]: [] for option in options}
    for reason in reasons:
        if reason["choice"] in texts:
            texts[reason["choice"]].append(reason["text"])
    counted = words_by_side(texts, language, blocklist)
    top = max((count for words in counted.values() for _word, count in words), default=0)
    if not top:
        return []
    return [
        {
            # Colours of the options (.option-1 to -6), also for an event of many kinds.
            "index": (index - 1) % 6 + 1,
            "label": option["label"],
            "words": [
                {"word": word, "count": count, "size": math.ceil(WORD_SIZES * count / top)}
                for word, count in counted[option["key"]]
            ],
        }
        for index, option in enumerate(options, start=1)
    ]


def shift_table(
    statement: StatementResult, shift: ShiftResult, t: Mapping[str, str]
) -> dict[str, Any]:
    """The shift as a from/to table: a row per choice in the earlier round and a column per
    choice in the later one, each with "did not vote" last. The corner cell is None: people
    who voted in neither round are not in the data."""
    labels = {option["key"]: option["label"] for option in statement["options"]}
    keys = list(shift["options"])
    matrix = {(x["from"], x["to"]): x["count"] for x in shift["transitions"]}
    heads = [labels.get(key, key) for key in keys] + [t["did_not_vote"]]
    rows = [
        {
            "label": labels.get(old, old),
            "cells": [matrix[(old, new)] for new in keys] + [shift["dropped_out_by_choice"][old]],
        }
        for old in keys
    ]
    rows.append(
        {
            "label": t["did_not_vote"],
            "cells": [shift["newly_voted_by_choice"][new] for new in keys] + [None],
        }
    )
    return {"table_heads": heads, "table_rows": rows}


def local_time(value: str | None) -> str:
    """An export timestamp (ISO, UTC) in the server's local time, to the minute: the laptop
    at the venue shows the times the panel saw on the clock."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone().strftime("%Y-%m-%d %H:%M")

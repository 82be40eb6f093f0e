"""The organiser's results page: every statement and round as a chart and as numbers, the
opinion shift between rounds, and the downloads. Printable to PDF from any browser.

The view only checks the key and reads the event; `build_report` turns the export's results
into what the template shows, so the page, the JSON and the spreadsheet never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask
from markupsafe import Markup

from polling.domain.events import display_code
from polling.domain.roles import MODERATOR
from polling.reports import charts, document
from polling.reports.document import EventResults, StatementResult
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
    results = document.event_results(db_session(), event, language)
    text = strings(language)
    return render_page(
        "results.html",
        event,
        key=key,
        code_display=display_code(event.code),
        report=build_report(results, text),
        questions=results["questions"],
    )


def build_report(results: EventResults, t: Mapping[str, str]) -> dict[str, Any]:
    """The page's content: per statement its rounds (chart, rows, turnout, times) and its
    shifts (chart, the four numbers, the from/to table). A pure function of the export."""
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
        statements.append({**statement, "rounds": rounds, "shifts": shifts})
    return {"event": results["event"], "statements": statements, "total": len(statements)}


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

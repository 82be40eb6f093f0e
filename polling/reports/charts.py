"""Charts as SVG text, drawn on the server: they show without JavaScript, print, and paste into
slides as files.

Every chart is an image for assistive technology (`role="img"`, an `aria-label` and a `<title>`
that give all the numbers) and carries its labels and numbers as text beside the colours, so
nothing depends on telling colours apart. Only presentation attributes, no `style`: the strict
Content-Security-Policy would block those, inline and in a downloaded file alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the charts draw the documents of these modules, which never import charts
    from polling.reports.compare import CompareTable
    from polling.reports.document import EventResults, RoundResult, StatementResult
    from polling.reports.shift import ShiftResult

# The option colours of static/css/app.css (--option-1 ...), in deck order.
OPTION_COLOURS = ("#0b6e69", "#b23c0a", "#4b5563", "#6d28d9", "#1d4ed8", "#9d174d")
NO_VOTE_COLOUR = "#b4bccb"  # lighter than any option: "not there", not a choice
INK = "#14213d"
MUTED = "#4a5568"
TRACK = "#e6e9f0"
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
WIDTH = 560  # the shift chart: two columns of labels need the room
# Bar charts are narrower, so that on a phone or two to a row their text stays readable.
BAR_WIDTH = 440
CHAR_WIDTH = 10.6  # bold 15 px in a wide font (DejaVu): sizes labels without font metrics
MAX_LABEL_CHARS = 20
SANKEY_LABEL_CHARS = 16

# File names of chart downloads: chart-<statement>-<round>.svg, shift-<statement>-<a>-<b>.svg
# (or .png). A statement key may end in digits, but the numbers are always the last parts.
KEY = r"(?P<key>[a-z0-9][a-z0-9_-]{0,31})"
CHART_FILE = re.compile(rf"chart-{KEY}-(?P<round>\d{{1,4}})\.(?P<ext>svg|png)")
SHIFT_FILE = re.compile(
    rf"shift-{KEY}-(?P<before>\d{{1,4}})-(?P<after>\d{{1,4}})\.(?P<ext>svg|png)"
)


@dataclass(frozen=True)
class Bar:
    """One option in a bar chart."""

    label: str
    count: int
    percent: int


def bar_svg(bars: Sequence[Bar], *, summary: str, caption: str | None = None) -> str:
    """A horizontal bar per option, in the given (deck) order, with `percent% (count)` beside it.

    Bars are drawn as a share of all votes, so the longest bar is not stretched to the edge
    and two charts of the same statement compare at a glance. `summary` is what a screen
    reader says; `caption` a visible title on top, for a file on its own.
    """
    label_width = _label_width(bar.label for bar in bars)
    value_width = 104
    track_x = label_width + 12
    track_width = BAR_WIDTH - track_x - value_width
    row, bar_height = 38, 24
    top = 34 if caption else 6
    height = top + row * len(bars) + 6
    total = sum(bar.count for bar in bars)
    parts = [_open(height, summary, BAR_WIDTH)]
    if caption:
        parts.append(_text(0, 20, caption, weight="700", size=16))
    for index, bar in enumerate(bars):
        y = top + index * row
        middle = y + bar_height / 2 + 5
        share = bar.count / total if total else 0
        parts.append(_text(label_width, middle, _short(bar.label), anchor="end", weight="700"))
        parts.append(_rect(track_x, y, track_width, bar_height, TRACK))
        if share:
            parts.append(_rect(track_x, y, track_width * share, bar_height, _colour(index)))
        parts.append(_text(BAR_WIDTH - 4, middle, f"{bar.percent}% ({bar.count})", anchor="end"))
    parts.append("</svg>")
    return "\n".join(parts)


@dataclass(frozen=True)
class Flow:
    """Participants going from a choice in one round to a choice in the next."""

    source: int  # index into the left nodes
    target: int  # index into the right nodes
    count: int
    title: str


def sankey_svg(
    left: Sequence[tuple[str, int, str]],
    right: Sequence[tuple[str, int, str]],
    flows: Sequence[Flow],
    *,
    headings: tuple[str, str],
    summary: str,
    caption: str | None = None,
    empty_text: str = "",
) -> str:
    """Two columns of choices (label, count, colour), bands between them as wide as the
    number of people who went that way: who kept their choice, who switched, who came in
    and who left, in one picture."""
    total = max(sum(count for _, count, _ in left), sum(count for _, count, _ in right))
    top = (34 if caption else 6) + 24
    node_width, gap, body = 14, 10, 220
    # Each side as wide as its longest "label  count", so long labels never run off the edge.
    left_texts = [_node_text(label, count) for label, count, _ in left]
    right_texts = [_node_text(label, count) for label, count, _ in right]
    left_x = _text_width(left_texts)
    right_x = WIDTH - _text_width(right_texts) - node_width
    parts: list[str] = []
    if caption:
        parts.append(_text(0, 20, caption, weight="700", size=16))
    parts.append(_text(left_x + node_width, top - 10, headings[0], anchor="end", fill=MUTED))
    parts.append(_text(right_x, top - 10, headings[1], fill=MUTED))
    if not total:
        parts.append(_text(WIDTH / 2, top + 30, empty_text, anchor="middle", fill=MUTED))
        return "\n".join([_open(top + 50, summary), *parts, "</svg>"])

    scale = (body - gap * (max(len(left), len(right)) - 1)) / total
    left_y = _stack(left, top, scale, gap)
    right_y = _stack(right, top, scale, gap)
    # Bands leave each left node and enter each right node in node order, so none cross inside
    # a node.
    out_offset = [0.0] * len(left)
    in_offset = [0.0] * len(right)
    for flow in sorted(flows, key=lambda f: (f.source, f.target)):
        if not flow.count:
            continue
        thick = flow.count * scale
        y0 = left_y[flow.source] + out_offset[flow.source]
        y1 = right_y[flow.target] + in_offset[flow.target]
        out_offset[flow.source] += thick
        in_offset[flow.target] += thick
        x0, x1 = left_x + node_width, right_x
        mid = (x0 + x1) / 2
        path = (
            f"M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f} "
            f"L{x1:.1f},{y1 + thick:.1f} C{mid:.1f},{y1 + thick:.1f} {mid:.1f},{y0 + thick:.1f} "
            f"{x0:.1f},{y0 + thick:.1f} Z"
        )
        colour = left[flow.source][2]
        parts.append(
            f'<path d="{path}" fill="{colour}" fill-opacity="0.45">'
            f"<title>{escape(flow.title)}</title></path>"
        )
    bottom: float = top
    for nodes, texts, ys, x, label_x, anchor in (
        (left, left_texts, left_y, left_x, left_x - 8, "end"),
        (right, right_texts, right_y, right_x, right_x + node_width + 8, "start"),
    ):
        label_ys = _spread(
            [y + count * scale / 2 + 5 for (_, count, _), y in zip(nodes, ys, strict=True)]
        )
        for (_, count, colour), text, y, label_y in zip(nodes, texts, ys, label_ys, strict=True):
            parts.append(_rect(x, y, node_width, max(count * scale, 1), colour, radius=2))
            parts.append(_text(label_x, label_y, text, anchor=anchor))
            bottom = max(bottom, y + count * scale, label_y)
    return "\n".join([_open(bottom + 10, summary), *parts, "</svg>"])


def round_chart(
    statement: StatementResult,
    round_: RoundResult,
    t: Mapping[str, str],
    *,
    caption: bool = False,
) -> str:
    """The bar chart of one round of a statement, from `polling.reports.document.event_results`."""
    title = t["chart_round_title"].format(n=statement["position"], round=round_["number"])
    bars = [
        Bar(o["label"], round_["counts"][o["key"]], round_["percentages"][o["key"]])
        for o in statement["options"]
    ]
    numbers = ", ".join(f"{bar.label} {bar.percent}% ({bar.count})" for bar in bars)
    voters = t["chart_voters"].format(voters=round_["voters"])
    summary = f"{title}: {numbers}; {voters}"
    return bar_svg(
        bars, summary=summary, caption=round_caption(statement, round_, t) if caption else None
    )


def round_caption(statement: StatementResult, round_: RoundResult, t: Mapping[str, str]) -> str:
    """What a round's chart shows: "Stelling 2, ronde 1 · 40 stemmen"."""
    title = t["chart_round_title"].format(n=statement["position"], round=round_["number"])
    return f"{title} · {t['chart_voters'].format(voters=round_['voters'])}"


def shift_caption(statement: StatementResult, shift: ShiftResult, t: Mapping[str, str]) -> str:
    """What a shift's chart shows: "Stelling 2, ronde 1 → 2"."""
    return t["chart_shift_title"].format(
        n=statement["position"], before=shift["from_round"], after=shift["to_round"]
    )


def shift_chart(
    statement: StatementResult,
    shift: ShiftResult,
    t: Mapping[str, str],
    *,
    caption: bool = False,
) -> str:
    """The Sankey-like chart of one shift (`polling.reports.shift.Shift.as_dict`): round N on the
    left, round N+1 on the right, "did not vote" as a grey node on either side."""
    labels = {o["key"]: o["label"] for o in statement["options"]}
    keys = list(shift["options"])
    colours = {key: _colour(index) for index, key in enumerate(keys)}
    matrix = {(x["from"], x["to"]): x["count"] for x in shift["transitions"]}
    before = {k: sum(matrix[(k, new)] for new in keys) for k in keys}
    after = {k: sum(matrix[(old, k)] for old in keys) for k in keys}
    for key, count in shift["dropped_out_by_choice"].items():
        before[key] += count
    for key, count in shift["newly_voted_by_choice"].items():
        after[key] += count
    no_vote = t["did_not_vote"]
    left_keys = [k for k in keys if before[k]] + (["\0"] if shift["newly_voted"] else [])
    right_keys = [k for k in keys if after[k]] + (["\0"] if shift["dropped_out"] else [])

    def node(key: str, counts: dict[str, int], newcomers: int) -> tuple[str, int, str]:
        if key == "\0":
            return (no_vote, newcomers, NO_VOTE_COLOUR)
        return (labels.get(key, key), counts[key], colours[key])

    left = [node(k, before, shift["newly_voted"]) for k in left_keys]
    right = [node(k, after, shift["dropped_out"]) for k in right_keys]
    flows = []
    for i, old in enumerate(left_keys):
        for j, new in enumerate(right_keys):
            if old == "\0" and new == "\0":
                continue
            if old == "\0":
                count = shift["newly_voted_by_choice"].get(new, 0)
            elif new == "\0":
                count = shift["dropped_out_by_choice"].get(old, 0)
            else:
                count = matrix[(old, new)]
            title = f"{left[i][0]} → {right[j][0]}: {count}"
            flows.append(Flow(i, j, count, title))
    title = shift_caption(statement, shift, t)
    moves = "; ".join(flow.title for flow in flows if flow.count)
    summary = f"{title}: {moves or t['no_votes_yet']}"
    return sankey_svg(
        left,
        right,
        flows,
        headings=(
            t["round"].format(n=shift["from_round"]),
            t["round"].format(n=shift["to_round"]),
        ),
        summary=summary,
        caption=title if caption else None,
        empty_text=t["no_votes_yet"],
    )


def comparison_chart(table: CompareTable, event_labels: Sequence[str], t: Mapping[str, str]) -> str:
    """One statement's round across events (`polling.reports.compare.compare_tables`): a bar per
    event, split by option as shares of its votes, with the option labels as a legend."""
    options = table["options"]
    per_event = []
    for position, label in enumerate(event_labels):
        shares = [
            f"{option['label']} {cell['percent']}% ({cell['votes']})"
            for option in options
            if (cell := option["events"][position])
        ]
        per_event.append(f"{label}: {', '.join(shares) or '–'}")
    round_label = t["round"].format(n=table["round"])
    summary = f"{table['statement']} ({round_label}): " + "; ".join(per_event)
    label_width = _label_width(event_labels)
    value_width = 90
    track_x = label_width + 12
    track_width = WIDTH - track_x - value_width
    legend_y, top, row, bar_height = 16, 34, 38, 24
    height = top + row * len(event_labels) + 6
    parts = [_open(height, summary)]
    x: float = track_x
    for index, option in enumerate(options):
        parts.append(_rect(x, legend_y - 11, 12, 12, _colour(index), radius=2))
        parts.append(_text(x + 17, legend_y, _short(option["label"]), weight="700"))
        x += 17 + len(_short(option["label"])) * CHAR_WIDTH + 18
    for position, event_label in enumerate(event_labels):
        y = top + position * row
        middle = y + bar_height / 2 + 5
        parts.append(_text(label_width, middle, _short(event_label), anchor="end", weight="700"))
        parts.append(_rect(track_x, y, track_width, bar_height, TRACK))
        cells = [option["events"][position] for option in options]
        total = sum(cell["votes"] for cell in cells if cell)
        x = track_x
        for index, cell in enumerate(cells):
            if not cell or not total:
                continue
            width = track_width * cell["votes"] / total
            parts.append(_rect(x, y, width, bar_height, _colour(index), radius=0))
            if width >= 44:  # room for "100%"; the numbers are in the table and the title too
                parts.append(
                    _text(
                        x + width / 2,
                        middle,
                        f"{cell['percent']}%",
                        anchor="middle",
                        weight="700",
                        fill="#fff",
                    )
                )
            x += width
        voters = table["voters"][position]
        shown = "–" if voters is None else f"n = {voters}"
        parts.append(_text(WIDTH - 4, middle, shown, anchor="end"))
    parts.append("</svg>")
    return "\n".join(parts)


def is_chart_file(name: str) -> bool:
    """Whether a download name has the form of a chart (which may still not exist)."""
    return bool(CHART_FILE.fullmatch(name) or SHIFT_FILE.fullmatch(name))


def chart_file(results: EventResults, name: str, t: Mapping[str, str]) -> str | None:
    """The chart a download name asks for, as SVG with a visible title; None if there is no
    such statement, round or shift. (A .png name: see `chart_slide`.)"""
    found = _find_chart(results, name)
    if found is None:
        return None
    statement, round_, shift = found
    if round_ is not None:
        return round_chart(statement, round_, t, caption=True)
    assert shift is not None
    return shift_chart(statement, shift, t, caption=True)


def _find_chart(
    results: EventResults, name: str
) -> tuple[StatementResult, RoundResult | None, ShiftResult | None] | None:
    """(statement, round, None) or (statement, None, shift) of a chart's download name."""
    match = CHART_FILE.fullmatch(name) or SHIFT_FILE.fullmatch(name)
    statement = _statement(results, match["key"]) if match else None
    if match is None or statement is None:
        return None
    if match.re is CHART_FILE:
        for round_ in statement["rounds"]:
            if round_["number"] == int(match["round"]):
                return statement, round_, None
    else:
        wanted = (int(match["before"]), int(match["after"]))
        for shift in statement["shifts"]:
            if (shift["from_round"], shift["to_round"]) == wanted:
                return statement, None, shift
    return None


# A chart as PNG is a slide: 16:9, opaque, the statement's text as its title, drawn at
# 1920 x 1080 and rendered at twice that (3840 x 2160), sharp on any projector.
SLIDE_WIDTH, SLIDE_HEIGHT = 1920, 1080
SLIDE_MARGIN = 96
SLIDE_SCALE = 2
SLIDE_TITLE_SIZE = 54
SLIDE_TITLE_CHARS = 56  # per line at that size (DejaVu Sans Bold, the widest likely font)
SLIDE_TITLE_LINES = 4


def chart_slide(results: EventResults, name: str, t: Mapping[str, str]) -> str | None:
    """The chart a download name asks for as a slide (SVG, for `to_png`): the statement as the
    title, what the chart shows (statement, round, votes) under it, then the chart, scaled to
    fill the rest. None if there is no such chart."""
    found = _find_chart(results, name)
    if found is None:
        return None
    statement, round_, shift = found
    if round_ is not None:
        subtitle, chart = round_caption(statement, round_, t), round_chart(statement, round_, t)
    else:
        assert shift is not None
        subtitle, chart = shift_caption(statement, shift, t), shift_chart(statement, shift, t)
    return slide_svg(statement["texts"]["statement"], subtitle, chart)


def slide_svg(title: str, subtitle: str, chart: str) -> str:
    """A 16:9 slide on white: `title` wrapped on up to four lines, `subtitle` in grey, and the
    chart (an SVG document without caption) scaled to the space left, centred."""
    lines = _wrap(title, SLIDE_TITLE_CHARS, SLIDE_TITLE_LINES)
    line_height = SLIDE_TITLE_SIZE * 1.2
    y: float = SLIDE_MARGIN + SLIDE_TITLE_SIZE
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SLIDE_WIDTH}" height="{SLIDE_HEIGHT}" '
        f'viewBox="0 0 {SLIDE_WIDTH} {SLIDE_HEIGHT}" font-family="{FONT}" fill="{INK}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{SLIDE_WIDTH}" height="{SLIDE_HEIGHT}" fill="#ffffff"/>',
    ]
    for index, line in enumerate(lines):
        parts.append(
            _text(SLIDE_MARGIN, y + index * line_height, line, weight="700", size=SLIDE_TITLE_SIZE)
        )
    y += (len(lines) - 1) * line_height + 60
    parts.append(_text(SLIDE_MARGIN, y, subtitle, size=34, fill=MUTED))
    top = y + 50
    width, height = SLIDE_WIDTH - 2 * SLIDE_MARGIN, SLIDE_HEIGHT - top - SLIDE_MARGIN / 2
    # The chart's own <svg> becomes a nested viewport: its viewBox keeps its proportions.
    nested = re.sub(
        r' width="[\d.]+" height="[\d.]+"',
        f' x="{SLIDE_MARGIN}" y="{top:.0f}" width="{width}" height="{height:.0f}"',
        chart,
        count=1,
    )
    parts.extend([nested, "</svg>"])
    return "\n".join(parts)


def to_png(svg: str) -> bytes:
    """An SVG (a slide from `chart_slide`) as PNG, for slide software that cannot place SVG.

    resvg needs no system library, so every install has PNG charts; it draws text with the
    system's fonts (any sans-serif: DejaVu, Liberation, Noto, ...).
    """
    import resvg_py  # imported here: only downloads need it, not every server start

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=SLIDE_SCALE, background="#ffffff"))


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    """Words on lines of at most `width` characters; an ellipsis if more lines were needed."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1].rstrip() + "…"
    return lines


def _statement(results: EventResults, key: str) -> StatementResult | None:
    return next((s for s in results["statements"] if s["key"] == key), None)


def _open(height: float, summary: str, width: int = WIDTH) -> str:
    label = escape(summary)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" role="img" '
        f'aria-label="{label}" width="{width}" height="{height:.0f}" '
        f'viewBox="0 0 {width} {height:.0f}" font-family="{FONT}" font-size="15" '
        f'fill="{INK}">\n<title>{label}</title>'
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    weight: str = "400",
    size: int = 15,
    fill: str = INK,
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-weight="{weight}" '
        f'font-size="{size}" fill="{fill}">{escape(text)}</text>'
    )


def _rect(x: float, y: float, width: float, height: float, fill: str, radius: int = 4) -> str:
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'rx="{radius}" fill="{fill}"/>'
    )


def _colour(index: int) -> str:
    return OPTION_COLOURS[index % len(OPTION_COLOURS)]


def _short(label: str) -> str:
    """A label that fits its column; the full one is in the chart's title and aria-label."""
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _node_text(label: str, count: int) -> str:
    """A Sankey node's label: shorter than a bar's, two columns of them share the width."""
    short = label if len(label) <= SANKEY_LABEL_CHARS else label[: SANKEY_LABEL_CHARS - 1] + "…"
    return f"{short}  {count}"


def _text_width(texts: Sequence[str]) -> float:
    """Room for the longest of these texts at 15 px regular, plus the gap to the node."""
    return 14 + max((len(text) for text in texts), default=4) * 8.8


def _label_width(labels: Iterable[str]) -> float:
    """The x where right-aligned labels end: room for the longest, a margin on the left."""
    longest = max((len(_short(label)) for label in labels), default=4)
    return 4 + min(max(longest * CHAR_WIDTH, 48), MAX_LABEL_CHARS * CHAR_WIDTH)


def _stack(
    nodes: Sequence[tuple[str, int, str]], top: float, scale: float, gap: float
) -> list[float]:
    """The top y of each node, stacked with a gap between."""
    ys: list[float] = []
    y = top
    for _label, count, _fill in nodes:
        ys.append(y)
        y += count * scale + gap
    return ys


def _spread(ys: Sequence[float], apart: float = 18) -> list[float]:
    """Label baselines moved down just enough that no two labels overlap (tiny nodes)."""
    spread: list[float] = []
    for y in ys:
        spread.append(max(y, spread[-1] + apart) if spread else y)
    return spread

"""Checks of a rendered screen: nothing outside the viewport, nothing overlapping, type sizes,
and the QR code read back from a screenshot by a real decoder (zbar)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from polling.domain.decks import (
    MAX_FACTS_FOR_OPTIONS,
    MAX_LENGTHS,
    MAX_PANEL_MEMBERS,
)

ZBARIMG = shutil.which("zbarimg")

PROJECTORS = {
    "1024x768": (1024, 768),
    "1280x720": (1280, 720),
    "1920x1080": (1920, 1080),
    "3840x2160": (3840, 2160),
}
PHONES = {"360x640": (360, 640), "390x844": (390, 844)}

# The smallest type at 1920x1080 (px), scaled elsewhere like the stylesheet's --s unit.
FLOORS = {
    "statement": ("#statement-text", 48),
    "join code": ("#join-code", 36),
    "typed address": (".join-url strong", 36),
    "facts": ("#facts-list li", 32),
    "sources": ("#facts-list cite", 24),
}

# A text of the length given, of real (long Dutch) words: the hardest to wrap.
WORDS = (
    "Zorgverzekeraars moeten AI-toepassingen in ziekenhuizen en huisartsenpraktijken "
    "volledig vergoeden zodra hun meerwaarde voor patiënten wetenschappelijk is aangetoond, "
)


def text_of(length: int, words: str = WORDS) -> str:
    """Exactly `length` characters of words, ending on a letter."""
    text = (words * (length // len(words) + 2))[:length]
    return text[:-1] + "x" if text.endswith(" ") else text


def option_label(number: int) -> str:
    """The longest label the deck check accepts, for option `number`."""
    return text_of(MAX_LENGTHS["label"], f"Optie {number} ")


def longest_deck(options: int) -> str:
    """A deck whose every shown text is as long as the deck check allows."""
    labels = "\n".join(
        f'[[statements.options]]\nkey = "o{n}"\nlabel = "{option_label(n)}"'
        for n in range(1, options + 1)
    )
    facts = "\n".join(
        f'[[statements.facts]]\ntext = "{text_of(MAX_LENGTHS["fact"])}"\n'
        f'source = "{text_of(MAX_LENGTHS["source"], "Monitor Zorg en Technologie 2025, p. 12; ")}"'
        for _ in range(MAX_FACTS_FOR_OPTIONS[options])
    )
    panel = "\n".join(
        f'[[panel]]\nname = "{text_of(MAX_LENGTHS["name"], "Prof. Dr. Geert-Jan Geersing ")}"\n'
        f'role = "{text_of(MAX_LENGTHS["role"])}"'
        for _ in range(MAX_PANEL_MEMBERS)
    )
    return f"""
title = "{text_of(MAX_LENGTHS["title"])}"
language = "nl"

[[statements]]
key = "longest"
theme = "{text_of(MAX_LENGTHS["theme"])}"
question = "{text_of(MAX_LENGTHS["question"])}"
statement = "{text_of(MAX_LENGTHS["statement"])}"
{labels}
{facts}

[[statements]]
key = "second"
statement = "Kort."

{panel}
"""


# Boxes of the visible elements that must neither leave the screen nor overlap each other.
_BOXES = """(selectors) => {
  const boxes = [];
  for (const selector of selectors) {
    for (const node of document.querySelectorAll(selector)) {
      const style = getComputedStyle(node);
      const box = node.getBoundingClientRect();
      if (style.display === "none" || style.visibility === "hidden") continue;
      if (!box.width || !box.height || node.closest("[hidden]")) continue;
      boxes.push({ selector, text: node.textContent.slice(0, 40), left: box.left, top: box.top,
                   right: box.right, bottom: box.bottom });
    }
  }
  // The screen's width, not innerWidth: a phone (a mobile viewport) widens its layout
  // viewport to a page that is too wide, and innerWidth with it.
  const page = document.documentElement;
  return { boxes, width: page.clientWidth, height: innerHeight, scrollWidth: page.scrollWidth };
}"""


def layout_problems(
    page: Any, selectors: list[str], *, scrolls: bool = False, slack: float = 0.5
) -> list[str]:
    """What is wrong with the layout: elements outside the viewport (below it too, unless the
    page `scrolls`), overlapping elements, and a page wider than the screen."""
    found = page.evaluate(_BOXES, selectors)
    problems = []
    if found["scrollWidth"] > found["width"]:
        problems.append(f"page is {found['scrollWidth']} px wide on a {found['width']} px screen")
    for box in found["boxes"]:
        outside = (
            box["left"] < -slack
            or box["right"] > found["width"] + slack
            or box["top"] < -slack
            or (not scrolls and box["bottom"] > found["height"] + slack)
        )
        if outside:
            problems.append(f"outside the screen: {box}")
    boxes = found["boxes"]
    for index, first in enumerate(boxes):
        for second in boxes[index + 1 :]:
            if _overlap(first, second) > slack:
                problems.append(f"overlap: {first} and {second}")
    return problems


def _overlap(first: dict[str, float], second: dict[str, float]) -> float:
    width = min(first["right"], second["right"]) - max(first["left"], second["left"])
    height = min(first["bottom"], second["bottom"]) - max(first["top"], second["top"])
    return min(width, height)


def font_sizes(page: Any) -> dict[str, float]:
    """The computed font size (px) of each floored text that is on screen."""
    sizes = {}
    for name, (selector, _) in FLOORS.items():
        found = page.evaluate(
            """(selector) => [...document.querySelectorAll(selector)]
                .filter((node) => node.getClientRects().length)
                .map((node) => parseFloat(getComputedStyle(node).fontSize))""",
            selector,
        )
        if found:
            sizes[name] = min(found)
    return sizes


def scale(width: int, height: int) -> float:
    """The stylesheet's --px: one px of a 1920x1080 screen, by width and height."""
    return min(width / 1600, height / 1080)


def decode_qr(png: Path) -> list[str]:
    """The texts of the QR codes zbar finds in a screenshot."""
    assert ZBARIMG, "zbarimg not found: apt-get install zbar-tools"
    done = subprocess.run(
        [ZBARIMG, "--quiet", "--raw", str(png)], capture_output=True, text=True, timeout=60
    )
    return [line for line in done.stdout.splitlines() if line]

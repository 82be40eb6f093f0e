"""The words used most on each side of a statement: what the words view shows.

A first, plain version (letters only, short words and the blocklist dropped); the stop word
lists and stemming come next.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from polling.domain.questions import is_blocked, normalise

WORD = re.compile(r"[^\W\d_]{3,}")


def word_counts(
    texts: Iterable[str], language: str, *, limit: int = 30, blocklist: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """The `limit` most used words of the texts, most used first (ties alphabetical)."""
    blocked = tuple(blocklist)
    counts = Counter(
        word
        for text in texts
        for word in WORD.findall(normalise(text))
        if not is_blocked(word, blocked)
    )
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def words_by_side(
    texts_by_side: dict[str, list[str]], language: str, blocklist: Iterable[str] = ()
) -> dict[str, list[tuple[str, int]]]:
    """Each side's most used words."""
    blocked = tuple(blocklist)
    return {
        side: word_counts(texts, language, blocklist=blocked)
        for side, texts in texts_by_side.items()
    }

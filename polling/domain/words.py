"""The words the hall used most in its reasons, per side: what the words view shows.

Reasons are short ("Te duur, en de zorgverlener heeft er geen tijd voor"), so the words that
carry them are few: drop the words every sentence has (stop words, from the `stop-words`
package's Dutch and English lists: a hall writes either, whatever the event's language),
numbers, one- and two-letter tokens and the blocklist's words, then count what is left. "kosten"
and "kost" are one word to a reader: words are grouped by their Snowball stem (the
`snowballstemmer` package) and each group is shown as the form people wrote most. Both packages
keep their lists and algorithms in their own files, installed with them: nothing is fetched.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import cache, lru_cache
from typing import Any, Protocol

import snowballstemmer
from stop_words import get_stop_words

from polling.domain.questions import is_blocked, normalise

LIMIT = 30
# Letters and digits, with the hyphens and apostrophes inside a word ("e-health", "auto's").
TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
SHORTEST = 3
# The Snowball stemmer of a deck language; another language is counted unstemmed.
STEMMERS = {"nl": "dutch", "en": "english"}
STOP_WORD_LANGUAGES = ("nl", "en")


class Stemmer(Protocol):
    """What this module uses of a `snowballstemmer` stemmer (the package has no types)."""

    def stemWord(self, word: str) -> str: ...


def word_counts(
    texts: Iterable[str],
    language: str,
    *,
    limit: int = LIMIT,
    blocklist: Sequence[str] = (),
) -> list[tuple[str, int]]:
    """The `limit` words used most in `texts`, with how often: most frequent first, ties in
    alphabetical order. `language` (the event's) picks the stemmer; `blocklist` is the deck's,
    on top of the built-in one (polling.domain.questions.BUILTIN_BLOCKLIST)."""
    stop = _stop_words()
    algorithm = STEMMERS.get(language)
    blocked = list(blocklist)
    # token -> its group (its stem), or None if it is not counted; a hall repeats its words.
    groups: dict[str, str | None] = {}
    forms: dict[str, Counter[str]] = {}
    for text in texts:
        for token in TOKEN.findall(text.casefold().replace("’", "'")):
            if token not in groups:
                groups[token] = _group(token, stop, algorithm, blocked)
            group = groups[token]
            if group is None:
                continue
            if group not in forms:
                forms[group] = Counter()
            forms[group][token] += 1
    counted = [(_most_written(written), written.total()) for written in forms.values()]
    return sorted(counted, key=lambda pair: (-pair[1], pair[0]))[:limit]


def words_by_side(
    texts_by_side: Mapping[str, Iterable[str]],
    language: str,
    blocklist: Sequence[str] = (),
    *,
    limit: int = LIMIT,
) -> dict[str, list[list[Any]]]:
    """`{option key: [[word, count], ...]}`: each side's most used words, for the reasons'
    texts of each side. Lists rather than tuples: the same on a page, in JSON and over
    Socket.IO."""
    return {
        side: [
            [word, count]
            for word, count in word_counts(texts, language, limit=limit, blocklist=blocklist)
        ]
        for side, texts in texts_by_side.items()
    }


@cache
def _stop_words() -> frozenset[str]:
    """The Dutch and English stop words, as written and without accents ("één", "een")."""
    words = {word.casefold() for lang in STOP_WORD_LANGUAGES for word in get_stop_words(lang)}
    return frozenset(words | {_without_accents(word) for word in words})


def _group(
    token: str, stop: frozenset[str], algorithm: str | None, blocklist: list[str]
) -> str | None:
    """The group a token counts in (its stem, without accents: "patiënten" and "patienten"
    are one), or None for a stop word, a number, a short or a blocked word."""
    plain = _without_accents(token)
    if (
        len(token) < SHORTEST
        or not any(ch.isalpha() for ch in token)  # 2025, 10-15
        or token in stop
        or plain in stop
        or is_blocked(normalise(token), blocklist)
    ):
        return None
    return _without_accents(_stem(algorithm, token)) if algorithm else plain


@lru_cache(maxsize=100_000)
def _stem(algorithm: str, token: str) -> str:
    """A word's Snowball stem, remembered: the projector counts the same words again after
    each change, and Snowball in pure Python takes tens of microseconds a word. A stemmer of
    its own per word (made in a microsecond): Snowball's keep the word they work on in
    themselves, so one shared by threads could mix two words up."""
    stemmer: Stemmer = snowballstemmer.stemmer(algorithm)
    return stemmer.stemWord(token)


def _most_written(written: Counter[str]) -> str:
    """The form of a word written most often; of equally frequent ones, the first in
    alphabetical order."""
    return min(written, key=lambda form: (-written[form], form))


def _without_accents(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))

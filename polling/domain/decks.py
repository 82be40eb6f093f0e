"""Statement decks: TOML files in statements/, read and validated before anything is created."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LANGUAGES = ("nl", "en")
STATEMENT_TEXTS = ("theme", "question", "challenge", "statement")
REQUIRED_STATEMENT_TEXTS = ("statement",)
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_OPTIONS = 6
MAX_PANEL_MEMBERS = 8  # what the waiting screen has room for
# Facts are read from the back of a hall after the reveal: a few short ones, not an article.
MAX_FACTS = 3
# One bar per option leaves room for fewer facts beside them than a two-option bar does:
# options -> facts that fit with them.
MAX_FACTS_FOR_OPTIONS = {2: 3, 3: 2, 4: 2, 5: 1, 6: 1}
# What fits the projector at its smallest type (see static/css/app.css and the browser tests
# that render the longest texts allowed here on 4:3, 16:9 and 4K screens and on phones).
MAX_LENGTHS = {
    "title": 80,
    "theme": 60,
    "question": 90,
    "statement": 180,
    "label": 32,
    "fact": 130,
    "source": 100,
    "name": 50,
    "role": 90,
}
# A text this close to its limit fits, but only at the smallest type: `polling event create`
# says so.
NEAR_LIMIT = 0.95
# Enough to fix a deck in one go, not a wall of text.
MAX_PROBLEMS = 20
# The countdown a deck may set as the moderator's default (`timer = 30`).
TIMER_RANGE = (5, 3600)
QA_MODES = ("off", "open", "upvotes", "closed")
QA_NAMES = ("off", "optional", "required")
# Whether phones may give a reason for their vote ("Waarom eens?").
REASON_MODES = ("open", "off")
MAX_BLOCKLIST = 200

DEFAULT_OPTIONS: tuple[dict[str, Any], ...] = (
    {"key": "agree", "label": {"nl": "Eens", "en": "Agree"}},
    {"key": "disagree", "label": {"nl": "Oneens", "en": "Disagree"}},
)


# What can be wrong, in English; polling.web.i18n has them in every UI language as
# "deck_<code>", with the same {placeholders}.
PROBLEMS = {
    "not_found": "does not exist",
    "not_utf8": "is not UTF-8 text",
    "not_toml": "is not valid TOML (line {line}, column {column})",
    "too_large": "is larger than {kb} KB",
    "pick_deck": "pick a deck from the list or upload a file",
    "missing": "is missing",
    "language": "must be one of {languages}",
    "no_statements": "must be a non-empty list of [[statements]] tables",
    "duplicate_key": "duplicate key {key!r} (also {other})",
    "duplicate_option": "duplicate option key {key!r}",
    "too_long": "is {length} characters; at most {limit} fit on the screen",
    "table": "must be a table",
    "tables": "must be a list of {least} to {most} [[{name}]] tables",
    "type": "must be a string, not {type}",
    "text_type": "must be a string or a table of languages, not {type}",
    "key_pattern": "{value!r} must be 1-32 lower-case letters, digits, '-' or '_'",
    "unknown_language": "unknown language (known: {languages})",
    "empty": "must not be empty",
    "deck_language": "is missing (the deck's language)",
    "unknown_field": "unknown field (allowed: {allowed})",
    "timer": "must be a whole number of seconds from {least} to {most}",
    "facts_with_options": "at most {most} facts fit on the screen beside {options} options",
    "more": "and {count} more problems",
    "too_nested": "line {line}: nests more than {most} levels of [ and {{",
    "too_many_key_parts": "line {line}: has a dotted key of more than {most} parts",
    "unreadable": "is too deeply nested to read",
    "audience": "must be a whole number from 1 to {most}",
    "boolean": "must be true or false",
    "cap_needs_audience": "needs audience, the number of phones expected",
    "one_of": "must be one of {allowed}",
    "blocklist": "must be a list of at most {most} words",
    "blocklist_word": "must be a word of 1 to 60 characters",
}


@dataclass(frozen=True)
class DeckProblem:
    """One thing wrong with a deck: where, and what (a code of PROBLEMS and its values)."""

    field: str
    code: str
    values: dict[str, Any]

    def describe(self, templates: dict[str, str] | None = None) -> str:
        """The problem in words, from `templates` (code -> text) or in English."""
        template = (templates or {}).get(self.code, PROBLEMS[self.code])
        return template.format(**self.values)


class DeckError(ValueError):
    """A deck that cannot be used; the message names the file, and each field and problem
    (all of them, up to MAX_PROBLEMS)."""

    def __init__(
        self,
        source: str,
        field: str,
        code: str,
        /,
        problems: list[DeckProblem] | None = None,
        **values: Any,
    ) -> None:
        self.source = source
        self.problems = problems or [DeckProblem(field, code, values)]
        first = self.problems[0]
        self.field = first.field
        self.problem = first.describe()
        super().__init__("\n".join(self.lines()))

    def lines(self, templates: dict[str, str] | None = None) -> list[str]:
        """One line per problem, "file: field: problem", in English or from `templates`."""
        return [f"{self.source}: {p.field}: {p.describe(templates)}" for p in self.problems]


class _Problems:
    """Collects the problems of a deck, so the organiser sees all of them at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[DeckProblem] = []

    def check(self, function: Any, *args: Any, default: Any = None) -> Any:
        """Call function(*args); on a DeckError note its problems and return `default`."""
        try:
            return function(*args)
        except DeckError as error:
            self.found.extend(error.problems)
            return default

    def add(self, field: str, code: str, **values: Any) -> None:
        self.found.append(DeckProblem(field, code, values))

    def raise_any(self) -> None:
        if not self.found:
            return
        shown = self.found[:MAX_PROBLEMS]
        if len(self.found) > MAX_PROBLEMS:
            shown.append(DeckProblem("deck", "more", {"count": len(self.found) - MAX_PROBLEMS}))
        raise DeckError(self.source, "", "", problems=shown)


@dataclass(frozen=True)
class DeckOption:
    """A choice, with its label per language."""

    key: str
    labels: dict[str, str]


@dataclass(frozen=True)
class DeckFact:
    """A piece of context for a statement, with where it comes from; shown after the reveal."""

    text: dict[str, str]
    source: dict[str, str]

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {"text": dict(self.text), "source": dict(self.source)}


@dataclass(frozen=True)
class DeckStatement:
    """A statement with its texts per language, its options and its context facts."""

    key: str
    texts: dict[str, dict[str, str]]
    options: tuple[DeckOption, ...]
    facts: tuple[DeckFact, ...] = ()


@dataclass(frozen=True)
class PanelMember:
    """Someone on the panel, shown on the waiting screens."""

    name: str
    role: dict[str, str]

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "role": dict(self.role)}


@dataclass(frozen=True)
class DeckQA:
    """The [qa] table: how the audience's questions start (the moderator can switch live)."""

    mode: str = "open"
    names: str = "optional"
    premoderation: bool = True  # default on: a healthcare audience, on a projector
    blocklist: tuple[str, ...] = ()
    reasons: str = "open"
    # Off by default: a hall gives thousands of reasons, more than a moderator can read first;
    # the blocklist holds the rude ones back, and the projector shows only what is picked.
    reasons_premoderation: bool = False


@dataclass(frozen=True)
class Deck:
    """A validated deck."""

    name: str
    title: dict[str, str]
    language: str
    statements: tuple[DeckStatement, ...]
    panel: tuple[PanelMember, ...] = ()
    timer: int | None = None  # the moderator's default countdown, in seconds
    # How many phones are expected; with audience_cap, joins beyond it are refused.
    audience: int | None = None
    audience_cap: bool = False
    qa: DeckQA = DeckQA()


def list_decks(directory: str | Path) -> list[Path]:
    """The deck files in a folder, sorted by name."""
    return sorted(Path(directory).glob("*.toml"))


def load_deck(path: str | Path) -> Deck:
    """Read and validate a deck file; raise DeckError naming the file and field if it is broken."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise DeckError(str(path), "file", "not_found") from None
    return read_deck(content, name=path.name, source=str(path))


def read_deck(content: bytes, *, name: str, source: str | None = None) -> Deck:
    """Validate the bytes of a deck file (from disk or uploaded), with the same errors."""
    source = source or name
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise DeckError(source, "file", "not_utf8") from None
    complex_toml = toml_too_complex(text)
    if complex_toml:
        code, at_line = complex_toml
        raise DeckError(source, "file", code, line=at_line, most=SCAN_LIMITS[code])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # The parser's own words ("Illegal character '\\n'") mean nothing to an organiser;
        # where it stopped does.
        found = re.search(r"line (\d+), column (\d+)", str(error))
        line, column = found.groups() if found else ("?", "?")
        raise DeckError(source, "file", "not_toml", line=line, column=column) from None
    except (RecursionError, MemoryError):  # the pre-scan should have caught it; never a 500
        raise DeckError(source, "file", "unreadable") from None
    return parse_deck(data, source=source, name=name)


# tomllib needs memory quadratic in the parts of a dotted key (100,000 parts took 22 GB) and
# recurses once per level of nesting (120,000 `[` overflowed the stack). A deck needs a few
# of each; these bounds are checked by a linear scan before tomllib sees the text.
MAX_KEY_PARTS = 8
MAX_NESTING = 10
SCAN_LIMITS = {"too_nested": MAX_NESTING, "too_many_key_parts": MAX_KEY_PARTS}
_KEY_BREAKS = frozenset("=,[]{}\n")


def toml_too_complex(text: str) -> tuple[str, int] | None:
    """Why this TOML is refused before parsing, as a problem code and the line (a key of too
    many dotted parts, nesting too deep), or None. Strings and comments are skipped; the text
    need not be valid TOML."""
    depth = dots = 0
    line = 1
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char in "\"'":
            index = _end_of_string(text, index)
            continue
        if char == "#":
            newline = text.find("\n", index)
            index = length if newline < 0 else newline
            continue
        if char == "\n":
            line += 1
        if char in _KEY_BREAKS:
            dots = 0
        if char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return "too_nested", line
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == ".":
            dots += 1
            if dots >= MAX_KEY_PARTS:
                return "too_many_key_parts", line
        index += 1
    return None


def _end_of_string(text: str, start: int) -> int:
    """The index after the string that starts at `start` (basic, literal, multi-line)."""
    quote = text[start]
    if text.startswith(quote * 3, start):
        end = text.find(quote * 3, start + 3)
        # A closing run may be up to five quotes long (two of them inside the string).
        while end >= 0 and text.startswith(quote, end + 3):
            end += 1
        return len(text) if end < 0 else end + 3
    index = start + 1
    while index < len(text) and text[index] not in (quote, "\n"):
        index += 2 if quote == '"' and text[index] == "\\" else 1
    return index + 1


def parse_deck(data: dict[str, Any], *, source: str, name: str) -> Deck:
    """Validate the parsed TOML of a deck; every problem found is reported at once."""
    problems = _Problems(source)
    allowed = {
        "title",
        "language",
        "options",
        "panel",
        "statements",
        "timer",
        "audience",
        "audience_cap",
        "qa",
    }
    problems.check(_check_fields, data, allowed, source, "")
    language = data.get("language")
    if language is None:
        problems.add("language", "missing")
        problems.raise_any()
    if language not in LANGUAGES:
        problems.add("language", "language", languages=", ".join(LANGUAGES))
        problems.raise_any()
    language = str(language)  # one of LANGUAGES: anything else was refused above
    title = problems.check(_text, data.get("title"), language, source, "title", default={})
    default_options = problems.check(
        _options, data.get("options"), language, source, "options", default=()
    )
    timer = problems.check(_timer, data.get("timer"), source)

    statements_data = data.get("statements")
    statements = []
    if statements_data is None:
        problems.add("statements", "missing")
    elif not isinstance(statements_data, list) or not statements_data:
        problems.add("statements", "no_statements")
    else:
        first_seen: dict[str, str] = {}
        for index, raw in enumerate(statements_data, start=1):
            where = f"statements[{index}]"
            statement = problems.check(_statement, raw, language, default_options, source, where)
            if statement is None:
                continue
            if statement.key in first_seen:
                other = first_seen[statement.key]
                problems.add(f"{where}.key", "duplicate_key", key=statement.key, other=other)
            first_seen[statement.key] = where
            statements.append(statement)
    panel = problems.check(_panel, data.get("panel"), language, source, default=())
    audience, audience_cap = problems.check(_audience, data, source, default=(None, False))
    qa = problems.check(_qa, data.get("qa"), source, default=DeckQA())
    problems.raise_any()
    return Deck(
        name=name,
        title=title,
        language=language,
        statements=tuple(statements),
        panel=panel,
        timer=timer,
        audience=audience,
        audience_cap=audience_cap,
        qa=qa,
    )


def _qa(raw: Any, source: str) -> DeckQA:
    if raw is None:
        return DeckQA()
    if not isinstance(raw, dict):
        raise DeckError(source, "qa", "table")
    _check_fields(
        raw,
        {"mode", "names", "premoderation", "blocklist", "reasons", "reasons_premoderation"},
        source,
        "qa",
    )
    for field, allowed in (("mode", QA_MODES), ("names", QA_NAMES), ("reasons", REASON_MODES)):
        if field in raw and raw[field] not in allowed:
            raise DeckError(source, f"qa.{field}", "one_of", allowed=", ".join(allowed))
    premoderation = raw.get("premoderation", True)
    if not isinstance(premoderation, bool):
        raise DeckError(source, "qa.premoderation", "boolean")
    reasons_premoderation = raw.get("reasons_premoderation", False)
    if not isinstance(reasons_premoderation, bool):
        raise DeckError(source, "qa.reasons_premoderation", "boolean")
    words = raw.get("blocklist", [])
    if not isinstance(words, list) or len(words) > MAX_BLOCKLIST:
        raise DeckError(source, "qa.blocklist", "blocklist", most=MAX_BLOCKLIST)
    for index, word in enumerate(words, start=1):
        if not isinstance(word, str) or not word.strip() or len(word) > 60:
            raise DeckError(source, f"qa.blocklist[{index}]", "blocklist_word")
    return DeckQA(
        mode=raw.get("mode", "open"),
        names=raw.get("names", "optional"),
        premoderation=premoderation,
        blocklist=tuple(" ".join(word.split()) for word in words),
        reasons=raw.get("reasons", "open"),
        reasons_premoderation=reasons_premoderation,
    )


def near_limits(deck: Deck) -> list[str]:
    """Texts within a few characters of what fits on the screen: they fit, but only at the
    smallest type. "field: 170 of 180 characters" each, for the organiser to consider."""
    texts: list[tuple[str, str, dict[str, str]]] = [("title", "title", deck.title)]
    for index, statement in enumerate(deck.statements, start=1):
        where = f"statements[{index}]"
        for field in STATEMENT_TEXTS:
            values = {
                lang: texts[field] for lang, texts in statement.texts.items() if field in texts
            }
            texts.append((f"{where}.{field}", field, values))
        for number, option in enumerate(statement.options, start=1):
            texts.append((f"{where}.options[{number}].label", "label", option.labels))
        for number, fact in enumerate(statement.facts, start=1):
            texts.append((f"{where}.facts[{number}].text", "fact", fact.text))
            texts.append((f"{where}.facts[{number}].source", "source", fact.source))
    warnings = []
    for where, kind, values in texts:
        limit = MAX_LENGTHS.get(kind, 0)
        for lang, value in values.items():
            if limit and len(value) >= NEAR_LIMIT * limit:
                warnings.append(f"{where}.{lang}: {len(value)} of {limit} characters")
    return warnings


def _timer(raw: Any, source: str) -> int | None:
    if raw is None:
        return None
    least, most = TIMER_RANGE
    if isinstance(raw, bool) or not isinstance(raw, int) or not least <= raw <= most:
        raise DeckError(source, "timer", "timer", least=least, most=most)
    return raw


MAX_AUDIENCE = 1_000_000


def audience_size(value: Any, source: str, field: str = "audience") -> int | None:
    """An expected audience: a whole number from 1 to MAX_AUDIENCE, or None if not given."""
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_AUDIENCE:
        raise DeckError(source, field, "audience", most=f"{MAX_AUDIENCE:,}")
    return value


def _audience(data: dict[str, Any], source: str) -> tuple[int | None, bool]:
    audience = audience_size(data.get("audience"), source)
    cap = data.get("audience_cap", False)
    if not isinstance(cap, bool):
        raise DeckError(source, "audience_cap", "boolean")
    if cap and audience is None:
        raise DeckError(source, "audience_cap", "cap_needs_audience")
    return audience, cap


def _panel(raw: Any, language: str, source: str) -> tuple[PanelMember, ...]:
    if raw is None:
        return ()
    members = []
    for where, item in _tables(raw, {"name", "role"}, source, "panel", 1, MAX_PANEL_MEMBERS):
        name = _text(item.get("name"), language, source, f"{where}.name", single=True)
        _check_length(name, "name", source, f"{where}.name")
        role = _text(item["role"], language, source, f"{where}.role") if "role" in item else {}
        _check_length(role, "role", source, f"{where}.role")
        members.append(PanelMember(name=name[language], role=role))
    return tuple(members)


def _facts(raw: Any, language: str, source: str, where: str) -> tuple[DeckFact, ...]:
    if raw is None:
        return ()
    facts = []
    for at, item in _tables(raw, {"text", "source"}, source, where, 1, MAX_FACTS):
        text = _text(item.get("text"), language, source, f"{at}.text")
        _check_length(text, "fact", source, f"{at}.text")
        origin = _text(item.get("source"), language, source, f"{at}.source")
        _check_length(origin, "source", source, f"{at}.source")
        facts.append(DeckFact(text=text, source=origin))
    return tuple(facts)


def _check_length(texts: dict[str, str], kind: str, source: str, where: str) -> None:
    limit = MAX_LENGTHS.get(kind)
    if limit is None:  # not shown on the screens (the challenge): no limit
        return
    too_long = [
        DeckProblem(f"{where}.{lang}", "too_long", {"length": len(value), "limit": limit})
        for lang, value in texts.items()
        if len(value) > limit
    ]
    if too_long:
        raise DeckError(source, "", "", problems=too_long)


def _statement(
    raw: Any, language: str, default_options: tuple[DeckOption, ...], source: str, where: str
) -> DeckStatement:
    if not isinstance(raw, dict):
        raise DeckError(source, where, "table")
    problems = _Problems(source)
    problems.check(_check_fields, raw, {"key", *STATEMENT_TEXTS, "options", "facts"}, source, where)
    key = problems.check(_key, raw.get("key"), source, f"{where}.key", default="")
    per_field = {}
    for field in STATEMENT_TEXTS:
        if field in raw or field in REQUIRED_STATEMENT_TEXTS:
            at = f"{where}.{field}"
            texts = problems.check(_text, raw.get(field), language, source, at)
            if texts is not None:
                problems.check(_check_length, texts, field, source, at)
                per_field[field] = texts
    options = problems.check(
        _options, raw.get("options"), language, source, f"{where}.options", default=()
    )
    facts = problems.check(_facts, raw.get("facts"), language, source, f"{where}.facts", default=())
    shown = options or default_options
    room = MAX_FACTS_FOR_OPTIONS.get(len(shown), MAX_FACTS)
    if len(facts) > room:
        problems.add(f"{where}.facts", "facts_with_options", most=room, options=len(shown))
    problems.raise_any()
    # Regroup as language -> field -> text, falling back to the deck's language.
    languages = sorted({lang for texts in per_field.values() for lang in texts})
    texts = {
        lang: {field: values.get(lang, values[language]) for field, values in per_field.items()}
        for lang in languages
    }
    return DeckStatement(key=key, texts=texts, options=options or default_options, facts=facts)


def _options(raw: Any, language: str, source: str, where: str) -> tuple[DeckOption, ...]:
    if raw is None:
        if where == "options":
            return tuple(DeckOption(o["key"], dict(o["label"])) for o in DEFAULT_OPTIONS)
        return ()
    options: list[DeckOption] = []
    for at, item in _tables(raw, {"key", "label"}, source, where, 2, MAX_OPTIONS):
        key = _key(item.get("key"), source, f"{at}.key")
        if any(option.key == key for option in options):
            raise DeckError(source, f"{at}.key", "duplicate_option", key=key)
        labels = _text(item.get("label"), language, source, f"{at}.label")
        _check_length(labels, "label", source, f"{at}.label")
        options.append(DeckOption(key=key, labels=labels))
    return tuple(options)


def _tables(
    raw: Any, fields: set[str], source: str, where: str, least: int, most: int
) -> list[tuple[str, dict[str, Any]]]:
    """A TOML array of tables ([[options]], [[panel]], ...) of the allowed size and fields,
    each with where it is in the deck."""
    if not isinstance(raw, list) or not least <= len(raw) <= most:
        name = where.rsplit(".", 1)[-1]
        raise DeckError(source, where, "tables", least=least, most=most, name=name)
    tables = []
    for index, item in enumerate(raw, start=1):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise DeckError(source, at, "table")
        _check_fields(item, fields, source, at)
        tables.append((at, item))
    return tables


def _key(value: Any, source: str, where: str) -> str:
    if value is None:
        raise DeckError(source, where, "missing")
    if not isinstance(value, str):
        raise DeckError(source, where, "type", type=type(value).__name__)
    if not KEY_PATTERN.match(value):
        raise DeckError(source, where, "key_pattern", value=value)
    return value


def _text(
    value: Any, language: str, source: str, where: str, *, single: bool = False
) -> dict[str, str]:
    """A text is a string in the deck's language, or a table of language -> string.

    A single text (a person's name) is the same in every language: a string only.
    """
    if value is None:
        raise DeckError(source, where, "missing")
    if single and not isinstance(value, str):
        raise DeckError(source, where, "type", type=type(value).__name__)
    if isinstance(value, str):
        value = {language: value}
    if not isinstance(value, dict):
        raise DeckError(source, where, "text_type", type=type(value).__name__)
    texts = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise DeckError(
                source, f"{where}.{lang}", "unknown_language", languages=", ".join(LANGUAGES)
            )
        if not isinstance(text, str):
            raise DeckError(source, f"{where}.{lang}", "type", type=type(text).__name__)
        if not text.strip():
            raise DeckError(source, f"{where}.{lang}", "empty")
        texts[lang] = " ".join(text.split())
    if language not in texts:
        raise DeckError(source, f"{where}.{language}", "deck_language")
    if where == "title":
        _check_length(texts, "title", source, where)
    return texts


def _check_fields(table: dict[str, Any], allowed: set[str], source: str, where: str) -> None:
    unknown = [
        DeckProblem(
            f"{where}.{field}" if where else field,
            "unknown_field",
            {"allowed": ", ".join(sorted(allowed))},
        )
        for field in table
        if field not in allowed
    ]
    if unknown:
        raise DeckError(source, "", "", problems=unknown)

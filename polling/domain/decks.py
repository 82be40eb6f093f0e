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
MAX_PANEL_MEMBERS = 12
# Facts are read from the back of a hall after the reveal: a few short ones, not an article.
MAX_FACTS = 4
MAX_FACT_LENGTH = 240
QA_MODES = ("off", "open", "upvotes", "closed")
QA_NAMES = ("off", "optional", "required")
MAX_BLOCKLIST = 200

DEFAULT_OPTIONS: tuple[dict[str, Any], ...] = (
    {"key": "agree", "label": {"nl": "Eens", "en": "Agree"}},
    {"key": "disagree", "label": {"nl": "Oneens", "en": "Disagree"}},
)


class DeckError(ValueError):
    """A deck that cannot be used; the message names the file and the field."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        super().__init__(f"{source}: {field}: {problem}")
        self.source = source
        self.field = field
        self.problem = problem


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


@dataclass(frozen=True)
class Deck:
    """A validated deck."""

    name: str
    title: dict[str, str]
    language: str
    statements: tuple[DeckStatement, ...]
    panel: tuple[PanelMember, ...] = ()
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
        raise DeckError(str(path), "file", "does not exist") from None
    return read_deck(content, name=path.name, source=str(path))


def read_deck(content: bytes, *, name: str, source: str | None = None) -> Deck:
    """Validate the bytes of a deck file (from disk or uploaded), with the same errors."""
    source = source or name
    try:
        data = tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise DeckError(source, "file", "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise DeckError(source, "file", f"is not valid TOML ({error})") from None
    return parse_deck(data, source=source, name=name)


def parse_deck(data: dict[str, Any], *, source: str, name: str) -> Deck:
    """Validate the parsed TOML of a deck."""
    _check_fields(data, {"title", "language", "options", "panel", "qa", "statements"}, source, "")
    language = data.get("language")
    if language is None:
        raise DeckError(source, "language", "is missing")
    if language not in LANGUAGES:
        raise DeckError(source, "language", f"must be one of {', '.join(LANGUAGES)}")
    title = _text(data.get("title"), language, source, "title")
    default_options = _options(data.get("options"), language, source, "options")

    statements_data = data.get("statements")
    if statements_data is None:
        raise DeckError(source, "statements", "is missing")
    if not isinstance(statements_data, list) or not statements_data:
        raise DeckError(source, "statements", "must be a non-empty list of [[statements]] tables")
    statements = []
    first_seen: dict[str, str] = {}
    for index, raw in enumerate(statements_data, start=1):
        where = f"statements[{index}]"
        statement = _statement(raw, language, default_options, source, where)
        if statement.key in first_seen:
            raise DeckError(
                source,
                f"{where}.key",
                f"duplicate key {statement.key!r} (also {first_seen[statement.key]})",
            )
        first_seen[statement.key] = where
        statements.append(statement)
    panel = _panel(data.get("panel"), language, source)
    return Deck(
        name=name,
        title=title,
        language=language,
        statements=tuple(statements),
        panel=panel,
        qa=_qa(data.get("qa"), source),
    )


def _qa(raw: Any, source: str) -> DeckQA:
    if raw is None:
        return DeckQA()
    if not isinstance(raw, dict):
        raise DeckError(source, "qa", "must be a table")
    _check_fields(raw, {"mode", "names", "premoderation", "blocklist"}, source, "qa")
    for field, allowed in (("mode", QA_MODES), ("names", QA_NAMES)):
        if field in raw and raw[field] not in allowed:
            raise DeckError(source, f"qa.{field}", f"must be one of {', '.join(allowed)}")
    premoderation = raw.get("premoderation", True)
    if not isinstance(premoderation, bool):
        raise DeckError(source, "qa.premoderation", "must be true or false")
    words = raw.get("blocklist", [])
    if not isinstance(words, list) or len(words) > MAX_BLOCKLIST:
        raise DeckError(source, "qa.blocklist", f"must be a list of at most {MAX_BLOCKLIST} words")
    for index, word in enumerate(words, start=1):
        if not isinstance(word, str) or not word.strip() or len(word) > 60:
            raise DeckError(
                source, f"qa.blocklist[{index}]", "must be a word of 1 to 60 characters"
            )
    return DeckQA(
        mode=raw.get("mode", "open"),
        names=raw.get("names", "optional"),
        premoderation=premoderation,
        blocklist=tuple(" ".join(word.split()) for word in words),
    )


def _panel(raw: Any, language: str, source: str) -> tuple[PanelMember, ...]:
    if raw is None:
        return ()
    members = []
    for where, item in _tables(raw, {"name", "role"}, source, "panel", 1, MAX_PANEL_MEMBERS):
        name = _text(item.get("name"), language, source, f"{where}.name", single=True)
        role = _text(item["role"], language, source, f"{where}.role") if "role" in item else {}
        members.append(PanelMember(name=name[language], role=role))
    return tuple(members)


def _facts(raw: Any, language: str, source: str, where: str) -> tuple[DeckFact, ...]:
    if raw is None:
        return ()
    facts = []
    for at, item in _tables(raw, {"text", "source"}, source, where, 1, MAX_FACTS):
        text = _text(item.get("text"), language, source, f"{at}.text")
        for lang, value in text.items():
            if len(value) > MAX_FACT_LENGTH:
                raise DeckError(
                    source,
                    f"{at}.text.{lang}",
                    f"is {len(value)} characters; at most {MAX_FACT_LENGTH} fit on the screen",
                )
        facts.append(
            DeckFact(text=text, source=_text(item.get("source"), language, source, f"{at}.source"))
        )
    return tuple(facts)


def _statement(
    raw: Any, language: str, default_options: tuple[DeckOption, ...], source: str, where: str
) -> DeckStatement:
    if not isinstance(raw, dict):
        raise DeckError(source, where, "must be a table")
    _check_fields(raw, {"key", *STATEMENT_TEXTS, "options", "facts"}, source, where)
    key = _key(raw.get("key"), source, f"{where}.key")
    per_field = {}
    for field in STATEMENT_TEXTS:
        if field in raw or field in REQUIRED_STATEMENT_TEXTS:
            per_field[field] = _text(raw.get(field), language, source, f"{where}.{field}")
    # Regroup as language -> field -> text, falling back to the deck's language.
    languages = sorted({lang for texts in per_field.values() for lang in texts})
    texts = {
        lang: {field: values.get(lang, values[language]) for field, values in per_field.items()}
        for lang in languages
    }
    options = _options(raw.get("options"), language, source, f"{where}.options")
    facts = _facts(raw.get("facts"), language, source, f"{where}.facts")
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
            raise DeckError(source, f"{at}.key", f"duplicate option key {key!r}")
        options.append(
            DeckOption(key=key, labels=_text(item.get("label"), language, source, f"{at}.label"))
        )
    return tuple(options)


def _tables(
    raw: Any, fields: set[str], source: str, where: str, least: int, most: int
) -> list[tuple[str, dict[str, Any]]]:
    """A TOML array of tables ([[options]], [[panel]], ...) of the allowed size and fields,
    each with where it is in the deck."""
    if not isinstance(raw, list) or not least <= len(raw) <= most:
        name = where.rsplit(".", 1)[-1]
        raise DeckError(source, where, f"must be a list of {least} to {most} [[{name}]] tables")
    tables = []
    for index, item in enumerate(raw, start=1):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise DeckError(source, at, "must be a table")
        _check_fields(item, fields, source, at)
        tables.append((at, item))
    return tables


def _key(value: Any, source: str, where: str) -> str:
    if value is None:
        raise DeckError(source, where, "is missing")
    if not isinstance(value, str):
        raise DeckError(source, where, f"must be a string, not {type(value).__name__}")
    if not KEY_PATTERN.match(value):
        raise DeckError(
            source, where, f"{value!r} must be 1-32 lower-case letters, digits, '-' or '_'"
        )
    return value


def _text(
    value: Any, language: str, source: str, where: str, *, single: bool = False
) -> dict[str, str]:
    """A text is a string in the deck's language, or a table of language -> string.

    A single text (a person's name) is the same in every language: a string only.
    """
    if value is None:
        raise DeckError(source, where, "is missing")
    if single and not isinstance(value, str):
        raise DeckError(source, where, f"must be a string, not {type(value).__name__}")
    if isinstance(value, str):
        value = {language: value}
    if not isinstance(value, dict):
        raise DeckError(
            source, where, f"must be a string or a table of languages, not {type(value).__name__}"
        )
    texts = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise DeckError(
                source, f"{where}.{lang}", f"unknown language (known: {', '.join(LANGUAGES)})"
            )
        if not isinstance(text, str):
            raise DeckError(
                source, f"{where}.{lang}", f"must be a string, not {type(text).__name__}"
            )
        if not text.strip():
            raise DeckError(source, f"{where}.{lang}", "must not be empty")
        texts[lang] = " ".join(text.split())
    if language not in texts:
        raise DeckError(source, f"{where}.{language}", "is missing (the deck's language)")
    return texts


def _check_fields(table: dict[str, Any], allowed: set[str], source: str, where: str) -> None:
    for field in table:
        if field not in allowed:
            at = f"{where}.{field}" if where else field
            raise DeckError(source, at, f"unknown field (allowed: {', '.join(sorted(allowed))})")

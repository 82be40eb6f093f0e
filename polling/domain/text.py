"""Text a database can store: what every rule checks a phone's strings against."""

from __future__ import annotations


def storable(value: str) -> bool:
    """Whether a string can be stored: JSON's "\\ud800" decodes to a lone surrogate, which no
    database's encoding takes; its write would fail, and the phone be told to try again."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True

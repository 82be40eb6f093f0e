"""Why a request is refused: each refusal carries a stable `code` for clients and a
`message` for people, and its class says who refused it.

Clients see only {ok: false, error: code, message}; the classes are for the server, which
treats a broken rule, a refused identity and a failed write differently in logs and tests.
"""

from __future__ import annotations


class Refused(Exception):
    """A request the server refuses; `code` is stable for clients, `message` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class VotingError(Refused):
    """The rules of an event refuse this vote or moderator action (closed round, unknown
    option, nothing on screen, ...): nothing was written."""


class AccessRefused(Refused):
    """Who is asking may not: a bad key, an unknown event, no cookie, or too many attempts."""


class WriteFailed(Refused):
    """The rules allowed it but the database did not take it in time (`busy`) or at all
    (`storage_error`): nothing was saved, and the client may try again."""

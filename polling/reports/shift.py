"""Opinion shift: how the same people voted in one round of a statement and in the next.

A panel puts a statement to the audience, discusses it, and asks again (round 2). The two
tallies alone cannot tell whether five people changed their mind or fifty did in both
directions; following each participant from one round to the next can. Pure functions of vote
rows, so the export, the charts and the results page all count the same way.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

# "from" is a keyword, so this one is spelled as a call.
Transition = TypedDict("Transition", {"from": str, "to": str, "count": int})


class ShiftResult(TypedDict):
    """A shift as the results document (and its JSON) holds it: `Shift.as_dict`."""

    statement_key: str
    from_round: int
    to_round: int
    options: list[str]
    voted_both: int
    unchanged: int
    changed: int
    changed_percent: int
    newly_voted: int  # how many voted only in the later round
    dropped_out: int  # how many voted only in the earlier round
    transitions: list[Transition]
    newly_voted_by_choice: dict[str, int]
    dropped_out_by_choice: dict[str, int]


@dataclass(frozen=True)
class Shift:
    """Per-participant transitions of one statement from round `before` to round `after`."""

    statement_key: str
    before: int
    after: int
    options: tuple[str, ...]  # option keys in deck order (then any other choice seen)
    # (choice in `before`, choice in `after`) -> participants, for every pair of options.
    transitions: dict[tuple[str, str], int]
    # Voted only in `after`, by their choice then: people who came in or made up their mind.
    newly_voted_by_choice: dict[str, int]
    # Voted only in `before`, by their choice then: people who left or did not vote again.
    dropped_out_by_choice: dict[str, int]

    @property
    def newly_voted(self) -> int:
        """Voted only in `after`."""
        return sum(self.newly_voted_by_choice.values())

    @property
    def dropped_out(self) -> int:
        """Voted only in `before`."""
        return sum(self.dropped_out_by_choice.values())

    @property
    def unchanged(self) -> int:
        """Voted in both rounds and chose the same."""
        return sum(n for (old, new), n in self.transitions.items() if old == new)

    @property
    def changed(self) -> int:
        """Voted in both rounds and chose differently: the people the discussion moved."""
        return sum(n for (old, new), n in self.transitions.items() if old != new)

    @property
    def voted_both(self) -> int:
        """Voted in both rounds: the base for the share that changed their mind."""
        return self.unchanged + self.changed

    @property
    def changed_percent(self) -> int:
        """Changed as a whole percentage of those who voted in both rounds."""
        return round(100 * self.changed / self.voted_both) if self.voted_both else 0

    def as_dict(self) -> ShiftResult:
        """The form written to the JSON export: numbers only, every pair listed, zeros too."""
        return {
            "statement_key": self.statement_key,
            "from_round": self.before,
            "to_round": self.after,
            "options": list(self.options),
            "voted_both": self.voted_both,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "changed_percent": self.changed_percent,
            "newly_voted": self.newly_voted,
            "dropped_out": self.dropped_out,
            "transitions": [
                {"from": old, "to": new, "count": count}
                for (old, new), count in self.transitions.items()
            ],
            "newly_voted_by_choice": dict(self.newly_voted_by_choice),
            "dropped_out_by_choice": dict(self.dropped_out_by_choice),
        }


def opinion_shift(
    votes: Sequence[Mapping[str, Any]],
    statement_key: str,
    options: Sequence[str],
    before: int,
    after: int,
) -> Shift:
    """Compare round `before` with round `after` of one statement, participant by participant.

    `votes` are rows with `participant`, `statement_key`, `round` and `choice`, as
    `polling.reports.document.event_results` gives them (other statements and rounds are
    ignored). The participant may be any hashable identity: the export's pseudonym or a
    database id.
    """
    first = _choices(votes, statement_key, before)
    second = _choices(votes, statement_key, after)
    keys = list(options)
    keys += sorted({*first.values(), *second.values()} - set(keys))
    transitions = {(old, new): 0 for old in keys for new in keys}
    newly_voted = dict.fromkeys(keys, 0)
    dropped_out = dict.fromkeys(keys, 0)
    for participant, old in first.items():
        new = second.get(participant)
        if new is None:
            dropped_out[old] += 1
        else:
            transitions[(old, new)] += 1
    for participant, new in second.items():
        if participant not in first:
            newly_voted[new] += 1
    return Shift(
        statement_key=statement_key,
        before=before,
        after=after,
        options=tuple(keys),
        transitions=transitions,
        newly_voted_by_choice=newly_voted,
        dropped_out_by_choice=dropped_out,
    )


def statement_shifts(
    votes: Sequence[Mapping[str, Any]], statement_key: str, options: Sequence[str], rounds: int
) -> list[Shift]:
    """The shift from each round to the next (1 → 2, 2 → 3, ...); none with fewer than two."""
    return [
        opinion_shift(votes, statement_key, options, number, number + 1)
        for number in range(1, rounds)
    ]


def _choices(
    votes: Iterable[Mapping[str, Any]], statement_key: str, round_number: int
) -> dict[Hashable, str]:
    """participant -> choice in one round. The schema allows one vote per participant and
    round, so a second one means the rows were mixed up: refuse rather than guess."""
    choices: dict[Hashable, str] = {}
    for vote in votes:
        if vote["statement_key"] != statement_key or vote["round"] != round_number:
            continue
        participant = vote["participant"]
        if participant in choices:
            raise ValueError(
                f"participant {participant!r} has two votes in round {round_number} "
                f"of {statement_key!r}"
            )
        choices[participant] = vote["choice"]
    return choices

"""Pure aggregation of vote counts into what screens and exports show."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tally:
    """The result of one round: votes per option, voters and the audience size."""

    round_id: int
    counts: dict[str, int]  # option key -> votes, in the statement's option order
    participants: int  # the round's audience: see polling.domain.counts.round_participants

    @property
    def voters(self) -> int:
        """Each voter has exactly one vote per round, so voters is the sum of the counts."""
        return sum(self.counts.values())

    @property
    def percentages(self) -> dict[str, int]:
        """Whole percentages that add up to 100 (or all 0 without votes)."""
        return whole_percentages(self.counts)

    @property
    def turnout(self) -> int:
        """Voters as a whole percentage of the participants."""
        if not self.participants:
            return 0
        return round(100 * self.voters / max(self.participants, self.voters))

    def turnout_dict(self) -> dict[str, int]:
        """How many voted, of how many: shown even while the results are hidden."""
        return {"voters": self.voters, "participants": self.participants, "percent": self.turnout}

    def as_dict(self) -> dict[str, Any]:
        """The form sent to clients and written to exports."""
        return {
            "round_id": self.round_id,
            "counts": dict(self.counts),
            "percentages": self.percentages,
            "voters": self.voters,
            "participants": self.participants,
            "turnout": self.turnout,
        }


def make_tally(
    round_id: int, option_keys: Sequence[str], counts: Mapping[str, int], participants: int
) -> Tally:
    """Order counts by option and fill in zeros for options nobody chose."""
    return Tally(
        round_id=round_id,
        counts={key: int(counts.get(key, 0)) for key in option_keys},
        participants=participants,
    )


def whole_percentages(counts: Mapping[str, int]) -> dict[str, int]:
    """Largest-remainder rounding, so a 1/3-2/3 split shows 33% and 67%, never 99% in total."""
    total = sum(counts.values())
    if total == 0:
        return {key: 0 for key in counts}
    exact = {key: 100 * count / total for key, count in counts.items()}
    result = {key: int(value) for key, value in exact.items()}
    short = 100 - sum(result.values())
    by_remainder = sorted(counts, key=lambda key: exact[key] - result[key], reverse=True)
    for key in by_remainder[:short]:
        result[key] += 1
    return result

"""The roles a connection or page has in an event, and which of them are screens."""

from __future__ import annotations

AUDIENCE = "audience"  # a phone in the hall: votes, sees results once revealed
PRESENTER = "presenter"  # the projector: turnout always, results when revealed or live
MODERATOR = "moderator"  # the moderator's phone: controls the event, sees everything

ROLES = (AUDIENCE, PRESENTER, MODERATOR)
# The roles that show turnout and may show results before the audience sees them.
SCREENS = (PRESENTER, MODERATOR)

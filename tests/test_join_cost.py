"""What a phone's join reads: only what moves, once the event is known to the process.

Every join used to load the event and all its statements through the ORM (all of them, to
count them, with their JSON texts): a quarter of a join's CPU when a hall scans the QR code.
The unchanging part is now read once per process (polling.domain.content).
"""

from __future__ import annotations

from dataclasses import replace

from polling import db
from polling.domain.events import create_event, delete_event
from tests.support import Clients, control, last_state, statements_run

# The vote page: the event's id by its code, its Q&A mode. The connect: the id again, whether
# the phone is a participant already (one coming back is not written; a new one is, by the
# vote writer on its own connection), what moves (one query), the phone's own vote and its
# reason (one query). With the tests' tally interval of 0, the projector's tally follows at
# once (two more; a server coalesces them over the hall).
JOIN_QUERIES = 6 + 2


def test_a_phone_joining_reads_only_what_moves(clients):
    moderator = clients.moderator()
    control(moderator, "next", "open")
    clients.phone()  # the first join of the process reads the event's content
    with statements_run() as statements:
        phone = clients.phone()
    state = last_state(phone)
    assert state["phase"] == "open"
    assert state["statement"]["key"] == "value"
    assert state["statement"]["texts"]  # the kept content is in the state all the same
    assert not [s for s in statements if "statements.texts" in s], statements
    assert len(statements) <= JOIN_QUERIES, statements


def test_the_kept_content_is_never_another_events(app, deck, clients):
    """A deleted event's phones get `event_gone`, and the next event (a new id) its own
    statements, though the first event's content was kept."""
    phone = clients.phone()
    assert last_state(phone)["total"] == len(deck.statements)
    with db.session() as session:
        delete_event(session, clients.event.id)
        other = create_event(session, replace(deck, statements=deck.statements[:2]))
    assert phone.emit("sync", {}, callback=True)["error"] == "event_gone"
    assert last_state(Clients(app, other).phone())["total"] == 2

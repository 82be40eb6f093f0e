"""Events named like Socket.IO's own, sent by a connected client, go no further.

python-socketio hands a client's event named "connect" or "disconnect" to the same handlers as
a real connect and disconnect. A phone could so run its authentication again with another
`auth` (and become someone else on the same connection), or "disconnect" to forget its rate
limits and leave the connection counts wrong while it stays connected. Such an event is
answered with a refusal here, before any handler.
"""

from __future__ import annotations

from typing import Any

from socketio import packet

from polling.realtime.handlers import error

RESERVED = ("connect", "disconnect")


def guard(server: Any) -> None:
    """Refuse client events with a reserved name on this Socket.IO server."""
    handle_event = server._handle_event

    def checked(eio_sid: str, namespace: str | None, id: int | None, data: Any) -> Any:
        if isinstance(data, list) and data and data[0] in RESERVED:
            if id is not None:
                refusal = error("reserved_event", f"{data[0]!r} is not an event a client sends.")
                ack = server.packet_class(
                    packet.ACK, namespace=namespace or "/", id=id, data=[refusal]
                )
                server._send_packet(eio_sid, ack)
            return None
        return handle_event(eio_sid, namespace, id, data)

    server._handle_event = checked

"""The addresses phones and screens open: public base URL, join, presenter, moderator."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from flask import current_app, request

from polling.domain.models import Event


def lan_address() -> str:
    """This machine's address on the local network, as phones on the venue Wi-Fi see it.

    Connecting a UDP socket sends nothing; it only asks the kernel which interface
    it would route through. Without any route we fall back to loopback.
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        address: str = probe.getsockname()[0]
    except OSError:
        address = "127.0.0.1"
    finally:
        probe.close()
    return address


def default_public_url(host: str, port: int) -> str:
    """The URL to put in the QR code when POLLING_PUBLIC_URL is not set."""
    if host in ("0.0.0.0", "::", ""):  # listening everywhere: phones use the LAN address
        host = lan_address()
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def public_base_url() -> str:
    """The configured public URL, else the address of this request with loopback replaced
    by the LAN address (a QR code pointing at localhost is useless to a phone)."""
    configured: str | None = current_app.config.get("PUBLIC_URL")
    if configured:
        return configured.rstrip("/")
    parts = urlsplit(request.host_url)
    hostname = parts.hostname or "localhost"
    port = f":{parts.port}" if parts.port else ""
    if hostname == "localhost" or hostname.startswith("127.") or hostname == "::1":
        hostname = lan_address()
    return f"{parts.scheme}://{hostname}{port}"


def join_url(base: str, event: Event) -> str:
    """What the QR code holds and what people type."""
    return f"{base}/{event.code}"


def presenter_url(base: str, event: Event) -> str:
    """The projector's page (view only)."""
    return f"{base}/{event.code}/presenter?key={event.presenter_key}"


def moderator_url(base: str, event: Event) -> str:
    """The moderator's page; whoever holds it controls the event."""
    return f"{base}/{event.code}/moderator?key={event.moderator_key}"


def display_url(url: str) -> str:
    """A URL as people read it off a screen: no scheme."""
    return url.split("://", 1)[-1]

"""Live audience polling for panel discussions, self-hosted.

Importing the package imports nothing else: a server process must let eventlet or gevent patch
the standard library (`polling.runtime.patch_first`) before Flask, SQLAlchemy or threading are
imported. `create_app`, `db` and `socketio` come from `polling.app` on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from polling.app import create_app, db, socketio

__all__ = ["create_app", "db", "socketio"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from polling import app

        return getattr(app, name)
    raise AttributeError(f"module 'polling' has no attribute {name!r}")

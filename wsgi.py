"""Entry point for a WSGI server that runs this app as `wsgi:app`.

eventlet (or gevent) must patch the standard library before anything imports threading or
socket, so this happens first, before any module of ours is imported.
"""

import os

ASYNC_MODE = os.environ.get("POLLING_ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

from polling import create_app  # noqa: E402 - must come after the patch

app = create_app()

"""Entry point for a WSGI server that runs this app as `wsgi:app`.

eventlet must patch the standard library before anything imports threading or socket,
so this happens first, before any module of ours is imported.
"""

import os

if os.environ.get("POLLING_ASYNC_MODE", "eventlet") == "eventlet":
    import eventlet

    eventlet.monkey_patch()

from polling import create_app  # must come after the patch

app = create_app()

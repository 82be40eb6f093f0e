"""Entry point for a WSGI server that runs this app as `wsgi:app`.

eventlet (or gevent) must patch the standard library before anything imports threading or
socket: `polling.runtime` imports nothing else, so it can do that first.
"""

import os

from polling.runtime import patch_first

patch_first(os.environ.get("POLLING_ASYNC_MODE", "eventlet"))

from polling import create_app  # noqa: E402 - must come after the patch

app = create_app()

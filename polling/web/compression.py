"""gzip for pages, styles and scripts: a phone on a venue's crowded Wi-Fi loads a third as much.

Static files are compressed once per version (their ETag) and kept; a page is compressed per
request, which for its 20 KB costs well under a millisecond. Downloads, small answers and
anything already encoded are sent as they are.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = (
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "image/svg+xml",
)
# Below this, the gzip header and the CPU cost more than they save.
MIN_BYTES = 1024
# Fast enough for a page per request; static files, kept, could afford more but gain little.
LEVEL = 6
# One entry per static file version: the app's own files, so the cache stays small.
MAX_CACHED = 256


def init_app(app: Flask) -> None:
    """Compress what the app sends, where the browser accepts it."""
    cache: dict[tuple[str, str], bytes] = {}

    @app.after_request
    def compress(response: Response) -> Response:
        if not _wanted(response):
            return response
        response.direct_passthrough = False  # static files: read the file to compress it
        source = response.response  # a static file's open file: closed below, read or not
        key = (request.path, response.get_etag()[0] or "")
        try:
            body = cache.get(key) if request.endpoint == "static" else None
            if body is None:
                body = gzip.compress(response.get_data(), compresslevel=LEVEL, mtime=0)
                if request.endpoint == "static" and key[1] and len(cache) < MAX_CACHED:
                    cache[key] = body
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response


def _wanted(response: Response) -> bool:
    if "gzip" not in request.headers.get("Accept-Encoding", "").lower():
        return False
    if response.status_code != 200 or "Content-Encoding" in response.headers:
        return False
    if response.mimetype not in COMPRESSIBLE:
        return False
    if response.is_streamed and not response.direct_passthrough:  # a generator: sent as made
        return False
    if response.headers.get("Content-Disposition", "").startswith("attachment"):
        return False  # a download: the browser saves it as it was sent
    length = response.content_length
    return length is None or length >= MIN_BYTES

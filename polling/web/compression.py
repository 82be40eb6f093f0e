"""gzip for pages, styles and scripts: a phone on a venue's crowded Wi-Fi loads a third as much.

Static files are compressed once per version (their ETag) and kept, and so are pages kept by
polling.web.page_cache (the vote page); other pages are compressed per request. Downloads,
small answers and anything already encoded are sent as they are.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict
from collections.abc import Hashable

from flask import Flask, Response, g, request

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
# One entry per static file version and kept page; the least recently used go first.
MAX_CACHED = 256


def init_app(app: Flask) -> None:
    """Compress what the app sends, where the browser accepts it."""
    cache: OrderedDict[Hashable, bytes] = OrderedDict()

    @app.after_request
    def compress(response: Response) -> Response:
        if not _wanted(response):
            return response
        response.direct_passthrough = False  # static files: read the file to compress it
        source = response.response  # a static file's open file: closed below, read or not
        key = _cache_key(response)
        try:
            body = cache.get(key) if key is not None else None
            if body is None:
                body = gzip.compress(response.get_data(), compresslevel=LEVEL, mtime=0)
                if key is not None:
                    cache[key] = body
                    if len(cache) > MAX_CACHED:
                        cache.popitem(last=False)
            else:
                cache.move_to_end(key)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
        response.set_data(body)
        response.headers["Content-Encoding"] = "gzip"
        response.vary.add("Accept-Encoding")
        return response


def _cache_key(response: Response) -> Hashable | None:
    """What the compressed body may be kept under: a static file's version, a kept page's key."""
    if request.endpoint == "static":
        etag = response.get_etag()[0]
        return ("static", request.path, etag) if etag else None
    return ("page", g.page_key) if "page_key" in g else None


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

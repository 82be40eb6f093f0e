"""Pages rendered once and kept, with their gzip: the phone's vote page above all.

A hall of 10,000 loads the vote page within a minute. Rendering it (its strings are most of
it) and compressing it was a third of a join's server CPU, for the same bytes every time:
only the cookie differs per phone, and that is a header, not part of the page. So a page is
kept under a key that names everything it shows; a page must not show anything its key does
not name (the Q&A mode, which the moderator switches live, is in the key).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable

from flask import g

# Pages per process: an event's page in each language and Q&A mode, for many events.
MAX_PAGES = 128


class PageCache:
    """The most recently used pages, by key (least recently used ones dropped)."""

    def __init__(self, size: int = MAX_PAGES) -> None:
        self.size = size
        self.pages: OrderedDict[Hashable, str] = OrderedDict()

    def page(self, key: Hashable, render: Callable[[], str]) -> str:
        """The page under `key`, rendered now if it is not kept. The response's gzip is kept
        under the same key (polling.web.compression)."""
        g.page_key = key
        html = self.pages.get(key)
        if html is None:
            html = self.pages[key] = render()
            if len(self.pages) > self.size:
                self.pages.popitem(last=False)
        else:
            self.pages.move_to_end(key)
        return html

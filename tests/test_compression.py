"""gzip: pages, styles and scripts go compressed to browsers that accept it, and only those."""

from __future__ import annotations

import gzip


def test_pages_and_static_files_are_sent_compressed_when_accepted(app, event):
    browser = app.test_client()
    for path in (f"/{event.code}", "/static/css/app.css", "/static/js/vote.js"):
        plain = browser.get(path, buffered=True)
        packed = browser.get(path, headers={"Accept-Encoding": "gzip, deflate, br"}, buffered=True)
        assert plain.status_code == packed.status_code == 200, path
        assert "Content-Encoding" not in plain.headers, path
        assert packed.headers["Content-Encoding"] == "gzip", path
        assert "Accept-Encoding" in packed.headers["Vary"], path
        assert len(packed.data) < len(plain.data) / 2, path
        if path.startswith("/static"):  # a page may differ per request (its cookie)
            assert gzip.decompress(packed.data) == plain.data, path


def test_downloads_and_small_answers_are_sent_as_they_are(app, event):
    browser = app.test_client()
    accept = {"Accept-Encoding": "gzip"}
    csv = browser.get(f"/{event.code}/export/results.csv?key={event.moderator_key}", headers=accept)
    assert csv.status_code == 200 and "Content-Encoding" not in csv.headers
    health = browser.get("/healthz", headers=accept, buffered=True)
    assert "Content-Encoding" not in health.headers
    etag = browser.get("/static/css/app.css", buffered=True).headers["ETag"]
    not_modified = browser.get(
        "/static/css/app.css", headers={**accept, "If-None-Match": etag}, buffered=True
    )
    assert not_modified.status_code == 304 and not not_modified.data


def test_the_vote_page_is_kept_per_language_and_qa_mode_and_never_goes_stale(app, clients):
    """Every phone gets the same page (its cookie is a header), so it is rendered and
    compressed once; what the moderator switches live must still show at once."""
    event = clients.event
    accept = {"Accept-Encoding": "gzip"}
    first, second = app.test_client(), app.test_client()
    page = first.get(f"/{event.code}", headers=accept, buffered=True)
    again = second.get(f"/{event.code}", headers=accept, buffered=True)
    assert page.data == again.data  # the same bytes, compressed once
    assert page.headers["Set-Cookie"] != again.headers["Set-Cookie"]  # each phone its own
    assert 'data-mode="open"' in gzip.decompress(page.data).decode()

    reply = clients.moderator().emit("question_settings", {"mode": "off"}, callback=True)
    assert reply == {"ok": True}
    switched = gzip.decompress(first.get(f"/{event.code}", headers=accept, buffered=True).data)
    assert 'data-mode="off"' in switched.decode()
    english = first.get(f"/{event.code}?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and 'data-mode="off"' in english

"""Abuse limits: what a script meets and a real audience does not."""

from __future__ import annotations

from polling import socketio
from polling.domain.limits import RateLimit
from tests.support import control, last_state, received


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_allows_a_burst_then_refills():
    clock = Clock()
    limit = RateLimit(burst=3, per_second=1, clock=clock)
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b")  # keys are independent
    clock.now = 1.0
    assert limit.allow("a") and not limit.allow("a")


def test_rate_limit_forgets_idle_keys_when_full():
    clock = Clock()
    limit = RateLimit(burst=2, per_second=1, clock=clock, max_keys=3)
    for key in "abc":
        limit.allow(key)
    clock.now = 10.0
    assert limit.allow("d")
    assert set(limit.buckets) == {"d"}


def test_a_script_voting_in_a_loop_is_slowed_down_and_its_vote_still_counts(clients):
    moderator, phone = clients.moderator(), clients.phone()
    control(moderator, "next", "open")
    round_id = last_state(phone)["round"]["id"]
    replies = [
        phone.emit("vote", {"round": round_id, "choice": "agree"}, callback=True) for _ in range(15)
    ]
    assert all(reply["ok"] for reply in replies[:10])  # a person never taps 10 times
    assert replies[-1] == {
        "ok": False,
        "error": "rate_limited",
        "message": "Too many requests; wait a moment.",
    }
    assert received(moderator, "tally")[-1]["results"]["counts"] == {"agree": 1, "disagree": 0}


def test_wrong_keys_are_limited_per_event_but_the_right_key_always_works(app, clients):
    event = clients.event
    for _ in range(25):
        client = socketio.test_client(
            app, auth={"code": event.code, "role": "moderator", "key": "guess"}
        )
        assert not client.is_connected()
    http = app.test_client()
    assert http.get(f"/{event.code}/moderator", query_string={"key": "guess"}).status_code == 429
    assert clients.moderator().is_connected()
    right = {"key": event.moderator_key}
    assert http.get(f"/{event.code}/moderator", query_string=right).status_code == 200

"""The benchmark's verdict on lost votes (benchmarks/harness/verify.py), on real cookies and a
real database: the vote page's cookie, votes cast through the test client, rows read back."""

from __future__ import annotations

import pytest

from benchmarks.harness.verify import (
    check_acked_votes,
    cookie_token,
    exit_status,
    storm_wrong_choices,
)
from tests.support import control, last_state

OPENED = 1_000.0  # time.time() of the open; acks come a little later


@pytest.fixture
def voted(app, clients):
    """Four phones in an open round; the first three voted agree, disagree, agree.

    Returns the database URL, the round and each phone's cookie.
    """
    moderator = clients.moderator()
    cookies, phones = [], []
    for _ in range(4):
        http = app.test_client()
        phones.append(clients.phone(http))
        cookies.append(http.get_cookie("polling").value)
    control(moderator, "next", "open")
    round_id = last_state(phones[0])["round"]["id"]
    for phone, choice in zip(phones, ("agree", "disagree", "agree"), strict=False):
        assert phone.emit("vote", {"round": round_id, "choice": choice}, callback=True)["ok"]
    return app.config["DATABASE_URL"], round_id, cookies


def acked(cookies, choices):
    """Acks as the generators report them: [voter, cookie, choice, time of the ack]."""
    return [
        [voter, cookies[voter], choice, OPENED + 0.5 + voter]
        for voter, choice in enumerate(choices)
    ]


def test_the_cookie_holds_the_participant_token(voted):
    _url, _round, cookies = voted
    tokens = [cookie_token(cookie) for cookie in cookies]
    assert all(tokens) and len(set(tokens)) == 4
    assert cookie_token("not a cookie") is None


def test_every_acked_vote_found_as_acked_is_no_loss(voted):
    url, round_id, cookies = voted
    result = {"acked": 3, "committed": 3}
    problems = check_acked_votes(
        url, round_id, acked(cookies, ["agree", "disagree", "agree"]), OPENED, result
    )
    assert problems == []
    assert result == {
        "acked": 3,
        "committed": 3,
        "verified": 3,
        "missing_votes": 0,
        "wrong_choice": 0,
    }
    assert exit_status(result, None) == 0


def test_an_acked_vote_missing_or_stored_otherwise_is_a_loss(voted):
    url, round_id, cookies = voted
    result = {"acked": 4, "committed": 4}  # as many rows as acks: only the lookup can tell
    problems = check_acked_votes(
        url, round_id, acked(cookies, ["agree", "agree", "agree", "disagree"]), OPENED, result
    )
    assert problems == [
        "voter 3: 'disagree' acked 3.50 s after the open, not in the database",
        "voter 1: 'agree' acked 1.50 s after the open, stored as 'disagree'",
    ]
    assert (result["verified"], result["missing_votes"], result["wrong_choice"]) == (2, 1, 1)
    assert exit_status(result, None) == 1


def test_cookies_that_cannot_be_matched_say_so_and_leave_the_count_to_decide(voted):
    url, round_id, _cookies = voted
    strangers = [[voter, "x.y.z", "agree", OPENED + 1] for voter in range(3)]
    result = {"acked": 3, "committed": 3}
    problems = check_acked_votes(url, round_id, strangers, OPENED, result)
    assert len(problems) == 1 and problems[0].startswith("cannot match acked votes")
    assert "missing_votes" not in result and "verified" not in result
    assert exit_status(result, None) == 0
    assert exit_status({**result, "committed": 2}, None) == 1


def test_the_exit_status():
    assert exit_status({"acked": 10, "committed": 10}, None) == 0
    assert exit_status({"acked": 10, "committed": 9}, None) == 1  # LOST VOTES
    assert exit_status({"acked": 10, "committed": 9}, "the run failed") == 1
    assert exit_status({"acked": 10, "committed": None}, "server did not start") == 2
    assert exit_status({"acked": 10, "committed": 10, "storm_wrong_choice": 1}, None) == 1
    assert exit_status({"acked": 0, "committed": None}, None) == 0  # nothing to count (--url)


def test_after_a_restart_a_voter_given_back_another_choice_is_reported():
    voters = [
        [0, 12.0, "agree", "agree", 1, "open"],
        [1, 12.5, "agree", "disagree", 1, "open"],  # told another choice than acked
        [2, None, None, "agree", None, None],  # not back: counted elsewhere
        [3, 13.0, None, None, 1, "open"],  # no acked vote: nothing to check
    ]
    assert storm_wrong_choices(voters) == ["voter 1: acked 'disagree', state.you.choice 'agree'"]

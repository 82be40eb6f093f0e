"""The join wave benchmark (benchmarks/joinwave.py) at a tiny scale, so it cannot rot: a real
server, voters changing their vote, phones joining as a browser does and told to come back
later by admission control, every voter's last acknowledged vote looked up in the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_phones_refused_in_a_join_wave_come_back_and_the_voters_votes_are_all_stored():
    # Admission control at 1: a new phone gets in only while it is the one handshake waiting,
    # so sixty phones arriving within 0.3 s are mostly told "busy_retry" at first.
    env = {**os.environ, "POLLING_ADMISSION_CAPACITY": "1"}
    command = [
        *(sys.executable, "-m", "benchmarks.joinwave", "--voters", "30", "--joiners", "60"),
        *("--window", "0.3", "--baseline", "2", "--vote-every", "0.5", "--join-grace", "30"),
        *("--connect-concurrency", "1"),  # the voters get in one by one
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])

    assert result["busy_retry_refusals"] > 0, "admission control never refused a joiner"
    assert result["joined"] == 60 and result["not_joined"] == 0, result["join_errors"]
    assert result["joiners_on_websocket"] == 60  # long-polling first, then the upgrade
    assert 0 < result["join_p50_s"] <= result["join_p95_s"]

    assert result["baseline_acked"] > 0 and result["votes_acked_in_wave"] > 0
    assert result["ack_by_10s"][0]["acked"] == result["votes_acked_in_wave"]
    assert result["vote_errors"] == {}
    assert result["verified"] == 30 and result["missing_votes"] == result["wrong_choice"] == 0
    assert result["server_cpu_ms_per_join"] is not None and result["server_rss_mb"] > 0

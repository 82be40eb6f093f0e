"""Q&A benchmark: a full hall asks questions and upvotes them, or says why it voted and upvotes
the reasons, within S seconds, while a moderator does what a moderator does.

    .venv/bin/python -m benchmarks.qa --phones 10000 --questions 500 --upvotes 20000 --window 60
    .venv/bin/python -m benchmarks.qa --phase reasons --phones 10000 --reasons 3000 \\
        --upvotes 10000 --window 60

It starts the server as load.py does (same code: a fresh database, `polling serve`), connects a
projector and a moderator, then the phones, spread over --workers generator processes
(benchmarks/harness/hall.py). The phases are benchmarks/qa_questions.py and
benchmarks/qa_reasons.py. Phones only upvote what they were sent (the hall's lists), never
their own.

Reported (the last line on stdout is one JSON object): ack p50/p95/p99 per kind of request,
refusals and failures, every acked upvote (and reason, and vote) found in the database exactly
once, what each phone was sent per event (messages and bytes), how long after the last upvote
the projector showed the final counts, server CPU seconds and RSS.

Exit status: 0 done; 1 something acked is not in the database, or something is there that was
not acked; 2 the run failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from benchmarks import qa_questions, qa_reasons
from benchmarks.harness import BenchError, cli, clients, log
from benchmarks.harness import servers as harness_servers

PHASES = {
    "questions": (qa_questions.coordinate, qa_questions.summarize),
    "reasons": (qa_reasons.coordinate, qa_reasons.summarize),
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--phase", choices=tuple(PHASES), default="questions")
    parser.add_argument("--phones", type=int, default=500, help="audience connections (500)")
    parser.add_argument("--upvotes", type=int, default=1000, help="upvotes cast (1000)")
    parser.add_argument("--window", type=float, default=60.0, help="seconds (60)")
    parser.add_argument("--workers", type=int, default=1, help="generator processes (1)")
    questions = parser.add_argument_group("--phase questions")
    questions.add_argument("--questions", type=int, default=50, help="questions asked (50)")
    questions.add_argument("--next-every", type=float, default=5.0, help="Volgende vraag, s (5)")
    reasons = parser.add_argument_group("--phase reasons")
    reasons.add_argument("--reasons", type=int, default=300, help="reasons given (300)")
    reasons.add_argument("--picks", type=int, default=10, help="reasons put on screen (10)")
    parser.add_argument(
        "--question-interval",
        type=float,
        help="POLLING_QUESTION_INTERVAL: the pace of the questions' and reasons' lists",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    cli.add_server_options(parser)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    parser.add_argument("--ack-timeout", type=float, default=60.0, help="seconds per ack (60)")
    parser.add_argument(
        "--client-watchdog",
        type=float,
        default=120.0,
        help="seconds a phone waits for a server ping before giving up (120)",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    asked = args.questions if args.phase == "questions" else args.reasons
    if min(args.phones, args.workers) < 1 or asked > args.phones or args.window <= 0:
        parser.error(f"need phones >= {args.phase}, at least one worker and a positive window")
    # What harness_servers.Servers reads.
    args.processes, args.message_queue, args.tally_interval = 1, None, None
    args.voters, args.deck = args.phones, harness_servers.DEFAULT_DECK
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    cli.prepare_process()
    coordinate, summarize = PHASES[args.phase]
    result: dict[str, Any] = {
        "phase": args.phase,
        "phones": args.phones,
        **({"questions": args.questions} if args.phase == "questions" else {}),
        **({"reasons": args.reasons} if args.phase == "reasons" else {}),
        "upvotes": args.upvotes,
        "window_s": args.window,
        "workers": args.workers,
        "database": args.database,
        "async_mode": args.async_mode,
    }
    if args.question_interval is not None:  # harness_servers.Servers passes it on
        os.environ["POLLING_QUESTION_INTERVAL"] = str(args.question_interval)
    servers = harness_servers.Servers(args)
    failure, sound = None, True
    try:
        try:
            servers.start()
            run = asyncio.run(coordinate(args, servers, result))
            sound = summarize(run, servers, result)
        except (BenchError, OSError, TimeoutError) as error:
            failure = str(error) or type(error).__name__
        except Exception as error:
            failure = clients.error_name(error)
    except KeyboardInterrupt:
        log("interrupted: stopping everything")
        return 130
    finally:
        servers.shut_down(result)
    if failure:
        result["error"] = failure
        log(f"FAILED: {failure}")
    elif not sound:
        log("ACKED BUT LOST OR WRONG: see *_missing, *_unexpected, *_duplicated")
    cli.print_result(result)
    return 2 if failure else 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

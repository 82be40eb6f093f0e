"""The real-time channel: Socket.IO handlers, the broadcasts to rooms, the group-commit writer."""

from __future__ import annotations

from flask import Flask

from polling import db, socketio
from polling.domain.limits import default_limits
from polling.metrics import Metrics
from polling.realtime import (
    handlers,  # registers the Socket.IO handlers (and gives the vote's, see below)
    questions,  # registers the questions' handlers too
    reasons,  # and the reasons'
    reserved,
)
from polling.realtime.admission import Admission
from polling.realtime.broadcast import TallyPublisher, event_deleted
from polling.realtime.countdown import Countdown
from polling.realtime.flood import FloodGuard
from polling.realtime.lag import LoopLag
from polling.realtime.vote_writer import VoteWriter
from polling.runtime import blocking_runner, one_shot_signal

__all__ = ["event_deleted", "init_app"]


def init_app(app: Flask) -> None:
    """Give the app its tally, question and reason publishers, countdown, vote writer, flood
    guard and admission control (one of each per process)."""
    app.extensions["polling_metrics"] = metrics = Metrics()
    reserved.guard(socketio.server)
    app.extensions["polling_tallies"] = TallyPublisher(app)
    app.extensions["polling_questions"] = questions.QuestionPublisher(app)
    app.extensions["polling_reasons"] = reasons.ReasonPublisher(app)
    app.extensions["polling_countdown"] = Countdown(app)
    app.extensions["polling_limits"] = default_limits()
    app.extensions["polling_flood"] = flood = FloodGuard(
        socketio.server, app.config["MAX_CONNECTIONS"]
    )
    lag = LoopLag(socketio.sleep, socketio.start_background_task)
    app.extensions["polling_admission"] = admission = Admission(
        app.config["ADMISSION_CAPACITY"],
        waiting=lambda: len(flood.waiting),
        lag=lag.current,
        max_lag=app.config["ADMISSION_LAG"],
        sleep=socketio.sleep,
    )
    flood.admit = admission.admit_handshake
    app.extensions["polling_writer"] = VoteWriter(
        engine=db.dedicated_engine(),
        run_blocking=blocking_runner(app.config["ASYNC_MODE"]),
        create_event=socketio.server.eio.create_event,
        create_signal=one_shot_signal(app.config["ASYNC_MODE"]),
        sleep=socketio.sleep,
        start_task=socketio.start_background_task,
        metrics=metrics,
    )
    socketio.server.on("vote", handlers.vote_handler(app), namespace="/")

"""Real PostgreSQL and Redis for the tests that need them.

On a laptop without them those tests skip, saying why; with POLLING_REQUIRE_SERVICES=1 (as CI
sets) they fail instead, so CI never skips them silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import NoReturn

import pytest

from tests.support import require_module, unavailable

POSTGRES_ADMIN_URL = os.environ.get(
    "POLLING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("POLLING_TEST_REDIS", "redis://127.0.0.1:6379/0")


def unreachable(what: str, error: Exception) -> NoReturn:
    unavailable(f"{what} is not reachable ({error}); start it or set POLLING_TEST_* to it")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    psycopg = require_module("psycopg")
    name = f"polling_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.Error as error:
        unreachable(f"PostgreSQL at {POSTGRES_ADMIN_URL}", error)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
            yield f"{base.replace('postgresql://', 'postgresql+psycopg://', 1)}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_url() -> str:
    redis = require_module("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as error:
        unreachable(f"Redis at {REDIS_URL}", error)
    return REDIS_URL

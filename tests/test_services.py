"""The shared cache between processes, and what happens when it is gone.

- Two processes asked for the same cold type walk it once, through one Redis.
- Redis down, or dying and coming back: pages are walked from MTurk directly, a warning is logged,
  nothing fails, and Redis is used again once it answers.
- In the services run (make test-services) the suite really runs on PostgreSQL and Redis.
"""

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import LazySettings
from django.core.cache import caches
from django.db import connection
from django.test import Client

from qualdash.env import cache_from_url
from qualdash.mturk import client as mturk_client
from qualdash.mturk import emulator as seeds
from qualdash.mturk import pages
from qualdash.mturk.emulator import Emulator, EmulatorServer
from qualdash.mturk.tolerant_cache import cache as tolerant_cache
from tests.conftest import SECRET_ACCESS_KEY, point_at
from tests.processes import (
    REPO,
    app_env,
    forget_redis_keys,
    free_port,
    missing_service,
    redis_url,
)

LIST = "ListWorkersWithQualificationType"
WARNINGS_FROM = "qualdash.mturk.tolerant_cache"

# One service process: set up Django, say so, wait for "go", walk the type, report.
WALKER = """
import hashlib, json, sys, time
import django
django.setup()
from qualdash.mturk import pages
print("ready", flush=True)
sys.stdin.readline()
started = time.time()
workers = pages.load_workers(sys.argv[1], "granted", budget=None)
print(json.dumps({
    "rows": len(workers.rows),
    "complete": workers.complete,
    "digest": hashlib.sha256(" ".join(r.worker_id for r in workers.rows).encode()).hexdigest(),
    "started": started,
    "finished": time.time(),
}), flush=True)
"""


def use_redis_cache(settings: LazySettings, url: str) -> None:
    settings.CACHES = {"default": cache_from_url("CACHE_URL", url, max_entries=50_000)}


def test_two_processes_asked_for_the_same_cold_type_walk_it_once(
    mturk: Emulator, emulator_server: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = redis_url()
    access_key_id = f"AKIDTWOPROC{free_port()}"  # a cache scope of its own: cold
    point_at(monkeypatch, emulator_server.url, access_key_id)
    scope = mturk_client.account().scope
    env = app_env(
        CACHE_URL=url,
        DATABASE_URL=f"sqlite:///{os.devnull}",
        AWS_ENDPOINT_URL_MTURK=emulator_server.url,
        AWS_ACCESS_KEY_ID=access_key_id,
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
    )
    walkers = [
        subprocess.Popen(  # noqa: S603 - this interpreter with the script above
            [sys.executable, "-c", WALKER, seeds.TYPE_SMALL],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for walker in walkers:
            assert walker.stdout is not None
            assert walker.stdout.readline().strip() == "ready", walker.stderr
        mturk.reset_counts()
        mturk.latency = 0.03  # 22 pages: the walk lasts over half a second
        for walker in walkers:
            assert walker.stdin is not None
            walker.stdin.write("go\n")
            walker.stdin.flush()
        outputs = [walker.communicate(timeout=60) for walker in walkers]
    finally:
        for walker in walkers:
            walker.kill()
        forget_redis_keys(url, f"*qd:{scope}:*")
    for walker, (_, errors) in zip(walkers, outputs, strict=True):
        assert walker.returncode == 0, errors
    first, second = (json.loads(out) for out, _ in outputs)
    truth = sorted(row["WorkerId"] for row in mturk.workers(seeds.TYPE_SMALL, "Granted"))
    for result in (first, second):
        assert result["complete"]
        assert result["rows"] == len(truth) == 2154
        assert result["digest"] == hashlib.sha256(" ".join(truth).encode()).hexdigest()
    # They walked at the same time, and MTurk saw each of the 22 pages once.
    assert max(first["started"], second["started"]) < min(first["finished"], second["finished"])
    assert mturk.call_count(LIST) == 22


@pytest.fixture
def dead_redis(settings: LazySettings) -> str:
    """CACHES on a Redis port that nothing listens on."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    use_redis_cache(settings, url)
    return url


def test_with_redis_down_pages_are_walked_from_mturk_and_one_warning_is_logged(
    dead_redis: str,
    owner_client: Client,
    mturk: Emulator,
    settings: LazySettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 26 pages at 10 ms each are well over this budget: stopping at it would start every
    # continuation over, with nothing cached to replay.
    settings.QUALDASH_WALK_BUDGET = 0.05
    mturk.latency = 0.01
    with caplog.at_level(logging.INFO, logger=WARNINGS_FROM):
        types = owner_client.get("/")
        table = owner_client.get(f"/types/{seeds.TYPE_SMALL}/", {"status": "all"})
        export = owner_client.get(f"/types/{seeds.TYPE_HUNDRED_ONE}/export.csv")
    assert types.status_code == 200
    assert table.status_code == 200
    body = table.content.decode()
    assert "of 2,537 workers" in body
    assert "still loading" not in body
    assert export.status_code == 200
    assert len(b"".join(export.streaming_content).splitlines()) == 1 + 101  # type: ignore[attr-defined]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    assert "The cache is unavailable (ConnectionError" in warnings[0].getMessage()
    assert not tolerant_cache.available


def test_with_redis_down_every_look_walks_mturk_again(dead_redis: str, mturk: Emulator) -> None:
    first = pages.load_workers(seeds.TYPE_HUNDRED_ONE, "granted", budget=None)
    pages.complete_walks.clear()  # as another worker process would be
    second = pages.load_workers(seeds.TYPE_HUNDRED_ONE, "granted", budget=0.01)
    assert first.complete
    assert second.complete
    assert second.rows == first.rows
    assert mturk.call_count(LIST) == 4


def test_with_redis_down_the_walk_lock_never_blocks(dead_redis: str, mturk: Emulator) -> None:
    # add() answers True while the backend is down: nobody else can be walking through it.
    assert tolerant_cache.add("qd:some:lock", True, 30)
    assert tolerant_cache.get("qd:some:lock") is None
    workers = pages.load_workers(seeds.TYPE_ONE, "granted", budget=0.3)
    assert workers.complete
    assert len(workers.rows) == 1


def test_a_bug_in_a_cache_call_is_not_taken_for_an_outage(settings: LazySettings) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "bug"}
    }
    # A value that cannot be pickled is our bug: it must surface, not pass as a cache outage.
    with pytest.raises(AttributeError, match="pickle"):
        tolerant_cache.set("qd:unpicklable", lambda: None, 30)
    assert tolerant_cache.available


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator["RedisProcess"]:
    binary = shutil.which("redis-server")
    if binary is None:
        missing_service("needs the redis-server program to stop and start a Redis of its own")
    process = RedisProcess(binary, tmp_path)
    process.start()
    yield process
    process.stop()


class RedisProcess:
    """A redis-server of this test's own, on a free port, that it can stop and start again."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - redis-server with fixed arguments
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def test_it_keeps_serving_while_redis_is_down_and_uses_it_again_when_it_returns(
    own_redis: RedisProcess,
    mturk: Emulator,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    use_redis_cache(settings, own_redis.url)
    monkeypatch.setattr(tolerant_cache, "retry_seconds", 0.2)
    type_id = seeds.TYPE_HUNDRED_ONE  # 2 pages

    def look() -> int:
        """A look by a process that has not seen the type yet: the API calls it made."""
        pages.complete_walks.clear()
        before = mturk.call_count(LIST)
        assert len(pages.load_workers(type_id, "granted", budget=None).rows) == 101
        return mturk.call_count(LIST) - before

    with caplog.at_level(logging.INFO, logger=WARNINGS_FROM):
        assert (look(), look()) == (2, 0)  # walked, then replayed from Redis
        own_redis.stop()
        assert (look(), look()) == (2, 2)  # Redis gone: every look walks MTurk
        assert not tolerant_cache.available
        own_redis.start()  # empty, as a restarted Redis without persistence is
        time.sleep(0.3)
        assert (look(), look()) == (2, 0)  # walked into Redis again, then replayed
        assert tolerant_cache.available
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in messages] == ["WARNING", "INFO"], messages
    assert messages[0][1].startswith("The cache is unavailable (ConnectionError on get")
    assert messages[1][1].startswith("The cache answers again after")


# --- the services run ------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_and_cache_the_environment_names() -> None:
    database_url = os.environ.get("DATABASE_URL", "")
    cache_url = os.environ.get("CACHE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        assert connection.vendor == "postgresql"
    else:
        assert connection.vendor == "sqlite"
    backend = type(caches["default"]).__name__
    if cache_url.startswith(("redis://", "rediss://")):
        assert backend == "RedisCache"
    else:
        assert backend == "FileBasedCache"

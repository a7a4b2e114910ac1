"""Fixtures: the offline MTurk emulator behind real boto3, a per-test cache, users by role.

Every test runs inside moto's mock_aws as a guard: a request that slipped past the emulator to
real AWS would be answered by moto (and fail), never by Amazon.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.test import Client
from moto import mock_aws

from qualdash.env import cache_from_url
from qualdash.mturk import client as mturk_client
from qualdash.mturk.emulator import Emulator, EmulatorServer, start_emulator
from qualdash.mturk.pages import complete_walks

ACCESS_KEY_ID = "AKIDQUALDASHTEST"
SECRET_ACCESS_KEY = "qualdash-test-secret-never-shown"  # the security tests search for it


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    server = start_emulator()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> Iterator[Emulator]:
    """The shared emulator with its knobs at rest and its call counts at zero."""
    emu = emulator_server.emulator
    _knobs_at_rest(emu)
    emu.reset_counts()
    yield emu
    _knobs_at_rest(emu)


def _knobs_at_rest(emu: Emulator) -> None:
    emu.latency = 0.0
    emu.throttle_every = 0
    emu.fault_from_call = emu.fault_calls = 0
    emu.fail_next(0)


def use_cache_dir(settings: LazySettings, directory: Path) -> None:
    settings.CACHES = {
        "default": {
            # The default backend (qualdash.env.cache_from_url's for file:// URLs).
            "BACKEND": "qualdash.filecache.FileBasedCache",
            "LOCATION": str(directory),
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }


def use_test_cache(settings: LazySettings, directory: Path) -> dict[str, Any]:
    """This test's own empty cache: files in `directory`, or, when CACHE_URL is set (make
    test-services), that backend under a key prefix of this test's own."""
    url = os.environ.get("CACHE_URL")
    if not url:
        use_cache_dir(settings, directory)
    else:
        config = cache_from_url("CACHE_URL", url, max_entries=50_000)
        config["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
        settings.CACHES = {"default": config}
    installed: dict[str, Any] = settings.CACHES["default"]
    return installed


def forget_test_cache(config: dict[str, Any]) -> None:
    """Drop what a test left in its use_test_cache cache (a file cache goes with tmp_path)."""
    prefix = config.get("KEY_PREFIX")
    if prefix and config["BACKEND"].endswith("RedisCache"):
        client = redis.Redis.from_url(config["LOCATION"])
        try:
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


def point_at(monkeypatch: pytest.MonkeyPatch, url: str, access_key_id: str = ACCESS_KEY_ID) -> None:
    """Send this process's MTurk client to `url` with these credentials."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_MTURK", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    mturk_client.forget_account()


@pytest.fixture(autouse=True)
def mturk(
    emulator: Emulator,
    emulator_server: EmulatorServer,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[Emulator]:
    """Each test: AWS guarded by moto, MTurk answered by the emulator, an empty cache."""
    with mock_aws():
        point_at(monkeypatch, emulator_server.url)
        # Without credentials botocore would ask the instance metadata service: never here.
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
        settings.QUALDASH_MTURK_SANDBOX = False
        test_cache = use_test_cache(settings, tmp_path / "cache")
        complete_walks.clear()
        yield emulator
        forget_test_cache(test_cache)
        complete_walks.clear()
        mturk_client.forget_account()


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_user("owner", password="owner-password-1")


@pytest.fixture
def owner_client(owner: User) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def htmx_headers() -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": "table-region"}

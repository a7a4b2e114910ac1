"""Real processes for the production tests: gunicorn, plain Python workers, redis-server.

Each process gets a small environment of its own (never this test process's DATABASE_URL,
CACHE_URL or AWS variables), so what it does is what the variables given here say.
"""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NoReturn
from urllib.parse import urlencode

import pytest
import redis

REPO = Path(__file__).resolve().parent.parent
DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/1"
# What a TLS proxy in front of gunicorn adds to every request (SECURE_PROXY_SSL_HEADER below).
VIA_TLS_PROXY = {"X-Forwarded-Proto": "https"}


def missing_service(message: str) -> NoReturn:
    """Skip with the reason, or fail in CI, where every service the tests need must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: the machine must provide it, see SERVICES.md)")
    pytest.skip(message)


def redis_url() -> str:
    """The Redis of this run: CACHE_URL if it names one (make test-services), else the local one."""
    url = os.environ.get("CACHE_URL", "")
    if not url.startswith(("redis://", "rediss://")):
        url = os.environ.get("QUALDASH_TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.RedisError as error:
        missing_service(f"needs Redis at {url}: {error}")
    finally:
        client.close()
    return url


def forget_redis_keys(url: str, pattern: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=pattern, count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def secret_key() -> str:
    return secrets.token_urlsafe(50)


def app_env(**values: str) -> dict[str, str]:
    """A child process's environment: the basics of this one, AWS kept away, plus `values`."""
    env = {
        name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "qualdash.settings",
        "PYTHONUNBUFFERED": "1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    return env | values


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own manage.py with our own arguments
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str
    content: bytes

    def cookie(self, name: str) -> str:
        for header in self.headers.get_all("Set-Cookie") or []:
            match = re.match(rf"{name}=([^;]*)", header)
            if match:
                return match.group(1)
        raise AssertionError(f"no {name} cookie set: {self.headers.get_all('Set-Cookie')}")


class Gunicorn:
    """`gunicorn --config gunicorn.conf.py` as `make serve` starts it, on a free port."""

    def __init__(self, env: dict[str, str], log: Path, *args: str) -> None:
        self.port = free_port()
        self.log_path = log
        self._log: IO[str] = log.open("w")
        self.process = subprocess.Popen(  # noqa: S603 - gunicorn with our own config
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", *args],
            cwd=REPO,
            env=env | {"QUALDASH_BIND": f"127.0.0.1:{self.port}"},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_listening()

    def _wait_until_listening(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited {self.process.returncode}:\n{self.output()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"gunicorn did not listen within {timeout}s:\n{self.output()}")

    def wait_for_output(self, pattern: str, count: int = 1, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.output())) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {count} x {pattern!r} in the log:\n{self.output()}")
            time.sleep(0.05)

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: str | None = None,
        timeout: float = 60,
    ) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(
                method, path, body=body, headers={"Connection": "close"} | (headers or {})
            )
            answer = connection.getresponse()
            content = answer.read()
            return Response(
                answer.status, answer.headers, content.decode(errors="replace"), content
            )
        finally:
            connection.close()

    def sign_in(self, username: str, password: str) -> str:
        """Sign in through the login form, as a browser behind the TLS proxy; the session id."""
        answer = self.post_login(username, password)
        assert answer.status == 302, (answer.status, answer.body)
        return answer.cookie("sessionid")

    def post_login(self, username: str, password: str) -> Response:
        form = self.request("GET", "/accounts/login/", VIA_TLS_PROXY)
        csrf = form.cookie("csrftoken")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        assert match, form.body
        return self.request(
            "POST",
            "/accounts/login/",
            VIA_TLS_PROXY
            | {
                "Cookie": f"csrftoken={csrf}",
                "Origin": f"https://127.0.0.1:{self.port}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            urlencode(
                {"username": username, "password": password, "csrfmiddlewaretoken": match[1]}
            ),
        )

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

"""Production parts: settings from URLs, the deploy check, the Content Security Policy, gunicorn
with whitenoise behind a TLS proxy, several workers sharing one walk, and the database down.

The gunicorn tests start `gunicorn --config gunicorn.conf.py` as `make serve` does (DEBUG off,
collectstatic first) against the emulator of this test session.
"""

import re
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.test.utils import override_settings

from qualdash.dashboard.outage import unavailable
from qualdash.env import cache_from_url, database_from_url, envheader
from qualdash.mturk import client as mturk_client
from qualdash.mturk import emulator as seeds
from qualdash.mturk.emulator import Emulator, EmulatorServer
from tests.conftest import SECRET_ACCESS_KEY, point_at
from tests.processes import (
    REPO,
    VIA_TLS_PROXY,
    Gunicorn,
    app_env,
    forget_redis_keys,
    free_port,
    manage,
    missing_service,
    redis_url,
    secret_key,
)

LIST = "ListWorkersWithQualificationType"
DEMO_USER, DEMO_PASSWORD = "demo", "qualdash-demo"


# --- settings from the environment -----------------------------------------------------------


def test_it_reads_a_postgresql_url_for_psycopg() -> None:
    config = database_from_url(
        "DATABASE_URL", "postgres://qd:p%40ss%2Fword@db.internal:5433/qualdash?sslmode=require"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["NAME"], config["USER"], config["PASSWORD"]) == ("qualdash", "qd", "p@ss/word")
    assert (config["HOST"], config["PORT"]) == ("db.internal", "5433")
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_it_reads_a_redis_url_for_djangos_redis_cache() -> None:
    config = cache_from_url("CACHE_URL", "redis://:secret@cache.internal:6380/2", max_entries=1000)
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == "redis://:secret@cache.internal:6380/2"
    # A Redis that drops packets costs seconds, never a hung page.
    assert config["OPTIONS"]["socket_connect_timeout"] <= 5
    assert config["OPTIONS"]["socket_timeout"] <= 10


@pytest.mark.parametrize(
    ("name", "url", "complaint"),
    [
        ("DATABASE_URL", "mysql://db.internal/qualdash", "must start with"),
        ("DATABASE_URL", "postgres://db.internal:54x2/qualdash", "bad port"),
        ("DATABASE_URL", "postgres://db.internal:5432/", "names no database"),
        ("DATABASE_URL", "sqlite://", "names no SQLite file"),
        ("CACHE_URL", "memcached://cache.internal:11211", "must start with"),
        ("CACHE_URL", "redis:///0", "names no Redis host"),
        ("CACHE_URL", "redis://cache.internal:63x9/0", "bad port"),
        ("CACHE_URL", "redis://cache.internal:6379/sessions", "by number"),
    ],
)
def test_it_names_the_variable_of_a_malformed_url(name: str, url: str, complaint: str) -> None:
    def parse() -> object:
        if name == "DATABASE_URL":
            return database_from_url(name, url)
        return cache_from_url(name, url, max_entries=1000)

    with pytest.raises(ImproperlyConfigured, match=complaint) as raised:
        parse()
    assert name in str(raised.value)


def test_it_never_shows_a_urls_password_in_a_complaint() -> None:
    with pytest.raises(ImproperlyConfigured) as raised:
        database_from_url("DATABASE_URL", "postgres://qd:hunter22@db.internal:5432/")
    assert "hunter22" not in str(raised.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "postgresql://db.internal:5432"),
        ("CACHE_URL", "redis//127.0.0.1:6379/0"),
        ("SECURE_PROXY_SSL_HEADER", "https"),
        ("SECURE_HSTS_SECONDS", "a year"),
        ("SECURE_SSL_REDIRECT", "sometimes"),
    ],
)
def test_a_malformed_variable_stops_the_start_with_its_name(variable: str, value: str) -> None:
    ran = manage(app_env(**{variable: value}), "check")
    assert ran.returncode != 0
    assert "ImproperlyConfigured" in ran.stderr
    assert variable in ran.stderr.strip().splitlines()[-1]


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off() -> None:
    ran = manage(app_env(DEBUG="false"), "check")
    assert ran.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false" in ran.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("X-Forwarded-Proto: https", ("HTTP_X_FORWARDED_PROTO", "https")),
        ("x-forwarded-ssl:on", ("HTTP_X_FORWARDED_SSL", "on")),
        ("", None),
    ],
)
def test_it_reads_the_tls_proxy_header(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: tuple[str, str] | None
) -> None:
    monkeypatch.setenv("SECURE_PROXY_SSL_HEADER", value)
    assert envheader("SECURE_PROXY_SSL_HEADER") == expected


def test_it_uses_postgresql_through_psycopg_3_for_a_postgres_url() -> None:
    url = "postgres://postgres@127.0.0.1:5432/postgres"
    script = (
        "from django.db import connection; connection.ensure_connection(); "
        "print(connection.vendor, connection.Database.__name__, connection.Database.__version__)"
    )
    ran = manage(app_env(DATABASE_URL=url), "shell", "--verbosity", "0", "-c", script)
    if ran.returncode != 0 and "connection" in ran.stderr.lower():
        missing_service(f"needs PostgreSQL at {url}: {ran.stderr.strip().splitlines()[-1]}")
    assert ran.returncode == 0, ran.stderr
    vendor, driver, version = ran.stdout.split()
    assert (vendor, driver) == ("postgresql", "psycopg")
    assert version.startswith("3.")


def test_it_uses_djangos_redis_cache_for_a_redis_url() -> None:
    url = redis_url()
    script = (
        "from django.core.cache import cache; cache.set('qd-url-check', 41, 30); "
        "print(type(cache._cache).__module__, cache.get('qd-url-check') + 1); "
        "cache.delete('qd-url-check')"
    )
    ran = manage(app_env(CACHE_URL=url), "shell", "--verbosity", "0", "-c", script)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["django.core.cache.backends.redis", "42"]


def readme_production_env() -> dict[str, str]:
    """The variables of the README's production example (under "## Deploying")."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Deploying\n", 1)[1].split("\n## ", 1)[0]
    pairs = re.findall(r"^ {4}([A-Z][A-Z0-9_]+)=(.*)$", section, flags=re.MULTILINE)
    assert pairs, "the README's Deploying section shows no environment"
    env = dict(pairs)
    assert env["DEBUG"] == "false"
    env["SECRET_KEY"] = secret_key()  # the README shows how to make one
    return env


def test_the_deploy_check_reports_nothing_under_the_readmes_production_settings() -> None:
    env = readme_production_env()
    # Its database and Redis are the deployment's; the check opens neither.
    ran = manage(app_env(**env), "check", "--deploy", "--fail-level", "WARNING")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "System check identified no issues" in ran.stdout
    assert "WARNINGS" not in ran.stdout + ran.stderr


def test_the_deploy_check_names_what_development_settings_leave_open() -> None:
    ran = manage(app_env(DEBUG="true"), "check", "--deploy")
    for check in ("security.W004", "security.W008", "security.W012", "security.W018"):
        assert check in ran.stderr + ran.stdout


# --- Content Security Policy: no inline script or style --------------------------------------


class InlineFinder(HTMLParser):
    """Everything in a page that a policy without 'unsafe-inline' (or 'unsafe-eval') blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self.htmx_config = ""
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>: {value}")
            if name.startswith("on") or name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"event handler {name} on <{tag}>")
            if value and value.strip().lower().startswith(("javascript:", "js:")):
                self.problems.append(f"script URL in {name} on <{tag}>")
        if tag == "style":
            self.problems.append("a <style> element")
        if tag == "script":
            if not names.get("src"):
                self.problems.append("an inline <script>")
            else:
                self.scripts.append(names["src"] or "")
            self._in_script = True
        if tag == "meta" and names.get("name") == "htmx-config":
            self.htmx_config = names.get("content") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"script text: {data.strip()[:80]}")


def inline_code(html: str) -> InlineFinder:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder


def policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in directives}


def assert_forbids_inline(header: str) -> None:
    directives = policy(header)
    for kind in ("script-src", "style-src"):
        sources = directives.get(kind, directives["default-src"])
        assert sources == ["'self'"], f"{kind}: {sources}"
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]


def page_answers(
    owner_client: Client, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Any]]:
    yield "sign-in form", Client().get("/accounts/login/")
    yield "type list", owner_client.get("/")
    yield "worker table", owner_client.get(f"/types/{seeds.TYPE_HUNDRED_ONE}/?status=all")
    yield (
        "worker table for htmx",
        owner_client.get(
            f"/types/{seeds.TYPE_HUNDRED_ONE}/",
            {"sort": "score"},
            headers={"HX-Request": "true", "HX-Target": "table-region"},
        ),
    )
    yield "type not found", owner_client.get("/types/NOSUCHTYPE0000000000000000000/")
    # No credentials anywhere (empty, as mock_aws must find them on its way out).
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
    mturk_client.forget_account()
    yield "MTurk not set up", owner_client.get(f"/types/{seeds.TYPE_ONE}/")


def test_every_page_forbids_inline_script_and_style_and_has_none(
    owner_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = []
    for name, response in page_answers(owner_client, monkeypatch):
        seen.append((name, response.status_code))
        assert_forbids_inline(response["Content-Security-Policy"])
        found = inline_code(response.content.decode())
        assert found.problems == [], name
        assert all(src.startswith("/static/") for src in found.scripts), name
    assert [status for _, status in seen] == [200, 200, 200, 200, 404, 503]


def test_htmx_is_configured_to_need_neither_inline_styles_nor_eval(owner_client: Client) -> None:
    found = inline_code(owner_client.get("/").content.decode())
    assert '"includeIndicatorStyles": false' in found.htmx_config
    assert '"allowEval": false' in found.htmx_config
    assert any(re.search(r"/django_htmx/htmx-2(\.min)?\.js$", src) for src in found.scripts)


def test_django_htmxs_debug_script_is_a_static_file_too(owner_client: Client) -> None:
    with override_settings(DEBUG=True):
        found = inline_code(owner_client.get("/").content.decode())
    assert "/static/django_htmx/django-htmx.js" in found.scripts
    assert found.problems == []


def test_the_database_unavailable_page_has_no_inline_code_either() -> None:
    request = RequestFactory().get("/types/ABC/")
    response = unavailable(request, RuntimeError("down"))
    assert response.status_code == 503
    assert inline_code(response.content.decode()).problems == []


# --- gunicorn as `make serve` starts it ------------------------------------------------------


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`collectstatic` with DEBUG off, as make serve runs it before gunicorn."""
    root = tmp_path_factory.mktemp("staticfiles")
    env = app_env(DEBUG="false", SECRET_KEY=secret_key(), STATIC_ROOT=str(root))
    ran = manage(env, "collectstatic", "--noinput")
    assert ran.returncode == 0, ran.stderr
    return root


def production_env(
    emulator_server: EmulatorServer, static_root: Path, directory: Path, **values: str
) -> dict[str, str]:
    """The README's production settings, with this machine's database, cache and emulator."""
    return app_env(
        DEBUG="false",
        SECRET_KEY=secret_key(),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",
        STATIC_ROOT=str(static_root),
        AWS_ENDPOINT_URL_MTURK=emulator_server.url,
        AWS_ACCESS_KEY_ID=f"AKIDPROD{free_port()}",
        AWS_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY,
        **{
            "DATABASE_URL": f"sqlite:///{directory / 'qualdash.sqlite3'}",
            "CACHE_URL": f"file://{directory / 'cache'}",
        }
        | values,
    )


def migrated(env: dict[str, str]) -> dict[str, str]:
    for command in (["migrate", "--noinput"], ["demo_user"]):
        ran = manage(env, *command)
        assert ran.returncode == 0, ran.stderr
    return env


@pytest.fixture(scope="module")
def server(
    emulator_server: EmulatorServer,
    static_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Gunicorn]:
    """One server on the embedded defaults (SQLite, file cache), two workers, DEBUG off."""
    directory = tmp_path_factory.mktemp("one-server")
    env = migrated(production_env(emulator_server, static_root, directory, WEB_CONCURRENCY="2"))
    gunicorn = Gunicorn(env, directory / "gunicorn.log")
    yield gunicorn
    gunicorn.stop()


def test_it_serves_pages_with_debug_off_through_gunicorn(server: Gunicorn) -> None:
    session = server.sign_in(DEMO_USER, DEMO_PASSWORD)
    page = server.request(
        "GET",
        f"/types/{seeds.TYPE_HUNDRED_ONE}/",
        VIA_TLS_PROXY | {"Cookie": f"sessionid={session}"},
    )
    assert page.status == 200
    assert "of 101 workers" in page.body
    assert_forbids_inline(page.headers["Content-Security-Policy"])
    assert inline_code(page.body).problems == []
    missing = server.request("GET", "/no/such/page/", VIA_TLS_PROXY)
    assert missing.status == 404
    assert "Traceback" not in missing.body
    assert "gthread" in server.output()
    assert len(re.findall(r"Booting worker with pid", server.output())) == 2


def test_it_serves_static_files_through_whitenoise_hashed_and_compressed(server: Gunicorn) -> None:
    body = server.request("GET", "/accounts/login/", VIA_TLS_PROXY).body
    stylesheet = re.search(r'href="(/static/dashboard\.[0-9a-f]{12}\.css)"', body)
    script = re.search(r'src="(/static/django_htmx/htmx-2\.min\.[0-9a-f]{12}\.js)"', body)
    assert stylesheet, body
    assert script, body
    for path in (stylesheet[1], script[1]):
        answer = server.request("GET", path, VIA_TLS_PROXY | {"Accept-Encoding": "gzip"})
        assert answer.status == 200
        assert "immutable" in answer.headers["Cache-Control"]
        assert "max-age=315360000" in answer.headers["Cache-Control"]
        assert answer.headers["Content-Encoding"] == "gzip"


def test_it_redirects_plain_http_and_sends_hsts_behind_the_tls_proxy(server: Gunicorn) -> None:
    plain = server.request("GET", "/accounts/login/?next=/")
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://127.0.0.1:{server.port}/accounts/login/?next=/"
    proxied = server.request("GET", "/accounts/login/", VIA_TLS_PROXY)
    assert proxied.status == 200
    assert proxied.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    cookie = proxied.headers["Set-Cookie"]
    assert "csrftoken=" in cookie
    assert "Secure" in cookie


# --- several workers, one walk ---------------------------------------------------------------


@pytest.fixture
def redis_server_env(
    emulator_server: EmulatorServer,
    static_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    """Production settings on Redis, with an account (cache scope) no other test uses."""
    url = redis_url()
    env = production_env(emulator_server, static_root, tmp_path, CACHE_URL=url)
    point_at(monkeypatch, emulator_server.url, env["AWS_ACCESS_KEY_ID"])
    scope = mturk_client.account().scope
    yield migrated(env)
    forget_redis_keys(url, f"*qd:{scope}:*")


def test_two_gunicorn_workers_asked_for_the_same_cold_type_walk_it_once(
    redis_server_env: dict[str, str], tmp_path: Path, mturk: Emulator
) -> None:
    # One request per worker at a time (one thread, one connection), so two requests at once are
    # served by two processes; the app is loaded before the workers fork, so both are ready.
    gunicorn = Gunicorn(
        redis_server_env
        | {
            "WEB_CONCURRENCY": "2",
            "QUALDASH_WALK_BUDGET_MS": "30000",
            "QUALDASH_FIRST_LOOK_BUDGET_MS": "30000",
        },
        tmp_path / "gunicorn.log",
        "--threads",
        "1",
        "--worker-connections",
        "1",
        "--preload",
    )
    try:
        gunicorn.wait_for_output(r"Booting worker with pid", count=2)
        session = gunicorn.sign_in(DEMO_USER, DEMO_PASSWORD)
        mturk.reset_counts()
        mturk.latency = 0.05  # 22 pages: the walk lasts over a second
        answers: list[Any] = [None, None]

        def look(index: int) -> None:
            answers[index] = gunicorn.request(
                "GET",
                f"/types/{seeds.TYPE_SMALL}/",
                VIA_TLS_PROXY | {"Cookie": f"sessionid={session}"},
            )

        lookers = [threading.Thread(target=look, args=(i,)) for i in range(2)]
        for looker in lookers:
            looker.start()
        for looker in lookers:
            looker.join(60)
        # gunicorn writes the access line after the answer: wait for both.
        gunicorn.wait_for_output(rf'"GET /types/{seeds.TYPE_SMALL}/ HTTP/1.1"', count=2)
        log = gunicorn.output()
    finally:
        gunicorn.stop()
    assert [getattr(answer, "status", None) for answer in answers] == [200, 200], log
    for answer in answers:
        assert "of 2,154 workers" in answer.body
        assert "still loading" not in answer.body
    # 2,154 workers are 22 pages: each was fetched once, for both workers.
    assert mturk.call_count(LIST) == 22, log
    served = re.findall(
        rf'"GET /types/{seeds.TYPE_SMALL}/ HTTP/1.1" 200 \d+ (\d+)ms worker <(\d+)>', log
    )
    assert len(served) == 2, log
    (first_ms, first_pid), (second_ms, second_pid) = served
    assert first_pid != second_pid, log
    # Both took about the walk's time: the second waited for the first's pages.
    assert min(int(first_ms), int(second_ms)) > 800, log


# --- the database down -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def database_down(
    emulator_server: EmulatorServer,
    static_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Gunicorn]:
    """A server whose PostgreSQL does not answer (nothing listens on its port)."""
    directory = tmp_path_factory.mktemp("database-down")
    env = production_env(
        emulator_server,
        static_root,
        directory,
        DATABASE_URL=f"postgres://qualdash@127.0.0.1:{free_port()}/qualdash",
    )
    gunicorn = Gunicorn(env, directory / "gunicorn.log")
    yield gunicorn
    gunicorn.stop()


def test_the_sign_in_form_still_shows_with_the_database_down(database_down: Gunicorn) -> None:
    form = database_down.request("GET", "/accounts/login/", VIA_TLS_PROXY)
    assert form.status == 200
    assert 'name="password"' in form.body


def test_a_signed_in_look_answers_503_with_the_database_down(database_down: Gunicorn) -> None:
    answer = database_down.request(
        "GET", "/?q=panel", VIA_TLS_PROXY | {"Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345"}
    )
    assert answer.status == 503
    assert "temporarily unavailable" in answer.body
    assert 'href="/?q=panel"' in answer.body
    assert answer.headers["Retry-After"] == "30"
    assert_forbids_inline(answer.headers["Content-Security-Policy"])
    assert inline_code(answer.body).problems == []
    assert "The database is unavailable (OperationalError) for GET /" in database_down.output()


def test_an_htmx_look_gets_the_503_card_over_the_content(database_down: Gunicorn) -> None:
    answer = database_down.request(
        "GET",
        f"/types/{seeds.TYPE_SMALL}/?page=2",
        VIA_TLS_PROXY
        | {
            "Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz012345",
            "HX-Request": "true",
            "HX-Target": "table-region",
            "HX-Current-URL": f"https://127.0.0.1:{database_down.port}/types/{seeds.TYPE_SMALL}/",
        },
    )
    assert answer.status == 503
    assert answer.headers["HX-Retarget"] == "#content"
    assert answer.headers["HX-Reswap"] == "innerHTML"
    assert answer.body.lstrip().startswith('<section class="card problem"')
    assert f'href="/types/{seeds.TYPE_SMALL}/"' in answer.body


def test_signing_in_answers_503_with_the_database_down(database_down: Gunicorn) -> None:
    answer = database_down.post_login(DEMO_USER, DEMO_PASSWORD)
    assert answer.status == 503
    assert "temporarily unavailable" in answer.body

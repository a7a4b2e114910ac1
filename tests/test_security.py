"""Security: who may see what, forged requests, password guessing, secrets, hostile text, scopes.

The dashboard holds AWS credentials that can spend money and lists workers by id: anonymous
visitors get nothing from any URL, every POST needs a CSRF token, sign-in guessing is locked out,
the AWS secret never reaches a page, a CSV or a log line, MTurk's text is escaped wherever it is
shown, and two accounts (or sandbox and production) never share a cache entry.
"""

import csv
import io
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from qualdash.mturk import client as mturk_client
from qualdash.mturk import emulator as seeds
from qualdash.mturk.emulator import Emulator, EmulatorServer
from tests.conftest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, point_at
from tests.observe import BACKOFF_SCALES, ROW_ID, Figures, csv_text, read_table
from tests.reference import truth

LIST = "ListWorkersWithQualificationType"
TYPE = seeds.TYPE_SMALL
figures = Figures()


@pytest.fixture(scope="module", autouse=True)
def _report_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    figures.report(request.config, "test_security")


@pytest.fixture(autouse=True)
def _quick(settings: LazySettings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap password hashes (users are made after this autouse fixture) and backoff scaled
    down 50 times: these tests count attempts and look at answers, not at their timing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setitem(BACKOFF_SCALES, "throttling_base_scale", 0.02)
    monkeypatch.setitem(BACKOFF_SCALES, "non_throttling_base_scale", 0.001)


def every_url() -> dict[str, str]:
    """A concrete URL for every pattern of the URLconf, by name (type ids: a real type)."""
    urls: dict[str, str] = {}

    def visit(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                visit(pattern.url_patterns, prefix + str(pattern.pattern))
                continue
            assert pattern.name, f"every URL has a name: {prefix}{pattern.pattern}"
            kwargs = {name: TYPE for name in pattern.pattern.converters}
            urls[pattern.name] = reverse(pattern.name, kwargs=kwargs)

    visit(get_resolver().url_patterns, "")
    return urls


PUBLIC = {"login", "logout"}  # the sign-in form, and signing out (which only ends a session)
HTMX_TARGETS = ("table-region", "workers", "type-table", "content")


def csrf_token(client: Client) -> str:
    client.get(reverse("login"))
    return str(client.cookies["csrftoken"].value)


# --- anonymous visitors --------------------------------------------------------------------


def assert_reveals_nothing(response: Any, what: str) -> None:
    body = csv_text(response) if response.streaming else response.content.decode()
    assert not ROW_ID.findall(body), what
    assert "WorkerId" not in body, what
    assert "Attention-check passers" not in body, what
    assert "account <code>" not in body, what
    assert mturk_client.account().scope not in body, what
    assert ACCESS_KEY_ID not in body, what


def test_anonymous_visitors_get_nothing_from_any_url(
    owner_client: Client, mturk: Emulator, settings: LazySettings
) -> None:
    # The type is walked and cached: there is something to leak.
    assert read_table(owner_client.get(reverse("worker_table", args=[TYPE]))).complete
    mturk.reset_counts()
    urls = every_url()
    assert set(urls) >= {"type_list", "worker_table", "export_csv", "refresh_workers"}
    anonymous = Client()
    login = reverse("login")
    for name, url in urls.items():
        probes: list[tuple[str, Any]] = [
            ("GET", anonymous.get(url)),
            ("GET ?status=all", anonymous.get(url, {"status": "all", "q": "A"})),
            ("HEAD", anonymous.head(url)),
            ("POST", anonymous.post(url, {"q": "A"})),
        ]
        for target in HTMX_TARGETS:
            headers = {
                "HX-Request": "true",
                "HX-Target": target,
                "HX-Current-URL": f"http://testserver{url}",
            }
            probes.append((f"HTMX GET {target}", anonymous.get(url, headers=headers)))
            probes.append((f"HTMX POST {target}", anonymous.post(url, headers=headers)))
        # A foreign page as the HTMX current URL does not become the place to go back to.
        foreign = {"HX-Request": "true", "HX-Current-URL": "https://evil.example/steal"}
        probes.append(("HTMX foreign", anonymous.get(url, headers=foreign)))
        for method, response in probes:
            what = f"{method} {url}"
            figures.add("anonymous probes")
            assert_reveals_nothing(response, what)
            if name in PUBLIC:
                assert response.status_code in {200, 302, 405}, what
                continue
            if "HX-Redirect" in response:
                assert response.status_code == 200, what
                assert response["HX-Redirect"].startswith(f"{login}?next=/"), what
                assert "evil.example" not in response["HX-Redirect"], what
            else:
                assert response.status_code == 302, what
                assert response["Location"].startswith(f"{login}?next="), what
    # Not one call reached MTurk on an anonymous visitor's behalf.
    assert mturk.call_count() == 0


def test_the_sign_in_page_shows_nothing_of_the_mturk_account(client: Client) -> None:
    response = client.get(reverse("login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert mturk_client.account().scope not in body
    assert "Production" not in body
    assert "SANDBOX" not in body
    assert mturk_client.account().endpoint.split("//")[1] not in body


def test_sign_in_does_not_redirect_off_site(client: Client, owner: User) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            reverse("login"),
            {"username": "owner", "password": "owner-password-1", "next": target},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("type_list")
        client.logout()


# --- CSRF ----------------------------------------------------------------------------------


def test_every_post_needs_a_csrf_token(owner: User, mturk: Emulator) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    token = csrf_token(strict)
    accepted = set()
    for name, url in every_url().items():
        for headers in ({}, {"HX-Request": "true", "HX-Target": "table-region"}):
            refused = strict.post(url, headers=headers)
            figures.add("csrf probes")
            assert refused.status_code == 403, (name, refused.status_code)
            assert b"CSRF" in refused.content
            forged = strict.post(url, headers={**headers, "X-CSRFToken": "x" * 64})
            assert forged.status_code == 403, name
        # With the token as htmx sends it (hx-headers on <body>), a POST gets through.
        allowed = strict.post(url, headers={"X-CSRFToken": token})
        if allowed.status_code != 405:
            accepted.add(name)
            # The sign-in form answers an empty form with its errors; the others redirect.
            assert allowed.status_code == (200 if name == "login" else 302), name
        if name == "logout":
            strict.force_login(owner)
            token = csrf_token(strict)
    assert accepted >= {"refresh_types", "refresh_workers", "logout"}
    assert mturk.call_count() == 0  # a refresh forgets; it does not call MTurk


def test_a_login_needs_a_csrf_token(owner: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "owner", "password": "owner-password-1"})
    assert response.status_code == 403
    assert "_auth_user_id" not in strict.session


# --- password guessing ---------------------------------------------------------------------


def sign_in(client: Client, username: str, password: str, address: str = "10.1.1.1") -> Any:
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_sign_in_is_locked_after_five_failures_of_one_user_from_one_address(
    owner: User, mturk: Emulator
) -> None:
    User.objects.create_user("teammate", password="teammate-password-1")
    attacker = Client()
    for _ in range(4):
        response = sign_in(attacker, "owner", "guess")
        figures.add("sign-in guesses")
        assert response.status_code == 200
        assert "do not match" in response.content.decode()
    fifth = sign_in(attacker, "owner", "guess")
    figures.add("sign-in guesses")
    assert fifth.status_code == 429
    # Locked: even the right password is refused, with a clear page that shows no data.
    locked = sign_in(attacker, "owner", "owner-password-1")
    assert locked.status_code == 429
    assert not signed_in(attacker)
    body = locked.content.decode()
    assert "Too many failed sign-ins" in body
    assert "After 5 wrong passwords" in body
    assert "for 15 minutes" in body
    assert_reveals_nothing(locked, "lockout page")
    assert attacker.get(reverse("type_list")).status_code == 302

    # Another user from the same address, and the same user from elsewhere, still sign in.
    assert sign_in(Client(), "teammate", "teammate-password-1").status_code == 302
    assert sign_in(Client(), "owner", "owner-password-1", address="10.2.2.2").status_code == 302
    # Sessions made without a password (the test suite's force_login) are unaffected.
    forced = Client()
    forced.force_login(owner)
    assert forced.get(reverse("type_list")).status_code == 200


def test_a_lockout_ends_after_the_cool_off(
    owner: User, mturk: Emulator, settings: LazySettings
) -> None:
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    client = Client()
    for _ in range(5):
        sign_in(client, "owner", "guess")
    assert sign_in(client, "owner", "owner-password-1").status_code == 429
    time.sleep(1.1)
    assert sign_in(client, "owner", "owner-password-1").status_code == 302
    assert signed_in(client)


def test_behind_the_tls_proxy_the_lockout_is_per_forwarded_address(
    owner: User, mturk: Emulator, settings: LazySettings
) -> None:
    """Every request reaches gunicorn from the proxy (127.0.0.1): the lockout must follow the
    address the proxy appended to X-Forwarded-For, not the proxy's, and not a forged entry."""
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    def through_proxy(client: Client, forwarded: str, password: str) -> Any:
        return client.post(
            reverse("login"),
            {"username": "owner", "password": password},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=forwarded,
            HTTP_X_FORWARDED_PROTO="https",
            secure=True,
        )

    attacker = Client()
    for number in range(6):
        # Forging a first entry changes nothing: the proxy's own entry comes last.
        through_proxy(attacker, f"10.0.0.{number}, 203.0.113.9", "guess")
    assert through_proxy(attacker, "203.0.113.9", "owner-password-1").status_code == 429
    assert through_proxy(Client(), "198.51.100.7", "owner-password-1").status_code == 302


def test_session_and_csrf_cookies_are_secure_in_production() -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "AWS_", "QUALDASH_", "SECURE_", "SESSION_", "CSRF_"))
    }
    environment |= {
        "DEBUG": "false",
        "SECRET_KEY": "production-like-secret-key-for-this-test-only-0123456789",
        "ALLOWED_HOSTS": "qualdash.example.org",
        "DJANGO_SETTINGS_MODULE": "qualdash.settings",
    }
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.DEBUG, 'axes' in s.INSTALLED_APPS, s.MIDDLEWARE[-1])"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == [
        "True",
        "True",
        "True",
        "False",
        "True",
        "axes.middleware.AxesMiddleware",
    ]


# --- secrets -------------------------------------------------------------------------------


def test_the_aws_secret_never_reaches_a_page_a_partial_a_csv_or_a_log_line(
    owner_client: Client,
    mturk: Emulator,
    settings: LazySettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "boto3", "urllib3", "qualdash", "django", "axes"):
        caplog.set_level(logging.DEBUG, logger=name)
    table = reverse("worker_table", args=[TYPE])
    export = reverse("export_csv", args=[TYPE])
    htmx = {"HX-Request": "true", "HX-Target": "table-region"}
    responses: list[Any] = []

    def look(response: Any) -> None:
        responses.append(response)

    look(owner_client.get("/"))
    look(owner_client.get("/", {"q": "panel"}, headers={"HX-Request": "true"}))
    look(owner_client.get(table, {"status": "all"}))
    look(owner_client.get(table, {"status": "all", "sort": "score"}, headers=htmx))
    look(owner_client.get(export, {"status": "all"}))
    look(owner_client.get(export, {"score_min": "x"}))
    look(owner_client.get(reverse("worker_table", args=["3NOSUCHTYPE"])))
    mturk.throttle_every = 2
    owner_client.post(reverse("refresh_workers", args=[seeds.TYPE_HUNDRED_ONE]))
    look(owner_client.get(reverse("worker_table", args=[seeds.TYPE_HUNDRED_ONE])))
    mturk.throttle_every = 0
    mturk.fail_next(100)
    look(owner_client.get(reverse("worker_table", args=[seeds.TYPE_HUNDRED])))
    look(owner_client.get(reverse("worker_table", args=[seeds.TYPE_HUNDRED]), headers=htmx))
    mturk.fail_next(0)
    settings.QUALDASH_WALK_BUDGET = 0.05
    mturk.latency = 0.01
    look(owner_client.get(reverse("worker_table", args=[seeds.TYPE_MEDIUM])))
    mturk.expire_tokens()
    mturk.latency = 0.0
    look(owner_client.get(reverse("worker_table", args=[seeds.TYPE_MEDIUM]), headers=htmx))
    anonymous = Client()
    for _ in range(6):
        look(sign_in(anonymous, "owner", "wrong"))

    assert {response.status_code for response in responses} >= {200, 400, 404, 429, 503}
    assert "ThrottlingException" in caplog.text or "Throttl" in caplog.text
    assert "MTurk rejected a pagination token" in caplog.text
    for response in responses:
        body = csv_text(response) if response.streaming else response.content.decode()
        headers = "\n".join(f"{key}: {value}" for key, value in response.items())
        for text in (body, headers):
            assert SECRET_ACCESS_KEY not in text
            assert ACCESS_KEY_ID not in text
        figures.add("responses searched for the AWS secret")
    logged = "\n".join(
        [caplog.text]
        + [str(record.args) for record in caplog.records]
        + [record.exc_text or "" for record in caplog.records]
    )
    assert SECRET_ACCESS_KEY not in logged
    figures.add("log records searched for the AWS secret", len(caplog.records))


# --- hostile text from MTurk ---------------------------------------------------------------

HOSTILE_RAW = (
    '<script>alert("qd")</script>',
    "<img src=x onerror=alert(1)>",
    "<b>bold</b>",
)


def test_hostile_type_names_and_descriptions_are_escaped_everywhere(
    owner_client: Client, mturk: Emulator
) -> None:
    hostile = reverse("worker_table", args=[seeds.TYPE_HOSTILE])
    pages = {
        "type list": owner_client.get("/"),
        "type list partial": owner_client.get(
            "/", {"q": "script"}, headers={"HX-Request": "true", "HX-Target": "type-table"}
        ),
        "table": owner_client.get(hostile, {"status": "all"}),
        "table partial": owner_client.get(
            hostile, {"status": "all"}, headers={"HX-Request": "true", "HX-Target": "workers"}
        ),
    }
    for what, response in pages.items():
        assert response.status_code == 200, what
        body = response.content.decode()
        for raw in HOSTILE_RAW:
            assert raw not in body, what
        figures.add("hostile renderings checked")
    title = re.search(r"<title>(.*?)</title>", pages["table"].content.decode(), re.S)
    assert title
    assert title.group(1).startswith("&lt;script&gt;alert(&quot;qd&quot;)&lt;/script&gt;")
    table = pages["table"].content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in table
    assert "Тест 測試 🙂" in table
    assert "1 of " in pages["type list partial"].content.decode()

    export: Any = owner_client.get(
        reverse("export_csv", args=[seeds.TYPE_HOSTILE]), {"status": "all"}
    )
    assert export["Content-Disposition"] == (
        f'attachment; filename="{export["Content-Disposition"].split(chr(34))[1]}"'
    )
    assert re.fullmatch(
        r'attachment; filename="qualdash-[A-Z0-9]+-all-\d{8}T\d{6}Z\.csv"',
        export["Content-Disposition"],
    )
    rows = list(csv.reader(io.StringIO(csv_text(export))))
    assert len(rows) == 1 + len(truth(mturk, seeds.TYPE_HOSTILE, "all"))
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
            assert "<" not in cell
    figures.add("hostile renderings checked")


@pytest.mark.parametrize(
    "payload",
    [
        '"><script>alert(1)</script>',
        "<svg/onload=alert(1)>",
        "javascript:alert(1)",
        "' onmouseover='alert(1)",
    ],
)
def test_reflected_query_values_are_escaped(owner_client: Client, payload: str) -> None:
    table = reverse("worker_table", args=[seeds.TYPE_ONE])
    params = {name: payload for name in ("q", "score_min", "sort", "granted_after", "status")}
    params["country"] = payload
    for headers in ({}, {"HX-Request": "true", "HX-Target": "table-region"}):
        response = owner_client.get(table, params, headers=headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert "<script>alert(1)" not in body
        assert "<svg/onload" not in body
        assert "onmouseover='alert" not in body
        assert 'href="javascript:' not in body
        figures.add("reflected payloads checked")
    found = owner_client.get("/", {"q": payload})
    assert "<script>alert(1)" not in found.content.decode()
    assert "<svg/onload" not in found.content.decode()


# --- accounts and endpoints never share the cache ------------------------------------------


def cache_keys() -> set[str]:
    store: dict[str, Any] = vars(caches["default"])["_cache"]
    return set(store)


def test_two_access_keys_on_one_cache_never_see_each_others_pages(
    owner_client: Client,
    mturk: Emulator,
    emulator_server: EmulatorServer,
    settings: LazySettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "two-accounts",
            "OPTIONS": {"MAX_ENTRIES": 50_000},
        }
    }
    table = reverse("worker_table", args=[TYPE])
    first = read_table(owner_client.get(table, {"status": "all"}))
    assert first.complete
    scope_a = mturk_client.account().scope
    keys_a = cache_keys()
    assert keys_a
    assert all(f":qd:{scope_a}:" in key for key in keys_a)

    point_at(monkeypatch, emulator_server.url, "AKIDSECONDACCOUNT")
    mturk.reset_counts()
    second = read_table(owner_client.get(table, {"status": "all"}))
    scope_b = mturk_client.account().scope
    assert scope_b != scope_a
    assert f"<code>{scope_b}</code>" in second.body
    assert f"<code>{scope_a}</code>" not in second.body
    # The second account walked MTurk itself, with its own key, every page of it.
    assert {key for _, key in mturk.calls} == {"AKIDSECONDACCOUNT"}
    assert mturk.call_count(LIST) == 22 + 4
    keys_b = cache_keys() - keys_a
    assert keys_b
    assert all(f":qd:{scope_b}:" in key for key in keys_b)

    # Back to the first account: its pages are still its own, and nothing is fetched.
    point_at(monkeypatch, emulator_server.url)
    mturk.reset_counts()
    again = read_table(owner_client.get(table, {"status": "all"}))
    assert again.ids == first.ids
    assert mturk.call_count() == 0
    figures.add("cache keys checked for their account scope", len(cache_keys()))


def test_sandbox_and_production_have_their_own_scope_and_endpoint(
    owner_client: Client, mturk: Emulator, settings: LazySettings
) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sandbox-and-production",
        }
    }
    assert read_table(owner_client.get(reverse("worker_table", args=[TYPE]))).complete
    production = mturk_client.account()
    calls = mturk.call_count()
    settings.QUALDASH_MTURK_SANDBOX = True  # rebuilds the client; it calls nothing until asked
    sandbox = mturk_client.account()
    assert sandbox.sandbox
    assert sandbox.endpoint == mturk_client.SANDBOX_ENDPOINT
    assert sandbox.scope != production.scope
    assert mturk.call_count() == calls
    keys = cache_keys()
    assert keys
    assert all(f":qd:{production.scope}:" in key for key in keys)
    assert not any(sandbox.scope in key for key in keys)

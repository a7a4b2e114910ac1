"""Fixtures for the browser tests: Debian's Chromium under Playwright, against the live server.

The live server runs in a thread of this process, so the project's autouse `mturk` fixture
(emulator endpoint and credentials in the environment, a cache of its own in the settings)
applies to it as much as to the test itself. Every page a test opens is watched: a request to
any host but the live server, or an error on the console, fails the test.
"""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request

CHROMIUM = Path("/usr/bin/chromium")
# Without these, Chromium keeps trying to reach the internet this machine does not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _playwright_missing() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as error:
        return f"Playwright for Python is not installed ({error}): pip install -e '.[dev]'"
    return ""


PLAYWRIGHT_MISSING = _playwright_missing()
if PLAYWRIGHT_MISSING:
    # The scenarios import Playwright; without it only test_browser.py is collected, and its
    # `browser` fixture skips with the reason (or fails, in CI).
    collect_ignore_glob = ["test_[!b]*.py"]

PASSWORD = "requester-password-1"


def _unavailable(reason: str) -> NoReturn:
    """Skip locally; in CI a missing browser is a broken machine, not a reason to pass."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator["Browser"]:
    if PLAYWRIGHT_MISSING:
        _unavailable(PLAYWRIGHT_MISSING)
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    # Sync Playwright keeps an event loop running in this thread, so Django takes the test's ORM
    # calls (creating users, expiring sessions) for async code and refuses them. The scope is
    # the package: the loop, and this permission, end with the browser tests.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watch:
    """What a page did that it must not: errors on the console, requests to other hosts."""

    server: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def on_console(self, message: "ConsoleMessage") -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} at {message.location}")

    def on_page_error(self, error: Any) -> None:
        self.console_errors.append(f"uncaught: {error}")

    def on_request(self, request: "Request") -> None:
        self.requests.append(request.url)
        if urlsplit(request.url).netloc != self.server:
            self.foreign_requests.append(request.url)


@pytest.fixture
def context(browser: "Browser", live_server: Any) -> Iterator["BrowserContext"]:
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1280, "height": 860},
        accept_downloads=True,
        locale="en-US",
        timezone_id="UTC",
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def watch(live_server: Any) -> Watch:
    return Watch(server=urlsplit(live_server.url).netloc)


@pytest.fixture
def page(context: "BrowserContext", watch: Watch) -> Iterator["Page"]:
    page = context.new_page()
    page.on("console", watch.on_console)
    page.on("pageerror", watch.on_page_error)
    page.on("request", watch.on_request)
    yield page
    assert watch.foreign_requests == [], "the page reached a host other than the server"
    assert watch.console_errors == [], "the page logged errors on the console"


@pytest.fixture
def requester(transactional_db: None) -> User:
    return User.objects.create_user("requester", password=PASSWORD)


@pytest.fixture
def signed_in(context: "BrowserContext", requester: User, live_server: Any) -> User:
    """The browser holds a session of `requester`, as if they had signed in earlier."""
    client = Client()
    client.force_login(requester)
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": live_server.url}]
    )
    return requester


def screenshot(page: "Page", name: str) -> Path:
    """Save the viewport as docs/screenshots/<name>.png, for the README."""
    # A template comment or tag that leaked into the page shows in the picture too.
    text = page.locator("body").inner_text()
    assert "{#" not in text, "template syntax on the page"
    assert "{%" not in text, "template syntax on the page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    return path


def at(path: str, query: str = "") -> Callable[[str], bool]:
    """A URL test for page.wait_for_url: this path and exactly these query parameters.

    Parameters compare decoded, in any order: htmx writes a space as %20, a form as "+".
    """
    wanted = parse_qs(query)

    def matches(url: str) -> bool:
        parts = urlsplit(url)
        return parts.path == path and parse_qs(parts.query) == wanted

    return matches

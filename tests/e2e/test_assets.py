"""Everything a page needs comes from the server itself, and nothing goes wrong on the console."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from qualdash.mturk.emulator import TYPE_SMALL
from tests.e2e.conftest import Watch, at

pytestmark = pytest.mark.e2e

TABLE = f"/types/{TYPE_SMALL}/"


def test_it_asks_no_host_but_the_server_and_logs_no_console_error(
    page: Page, signed_in: User, watch: Watch
) -> None:
    page.goto("/")
    page.get_by_label("Search by name").fill("attention")
    page.wait_for_url(at("/", "q=attention"))
    page.get_by_role("link", name="Attention-check passers").click()
    page.wait_for_url(at(TABLE))
    page.get_by_label("Worker ID contains").fill("ab")
    page.wait_for_url(at(TABLE, "q=AB"))
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").click()
    page.wait_for_url(at(TABLE, "q=AB&page=2"))

    # htmx and the stylesheet are served locally, and they work.
    assert page.evaluate("typeof window.htmx") == "object"
    expect(page.locator(".topbar")).to_have_css("background-color", "rgb(29, 36, 48)")
    sources = page.eval_on_selector_all(
        "script[src], link[href], img[src]", "nodes => nodes.map(n => n.src || n.href)"
    )
    assert sources
    assert all(source.startswith(page.url.split("/types/")[0] + "/static/") for source in sources)
    assert {request.split("?")[0].rsplit(".", 1)[-1] for request in watch.requests} >= {
        "css",
        "js",
    }
    assert watch.foreign_requests == []
    assert watch.console_errors == []

"""A session that ends while the table is open sends the whole page to the login form."""

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from playwright.sync_api import Page, expect

from qualdash.mturk.emulator import TYPE_SMALL, Emulator
from tests.e2e.conftest import PASSWORD, at
from tests.e2e.truth import expected_ids

pytestmark = pytest.mark.e2e

TABLE = f"/types/{TYPE_SMALL}/"


def test_it_sends_an_expired_session_to_the_login_page_not_into_the_table(
    page: Page, signed_in: User, mturk: Emulator
) -> None:
    page.goto(f"{TABLE}?q=AB")
    expect(page.locator("#table-region tbody tr")).to_have_count(50)

    Session.objects.all().delete()
    page.locator("#table-region thead th").filter(has_text="Score").get_by_role("link").click()

    page.wait_for_url(at("/accounts/login/", f"next={TABLE}?q=AB"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#table-region")).to_have_count(0)

    page.get_by_label("User name").fill(signed_in.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(at(TABLE, "q=AB"))
    expect(page.locator("#table-region tbody td:first-child")).to_have_text(
        expected_ids(mturk, TYPE_SMALL, q="AB")[:50]
    )


def test_it_sends_a_browser_without_its_cookie_to_the_login_page_while_searching(
    page: Page, signed_in: User
) -> None:
    page.goto(TABLE)
    expect(page.locator("#table-region tbody tr")).to_have_count(50)

    page.context.clear_cookies()
    page.get_by_label("Worker ID contains").press_sequentially("ab", delay=30)

    page.wait_for_url(at("/accounts/login/", f"next={TABLE}"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator("#table-region")).to_have_count(0)

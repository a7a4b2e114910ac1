"""A requester signs in, finds a Qualification type by name and opens it."""

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from qualdash.mturk.emulator import SEED_TYPES, TYPE_SMALL, EmulatorServer
from tests.e2e.conftest import PASSWORD, Watch, at, screenshot

pytestmark = pytest.mark.e2e


def test_it_signs_in_through_the_login_form(
    page: Page, requester: User, emulator_server: EmulatorServer
) -> None:
    page.goto("/")
    page.wait_for_url(at("/accounts/login/", "next=/"))
    page.get_by_label("User name").fill(requester.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(at("/"))
    expect(page.get_by_role("heading", name="Your Qualification types")).to_be_visible()
    expect(page.locator(".signout")).to_contain_text(requester.username)
    # The live server thread talks to the emulator the test fixtures started.
    expect(page.locator(".topbar .account")).to_contain_text(urlsplit(emulator_server.url).netloc)
    expect(page.locator("#type-table .summary")).to_have_text(f"{len(SEED_TYPES)} types")


def test_it_sends_a_wrong_password_back_to_the_form(page: Page, requester: User) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("User name").fill(requester.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.wait_for_url(at("/accounts/login/"))


def test_it_narrows_the_type_list_as_the_requester_types(
    page: Page, signed_in: User, watch: Watch
) -> None:
    page.goto("/")
    rows = page.locator("#type-table tbody tr")
    expect(rows).to_have_count(len(SEED_TYPES))
    screenshot(page, "type-list")

    page.get_by_label("Search by name").press_sequentially("panel wave", delay=20)

    names = sorted(
        (seed.name for seed in SEED_TYPES if "panel wave" in seed.name.casefold()),
        key=str.casefold,
    )
    expect(page.locator("#type-table tbody tr td:first-child")).to_have_text(names)
    expect(page.locator("#type-table .summary")).to_have_text(
        f"{len(names)} of {len(SEED_TYPES)} types match “panel wave”"
    )
    page.wait_for_url(at("/", "q=panel+wave"))
    # The debounce: one request for the whole phrase, not one per key.
    searches = [url for url in watch.requests if "?q=" in url]
    assert len(searches) == 1, searches


def test_it_opens_a_type_from_the_list(page: Page, signed_in: User, live_server: Any) -> None:
    (seed,) = (seed for seed in SEED_TYPES if seed.type_id == TYPE_SMALL)
    page.goto("/")
    page.get_by_role("link", name=seed.name).click()

    page.wait_for_url(at(f"/types/{TYPE_SMALL}/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(seed.name)
    expect(page.locator("#table-region .summary")).to_have_text(
        f"Showing 1–50 of {seed.granted:,} workers."
    )

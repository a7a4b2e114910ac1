"""A type too large for one request loads in steps that the page shows, then completes."""

import re

import pytest
from django.conf import LazySettings
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from qualdash.mturk.emulator import TYPE_MEDIUM, Emulator
from tests.e2e.conftest import at, screenshot
from tests.e2e.truth import expected_ids

pytestmark = pytest.mark.e2e

TABLE = f"/types/{TYPE_MEDIUM}/"
LOADED = re.compile(r"([\d,]+) workers loaded, still loading…")


def test_it_shows_a_large_type_loading_and_then_complete(
    page: Page, signed_in: User, mturk: Emulator, settings: LazySettings
) -> None:
    # 240 API pages: with 10 ms each and 0.5 s per request, several continuations.
    settings.QUALDASH_WALK_BUDGET = 0.5
    mturk.latency = 0.01
    first_response = page.goto(TABLE)
    assert first_response is not None
    # The live server thread works with this test's settings: 0.5 s at 10 ms or more per API
    # page is at most 51 pages of 100 workers before the first answer (the default 2 s budget
    # would load over 12,000).
    first = LOADED.search(first_response.text())
    assert first is not None
    assert int(first.group(1).replace(",", "")) <= 5_100
    history_length = page.evaluate("history.length")
    region = page.locator("#table-region")
    progress = region.locator(".progress")
    summary = region.locator(".summary")

    expect(region).to_have_attribute("aria-busy", "true")
    expect(progress).to_have_text(LOADED)
    expect(summary).to_contain_text("among those loaded so far")
    screenshot(page, "large-type-loading")

    expect(region).not_to_have_attribute("aria-busy", "true", timeout=60_000)
    expect(progress).to_have_count(0)
    expect(summary).to_have_text("Showing 1–50 of 24,000 workers.")
    expect(region.locator("tbody td:first-child")).to_have_text(
        expected_ids(mturk, TYPE_MEDIUM)[:50]
    )
    # The continuations replaced the table in place: same address, no history entries.
    page.wait_for_url(at(TABLE))
    assert page.evaluate("history.length") == history_length

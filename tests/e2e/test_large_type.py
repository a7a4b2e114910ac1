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
    # 240 API pages: with 10 ms each and 0.3 s per request, several continuations.
    settings.QUALDASH_WALK_BUDGET = 0.3
    mturk.latency = 0.01
    page.goto(TABLE)
    history_length = page.evaluate("history.length")
    region = page.locator("#table-region")
    progress = region.locator(".progress")
    summary = region.locator(".summary")

    expect(region).to_have_attribute("aria-busy", "true")
    expect(progress).to_have_text(LOADED)
    expect(summary).to_contain_text("among those loaded so far")
    screenshot(page, "large-type-loading")
    match = LOADED.search(progress.inner_text())
    assert match is not None
    first_count = int(match.group(1).replace(",", ""))
    assert 0 < first_count < 24_000

    expect(region).not_to_have_attribute("aria-busy", "true", timeout=60_000)
    expect(progress).to_have_count(0)
    expect(summary).to_have_text("Showing 1–50 of 24,000 workers.")
    expect(region.locator("tbody td:first-child")).to_have_text(
        expected_ids(mturk, TYPE_MEDIUM)[:50]
    )
    # The continuations replaced the table in place: same address, no history entries.
    page.wait_for_url(at(TABLE))
    assert page.evaluate("history.length") == history_length

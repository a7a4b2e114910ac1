"""A requester works through one type's workers: sort, search, status, pages, back button."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Locator, Page, expect

from qualdash.mturk.emulator import TYPE_SMALL, Emulator
from tests.e2e.conftest import Watch, at, screenshot
from tests.e2e.truth import expected_ids

pytestmark = pytest.mark.e2e

TABLE = f"/types/{TYPE_SMALL}/"
PER_PAGE = 50


def worker_ids(page: Page) -> Locator:
    return page.locator("#table-region tbody td:first-child")


def summary(page: Page) -> Locator:
    return page.locator("#table-region .summary")


def header(page: Page, label: str) -> Locator:
    return page.locator("#table-region thead th").filter(has_text=label)


def test_it_shows_the_newest_grants_first(page: Page, signed_in: User, mturk: Emulator) -> None:
    page.goto(TABLE)

    expect(worker_ids(page)).to_have_text(expected_ids(mturk, TYPE_SMALL)[:PER_PAGE])
    expect(header(page, "Granted (UTC)")).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#table-region")).not_to_have_attribute("aria-busy", "true")


def test_it_sorts_by_a_clicked_column_and_reverses_on_a_second_click(
    page: Page, signed_in: User, mturk: Emulator
) -> None:
    page.goto(TABLE)
    score = header(page, "Score")

    score.get_by_role("link").click()
    page.wait_for_url(at(TABLE, "sort=-score"))
    expect(worker_ids(page)).to_have_text(expected_ids(mturk, TYPE_SMALL, sort="-score")[:PER_PAGE])
    expect(score).to_have_attribute("aria-sort", "descending")
    expect(header(page, "Granted (UTC)")).to_have_attribute("aria-sort", "none")

    score.get_by_role("link").click()
    page.wait_for_url(at(TABLE, "sort=score"))
    expect(worker_ids(page)).to_have_text(expected_ids(mturk, TYPE_SMALL, sort="score")[:PER_PAGE])
    expect(score).to_have_attribute("aria-sort", "ascending")


def test_it_narrows_the_table_as_the_requester_types_after_the_debounce(
    page: Page, signed_in: User, mturk: Emulator, watch: Watch
) -> None:
    page.goto(TABLE)
    expect(summary(page)).to_have_text("Showing 1–50 of 2,154 workers.")

    page.get_by_label("Worker ID contains").press_sequentially("ab", delay=30)

    expected = expected_ids(mturk, TYPE_SMALL, q="AB")
    expect(summary(page)).to_have_text(
        f"Showing 1–50 of {len(expected)} workers (filtered from 2,154)."
    )
    expect(worker_ids(page)).to_have_text(expected[:PER_PAGE])
    page.wait_for_url(at(TABLE, "q=AB"))
    expect(page.locator(".chips")).to_contain_text("Worker ID contains “AB”")
    # One request once the typing paused, not one per key.
    searches = [url for url in watch.requests if "q=" in url]
    assert len(searches) == 1, searches
    screenshot(page, "filtered-table")


def test_it_switches_status(page: Page, signed_in: User, mturk: Emulator) -> None:
    page.goto(TABLE)

    page.get_by_label("Revoked").check()
    page.wait_for_url(at(TABLE, "status=revoked"))
    revoked = expected_ids(mturk, TYPE_SMALL, status="revoked")
    expect(summary(page)).to_have_text(f"Showing 1–50 of {len(revoked)} workers.")
    expect(worker_ids(page)).to_have_text(revoked[:PER_PAGE])
    expect(page.locator("#table-region tbody td:nth-child(2)")).to_have_text(["Revoked"] * 50)

    page.get_by_label("All").check()
    page.wait_for_url(at(TABLE, "status=all"))
    every = expected_ids(mturk, TYPE_SMALL, status="all")
    expect(summary(page)).to_have_text(f"Showing 1–50 of {len(every):,} workers.")
    expect(worker_ids(page)).to_have_text(every[:PER_PAGE])


def test_it_pages_forward_and_back(page: Page, signed_in: User, mturk: Emulator) -> None:
    page.goto(f"{TABLE}?q=AB&sort=score")
    expected = expected_ids(mturk, TYPE_SMALL, sort="score", q="AB")
    pager = page.get_by_role("navigation", name="Pages")
    expect(pager).to_contain_text("Page 1 of 2")

    pager.get_by_role("link", name="Next").click()
    page.wait_for_url(at(TABLE, "q=AB&sort=score&page=2"))
    expect(summary(page)).to_contain_text(f"Showing 51–{len(expected)} of {len(expected)}")
    expect(worker_ids(page)).to_have_text(expected[PER_PAGE:])
    # Workers without a score come last, at the end of the ascending order.
    expect(page.locator("#table-region tbody tr:last-child td.num")).to_have_text("")
    expect(pager.get_by_role("link", name="Next")).to_have_count(0)

    pager.get_by_role("link", name="Previous").click()
    page.wait_for_url(at(TABLE, "q=AB&sort=score"))
    expect(worker_ids(page)).to_have_text(expected[:PER_PAGE])
    expect(pager.get_by_role("link", name="Previous")).to_have_count(0)


def test_it_restores_the_previous_sort_and_filter_on_the_back_button(
    page: Page, signed_in: User, mturk: Emulator
) -> None:
    page.goto(TABLE)
    search = page.get_by_label("Worker ID contains")
    search.press_sequentially("ab", delay=30)
    page.wait_for_url(at(TABLE, "q=AB"))
    expect(worker_ids(page)).to_have_text(expected_ids(mturk, TYPE_SMALL, q="AB")[:PER_PAGE])
    header(page, "Worker ID").get_by_role("link").click()
    page.wait_for_url(at(TABLE, "q=AB&sort=worker_id"))
    by_id = expected_ids(mturk, TYPE_SMALL, sort="worker_id", q="AB")
    expect(worker_ids(page)).to_have_text(by_id[:PER_PAGE])

    page.go_back()
    page.wait_for_url(at(TABLE, "q=AB"))
    expect(worker_ids(page)).to_have_text(expected_ids(mturk, TYPE_SMALL, q="AB")[:PER_PAGE])
    expect(header(page, "Granted (UTC)")).to_have_attribute("aria-sort", "descending")
    expect(search).to_have_value("AB")

    page.go_back()
    page.wait_for_url(at(TABLE))
    expect(worker_ids(page)).to_have_text(expected_ids(mturk, TYPE_SMALL)[:PER_PAGE])
    expect(search).to_have_value("")

    page.go_forward()
    page.wait_for_url(at(TABLE, "q=AB"))
    expect(worker_ids(page)).to_have_text(expected_ids(mturk, TYPE_SMALL, q="AB")[:PER_PAGE])
    expect(search).to_have_value("AB")

    # The restored form is the live one: changing the status keeps the restored filter.
    page.get_by_label("All").check()
    page.wait_for_url(at(TABLE, "status=all&q=AB"))
    every = expected_ids(mturk, TYPE_SMALL, status="all", q="AB")
    expect(worker_ids(page)).to_have_text(every[:PER_PAGE])

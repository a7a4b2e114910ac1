"""The Export CSV button downloads exactly the rows the table's filters select, in its order."""

import csv
from datetime import datetime

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from qualdash.mturk.emulator import TYPE_SMALL, Emulator
from tests.e2e.conftest import at
from tests.e2e.truth import expected_rows

pytestmark = pytest.mark.e2e

TABLE = f"/types/{TYPE_SMALL}/"


def test_it_downloads_a_csv_of_the_rows_the_table_selects(
    page: Page, signed_in: User, mturk: Emulator
) -> None:
    page.goto(TABLE)
    page.get_by_label("All").check()
    page.wait_for_url(at(TABLE, "status=all"))
    page.get_by_label("Worker ID contains").press_sequentially("ab", delay=30)
    page.wait_for_url(at(TABLE, "status=all&q=AB"))
    page.locator("#table-region thead th").filter(has_text="Score").get_by_role("link").click()
    page.wait_for_url(at(TABLE, "status=all&q=AB&sort=-score"))
    page.get_by_label("Rows per page").select_option("250")
    page.wait_for_url(at(TABLE, "status=all&q=AB&sort=-score&per_page=250"))

    expected = expected_rows(mturk, TYPE_SMALL, status="all", sort="-score", q="AB")
    shown = page.locator("#table-region tbody td:first-child")
    expect(shown).to_have_text([row["WorkerId"] for row in expected])
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value

    assert download.suggested_filename.startswith(f"qualdash-{TYPE_SMALL}-all-")
    with open(download.path(), newline="", encoding="utf-8") as file:
        exported = list(csv.DictReader(file))
    assert [row["WorkerId"] for row in exported] == shown.all_inner_texts()
    assert exported == [
        {
            "WorkerId": row["WorkerId"],
            "QualificationTypeId": TYPE_SMALL,
            "Status": row["Status"],
            "IntegerValue": str(row.get("IntegerValue", "")),
            "Country": row.get("LocaleValue", {}).get("Country", ""),
            "Subdivision": row.get("LocaleValue", {}).get("Subdivision", ""),
            "GrantTime": exported[index]["GrantTime"],
        }
        for index, row in enumerate(expected)
    ]
    assert [datetime.fromisoformat(row["GrantTime"]) for row in exported] == [
        row["GrantTime"] for row in expected
    ]

"""The worker table: every parameter against an independent computation, HTMX, large types."""

import re
from datetime import date
from typing import Any

import pytest
from django.test import Client

from qualdash.mturk import emulator as seeds
from qualdash.mturk.emulator import Emulator
from tests.observe import ROW_ID
from tests.reference import ids, select, truth

URL = f"/types/{seeds.TYPE_SMALL}/"
LIST = "ListWorkersWithQualificationType"


def row_ids(body: str) -> list[str]:
    return ROW_ID.findall(body)


def shown(client: Client, params: dict[str, Any] | None = None, **headers: str) -> Any:
    response = client.get(URL, params or {}, headers=headers)
    assert response.status_code == 200
    return response


@pytest.fixture
def small(mturk: Emulator) -> dict[str, list[dict[str, Any]]]:
    return {
        status: truth(mturk, seeds.TYPE_SMALL, status) for status in ("granted", "revoked", "all")
    }


@pytest.mark.parametrize(
    ("params", "expected_args"),
    [
        ({}, {}),
        ({"status": "revoked"}, {"status": "revoked"}),
        ({"status": "all"}, {"status": "all"}),
        ({"q": "a1"}, {"q": "a1"}),
        ({"q": "Z"}, {"q": "z"}),
        ({"score_min": "90"}, {"score_min": 90}),
        ({"score_max": "5"}, {"score_max": 5}),
        ({"score_min": "40", "score_max": "42"}, {"score_min": 40, "score_max": 42}),
        ({"country": "US"}, {"countries": ("US",)}),
        ({"country": ["gb", "IN"]}, {"countries": ("GB", "IN")}),
        ({"granted_after": "2025-06-01"}, {"granted_after": date(2025, 6, 1)}),
        ({"granted_before": "2023-12-31"}, {"granted_before": date(2023, 12, 31)}),
        (
            {"granted_after": "2024-01-01", "granted_before": "2024-03-31", "status": "all"},
            {
                "granted_after": date(2024, 1, 1),
                "granted_before": date(2024, 3, 31),
                "status": "all",
            },
        ),
        (
            {"status": "all", "country": "US", "score_min": "50", "sort": "subdivision"},
            {"status": "all", "countries": ("US",), "score_min": 50, "sort": "subdivision"},
        ),
    ]
    + [
        ({"sort": s}, {"sort": s})
        for f in ("worker_id", "status", "score", "country", "subdivision", "granted")
        for s in (f, f"-{f}")
    ]
    + [
        ({"status": "all", "sort": s}, {"status": "all", "sort": s})
        for s in ("status", "-score", "country")
    ],
)
def test_it_selects_and_orders_like_the_reference(
    owner_client: Client,
    small: dict[str, list[dict[str, Any]]],
    params: dict[str, Any],
    expected_args: dict[str, Any],
) -> None:
    status = expected_args.pop("status", "granted")
    expected = select(small[status], **expected_args)
    response = shown(owner_client, {**params, "per_page": "500"})
    page = response.context["page"]
    assert page.total == len(expected)
    assert ids(page.rows) == ids(expected[:500])
    assert response.context["query"].errors == {}


def test_it_reports_showing_and_filtered_from(owner_client: Client, small: Any) -> None:
    expected = select(small["granted"], countries=("US",))
    body = shown(owner_client, {"country": "US", "page": "2"}).content.decode()
    assert f"Showing 51–100 of {len(expected):,} workers (filtered from 2,154)" in body


def test_it_breaks_ties_by_worker_id_and_puts_missing_values_last(
    owner_client: Client, small: Any
) -> None:
    for sort in ("score", "-score", "subdivision", "-subdivision", "country", "-country"):
        rows = (
            shown(owner_client, {"sort": sort, "per_page": "500", "page": "5"}).context["page"].rows
        )
        full = select(small["granted"], sort=sort)
        assert ids(rows) == ids(full[2000:2500])
        field = sort.lstrip("-")
        values = [getattr(row, field) for row in rows]
        # The last page holds the rows without a value: they come last in both directions.
        assert values[-1] is None
        first_missing = values.index(None)
        assert all(v is None for v in values[first_missing:])
    ties = select(small["granted"], sort="-score")
    tied = [row for row in ties if row["score"] == ties[0]["score"]]
    assert len(tied) > 1
    assert ids(tied) == sorted(ids(tied))


def test_it_sorts_by_score_descending(owner_client: Client) -> None:
    rows = shown(owner_client, {"sort": "-score", "per_page": "100"}).context["page"].rows
    scores = [row.score for row in rows]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("page", "shown_page"), [("1", 1), ("3", 3), ("44", 44), ("45", 44), ("999999999999", 44)]
)
def test_a_page_past_the_end_shows_the_last_page(
    owner_client: Client, small: Any, page: str, shown_page: int
) -> None:
    response = shown(owner_client, {"page": page})
    assert response.context["page"].number == shown_page
    expected = select(small["granted"])
    start = (shown_page - 1) * 50
    assert ids(response.context["page"].rows) == ids(expected[start : start + 50])


@pytest.mark.parametrize("per_page", ["25", "50", "100", "250", "500"])
def test_it_shows_per_page_rows(owner_client: Client, per_page: str) -> None:
    assert len(shown(owner_client, {"per_page": per_page}).context["page"].rows) == int(per_page)


@pytest.mark.parametrize(
    ("params", "field", "fallback"),
    [
        ({"status": "granted-ish"}, "status", {}),
        ({"q": "A" * 65}, "q", {}),
        ({"q": "A\x00B"}, "q", {}),
        ({"score_min": "ten"}, "score_min", {}),
        ({"score_min": "1e3"}, "score_min", {}),
        ({"score_max": "99999999999999999999"}, "score_max", {}),
        ({"score_min": "60", "score_max": "10"}, "score_max", {"score_min": 60}),
        ({"country": "USA"}, "country", {}),
        ({"country": ["US", "1X"]}, "country", {}),
        ({"granted_after": "2024-13-01"}, "granted_after", {}),
        ({"granted_before": "yesterday"}, "granted_before", {}),
        (
            {"granted_after": "2025-01-02", "granted_before": "2025-01-01"},
            "granted_before",
            {"granted_after": date(2025, 1, 2)},
        ),
        ({"sort": "salary"}, "sort", {}),
        ({"sort": "--score"}, "sort", {}),
        ({"page": "two"}, "page", {}),
        ({"page": "0"}, "page", {}),
        ({"page": "-3"}, "page", {}),
        ({"per_page": "1000"}, "per_page", {}),
        ({"per_page": "many"}, "per_page", {}),
    ],
)
def test_a_malformed_value_is_reported_and_ignored(
    owner_client: Client,
    small: Any,
    params: dict[str, Any],
    field: str,
    fallback: dict[str, Any],
) -> None:
    response = shown(owner_client, params)
    query = response.context["query"]
    assert set(query.errors) == {field}
    body = response.content.decode()
    assert f'id="error-{field}">{query.errors[field]}' in body.replace("&#x27;", "'") or (
        f'id="error-{field}"' in body and query.errors[field][:20] in body
    )
    expected = select(small["granted"], **fallback)
    assert response.context["page"].total == len(expected)
    assert ids(response.context["page"].rows) == ids(expected[:50])


def test_it_takes_the_last_of_repeated_single_parameters(owner_client: Client) -> None:
    response = owner_client.get(URL + "?sort=score&sort=-worker_id&status=revoked&status=all")
    assert response.context["query"].sort == "-worker_id"
    assert response.context["query"].status == "all"


def test_htmx_gets_the_table_partial_and_a_full_load_the_page(owner_client: Client) -> None:
    params = {"sort": "score", "country": "US"}
    full = shown(owner_client, params)
    partial = shown(owner_client, params, HX_Request="true", HX_Target="table-region")
    full_body, partial_body = full.content.decode(), partial.content.decode()
    assert "<html" in full_body
    assert 'id="filters"' in full_body
    assert "<html" not in partial_body
    assert 'id="filters"' not in partial_body
    assert partial_body.lstrip().startswith('<div id="table-region"')
    assert row_ids(full_body) == row_ids(partial_body) == ids(full.context["page"].rows)
    for response in (full, partial):
        assert "HX-Request" in response["Vary"]
    # A chip removal swaps the filters too, so the form shows the new state.
    both = shown(owner_client, params, HX_Request="true", HX_Target="workers")
    assert both.content.decode().lstrip().startswith('<div id="workers"')


def test_a_history_restore_gets_the_full_page(owner_client: Client) -> None:
    response = shown(
        owner_client,
        {"sort": "score"},
        HX_Request="true",
        HX_Target="table-region",
        HX_History_Restore_Request="true",
    )
    assert "<html" in response.content.decode()


def test_links_carry_real_hrefs_and_push_the_url(owner_client: Client) -> None:
    body = shown(owner_client, {"country": "US", "sort": "score"}).content.decode()
    assert 'hx-push-url="true"' in body
    sort_link = re.search(r'<a href="([^"]+)" hx-get="([^"]+)">Score', body)
    assert sort_link is not None
    assert sort_link.group(1) == sort_link.group(2) == "?sort=-score&amp;country=US"
    next_link = re.search(r'<a href="([^"]+)" hx-get="[^"]+" rel="next"', body)
    assert next_link is not None
    assert "page=2" in next_link.group(1)


def test_a_second_click_on_a_sorted_column_reverses_it(owner_client: Client) -> None:
    columns = shown(owner_client, {"sort": "country"}).context["columns"]
    country = next(c for c in columns if c["name"] == "country")
    assert country["aria_sort"] == "ascending"
    assert country["url"] == "?sort=-country"
    columns = shown(owner_client, {"sort": "-country"}).context["columns"]
    country = next(c for c in columns if c["name"] == "country")
    assert country["url"] == "?sort=country"


def test_chips_remove_their_own_filter(owner_client: Client) -> None:
    chips = shown(owner_client, {"country": ["US", "GB"], "score_min": "10", "q": "a"}).context[
        "chips"
    ]
    by_label = dict(chips)
    assert by_label["Country US"] == "?q=A&score_min=10&country=GB"
    assert by_label["Score ≥ 10"] == "?q=A&country=US&country=GB"


def test_an_expired_session_redirects_the_whole_page_to_login(client: Client) -> None:
    response = client.get(
        URL,
        {"sort": "score"},
        headers={
            "HX-Request": "true",
            "HX-Target": "table-region",
            "HX-Current-URL": f"http://testserver{URL}?sort=score",
        },
    )
    assert response.status_code == 200
    assert (
        response["HX-Redirect"]
        == "/accounts/login/?next=" + "/types/" + seeds.TYPE_SMALL + "/%3Fsort%3Dscore"
    )
    assert b"<form" not in response.content


def test_a_large_type_loads_progressively_to_completion(
    owner_client: Client, mturk: Emulator, settings: Any
) -> None:
    settings.QUALDASH_WALK_BUDGET = 0.05
    mturk.latency = 0.01
    first = shown(owner_client, {"status": "all", "sort": "score"})
    body = first.content.decode()
    assert 'aria-busy="true"' in body
    assert "still loading" in body
    assert 'hx-trigger="load delay:300ms"' in body
    loaded = [first.context["loaded"]]
    for _ in range(100):
        response = shown(
            owner_client,
            {"status": "all", "sort": "score"},
            HX_Request="true",
            HX_Target="table-region",
        )
        body = response.content.decode()
        progress = re.search(r"([\d,]+) workers loaded, still loading", body)
        if progress is None:
            break
        loaded.append(int(progress.group(1).replace(",", "")))
    assert "aria-busy" not in body
    assert "Showing 1–50 of 2,537 workers" in body
    assert loaded == sorted(loaded)
    assert len(loaded) > 2
    final = shown(owner_client, {"status": "all", "sort": "score"})
    assert final.context["workers"].complete
    assert final.context["page"].total == 2537
    # 22 granted and 4 revoked pages, each fetched once across all those requests.
    assert mturk.call_count(LIST) == 26


def test_a_walked_type_makes_no_api_call_in_any_filter_or_sort(
    owner_client: Client, mturk: Emulator
) -> None:
    shown(owner_client, {"status": "all"})
    calls = mturk.call_count()
    for params in (
        {"status": "granted", "sort": "score"},
        {"status": "revoked", "country": "US"},
        {"status": "all", "q": "A1", "page": "2"},
        {"status": "all", "sort": "-subdivision", "per_page": "250"},
    ):
        shown(owner_client, params)
    assert mturk.call_count() == calls


def test_refresh_walks_again_and_keeps_the_query(owner_client: Client, mturk: Emulator) -> None:
    shown(owner_client, {"country": "US"})
    calls = mturk.call_count(LIST)
    response = owner_client.post(f"{URL}refresh/?country=US&sort=score")
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?sort=score&country=US"
    shown(owner_client, {"country": "US"})
    assert mturk.call_count(LIST) == calls * 2


def test_refresh_needs_a_post(owner_client: Client) -> None:
    assert owner_client.get(f"{URL}refresh/").status_code == 405


def test_it_shows_the_type_and_when_the_data_was_fetched(owner_client: Client) -> None:
    body = shown(owner_client).content.decode()
    seed = next(s for s in seeds.SEED_TYPES if s.type_id == seeds.TYPE_SMALL)
    assert seed.name in body
    assert re.search(r"Data as of \d{4}-\d\d-\d\d \d\d:\d\d UTC", body)
    assert 'action="/types/' + seeds.TYPE_SMALL + "/refresh/" in body
    assert "csrfmiddlewaretoken" in body


def test_a_first_look_answers_within_its_budget_and_keep_loading_takes_the_walk_budget(
    owner_client: Client, mturk: Emulator, settings: Any
) -> None:
    settings.QUALDASH_WALK_BUDGET = 30.0
    settings.QUALDASH_FIRST_LOOK_BUDGET = 0.1
    mturk.latency = 0.02
    first = shown(owner_client, {"status": "all"})
    assert not first.context["workers"].complete
    assert 'id="keep-loading"' in first.content.decode()
    rest = shown(
        owner_client,
        {"status": "all"},
        HX_Request="true",
        HX_Target="table-region",
        HX_Trigger="keep-loading",
    )
    body = rest.content.decode()
    assert "still loading" not in body
    assert "of 2,537 workers" in body
    assert mturk.call_count(LIST) == 26

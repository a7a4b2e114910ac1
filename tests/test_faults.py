"""Faults on MTurk's side and in the cache: every number the requester sees stays exact.

Each test drives the dashboard through Django's test client and real boto3 against the emulator,
turns one of its knobs (throttling, a ServiceFault window, expired tokens, latency) or starves
the cache, and compares the table and the CSV row for row with the emulator's own rows.
"""

import csv
import io
import logging
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config
from django.conf import LazySettings
from django.core.cache import cache
from django.test import Client

from qualdash.dashboard import export
from qualdash.dashboard.export import ExportFailed
from qualdash.dashboard.query import WorkerQuery
from qualdash.mturk import client as mturk_client
from qualdash.mturk import emulator as seeds
from qualdash.mturk.emulator import Emulator
from qualdash.mturk.tolerant_cache import cache as tolerant
from tests.conftest import use_cache_dir
from tests.observe import BACKOFF_SCALES, ROW_ID, Figures, TablePage, read_csv, read_table
from tests.reference import ids, select, truth

LIST = "ListWorkersWithQualificationType"
PAGE_SIZE = 100
figures = Figures()


@pytest.fixture(scope="module", autouse=True)
def _report_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    figures.report(request.config, "test_faults")


def scenario_passed() -> None:
    figures.add("fault scenarios passed")


def url(type_id: str) -> str:
    return f"/types/{type_id}/"


def page_count(rows: int) -> int:
    """API pages of a status walk: a full last page is followed by an empty one."""
    return rows // PAGE_SIZE + 1


def table_pages(client: Client, type_id: str, params: dict[str, Any]) -> list[TablePage]:
    """Every page of the table for these parameters, 500 rows a page."""
    params = {**params, "per_page": "500"}
    first = read_table(client.get(url(type_id), params))
    seen = [first]
    for number in range(2, first.num_pages + 1):
        seen.append(read_table(client.get(url(type_id), {**params, "page": str(number)})))
    return seen


def assert_table_exact(
    client: Client, type_id: str, params: dict[str, Any], expected: list[dict[str, Any]]
) -> None:
    """The table, page after page, shows exactly `expected` in its order, and says complete."""
    seen = table_pages(client, type_id, params)
    assert all(page.complete for page in seen)
    assert {page.total for page in seen} == {len(expected)}
    assert [worker for page in seen for worker in page.ids] == ids(expected)
    figures.add("rows verified (table)", len(expected))


def assert_csv_exact(
    client: Client, type_id: str, params: dict[str, Any], expected: list[dict[str, Any]]
) -> None:
    """The export holds exactly `expected`, in its order, every field equal to MTurk's."""
    rows = read_csv(client.get(f"{url(type_id)}export.csv", params))
    assert len(rows) == len(expected)
    for got, want in zip(rows, expected, strict=True):
        worker, qualification, status, score, country, subdivision, granted = got
        assert worker == want["worker_id"]
        assert qualification == type_id
        assert status == want["status"]
        assert score == ("" if want["score"] is None else str(want["score"]))
        assert country == (want["country"] or "")
        assert subdivision == (want["subdivision"] or "")
        assert granted.endswith("Z")
        assert datetime.fromisoformat(granted[:-1] + "+00:00") == want["granted"].astimezone(UTC)
    figures.add("rows verified (csv)", len(expected))


# --- throttling ----------------------------------------------------------------------------


@pytest.mark.parametrize("every", [2, 3])
def test_it_shows_every_row_exactly_while_mturk_throttles_every_nth_call(
    owner_client: Client, mturk: Emulator, every: int
) -> None:
    """Real backoff (botocore standard mode, up to 1 s a retry), so a type of three pages."""
    mturk.throttle_every = every
    type_id = seeds.TYPE_HUNDRED_ONE
    for params in ({"status": "all"}, {"status": "all", "sort": "score"}):
        expected = select(truth(mturk, type_id, "all"), sort=params.get("sort", "-granted"))
        # Backoff may outlast the walk budget: the page then continues as its HTMX trigger does.
        steps = walk_in_steps(owner_client, type_id, params)
        assert all(step.total <= len(expected) for step in steps)
        assert_table_exact(owner_client, type_id, params, expected)
        assert_csv_exact(owner_client, type_id, params, expected)
    assert mturk.call_count(LIST) > page_count(101) + page_count(1)  # some calls were refused
    scenario_passed()


@pytest.mark.parametrize("every", [2, 3])
def test_it_shows_every_row_of_a_long_walk_exactly_while_mturk_throttles(
    owner_client: Client, mturk: Emulator, monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    """Twenty-six pages, each other one throttled: the backoff is scaled down 50 times (only the
    delay; attempts, retry quota and the error detection are botocore's own)."""
    monkeypatch.setitem(BACKOFF_SCALES, "throttling_base_scale", 0.02)
    mturk.throttle_every = every
    type_id = seeds.TYPE_SMALL
    started = time.monotonic()
    expected = select(truth(mturk, type_id, "all"))
    walk_in_steps(owner_client, type_id, {"status": "all"})
    assert_table_exact(owner_client, type_id, {"status": "all"}, expected)
    mturk.reset_counts()
    owner_client.post(f"{url(type_id)}refresh/")
    params = {"status": "all", "country": ["US", "IN"], "sort": "-score"}
    expected = select(truth(mturk, type_id, "all"), countries=("US", "IN"), sort="-score")
    assert_csv_exact(owner_client, type_id, params, expected)
    walked = page_count(2154) + page_count(383)
    assert mturk.call_count(LIST) >= walked + walked // every
    assert time.monotonic() - started < 10
    scenario_passed()


# --- a persistent ServiceFault window -------------------------------------------------------


@pytest.fixture
def quick_fault_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff after a fault scaled down 10 times (50 ms to 5 ms a step), for tests that fail
    several requests; the delays themselves are measured in the test right below."""
    monkeypatch.setitem(BACKOFF_SCALES, "non_throttling_base_scale", 0.005)


def test_a_persistent_fault_answers_within_botocores_backoff(
    owner_client: Client, mturk: Emulator
) -> None:
    """Real backoff: seven attempts with jittered delays of at most 50, 100, ... 1,600 ms."""
    mturk.fail_next(10_000)
    started = time.monotonic()
    response = owner_client.get(url(seeds.TYPE_ONE))
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert mturk.call_count() == 7
    assert elapsed <= 0.05 * (2**6 - 1) + 0.5
    figures.add("ms to answer 503 after 7 faulted attempts", round(1000 * elapsed))
    scenario_passed()


@pytest.mark.usefixtures("quick_fault_backoff")
def test_a_fault_window_shows_a_clear_retry_and_the_same_url_completes_after(
    owner_client: Client, mturk: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    type_id = seeds.TYPE_SMALL
    link = f"{url(type_id)}?country=US&sort=score"
    # Call 1 is the type's details, calls 2 to 5 its first four pages; then MTurk fails.
    mturk.fault_from_call, mturk.fault_calls = 6, 10_000

    response = owner_client.get(link)
    assert response.status_code == 503
    body = response.content.decode()
    assert "MTurk is not answering" in body
    assert f'<a class="button" href="{link.replace("&", "&amp;")}">Retry</a>' in body
    assert "Traceback" not in body
    assert 'File "' not in body
    assert not ROW_ID.findall(body)
    # Four pages, then one call tried seven times: botocore's max_attempts 6 counts retries.
    assert mturk.call_count(LIST) == 4 + 7

    # The HTMX swap of the table gets the message in place of the whole content area.
    response = owner_client.get(
        link,
        headers={
            "HX-Request": "true",
            "HX-Target": "table-region",
            "HX-Current-URL": f"http://testserver{link}",
        },
    )
    assert response.status_code == 503
    assert response["HX-Retarget"] == "#content"
    body = response.content.decode()
    assert "<html" not in body
    assert "MTurk is not answering" in body
    assert f'href="{link.replace("&", "&amp;")}">Retry</a>' in body

    # The export says it is incomplete and does not end normally.
    export: Any = owner_client.get(f"{url(type_id)}export.csv?country=US&sort=score")
    assert export.status_code == 200
    received = bytearray()

    def download() -> None:
        for chunk in export.streaming_content:
            received.extend(chunk)

    with pytest.raises(ExportFailed):
        download()
    last = list(csv.reader(io.StringIO(received.decode())))[-1]
    assert last[0] == "#qualdash-export-error"
    assert last[1].startswith("Export incomplete: MTurk answered ServiceFault")
    assert "Traceback" not in caplog.text

    # The window closes: the same URL completes exactly, without fetching again the four pages
    # that were cached before the fault.
    mturk.fault_calls = 0
    mturk.reset_counts()
    expected = select(truth(mturk, type_id), countries=("US",), sort="score")
    seen = read_table(owner_client.get(link + "&per_page=500"))
    assert seen.complete
    assert seen.total == len(expected)
    assert seen.ids == ids(expected)[:500]
    assert mturk.call_count(LIST) == page_count(2154) - 4
    assert_table_exact(owner_client, type_id, {"country": "US", "sort": "score"}, expected)
    assert_csv_exact(owner_client, type_id, {"country": "US", "sort": "score"}, expected)
    scenario_passed()


@pytest.mark.usefixtures("quick_fault_backoff")
def test_a_fault_on_the_type_list_or_the_type_details_is_a_clear_503(
    owner_client: Client, mturk: Emulator
) -> None:
    mturk.fail_next(10_000)
    for link in ("/", f"{url(seeds.TYPE_ONE)}", f"{url(seeds.TYPE_ONE)}export.csv"):
        response = owner_client.get(link)
        assert response.status_code == 503, link
        body = response.content.decode()
        assert "MTurk is not answering" in body
        assert ">Retry</a>" in body
        assert "Traceback" not in body
    mturk.fail_next(0)
    assert owner_client.get("/").status_code == 200
    assert_table_exact(owner_client, seeds.TYPE_ONE, {}, truth(mturk, seeds.TYPE_ONE))
    scenario_passed()


def test_a_short_burst_of_faults_is_ridden_out_by_retries(
    owner_client: Client, mturk: Emulator
) -> None:
    owner_client.get(url(seeds.TYPE_SMALL))  # the type's details, so the faults hit the walk
    owner_client.post(f"{url(seeds.TYPE_SMALL)}refresh/")
    mturk.fault_from_call, mturk.fault_calls = mturk.call_count() + 3, 4
    expected = select(truth(mturk, seeds.TYPE_SMALL, "all"))
    walk_in_steps(owner_client, seeds.TYPE_SMALL, {"status": "all"})
    assert_table_exact(owner_client, seeds.TYPE_SMALL, {"status": "all"}, expected)
    scenario_passed()


# --- pagination tokens the API rejects -------------------------------------------------------


def walk_in_steps(
    client: Client, type_id: str, params: dict[str, Any], *, limit: int = 200
) -> list[TablePage]:
    """Ask for the table until it says complete, as the page's HTMX trigger does."""
    steps = []
    for _ in range(limit):
        page = read_table(
            client.get(url(type_id), params, headers={"HX-Request": "true", "HX-Target": "workers"})
        )
        steps.append(page)
        if page.complete:
            return steps
    raise AssertionError(f"the walk did not complete in {limit} requests")


def test_an_expired_token_mid_walk_restarts_the_walk_and_ends_exact(
    owner_client: Client,
    mturk: Emulator,
    settings: LazySettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.QUALDASH_WALK_BUDGET = 0.1
    mturk.latency = 0.02
    type_id = seeds.TYPE_SMALL
    first = read_table(owner_client.get(url(type_id), {"status": "all"}))
    assert not first.complete
    assert 0 < first.total < 2537
    before_expiry = mturk.call_count(LIST)

    mturk.expire_tokens()
    with caplog.at_level(logging.WARNING, logger="qualdash"):
        steps = walk_in_steps(owner_client, type_id, {"status": "all"})
    assert "MTurk rejected a pagination token" in caplog.text
    # Progress is never overstated: no step claims more rows than MTurk has.
    assert all(step.total <= 2537 for step in steps)
    mturk.latency = 0.0
    expected = select(truth(mturk, type_id, "all"))
    assert_table_exact(owner_client, type_id, {"status": "all"}, expected)
    assert_csv_exact(owner_client, type_id, {"status": "all"}, expected)
    # The walk started over: every page again, on top of what was fetched before the expiry.
    walked = page_count(2154) + page_count(383)
    assert mturk.call_count(LIST) >= before_expiry + walked
    scenario_passed()


def test_an_export_after_tokens_expired_restarts_the_walk_and_is_exact(
    owner_client: Client, mturk: Emulator, settings: LazySettings
) -> None:
    settings.QUALDASH_WALK_BUDGET = 0.1
    mturk.latency = 0.02
    type_id = seeds.TYPE_SMALL
    assert not read_table(owner_client.get(url(type_id))).complete
    mturk.latency = 0.0
    mturk.expire_tokens()
    expected = select(truth(mturk, type_id), sort="worker_id")
    assert_csv_exact(owner_client, type_id, {"sort": "worker_id"}, expected)
    assert_table_exact(owner_client, type_id, {"sort": "worker_id"}, expected)
    scenario_passed()


# --- a slow API ------------------------------------------------------------------------------


def test_no_request_outlasts_its_budget_by_more_than_one_call_while_mturk_is_slow(
    owner_client: Client, mturk: Emulator, settings: LazySettings
) -> None:
    budget, latency = 0.35, 0.1
    # Warm the process (its boto3 client, compiled templates): a first request's setup is not
    # what is measured here.
    owner_client.get(url(seeds.TYPE_ONE))
    settings.QUALDASH_WALK_BUDGET = budget
    mturk.latency = latency
    type_id = seeds.TYPE_SMALL
    durations = []
    for _ in range(50):
        started = time.monotonic()
        page = read_table(owner_client.get(url(type_id)))
        durations.append(time.monotonic() - started)
        if page.complete:
            break
    assert page.complete
    assert len(durations) > 3
    # The first request also fetches the type's details (one call) before its walk starts.
    assert durations[0] <= latency + budget + latency + 0.3, durations
    assert max(durations[1:]) <= budget + latency + 0.3, durations
    overrun = round(1000 * (max(durations[1:]) - budget))
    figures.add("max ms past the budget (budget 350 ms, 100 ms a call)", overrun)
    mturk.latency = 0.0
    assert_table_exact(owner_client, type_id, {}, select(truth(mturk, type_id)))
    scenario_passed()


@pytest.mark.usefixtures("quick_fault_backoff")
def test_a_hung_mturk_ends_in_a_clear_503_once_every_attempt_timed_out(
    owner_client: Client, mturk: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call the API never answers is bounded by read_timeout, not by the walk budget: botocore
    retries a read timeout like a fault, so a request waits (max_attempts + 1) x read_timeout."""
    shipped: Any = mturk_client.CLIENT_CONFIG
    # botocore rewrites max_attempts (retries) as total_max_attempts once a client is built.
    retries = shipped.retries
    attempts = retries.get("total_max_attempts") or retries["max_attempts"] + 1
    worst = attempts * shipped.read_timeout + 0.05 * (2 ** (attempts - 1) - 1)
    assert worst <= 75, "a hung MTurk would hold a request (and a server thread) too long"
    figures.add("worst-case s a hung MTurk holds a request (shipped config)", round(worst))

    monkeypatch.setattr(mturk_client, "CLIENT_CONFIG", shipped.merge(Config(read_timeout=0.2)))
    mturk_client.forget_account()
    mturk_client.account()
    mturk.latency = 1.0
    started = time.monotonic()
    response = owner_client.get(url(seeds.TYPE_ONE))
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "Could not reach MTurk (ReadTimeoutError)" in response.content.decode()
    assert mturk.call_count() == attempts
    assert attempts * 0.2 <= elapsed <= attempts * 0.2 + 0.5
    scenario_passed()


def test_a_call_slower_than_the_whole_budget_still_moves_the_walk_forward(
    owner_client: Client, mturk: Emulator, settings: LazySettings
) -> None:
    """The bound is the budget plus one call (plus the type's details on a first look)."""
    budget, latency = 0.1, 0.4
    settings.QUALDASH_WALK_BUDGET = budget
    mturk.latency = latency
    type_id = seeds.TYPE_HUNDRED_ONE
    started = time.monotonic()
    first = read_table(owner_client.get(url(type_id)))
    elapsed = time.monotonic() - started
    assert not first.complete
    assert first.total == 100
    assert 2 * latency <= elapsed <= budget + 2 * latency + 0.25
    steps = walk_in_steps(owner_client, type_id, {})
    assert len(steps) <= 2
    assert_table_exact(owner_client, type_id, {}, select(truth(mturk, type_id)))
    scenario_passed()


def test_a_walk_makes_progress_even_when_replaying_the_cache_outlasts_the_budget(
    owner_client: Client, mturk: Emulator, settings: LazySettings
) -> None:
    """Each request fetches at least one new page, however small the budget: a large type whose
    cached pages take longer to replay than the budget must not stall at "still loading"."""
    settings.QUALDASH_WALK_BUDGET = 1e-9
    type_id = seeds.TYPE_HUNDRED_ONE
    steps = walk_in_steps(owner_client, type_id, {"status": "all"}, limit=10)
    assert [step.total for step in steps] == sorted(step.total for step in steps)
    assert_table_exact(
        owner_client, type_id, {"status": "all"}, select(truth(mturk, type_id, "all"))
    )
    assert mturk.call_count(LIST) == page_count(101) + page_count(1)
    scenario_passed()


# --- the cache evicting or failing ------------------------------------------------------------


def use_locmem(settings: LazySettings, max_entries: int) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"evicting-{max_entries}-{random.random()}",
            "OPTIONS": {"MAX_ENTRIES": max_entries, "CULL_FREQUENCY": 2},
        }
    }


def test_a_cache_too_small_for_a_walk_still_gives_exact_results(
    owner_client: Client, mturk: Emulator, settings: LazySettings
) -> None:
    use_locmem(settings, max_entries=6)
    type_id = seeds.TYPE_SMALL
    params = {"status": "all", "score_min": "50", "sort": "country"}
    expected = select(truth(mturk, type_id, "all"), score_min=50, sort="country")
    assert_csv_exact(owner_client, type_id, params, expected)
    first_export = mturk.call_count(LIST)
    assert_csv_exact(owner_client, type_id, params, expected)
    walk_in_steps(owner_client, type_id, params)
    assert_table_exact(owner_client, type_id, params, expected)
    # Only slower: the pages the cache could not keep were fetched again.
    assert mturk.call_count(LIST) > first_export
    figures.add("api calls with a 6-entry cache (3 looks at 26 pages)", mturk.call_count(LIST))
    scenario_passed()


def test_pages_evicted_between_requests_are_fetched_again_and_results_stay_exact(
    owner_client: Client, mturk: Emulator, settings: LazySettings, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    use_cache_dir(settings, cache_dir)  # files, whatever CACHE_URL says: they are deleted here
    settings.QUALDASH_WALK_BUDGET = 0.1
    mturk.latency = 0.02
    chance = random.Random(7)
    type_id = seeds.TYPE_SMALL
    for _ in range(200):
        page = read_table(owner_client.get(url(type_id), {"status": "all"}))
        if page.complete:
            break
        # Any entry may go: a page, a completion marker, the generation (which restarts the walk).
        files = sorted(cache_dir.glob("*.djcache"))
        for victim in chance.sample(files, min(2, len(files))):
            victim.unlink()
    assert page.complete
    mturk.latency = 0.0
    for victim in chance.sample(sorted(cache_dir.glob("*.djcache")), 10):
        victim.unlink(missing_ok=True)
    expected = select(truth(mturk, type_id, "all"))
    walk_in_steps(owner_client, type_id, {"status": "all"})
    assert_table_exact(owner_client, type_id, {"status": "all"}, expected)
    assert_csv_exact(owner_client, type_id, {"status": "all"}, expected)
    scenario_passed()


def test_a_cache_cleared_mid_walk_restarts_cleanly(
    owner_client: Client, mturk: Emulator, settings: LazySettings, tmp_path: Path
) -> None:
    use_cache_dir(settings, tmp_path / "cache")  # clear() must not flush a shared Redis
    type_id = seeds.TYPE_HUNDRED_ONE
    owner_client.get(url(type_id))
    cache.clear()
    assert_table_exact(owner_client, type_id, {}, select(truth(mturk, type_id)))
    assert_csv_exact(owner_client, type_id, {}, select(truth(mturk, type_id)))
    scenario_passed()


@pytest.fixture
def redis_down(mturk: Emulator, settings: LazySettings, tmp_path: Path) -> Iterator[None]:
    """A Redis cache nobody listens for (refused at once); the file cache again at teardown, so
    that conftest's own teardown can clear it."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    yield
    use_cache_dir(settings, tmp_path / "cache")


@pytest.mark.usefixtures("redis_down")
def test_a_cache_backend_that_is_down_gives_exact_results_straight_from_mturk(
    owner_client: Client, mturk: Emulator
) -> None:
    type_id = seeds.TYPE_SMALL
    expected = select(truth(mturk, type_id, "all"), sort="score")
    first = read_table(owner_client.get(url(type_id), {"status": "all", "sort": "score"}))
    assert first.complete
    assert first.total == len(expected)
    assert first.ids == ids(expected)[:50]
    assert_csv_exact(owner_client, type_id, {"status": "all", "sort": "score"}, expected)
    # Only slower: nothing could be kept, so each look walked MTurk again.
    assert mturk.call_count(LIST) == 2 * (page_count(2154) + page_count(383))
    scenario_passed()


def test_a_cache_that_fails_mid_walk_and_comes_back_never_breaks_a_result(
    owner_client: Client, mturk: Emulator, settings: LazySettings, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    use_cache_dir(settings, cache_dir)  # files, whatever CACHE_URL says: this one breaks them
    settings.QUALDASH_WALK_BUDGET = 0.1
    mturk.latency = 0.02
    type_id = seeds.TYPE_SMALL
    assert not read_table(owner_client.get(url(type_id), {"status": "all"})).complete

    # The cache's directory becomes unusable (as a full or read-only disk would).
    moved = tmp_path / "cache-away"
    cache_dir.rename(moved)
    cache_dir.write_text("not a directory")
    mturk.latency = 0.0
    expected = select(truth(mturk, type_id, "all"))
    # Nothing fetched can be kept for a continuation, so the look finishes the walk at once.
    down = read_table(owner_client.get(url(type_id), {"status": "all", "per_page": "500"}))
    assert down.complete
    assert down.total == len(expected)
    assert down.ids == ids(expected)[:500]
    assert_csv_exact(owner_client, type_id, {"status": "all"}, expected)

    cache_dir.unlink()
    moved.rename(cache_dir)
    tolerant.reset()  # rather than wait out its retry window
    walk_in_steps(owner_client, type_id, {"status": "all"})
    assert_table_exact(owner_client, type_id, {"status": "all"}, expected)
    assert_csv_exact(owner_client, type_id, {"status": "all"}, expected)
    scenario_passed()


def test_a_long_export_of_both_statuses_does_not_hold_up_another_viewer(
    owner_client: Client, mturk: Emulator, settings: LazySettings
) -> None:
    """Both statuses are walked side by side in worker threads: a 30,000-worker export walking
    for seconds must not leave another viewer's table waiting past its budget for a thread."""
    budget, latency = 0.3, 0.02
    owner_client.get(url(seeds.TYPE_ONE))  # a warm process: setup is not what is measured
    settings.QUALDASH_WALK_BUDGET = budget
    mturk.latency = latency
    query = WorkerQuery(status="all")
    exporter = threading.Thread(
        target=lambda: "".join(export.csv_chunks(seeds.TYPE_MEDIUM, query)), daemon=True
    )
    exporter.start()
    deadline = time.monotonic() + 10
    while mturk.call_count(LIST) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    page = read_table(owner_client.get(url(seeds.TYPE_SMALL), {"status": "all"}))
    elapsed = time.monotonic() - started
    assert exporter.is_alive()  # the export was still walking all along
    mturk.latency = 0.0
    exporter.join(30)
    assert page.total > 0
    assert elapsed <= latency + budget + latency + 0.3, elapsed
    scenario_passed()

"""The service: page walks, their cache, and the type list, through real boto3 calls."""

import os
import time
from datetime import timedelta

import pytest
from django.core.cache import cache

from qualdash.mturk import client as mturk_client
from qualdash.mturk import emulator as seeds
from qualdash.mturk import pages
from qualdash.mturk.emulator import Emulator
from tests.conftest import point_at
from tests.reference import ids, truth

LIST = "ListWorkersWithQualificationType"


@pytest.mark.parametrize(
    ("type_id", "rows", "calls"),
    [
        (seeds.TYPE_EMPTY, 0, 1),
        (seeds.TYPE_ONE, 1, 1),
        # A full last page still carries a token; the page it names is empty.
        (seeds.TYPE_HUNDRED, 100, 2),
        (seeds.TYPE_HUNDRED_ONE, 101, 2),
    ],
)
def test_it_walks_every_page_boundary_with_one_call_per_page(
    mturk: Emulator, type_id: str, rows: int, calls: int
) -> None:
    workers = pages.load_workers(type_id, "granted", budget=None)
    assert workers.complete
    assert len(workers.rows) == rows
    assert sorted(ids(workers.rows)) == sorted(ids(truth(mturk, type_id)))
    assert mturk.call_count(LIST) == calls


def test_it_stops_when_the_api_repeats_a_token(mturk: Emulator) -> None:
    workers = pages.load_workers(seeds.TYPE_REPEATING_TOKEN, "granted", budget=None)
    assert workers.complete
    assert len(workers.rows) == 150
    assert len(set(ids(workers.rows))) == 150
    assert mturk.call_count(LIST) == 2


def test_it_returns_every_worker_exactly_once_ordered_by_worker_id(mturk: Emulator) -> None:
    workers = pages.load_workers(seeds.TYPE_SMALL, "all", budget=None)
    expected = truth(mturk, seeds.TYPE_SMALL, "all")
    assert ids(workers.rows) == sorted(ids(expected))
    by_id = {row["worker_id"]: row for row in expected}
    for row in workers.rows:
        want = by_id[row.worker_id]
        assert (row.status, row.score, row.country, row.subdivision, row.granted) == (
            want["status"],
            want["score"],
            want["country"],
            want["subdivision"],
            want["granted"],
        )


def test_it_walks_granted_and_revoked_for_all(mturk: Emulator) -> None:
    workers = pages.load_workers(seeds.TYPE_HUNDRED_ONE, "all", budget=None)
    assert len(workers.rows) == 102
    assert {row.status for row in workers.rows} == {"Granted", "Revoked"}
    assert mturk.call_count(LIST) == 3


def test_a_second_look_makes_no_api_call(mturk: Emulator) -> None:
    first = pages.load_workers(seeds.TYPE_SMALL, "all", budget=None)
    calls = mturk.call_count()
    second = pages.load_workers(seeds.TYPE_SMALL, "all", budget=None)
    assert mturk.call_count() == calls
    assert second.rows == first.rows


def test_a_second_look_after_a_restart_replays_the_cache_without_api_calls(
    mturk: Emulator,
) -> None:
    first = pages.load_workers(seeds.TYPE_SMALL, "all", budget=None)
    calls = mturk.call_count()
    # A restart loses the process's memo and client; the file cache stays.
    pages.complete_walks.clear()
    mturk_client.forget_account()
    second = pages.load_workers(seeds.TYPE_SMALL, "all", budget=None)
    assert mturk.call_count() == calls
    assert second.rows == first.rows
    assert second.complete


def test_rows_are_in_utc_whatever_the_server_time_zone(
    mturk: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        workers = pages.load_workers(seeds.TYPE_HUNDRED, "granted", budget=None)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    expected = {row["worker_id"]: row["granted"] for row in truth(mturk, seeds.TYPE_HUNDRED)}
    for row in workers.rows:
        assert row.granted.utcoffset() == timedelta(0)
        assert row.granted == expected[row.worker_id]


def test_refresh_walks_the_type_again(mturk: Emulator) -> None:
    pages.load_workers(seeds.TYPE_HUNDRED_ONE, "granted", budget=None)
    assert mturk.call_count(LIST) == 2
    pages.refresh_workers(seeds.TYPE_HUNDRED_ONE)
    again = pages.load_workers(seeds.TYPE_HUNDRED_ONE, "granted", budget=None)
    assert mturk.call_count(LIST) == 4
    assert len(again.rows) == 101


def test_refresh_sees_a_change_made_on_mturk(mturk: Emulator) -> None:
    before = pages.load_workers(seeds.TYPE_ONE, "granted", budget=None)
    (only,) = before.rows
    mturk_client.account().client.disassociate_qualification_from_worker(
        WorkerId=only.worker_id, QualificationTypeId=seeds.TYPE_ONE, Reason="test"
    )
    try:
        assert pages.load_workers(seeds.TYPE_ONE, "granted", budget=None).rows == before.rows
        pages.refresh_workers(seeds.TYPE_ONE)
        assert pages.load_workers(seeds.TYPE_ONE, "granted", budget=None).rows == []
        revoked = pages.load_workers(seeds.TYPE_ONE, "revoked", budget=None).rows
        assert ids(revoked) == [only.worker_id]
    finally:
        mturk_client.account().client.associate_qualification_with_worker(
            WorkerId=only.worker_id,
            QualificationTypeId=seeds.TYPE_ONE,
            IntegerValue=only.score if only.score is not None else 0,
            SendNotification=False,
        )


def test_a_walk_out_of_budget_answers_with_what_it_has_and_continues_later(
    mturk: Emulator,
) -> None:
    mturk.latency = 0.02
    partial = pages.load_workers(seeds.TYPE_SMALL, "granted", budget=0.1)
    assert not partial.complete
    assert 0 < len(partial.rows) < 2154
    mturk.latency = 0.0
    rest = pages.load_workers(seeds.TYPE_SMALL, "granted", budget=None)
    assert rest.complete
    assert len(rest.rows) == 2154
    # Each of the 22 pages was fetched exactly once across both requests.
    assert mturk.call_count(LIST) == 22


def test_a_viewer_does_not_walk_a_type_that_another_is_walking(mturk: Emulator) -> None:
    scope = mturk_client.account().scope
    generation = pages._generation(mturk_client.account(), seeds.TYPE_SMALL)
    lock = f"qd:{scope}:{seeds.TYPE_SMALL}:Granted:{generation}:lock"
    assert cache.add(lock, True, 30)
    waiting = pages.load_workers(seeds.TYPE_SMALL, "granted", budget=0.3)
    assert not waiting.complete
    assert mturk.call_count(LIST) == 0
    cache.delete(lock)
    assert pages.load_workers(seeds.TYPE_SMALL, "granted", budget=None).complete


def test_two_access_keys_never_share_a_cache_entry(
    mturk: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_scope = mturk_client.account().scope
    pages.load_workers(seeds.TYPE_HUNDRED_ONE, "granted", budget=None)
    calls = mturk.call_count(LIST)
    point_at(monkeypatch, os.environ["AWS_ENDPOINT_URL_MTURK"], "AKIDANOTHERACCOUNT")
    assert mturk_client.account().scope != first_scope
    pages.load_workers(seeds.TYPE_HUNDRED_ONE, "granted", budget=None)
    assert mturk.call_count(LIST) == calls * 2
    assert mturk.calls[-1][1] == "AKIDANOTHERACCOUNT"


def test_sandbox_and_production_have_different_scopes(settings: object) -> None:
    production = mturk_client.account()
    settings.QUALDASH_MTURK_SANDBOX = True  # type: ignore[attr-defined]
    sandbox = mturk_client.account()
    assert sandbox.sandbox
    assert sandbox.endpoint == mturk_client.SANDBOX_ENDPOINT
    assert sandbox.scope != production.scope


def test_it_pages_past_100_qualification_types(mturk: Emulator) -> None:
    types = pages.list_qualification_types()
    assert len(types) == len(seeds.SEED_TYPES) > 100
    assert {t.type_id for t in types} == {s.type_id for s in seeds.SEED_TYPES}
    assert mturk.call_count("ListQualificationTypes") == 2
    pages.list_qualification_types()
    assert mturk.call_count("ListQualificationTypes") == 2


def test_it_raises_not_found_for_an_unknown_type() -> None:
    with pytest.raises(mturk_client.QualificationTypeNotFound):
        pages.get_qualification_type("3UNKNOWNTYPE000000000000000000")


def test_it_says_mturk_is_not_configured_without_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    mturk_client.forget_account()
    with pytest.raises(mturk_client.MTurkNotConfigured):
        pages.list_qualification_types()

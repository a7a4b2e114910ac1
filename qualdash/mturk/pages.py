"""Qualification types and their workers from MTurk, every API page memoized in Django's cache.

This module never sees a request and never renders. Views call:

- list_qualification_types(), get_qualification_type(type_id), refresh_types()
- load_workers(type_id, status, budget): the rows of a (type, status) walk as far as it got
- refresh_workers(type_id): forget the type's walks so the next look walks MTurk again

Cache layout (see DESIGN.md, "The cache"), every key under the account scope:

    qd:<scope>:<type>:gen                        generation of the type's walks
    qd:<scope>:<type>:<status>:<gen>:<sha256>    one API page (token digest; "first" for page 1)
    qd:<scope>:<type>:<status>:<gen>:done        completion marker: row count, walk id
    qd:<scope>:<type>:<status>:<gen>:lock        short lock: one walker at a time

The cache is Django's default one through tolerant_cache: while its backend is down every
operation is a miss or a no-op, so looks walk MTurk directly instead of failing.
"""

import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from operator import attrgetter
from typing import Any, Literal, NamedTuple

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
)
from django.conf import settings

from qualdash.mturk.client import (
    Account,
    MTurkNotConfigured,
    MTurkUnavailable,
    QualificationTypeNotFound,
    account,
)
from qualdash.mturk.tolerant_cache import cache

log = logging.getLogger(__name__)

API_STATUSES = ("Granted", "Revoked")
StatusChoice = Literal["granted", "revoked", "all"]
PAGE_SIZE = 100
LOCK_SECONDS = 30
# A walker that finds another holding the lock polls the cache this often (export only; a page
# view renders what is there and lets its HTMX trigger come back).
LOCK_POLL_SECONDS = 0.2
COMPLETE_WALKS_KEPT = 8


class WorkerRow(NamedTuple):
    """One worker's hold on a type, normalized once when its page is fetched (UTC time)."""

    worker_id: str
    status: str
    score: int | None
    country: str | None
    subdivision: str | None
    granted: datetime


@dataclass(frozen=True)
class QualificationType:
    type_id: str
    name: str
    description: str
    status: str
    created: datetime | None
    keywords: str
    is_requestable: bool
    auto_granted: bool


@dataclass(frozen=True)
class Page:
    rows: tuple[WorkerRow, ...]
    next_token: str | None
    fetched_at: datetime


@dataclass(frozen=True)
class Workers:
    """What is known of a type's workers in one status choice, as far as the walk got."""

    rows: list[WorkerRow]  # ordered by worker_id: the table's tie-break relies on it
    complete: bool
    fetched_at: datetime | None  # when the oldest page shown was fetched from MTurk
    # A complete walk's id (its completion marker's; "+"-joined for "all"), else None. A complete
    # Workers is the one kept in complete_walks and handed to every look: never mutate it.
    walk_id: str | None = None

    @cached_property
    def countries(self) -> frozenset[str]:
        """The countries among these workers, worked out once per kept walk rather than on each
        warm look (15 ms or more at 100,000 rows, make bench)."""
        return frozenset(row.country for row in self.rows if row.country)


class _InvalidToken(Exception):
    """MTurk rejected a NextToken we had from it (expired): the walk must start over."""


# --- qualification types -------------------------------------------------------------------


def list_qualification_types() -> list[QualificationType]:
    """Every type the account owns, all API pages, memoized for the cache TTL."""
    acct = account()
    key = f"qd:{acct.scope}:types:{_generation(acct, 'types')}"
    types: list[QualificationType] | None = cache.get(key)
    if types is None:
        types = []
        token: str | None = None
        seen: set[str] = set()
        while True:
            kwargs: dict[str, Any] = {
                "MustBeRequestable": False,
                "MustBeOwnedByCaller": True,
                "MaxResults": PAGE_SIZE,
            }
            if token:
                kwargs["NextToken"] = token
            response = _call(acct, "list_qualification_types", **kwargs)
            page = response.get("QualificationTypes", [])
            types.extend(_qualification_type(item) for item in page)
            token = _token_to_follow(response.get("NextToken"), page, seen)
            if token is None:
                break
        types.sort(key=lambda t: (t.name.casefold(), t.type_id))
        cache.set(key, types, settings.QUALDASH_CACHE_TTL)
    return types


def refresh_types() -> None:
    _bump_generation(account(), "types")


def get_qualification_type(type_id: str) -> QualificationType:
    """One type's details; QualificationTypeNotFound when MTurk does not know it."""
    acct = account()
    key = f"qd:{acct.scope}:{type_id}:{_generation(acct, type_id)}:meta"
    qualification_type: QualificationType | None = cache.get(key)
    if qualification_type is None:
        response = _call(acct, "get_qualification_type", QualificationTypeId=type_id)
        qualification_type = _qualification_type(response["QualificationType"])
        cache.set(key, qualification_type, settings.QUALDASH_CACHE_TTL)
    return qualification_type


# --- workers --------------------------------------------------------------------------------


def load_workers(type_id: str, status: StatusChoice, budget: float | None) -> Workers:
    """The type's workers in `status` ("all" walks Granted and Revoked side by side).

    With a budget (seconds), stop fetching from MTurk once it is spent and answer with what is
    loaded (complete=False); cached pages are always replayed. Without one, walk to the end.
    """
    acct = account()
    if status != "all":
        return _walk(acct, type_id, status.capitalize(), budget)
    # Settle the type's generation before the two walks read it: a FileBasedCache add() is
    # not atomic, so two threads creating it at once could each walk under their own.
    _generation(acct, type_id)
    futures = [_side_by_side.submit(_walk, acct, type_id, s, budget) for s in API_STATUSES]
    # Both walks end before the look answers, a failed one too: a walk left running would go on
    # calling MTurk for a request that has already answered with an error.
    wait(futures)
    walks = [future.result() for future in futures]
    # Two complete walks are merged once per process and kept like them: merging 100,000 rows
    # on every warm look cost a third of its time (make bench).
    ids = [walk.walk_id for walk in walks if walk.walk_id is not None]
    walk_id = "+".join(ids) if len(ids) == len(walks) else None
    if walk_id is not None:
        known = complete_walks.get(walk_id)
        if known is not None:
            return known
    rows = [row for walk in walks for row in walk.rows]
    # Each walk is already ordered by worker id, so this sort only merges two runs; the C
    # attrgetter key makes that about three times cheaper than a Python function at 100k.
    rows.sort(key=attrgetter("worker_id"))
    times = [walk.fetched_at for walk in walks if walk.fetched_at is not None]
    merged = Workers(
        rows=rows,
        complete=all(walk.complete for walk in walks),
        fetched_at=min(times) if times else None,
        walk_id=walk_id,
    )
    if walk_id is not None:
        complete_walks.put(walk_id, merged)
    return merged


def refresh_workers(type_id: str) -> None:
    """Start the type's walks over: later looks fetch from MTurk again, old pages expire."""
    _bump_generation(account(), type_id)


# Every "all" look in progress walks its two statuses on threads from here. A pool of just two
# threads was shared by the whole process: while one export of a large type walked (minutes),
# every other "all" look waited for a thread, past its budget. Threads start only when needed.
_side_by_side = ThreadPoolExecutor(max_workers=32, thread_name_prefix="walk")


class _CompleteWalks:
    """Finished walks kept in this process, so a warm look skips replaying a thousand pages.

    Keyed by the completion marker's walk id: a refresh or a new walk has a new id, so an entry
    here can never outlive the cached data it was built from.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._walks: OrderedDict[str, Workers] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, walk_id: str) -> Workers | None:
        with self._lock:
            walk = self._walks.get(walk_id)
            if walk is not None:
                self._walks.move_to_end(walk_id)
            return walk

    def put(self, walk_id: str, walk: Workers) -> None:
        with self._lock:
            self._walks[walk_id] = walk
            self._walks.move_to_end(walk_id)
            while len(self._walks) > self._size:
                self._walks.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._walks.clear()


complete_walks = _CompleteWalks(COMPLETE_WALKS_KEPT)


def _walk(acct: Account, type_id: str, status: str, budget: float | None) -> Workers:
    generation = _generation(acct, type_id)
    prefix = f"qd:{acct.scope}:{type_id}:{status}:{generation}"
    marker: dict[str, Any] | None = cache.get(f"{prefix}:done")
    if marker is not None:
        known = complete_walks.get(marker["walk_id"])
        if known is not None:
            return known

    deadline = None if budget is None else time.monotonic() + budget
    lock_key = f"{prefix}:lock"
    holds_lock = cache.add(lock_key, True, LOCK_SECONDS)
    restarted = False
    fetched = False
    # The lock is kept alive a third of its life at a time, not rewritten after every page.
    touch_lock_at = time.monotonic() + LOCK_SECONDS / 3
    try:
        rows: list[WorkerRow] = []
        fetched_at: datetime | None = None
        token: str | None = None
        seen_tokens: set[str] = set()
        while True:
            page_key = f"{prefix}:{_digest(token)}"
            page: Page | None = cache.get(page_key)
            if page is None:
                if not holds_lock:
                    # Another request is walking this type: take its pages as they land.
                    if deadline is not None and time.monotonic() >= deadline:
                        return _partial(rows, fetched_at)
                    time.sleep(LOCK_POLL_SECONDS)
                    holds_lock = cache.add(lock_key, True, LOCK_SECONDS)
                    continue
                # With the cache down nothing fetched is kept for a continuation to replay, so
                # stopping at the budget would start every continuation over: finish instead.
                # And every look fetches at least one page, so a walk whose cached pages take
                # longer than the budget to replay still moves forward.
                if (
                    fetched
                    and deadline is not None
                    and time.monotonic() >= deadline
                    and cache.available
                ):
                    return _partial(rows, fetched_at)
                try:
                    page = _fetch_workers_page(acct, type_id, status, token)
                except _InvalidToken:
                    if restarted:
                        raise MTurkUnavailable(
                            "MTurk rejected its own pagination token twice in a row."
                        ) from None
                    log.warning("MTurk rejected a pagination token; walking %s again", type_id)
                    restarted = True
                    generation = _bump_generation(acct, type_id)
                    prefix = f"qd:{acct.scope}:{type_id}:{status}:{generation}"
                    cache.add(f"{prefix}:lock", True, LOCK_SECONDS)
                    cache.delete(lock_key)
                    lock_key = f"{prefix}:lock"
                    rows, fetched_at, token, seen_tokens = [], None, None, set()
                    continue
                fetched = True
                cache.set(page_key, page, settings.QUALDASH_CACHE_TTL)
                if time.monotonic() >= touch_lock_at:
                    cache.touch(lock_key, LOCK_SECONDS)
                    touch_lock_at = time.monotonic() + LOCK_SECONDS / 3
            rows.extend(page.rows)
            if fetched_at is None:
                fetched_at = page.fetched_at
            token = _token_to_follow(page.next_token, page.rows, seen_tokens)
            if token is None:
                break

        walk_id = uuid.uuid4().hex
        walk = Workers(
            rows=_unique_by_worker(rows), complete=True, fetched_at=fetched_at, walk_id=walk_id
        )
        cache.set(
            f"{prefix}:done",
            {"walk_id": walk_id, "rows": len(walk.rows), "fetched_at": fetched_at},
            settings.QUALDASH_CACHE_TTL,
        )
        complete_walks.put(walk_id, walk)
        return walk
    finally:
        if holds_lock:
            cache.delete(lock_key)


def _partial(rows: list[WorkerRow], fetched_at: datetime | None) -> Workers:
    return Workers(rows=_unique_by_worker(rows), complete=False, fetched_at=fetched_at)


def _unique_by_worker(rows: Iterable[WorkerRow]) -> list[WorkerRow]:
    """Rows ordered by worker id, each worker once (a page boundary shifted mid-walk by a grant
    can hand the same worker out twice)."""
    unique = {row.worker_id: row for row in rows}
    return sorted(unique.values(), key=attrgetter("worker_id"))


def _fetch_workers_page(acct: Account, type_id: str, status: str, token: str | None) -> Page:
    kwargs: dict[str, Any] = {
        "QualificationTypeId": type_id,
        "Status": status,
        "MaxResults": PAGE_SIZE,
    }
    if token:
        kwargs["NextToken"] = token
    try:
        response = _call(acct, "list_workers_with_qualification_type", **kwargs)
    except _RequestRejected as rejected:
        if token and "token" in str(rejected).lower():
            raise _InvalidToken from rejected
        raise
    return Page(
        rows=tuple(_worker_row(item) for item in response.get("Qualifications", [])),
        next_token=response.get("NextToken"),
        fetched_at=datetime.now(UTC),
    )


def _worker_row(item: dict[str, Any]) -> WorkerRow:
    locale = item.get("LocaleValue") or {}
    return WorkerRow(
        worker_id=item["WorkerId"],
        status=item["Status"],
        score=item.get("IntegerValue"),
        country=locale.get("Country"),
        subdivision=locale.get("Subdivision"),
        granted=item["GrantTime"].astimezone(UTC),
    )


def _qualification_type(item: dict[str, Any]) -> QualificationType:
    created = item.get("CreationTime")
    return QualificationType(
        type_id=item["QualificationTypeId"],
        name=item.get("Name", ""),
        description=item.get("Description", ""),
        status=item.get("QualificationTypeStatus", ""),
        created=created.astimezone(UTC) if created else None,
        keywords=item.get("Keywords", ""),
        is_requestable=bool(item.get("IsRequestable", False)),
        auto_granted=bool(item.get("AutoGranted", False)),
    )


# --- calls, generations, keys ---------------------------------------------------------------


class _RequestRejected(MTurkUnavailable):
    """MTurk refused a request (a 400 RequestError other than "not found")."""


def _call(acct: Account, operation: str, **kwargs: Any) -> dict[str, Any]:
    """One API call, its failures translated to this module's exceptions.

    botocore's standard retry mode has already retried throttling and faults with backoff by
    the time an exception arrives here.
    """
    try:
        response: dict[str, Any] = getattr(acct.client, operation)(**kwargs)
    except NoCredentialsError as error:
        raise MTurkNotConfigured(str(error)) from error
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "")
        message = details.get("Message", "") or str(error)
        turk_code = str(error.response.get("TurkErrorCode", ""))
        if code == "RequestError" and (
            "DoesNotExist" in turk_code or "does not exist" in message.lower()
        ):
            raise QualificationTypeNotFound(kwargs.get("QualificationTypeId", "")) from error
        if code == "RequestError":
            raise _RequestRejected(message) from error
        log.warning("MTurk %s failed after retries: %s", operation, code)
        raise MTurkUnavailable(f"MTurk answered {code}: {message}") from error
    except BotoCoreError as error:
        log.warning("MTurk %s failed after retries: %s", operation, type(error).__name__)
        raise MTurkUnavailable(f"Could not reach MTurk ({type(error).__name__}).") from error
    return response


def _generation(acct: Account, name: str) -> int:
    key = f"qd:{acct.scope}:{name}:gen"
    generation: int | None = cache.get(key)
    if generation is None:
        # A time-based start means a generation key lost to eviction never brings back the pages
        # of an older generation.
        cache.add(key, time.time_ns(), None)
        generation = cache.get(key, 0)
    return generation


def _bump_generation(acct: Account, name: str) -> int:
    key = f"qd:{acct.scope}:{name}:gen"
    generation = max(time.time_ns(), _generation(acct, name) + 1)
    cache.set(key, generation, None)
    return generation


def _token_to_follow(
    next_token: str | None, page: Sequence[object], seen_tokens: set[str]
) -> str | None:
    """The token of the next page, remembered in seen_tokens; None where the walk ends: on no
    token, an empty page, or a token seen before (the API looping)."""
    if not next_token or not page or next_token in seen_tokens:
        return None
    seen_tokens.add(next_token)
    return next_token


def _digest(token: str | None) -> str:
    return hashlib.sha256((token or "first").encode()).hexdigest()

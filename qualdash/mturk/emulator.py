"""An offline Amazon Mechanical Turk requester API on the real wire protocol (AWS JSON 1.1).

It serves the demo, the tests and the benchmark through real boto3 clients, so botocore's
serializer, parser and retry logic run on every call. The data is seeded and deterministic: the
same type ids, workers, values and grant times on every run and every machine. Only the parts of
the API that qualdash uses are emulated, with the quirks of the real service that matter to a
page walker: opaque tokens, a trailing empty page after a full last page, rows in an order that is
neither by worker id nor by grant time, throttling and service faults.

Stdlib only and no Django, so the management command, the tests and the benchmark can all import
it without settings.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import hashlib
import hmac
import http
import json
import logging
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)

TARGET_PREFIX = "MTurkRequesterServiceV20170117."
CONTENT_TYPE = "application/x-amz-json-1.1"

# Every seeded timestamp is fixed relative to this instant, so the data never depends on the clock.
SEED_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
_SEED_EPOCH_MS = int(SEED_EPOCH.timestamp()) * 1000
_GRANT_SPREAD_MS = 3 * 365 * 86_400 * 1000
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ENTITY_ID = re.compile(r"[A-Z0-9]+")
_CUSTOMER_ID = re.compile(r"A[A-Z0-9]+")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")

# Tokens are signed so that a forged, garbled or foreign token is refused the way MTurk refuses
# it. The key is a constant on purpose: tokens stay stable across restarts, like the data.
_PAGINATION_HMAC_KEY = b"qualdash-mturk-emulator-pagination"
_SIGNATURE_BYTES = 16

_STATUSES = ("Granted", "Revoked")


@dataclass(frozen=True)
class SeedType:
    type_id: str
    name: str
    description: str
    granted: int
    revoked: int
    status: str  # "Active" or "Inactive"
    keywords: str = ""
    retry_delay_seconds: int | None = None


def _type_id(name: str) -> str:
    # Real ids are 30 characters of [A-Z0-9] starting with "3"; base32 gives [A-Z2-7].
    digest = hashlib.blake2b(name.encode(), digest_size=20).digest()
    return "3" + base64.b32encode(digest).decode()[:29]


def _seed(
    name: str,
    description: str,
    granted: int,
    revoked: int,
    status: str = "Active",
    keywords: str = "",
    retry_delay_seconds: int | None = None,
) -> SeedType:
    return SeedType(
        _type_id(name), name, description, granted, revoked, status, keywords, retry_delay_seconds
    )


_HOSTILE_NAME = '<script>alert("qd")</script> =HYPERLINK("http://evil.example","x")'
_HOSTILE_DESCRIPTION = (
    'Screens for "careful" readers & <b>bold</b> answers. <img src=x onerror=alert(1)>\n'
    "=cmd|' /C calc'!A0\n"
    "+1+1\n"
    "@SUM(A1:A2)\n"
    "Тест 測試 🙂"
)

_MAIN_SEEDS = (
    _seed("Pilot: nobody qualified yet", "Created for a pilot that never launched.", 0, 0),
    _seed(
        "Follow-up interview: one invitee",
        "The single worker invited to a follow-up interview.",
        1,
        0,
        keywords="interview",
    ),
    _seed(
        "Panel wave 1 (exactly 100 holders)",
        "Wave 1 of the panel; exactly one full page of holders.",
        100,
        0,
        keywords="panel,wave",
    ),
    _seed(
        "Panel wave 2 (101 holders, 1 revoked)",
        "Wave 2 of the panel; one row past a full page.",
        101,
        1,
        keywords="panel,wave",
    ),
    _seed(
        "Attention-check passers",
        "Workers who passed our attention checks. Value: percentage of checks passed.",
        2154,
        383,
        keywords="attention,quality",
        retry_delay_seconds=86_400,
    ),
    _seed(
        "Longitudinal panel",
        "Members of the longitudinal panel, all waves.",
        24_000,
        6_000,
        keywords="panel,longitudinal",
    ),
    _seed(
        "Global worker pool",
        "Every worker who ever completed one of our HITs.",
        90_000,
        10_000,
        keywords="pool",
    ),
    _seed(_HOSTILE_NAME, _HOSTILE_DESCRIPTION, 5, 2, keywords="-2+3,<i>x</i>"),
    _seed(
        "Buggy pagination: repeating NextToken",
        "Its second page answers with the very token it was asked with.",
        150,
        0,
    ),
)


def _filler_seed(number: int) -> SeedType:
    total = (number * 7) % 6
    revoked = 1 if total >= 2 and number % 4 == 0 else 0
    return _seed(
        f"Panel screener {number:03d}",
        f"Workers who passed panel screener {number:03d}.",
        total - revoked,
        revoked,
        status="Inactive" if number % 12 == 0 else "Active",
        keywords="panel,screener",
        retry_delay_seconds=3600 if number % 5 == 0 else None,
    )


SEED_TYPES: tuple[SeedType, ...] = _MAIN_SEEDS + tuple(_filler_seed(n) for n in range(1, 121))

(
    TYPE_EMPTY,
    TYPE_ONE,
    TYPE_HUNDRED,
    TYPE_HUNDRED_ONE,
    TYPE_SMALL,
    TYPE_MEDIUM,
    TYPE_LARGE,
    TYPE_HOSTILE,
    TYPE_REPEATING_TOKEN,
) = (seed.type_id for seed in _MAIN_SEEDS)

_SEEDS_BY_ID = {seed.type_id: seed for seed in SEED_TYPES}


def _creation_ms(type_id: str) -> int:
    # Created before the earliest possible grant, at a stable per-type moment.
    offset = int.from_bytes(hashlib.blake2b(type_id.encode(), digest_size=4).digest(), "big")
    return _SEED_EPOCH_MS - _GRANT_SPREAD_MS - offset % (90 * 86_400 * 1000)


def _qualification_type(seed: SeedType) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "QualificationTypeId": seed.type_id,
        "CreationTime": _creation_ms(seed.type_id) / 1000,
        "Name": seed.name,
        "Description": seed.description,
        "QualificationTypeStatus": seed.status,
        "IsRequestable": seed.status == "Active",
        "AutoGranted": False,
    }
    if seed.keywords:
        wire["Keywords"] = seed.keywords
    if seed.retry_delay_seconds is not None:
        wire["RetryDelayInSeconds"] = seed.retry_delay_seconds
    return wire


# Workers by country, roughly as MTurk's population skews; None is a row without a LocaleValue.
_COUNTRY_WEIGHTS: tuple[tuple[str | None, int], ...] = (
    ("US", 50),
    ("IN", 12),
    (None, 10),
    ("GB", 5),
    ("CA", 5),
    ("DE", 3),
    ("PH", 3),
    ("BR", 3),
    ("FR", 2),
    ("AU", 2),
    ("MX", 2),
    ("IT", 1),
    ("ES", 1),
    ("VE", 1),
)
_COUNTRIES = tuple(country for country, _ in _COUNTRY_WEIGHTS)
_COUNTRY_CUM_WEIGHTS = tuple(
    sum(weight for _, weight in _COUNTRY_WEIGHTS[: i + 1]) for i in range(len(_COUNTRY_WEIGHTS))
)
_SUBDIVISIONS: dict[str, tuple[str, ...]] = {
    "US": ("CA", "TX", "FL", "NY", "PA", "OH", "IL", "GA", "NC", "MI", "WA", "AZ", "OR", "MN"),
    "CA": ("ON", "QC", "BC", "AB", "MB", "NS"),
    "IN": ("KA", "TN", "MH", "KL", "DL", "UP", "WB", "GJ"),
    "AU": ("WA", "SA", "NT"),
}

_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_TO_ALNUM = bytes.maketrans(bytes(range(256)), bytes(_ALNUM[i % 36] for i in range(256)))
_WORKER_ID_CHARS = 14  # up to 13 characters after the "A", plus one that picks the length


@dataclass(slots=True)
class _Row:
    worker_id: str
    grant_ms: int
    integer_value: int | None
    country: str | None
    subdivision: str | None
    status: str

    def wire(self, type_id: str) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "QualificationTypeId": type_id,
            "WorkerId": self.worker_id,
            "GrantTime": self.grant_ms / 1000,
        }
        if self.integer_value is not None:
            wire["IntegerValue"] = self.integer_value
        if self.country is not None:
            locale = {"Country": self.country}
            if self.subdivision is not None:
                locale["Subdivision"] = self.subdivision
            wire["LocaleValue"] = locale
        wire["Status"] = self.status
        return wire


def _order_key(type_id: str, worker_id: str) -> bytes:
    # A keyed hash: the API order is stable, and is neither by worker id nor by grant time.
    return hashlib.blake2b(f"{type_id}:{worker_id}".encode(), digest_size=8).digest()


def _worker_ids(rng: random.Random, count: int) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < count:
        needed = count - len(ids)
        blob = rng.randbytes(needed * _WORKER_ID_CHARS).translate(_TO_ALNUM).decode("ascii")
        for start in range(0, len(blob), _WORKER_ID_CHARS):
            chunk = blob[start : start + _WORKER_ID_CHARS]
            length = 12 if chunk[-1] < "N" else 13
            worker_id = "A" + chunk[:length]
            if worker_id not in seen:
                seen.add(worker_id)
                ids.append(worker_id)
    return ids


def _seed_rows(seed: SeedType) -> list[_Row]:
    # Seeding Random with a str hashes it with SHA-512, so PYTHONHASHSEED cannot change the data.
    rng = random.Random(f"qualdash-emulator:{seed.type_id}")
    count = seed.granted + seed.revoked
    worker_ids = _worker_ids(rng, count)
    countries = rng.choices(_COUNTRIES, cum_weights=_COUNTRY_CUM_WEIGHTS, k=count)
    rows: list[_Row] = []
    grant_ms = _SEED_EPOCH_MS
    for index, (worker_id, country) in enumerate(zip(worker_ids, countries, strict=True)):
        # Bulk grants share a timestamp: keep some exact ties for sorting code to meet.
        if index == 0 or rng.random() >= 0.08:
            grant_ms = _SEED_EPOCH_MS - 1 - int(rng.random() * _GRANT_SPREAD_MS)
        draw = rng.random()
        integer_value: int | None
        if draw < 0.10:
            integer_value = None
        elif draw < 0.40:
            integer_value = 100
        elif draw < 0.55:
            integer_value = 1
        else:
            integer_value = int(rng.random() * 101)
        subdivision = None
        choices = _SUBDIVISIONS.get(country or "")
        if choices and rng.random() < 0.6:
            subdivision = choices[int(rng.random() * len(choices))]
        status = "Granted" if index < seed.granted else "Revoked"
        rows.append(_Row(worker_id, grant_ms, integer_value, country, subdivision, status))
    return rows


class _TypeState:
    def __init__(self, seed: SeedType) -> None:
        self.seed = seed
        rows = _seed_rows(seed)
        keys = [_order_key(seed.type_id, row.worker_id) for row in rows]
        order = sorted(range(len(rows)), key=keys.__getitem__)
        self.keys = [keys[i] for i in order]
        self.rows = [rows[i] for i in order]
        self.by_worker = {row.worker_id: row for row in self.rows}
        self._views: dict[str | None, list[_Row]] = {}

    def view(self, status: str | None) -> list[_Row]:
        # Cached so a 1,000-page walk does not filter 100k rows on every page.
        if status not in self._views:
            self._views[status] = [r for r in self.rows if status is None or r.status == status]
        return self._views[status]

    def grant(self, worker_id: str, integer_value: int | None, now_ms: int) -> None:
        row = self.by_worker.get(worker_id)
        if row is None:
            row = _Row(worker_id, now_ms, integer_value, None, None, "Granted")
            key = _order_key(self.seed.type_id, worker_id)
            position = bisect.bisect(self.keys, key)
            self.keys.insert(position, key)
            self.rows.insert(position, row)
            self.by_worker[worker_id] = row
        else:
            row.status = "Granted"
            row.grant_ms = now_ms
            if integer_value is not None:
                row.integer_value = integer_value
        self._views.clear()

    def revoke(self, row: _Row) -> None:
        row.status = "Revoked"
        self._views.clear()


class _Rejected(Exception):
    """A call answered with an error body instead of a result."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


def _request_error(message: str, turk_error_code: str) -> _Rejected:
    return _Rejected(
        400, {"__type": "RequestError", "Message": message, "TurkErrorCode": turk_error_code}
    )


def _serialization_error(message: str) -> _Rejected:
    return _Rejected(400, {"__type": "SerializationException", "message": message})


def _constraint_error(name: str, value: object, constraint: str) -> _Rejected:
    # Worded like the Coral validation messages AWS services send.
    member = name[0].lower() + name[1:]
    return _request_error(
        f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy "
        f"constraint: Member must {constraint}",
        "AWS.ParameterOutOfRange",
    )


def _member(params: dict[str, Any], name: str, kind: type, required: bool) -> Any:
    value = params.get(name)
    if value is None:
        if required:
            member = name[0].lower() + name[1:]
            raise _request_error(
                f"1 validation error detected: Value null at '{member}' failed to satisfy "
                "constraint: Member must not be null",
                "AWS.MissingParameters",
            )
        return None
    # bool is an int in Python, not in JSON.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _serialization_error(f"{name} must be of type {kind.__name__}")
    return value


def _string(params: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value: str | None = _member(params, name, str, required)
    return value


def _boolean(params: dict[str, Any], name: str, *, required: bool = False) -> bool | None:
    value: bool | None = _member(params, name, bool, required)
    return value


def _integer(params: dict[str, Any], name: str) -> int | None:
    value: int | None = _member(params, name, int, False)
    return value


def _identifier(params: dict[str, Any], name: str, pattern: re.Pattern[str]) -> str:
    value: str = _member(params, name, str, True)
    if len(value) > 64:
        raise _constraint_error(name, value, "have length less than or equal to 64")
    if not pattern.fullmatch(value):
        raise _constraint_error(
            name, value, f"satisfy regular expression pattern: ^{pattern.pattern}$"
        )
    return value


def _status(params: dict[str, Any]) -> str | None:
    status = _string(params, "Status")
    if status is not None and status not in _STATUSES:
        raise _constraint_error("Status", status, "satisfy enum value set: [Granted, Revoked]")
    return status


def _max_results(params: dict[str, Any]) -> int:
    value = _integer(params, "MaxResults")
    if value is None:
        return 100
    if value < 1:
        raise _constraint_error("MaxResults", value, "have value greater than or equal to 1")
    if value > 100:
        raise _constraint_error("MaxResults", value, "have value less than or equal to 100")
    return value


def _access_key_id(headers: Mapping[str, str]) -> str:
    authorization = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    match = _CREDENTIAL.search(authorization)
    return match.group(1) if match else ""


_Operation = Callable[[dict[str, Any]], dict[str, Any]]


class Emulator:
    """The emulated service's state and request handling, without HTTP. Thread-safe.

    The knobs can be changed while serving: `latency` (seconds added to every call),
    `throttle_every` (every Nth call answers ThrottlingException), and `fault_from_call` with
    `fault_calls` (that many calls from call number `fault_from_call` answer a 500 ServiceFault).
    Calls are numbered from 1 since creation or the last reset_counts().
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        throttle_every: int = 0,
        fault_from_call: int = 0,
        fault_calls: int = 0,
    ) -> None:
        self.latency = latency
        self.throttle_every = throttle_every
        self.fault_from_call = fault_from_call
        self.fault_calls = fault_calls
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._types: dict[str, _TypeState] = {}
        self._faults_pending = 0
        self._token_epoch = 0
        self._operations: dict[str, _Operation] = {
            "ListQualificationTypes": self._list_qualification_types,
            "GetQualificationType": self._get_qualification_type,
            "ListWorkersWithQualificationType": self._list_workers_with_qualification_type,
            "GetQualificationScore": self._get_qualification_score,
            "AssociateQualificationWithWorker": self._associate_qualification_with_worker,
            "DisassociateQualificationFromWorker": self._disassociate_qualification_from_worker,
            "GetAccountBalance": self._get_account_balance,
        }

    def fail_next(self, n: int) -> None:
        """Answer the next n calls with a 500 ServiceFault."""
        with self._lock:
            self._faults_pending = n

    def expire_tokens(self) -> None:
        """Invalidate every NextToken issued so far, as a token expiring mid-walk would."""
        with self._lock:
            self._token_epoch += 1

    def workers(self, type_id: str, status: str | None = None) -> list[dict[str, Any]]:
        """Every row of a type in API order, with GrantTime as an aware UTC datetime.

        Raises KeyError for a type that does not exist.
        """
        with self._lock:
            rows = self._type_state(type_id).view(status)
            return [
                row.wire(type_id)
                | {"GrantTime": _UNIX_EPOCH + timedelta(milliseconds=row.grant_ms)}
                for row in rows
            ]

    def call_count(self, operation: str | None = None) -> int:
        """Calls received since the start or the last reset, throttled and faulted ones too."""
        with self._lock:
            return sum(1 for op, _ in self.calls if operation is None or op == operation)

    def reset_counts(self) -> None:
        """Forget the calls received; throttle_every and fault_from_call count from here."""
        with self._lock:
            self.calls.clear()

    def handle(
        self, target: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """Answer one call: the X-Amz-Target value, the raw JSON body and the request headers."""
        operation = target.removeprefix(TARGET_PREFIX)
        with self._lock:
            self.calls.append((operation, _access_key_id(headers)))
            injected = self._injected_error(len(self.calls))
            latency = self.latency
        # Sleep outside the lock so that concurrent calls overlap, as they do against AWS.
        if latency > 0:
            time.sleep(latency)
        if injected is not None:
            return injected.status, injected.body
        handler = self._operations.get(operation) if target.startswith(TARGET_PREFIX) else None
        if handler is None:
            return 400, {
                "__type": "UnknownOperationException",
                "message": f"Unknown operation {target!r}",
            }
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = None
        if not isinstance(params, dict):
            return 400, _serialization_error("The request body is not a JSON object").body
        try:
            with self._lock:
                return 200, handler(params)
        except _Rejected as rejected:
            return rejected.status, rejected.body

    def _injected_error(self, call_number: int) -> _Rejected | None:
        in_window = (
            0 < self.fault_from_call <= call_number < self.fault_from_call + self.fault_calls
        )
        if self._faults_pending > 0 or in_window:
            self._faults_pending = max(0, self._faults_pending - 1)
            return _Rejected(
                500,
                {
                    "__type": "ServiceFault",
                    "Message": "Service is temporarily unavailable, please retry.",
                    "TurkErrorCode": "AWS.ServiceUnavailable",
                },
            )
        if self.throttle_every > 0 and call_number % self.throttle_every == 0:
            return _Rejected(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
        return None

    def _type_state(self, type_id: str) -> _TypeState:
        state = self._types.get(type_id)
        if state is None:
            state = self._types[type_id] = _TypeState(_SEEDS_BY_ID[type_id])
        return state

    def _existing_type(self, type_id: str) -> _TypeState:
        try:
            return self._type_state(type_id)
        except KeyError:
            raise _request_error(
                "You requested a Qualification type that does not exist.",
                "AWS.MechanicalTurk.QualificationTypeDoesNotExist",
            ) from None

    def _issue_token(self, scope: str, offset: int) -> str:
        payload = json.dumps(
            {"s": scope, "o": offset, "e": self._token_epoch}, separators=(",", ":")
        ).encode()
        signature = hmac.new(_PAGINATION_HMAC_KEY, payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(signature[:_SIGNATURE_BYTES] + payload).decode()

    def _token_offset(self, token: str | None, scope: str) -> int:
        """The offset a token continues from, if this emulator issued it for this very listing."""
        if token is None:
            return 0
        invalid = _request_error("The value of NextToken is invalid.", "AWS.ParameterOutOfRange")
        if not 1 <= len(token) <= 255:
            raise invalid
        try:
            raw = base64.b64decode(token.encode("ascii"), altchars=b"-_", validate=True)
        except (UnicodeEncodeError, binascii.Error):
            raise invalid from None
        # Base64 tolerates changes in a final character's unused bits; a genuine token is canonical.
        if base64.urlsafe_b64encode(raw).decode() != token:
            raise invalid
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        expected = hmac.new(_PAGINATION_HMAC_KEY, payload, hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected[:_SIGNATURE_BYTES]):
            raise invalid
        claims = json.loads(payload)
        if claims["s"] != scope or claims["e"] != self._token_epoch:
            raise invalid
        offset: int = claims["o"]
        return offset

    def _list_qualification_types(self, params: dict[str, Any]) -> dict[str, Any]:
        query = _string(params, "Query")
        must_be_requestable = _boolean(params, "MustBeRequestable", required=True)
        must_be_owned = _boolean(params, "MustBeOwnedByCaller")
        token = _string(params, "NextToken")
        max_results = _max_results(params)
        # Every seeded type is the caller's own, so MustBeOwnedByCaller filters nothing out; it
        # is part of the scope only so that a token cannot wander to a different listing.
        scope_key = json.dumps([query, must_be_requestable, must_be_owned])
        scope = "t:" + hashlib.sha256(scope_key.encode()).hexdigest()[:16]
        offset = self._token_offset(token, scope)
        needle = (query or "").casefold()
        listed = [
            seed
            for seed in SEED_TYPES
            if (not must_be_requestable or seed.status == "Active")
            and (needle in seed.name.casefold() or needle in seed.description.casefold())
        ]
        listed.sort(key=lambda seed: (-_creation_ms(seed.type_id), seed.type_id))
        page = listed[offset : offset + max_results]
        result: dict[str, Any] = {
            "NumResults": len(page),
            "QualificationTypes": [_qualification_type(seed) for seed in page],
        }
        # Like MTurk, a full page always offers a next one, even if that one turns out empty.
        if len(page) == max_results:
            result["NextToken"] = self._issue_token(scope, offset + len(page))
        return result

    def _get_qualification_type(self, params: dict[str, Any]) -> dict[str, Any]:
        type_id = _identifier(params, "QualificationTypeId", _ENTITY_ID)
        return {"QualificationType": _qualification_type(self._existing_type(type_id).seed)}

    def _list_workers_with_qualification_type(self, params: dict[str, Any]) -> dict[str, Any]:
        type_id = _identifier(params, "QualificationTypeId", _ENTITY_ID)
        status = _status(params)
        token = _string(params, "NextToken")
        max_results = _max_results(params)
        state = self._existing_type(type_id)
        scope = f"w:{type_id}:{status or ''}"
        offset = self._token_offset(token, scope)
        page = state.view(status)[offset : offset + max_results]
        result: dict[str, Any] = {
            "NumResults": len(page),
            "Qualifications": [row.wire(type_id) for row in page],
        }
        if type_id == TYPE_REPEATING_TOKEN and token is not None:
            result["NextToken"] = token  # the bug this type exists to emulate
        elif len(page) == max_results:
            result["NextToken"] = self._issue_token(scope, offset + len(page))
        return result

    def _score_row(self, params: dict[str, Any]) -> tuple[_TypeState, _Row]:
        type_id = _identifier(params, "QualificationTypeId", _ENTITY_ID)
        worker_id = _identifier(params, "WorkerId", _CUSTOMER_ID)
        state = self._existing_type(type_id)
        row = state.by_worker.get(worker_id)
        if row is None:
            raise _request_error(
                f"You requested a Qualification that does not exist for worker {worker_id}.",
                "AWS.MechanicalTurk.QualificationDoesNotExist",
            )
        return state, row

    def _get_qualification_score(self, params: dict[str, Any]) -> dict[str, Any]:
        state, row = self._score_row(params)
        return {"Qualification": row.wire(state.seed.type_id)}

    def _associate_qualification_with_worker(self, params: dict[str, Any]) -> dict[str, Any]:
        type_id = _identifier(params, "QualificationTypeId", _ENTITY_ID)
        worker_id = _identifier(params, "WorkerId", _CUSTOMER_ID)
        integer_value = _integer(params, "IntegerValue")
        _boolean(params, "SendNotification")
        self._existing_type(type_id).grant(worker_id, integer_value, int(time.time() * 1000))
        return {}

    def _disassociate_qualification_from_worker(self, params: dict[str, Any]) -> dict[str, Any]:
        state, row = self._score_row(params)
        _string(params, "Reason")
        state.revoke(row)
        return {}

    def _get_account_balance(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"AvailableBalance": "10000.00", "OnHoldBalance": "0.00"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if length < 0:
                raise ValueError(length)
        except ValueError:
            self.close_connection = True
            self._reply(400, _serialization_error("Invalid Content-Length").body)
            return
        body = self.rfile.read(length)
        target = self.headers.get("X-Amz-Target", "")
        status, payload = self.server.emulator.handle(target, body, dict(self.headers.items()))
        logger.debug("%s -> %d", target, status)
        self._reply(status, payload)

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        head = [
            f"{self.protocol_version} {status} {http.HTTPStatus(status).phrase}",
            f"x-amzn-RequestId: {uuid.uuid4()}",
            f"Content-Type: {CONTENT_TYPE}",
            f"Content-Length: {len(body)}",
            f"Date: {formatdate(usegmt=True)}",
        ]
        if self.close_connection:
            head.append("Connection: close")
        # One write, so that a response never waits on Nagle's algorithm between its parts.
        self.connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        super().__init__(address, _Handler)
        self.emulator = emulator

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-request are routine; they must not spray tracebacks on stderr.
        logger.debug("Error serving %s", client_address, exc_info=True)


class EmulatorServer:
    """An Emulator served over HTTP on a background thread."""

    def __init__(self, host: str, port: int, emulator: Emulator) -> None:
        self.emulator = emulator
        self._httpd = _Server((host, port), emulator)
        self.url = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="mturk-emulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


def start_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    latency: float = 0.0,
    throttle_every: int = 0,
    fault_from_call: int = 0,
    fault_calls: int = 0,
) -> EmulatorServer:
    """Serve a fresh Emulator on host:port (0 picks a free port) until stop() is called."""
    emulator = Emulator(
        latency=latency,
        throttle_every=throttle_every,
        fault_from_call=fault_from_call,
        fault_calls=fault_calls,
    )
    return EmulatorServer(host, port, emulator)

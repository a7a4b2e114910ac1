"""The MTurk emulator, driven the way the app drives it: real boto3 over real HTTP."""

import hashlib
import http.client
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from qualdash.mturk.emulator import (
    SEED_TYPES,
    TARGET_PREFIX,
    TYPE_EMPTY,
    TYPE_HOSTILE,
    TYPE_HUNDRED,
    TYPE_HUNDRED_ONE,
    TYPE_ONE,
    TYPE_REPEATING_TOKEN,
    TYPE_SMALL,
    Emulator,
    EmulatorServer,
    start_emulator,
)

LIST_WORKERS = "ListWorkersWithQualificationType"


def make_client(server: EmulatorServer, **config: Any) -> Any:
    return boto3.client(
        "mturk",
        region_name="us-east-1",
        endpoint_url=server.url,
        aws_access_key_id="AKIDEMULATOR",
        aws_secret_access_key="emulator-secret",
        config=Config(**config),
    )


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[EmulatorServer]:
    server = start_emulator()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def boto_client(emulator_server: EmulatorServer) -> Any:
    return make_client(emulator_server)


@pytest.fixture
def fresh_server() -> Iterator[EmulatorServer]:
    """A server of its own, for tests that change data or knobs."""
    server = start_emulator()
    yield server
    server.stop()


def walk(client: Any, type_id: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a listing, following NextToken until it is absent."""
    pages = [client.list_workers_with_qualification_type(QualificationTypeId=type_id, **params)]
    while "NextToken" in pages[-1]:
        pages.append(
            client.list_workers_with_qualification_type(
                QualificationTypeId=type_id, NextToken=pages[-1]["NextToken"], **params
            )
        )
    return pages


def rows_of(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for page in pages for row in page["Qualifications"]]


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> Any:
    """The parsed error response, TurkErrorCode included (botocore's stubs do not model it)."""
    return excinfo.value.response


def test_it_answers_an_empty_type_with_one_empty_page(boto_client: Any) -> None:
    pages = walk(boto_client, TYPE_EMPTY)

    assert [page["NumResults"] for page in pages] == [0]
    assert pages[0]["Qualifications"] == []


def test_it_answers_a_single_worker_in_one_page(boto_client: Any) -> None:
    pages = walk(boto_client, TYPE_ONE)

    assert [page["NumResults"] for page in pages] == [1]
    assert pages[0]["Qualifications"][0]["QualificationTypeId"] == TYPE_ONE


def test_it_follows_exactly_one_hundred_workers_with_a_trailing_empty_page(
    boto_client: Any,
) -> None:
    pages = walk(boto_client, TYPE_HUNDRED)

    assert [page["NumResults"] for page in pages] == [100, 0]
    assert "NextToken" in pages[0]
    assert pages[1]["Qualifications"] == []


def test_it_pages_one_hundred_and_one_granted_workers_in_two_pages(boto_client: Any) -> None:
    granted = walk(boto_client, TYPE_HUNDRED_ONE, Status="Granted")
    everyone = walk(boto_client, TYPE_HUNDRED_ONE)
    revoked = walk(boto_client, TYPE_HUNDRED_ONE, Status="Revoked")

    assert [page["NumResults"] for page in granted] == [100, 1]
    assert {row["Status"] for row in rows_of(granted)} == {"Granted"}
    assert [page["NumResults"] for page in everyone] == [100, 2]
    assert [row["Status"] for row in rows_of(revoked)] == ["Revoked"]


def test_it_honours_a_smaller_max_results(boto_client: Any) -> None:
    pages = walk(boto_client, TYPE_HOSTILE, MaxResults=3)

    assert [page["NumResults"] for page in pages] == [3, 3, 1]


def test_it_lists_more_than_one_hundred_types_in_two_pages(boto_client: Any) -> None:
    first = boto_client.list_qualification_types(MustBeRequestable=False, MustBeOwnedByCaller=True)
    second = boto_client.list_qualification_types(
        MustBeRequestable=False, MustBeOwnedByCaller=True, NextToken=first["NextToken"]
    )

    assert first["NumResults"] == 100
    assert second["NumResults"] == len(SEED_TYPES) - 100
    assert "NextToken" not in second
    listed = [t["QualificationTypeId"] for t in first["QualificationTypes"]]
    listed += [t["QualificationTypeId"] for t in second["QualificationTypes"]]
    assert sorted(listed) == sorted(seed.type_id for seed in SEED_TYPES)


def test_it_lists_only_active_types_when_they_must_be_requestable(boto_client: Any) -> None:
    first = boto_client.list_qualification_types(MustBeRequestable=True)
    second = boto_client.list_qualification_types(
        MustBeRequestable=True, NextToken=first["NextToken"]
    )

    listed = first["QualificationTypes"] + second["QualificationTypes"]
    assert len(listed) == sum(seed.status == "Active" for seed in SEED_TYPES)
    assert {t["QualificationTypeStatus"] for t in listed} == {"Active"}


def test_it_filters_types_by_a_query_on_name_and_description(boto_client: Any) -> None:
    by_name = boto_client.list_qualification_types(
        MustBeRequestable=False, Query="panel SCREENER 01"
    )
    by_description = boto_client.list_qualification_types(MustBeRequestable=False, Query="onerror")

    assert by_name["NumResults"] == 10
    assert [t["QualificationTypeId"] for t in by_description["QualificationTypes"]] == [
        TYPE_HOSTILE
    ]


def test_it_keeps_hostile_text_byte_for_byte(boto_client: Any) -> None:
    hostile = boto_client.get_qualification_type(QualificationTypeId=TYPE_HOSTILE)[
        "QualificationType"
    ]

    assert hostile["Name"] == '<script>alert("qd")</script> =HYPERLINK("http://evil.example","x")'
    assert "<img src=x onerror=alert(1)>" in hostile["Description"]
    assert "\n=cmd|' /C calc'!A0" in hostile["Description"]


def test_it_rejects_a_forged_token(boto_client: Any) -> None:
    token = boto_client.list_workers_with_qualification_type(QualificationTypeId=TYPE_SMALL)[
        "NextToken"
    ]
    garbled = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]

    for bad in (garbled, "bm90IGEgdG9rZW4=", token + "AAAA", "x" * 255):
        with pytest.raises(ClientError) as excinfo:
            boto_client.list_workers_with_qualification_type(
                QualificationTypeId=TYPE_SMALL, NextToken=bad
            )
        error = error_of(excinfo)
        assert error["Error"]["Code"] == "RequestError"
        assert error["Error"]["Message"] == "The value of NextToken is invalid."
        assert error["TurkErrorCode"] == "AWS.ParameterOutOfRange"


def test_it_rejects_a_token_issued_for_another_type_or_status(boto_client: Any) -> None:
    token = boto_client.list_workers_with_qualification_type(QualificationTypeId=TYPE_SMALL)[
        "NextToken"
    ]

    for params in ({"QualificationTypeId": TYPE_HUNDRED}, {"Status": "Granted"}):
        with pytest.raises(ClientError) as excinfo:
            boto_client.list_workers_with_qualification_type(
                **{"QualificationTypeId": TYPE_SMALL, "NextToken": token, **params}
            )
        assert error_of(excinfo)["TurkErrorCode"] == "AWS.ParameterOutOfRange"


def test_it_rejects_tokens_issued_before_they_expired(fresh_server: EmulatorServer) -> None:
    client = make_client(fresh_server)
    first = client.list_workers_with_qualification_type(QualificationTypeId=TYPE_SMALL)
    second = client.list_workers_with_qualification_type(
        QualificationTypeId=TYPE_SMALL, NextToken=first["NextToken"]
    )

    fresh_server.emulator.expire_tokens()

    with pytest.raises(ClientError) as excinfo:
        client.list_workers_with_qualification_type(
            QualificationTypeId=TYPE_SMALL, NextToken=second["NextToken"]
        )
    assert error_of(excinfo)["Error"]["Message"] == "The value of NextToken is invalid."
    restarted = walk(client, TYPE_SMALL)
    assert len(rows_of(restarted)) == 2154 + 383


@pytest.mark.parametrize("max_results", [0, 101])
def test_it_rejects_max_results_out_of_range(
    emulator_server: EmulatorServer, max_results: int
) -> None:
    unvalidated = make_client(emulator_server, parameter_validation=False)

    with pytest.raises(ClientError) as excinfo:
        unvalidated.list_workers_with_qualification_type(
            QualificationTypeId=TYPE_ONE, MaxResults=max_results
        )

    error = error_of(excinfo)
    assert error["Error"]["Code"] == "RequestError"
    assert error["TurkErrorCode"] == "AWS.ParameterOutOfRange"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("type_id", ["3lowercase", "3" * 65, "3ABC-DEF"])
def test_it_rejects_a_malformed_type_id(boto_client: Any, type_id: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        boto_client.list_workers_with_qualification_type(QualificationTypeId=type_id)

    assert error_of(excinfo)["TurkErrorCode"] == "AWS.ParameterOutOfRange"


def test_it_rejects_a_malformed_worker_id(boto_client: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        boto_client.get_qualification_score(QualificationTypeId=TYPE_ONE, WorkerId="B123")

    assert error_of(excinfo)["TurkErrorCode"] == "AWS.ParameterOutOfRange"


def test_it_answers_an_unknown_type_with_a_request_error(boto_client: Any) -> None:
    for call in (
        boto_client.get_qualification_type,
        boto_client.list_workers_with_qualification_type,
    ):
        with pytest.raises(boto_client.exceptions.RequestError) as excinfo:
            call(QualificationTypeId="3NOSUCHTYPE")
        error = excinfo.value.response
        assert error["TurkErrorCode"] == "AWS.MechanicalTurk.QualificationTypeDoesNotExist"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_it_throttles_every_nth_call(fresh_server: EmulatorServer) -> None:
    client = make_client(fresh_server, retries={"total_max_attempts": 1})
    fresh_server.emulator.throttle_every = 2

    client.get_account_balance()
    with pytest.raises(ClientError) as excinfo:
        client.get_account_balance()
    client.get_account_balance()

    error = error_of(excinfo)
    assert error["Error"] == {"Code": "ThrottlingException", "Message": "Rate exceeded"}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fresh_server.emulator.call_count("GetAccountBalance") == 3


def test_it_lets_standard_retries_ride_out_throttling(fresh_server: EmulatorServer) -> None:
    client = make_client(fresh_server, retries={"mode": "standard", "total_max_attempts": 3})
    fresh_server.emulator.throttle_every = 2

    client.get_account_balance()
    response = client.get_account_balance()

    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert fresh_server.emulator.call_count() == 3


def test_it_answers_service_faults_while_failing(fresh_server: EmulatorServer) -> None:
    client = make_client(fresh_server, retries={"total_max_attempts": 1})
    fresh_server.emulator.fail_next(2)

    for _ in range(2):
        with pytest.raises(client.exceptions.ServiceFault) as excinfo:
            client.get_account_balance()
        error = excinfo.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert error["TurkErrorCode"] == "AWS.ServiceUnavailable"
    assert client.get_account_balance()["AvailableBalance"] == "10000.00"


def test_it_faults_a_window_of_calls() -> None:
    server = start_emulator(fault_from_call=2, fault_calls=2)
    try:
        client = make_client(server, retries={"total_max_attempts": 1})
        outcomes = []
        for _ in range(4):
            try:
                client.get_account_balance()
                outcomes.append("ok")
            except client.exceptions.ServiceFault:
                outcomes.append("fault")
    finally:
        server.stop()

    assert outcomes == ["ok", "fault", "fault", "ok"]


def test_it_repeats_the_token_on_the_buggy_type(boto_client: Any) -> None:
    first = boto_client.list_workers_with_qualification_type(
        QualificationTypeId=TYPE_REPEATING_TOKEN
    )
    second = boto_client.list_workers_with_qualification_type(
        QualificationTypeId=TYPE_REPEATING_TOKEN, NextToken=first["NextToken"]
    )
    third = boto_client.list_workers_with_qualification_type(
        QualificationTypeId=TYPE_REPEATING_TOKEN, NextToken=second["NextToken"]
    )

    assert first["NumResults"] == 100
    assert second["NumResults"] == 50
    assert second["NextToken"] == first["NextToken"]
    assert third["Qualifications"] == second["Qualifications"]
    assert third["NextToken"] == first["NextToken"]


def test_it_grants_and_revokes_through_associate_and_disassociate(
    fresh_server: EmulatorServer,
) -> None:
    client = make_client(fresh_server)
    newcomer = "ANEWCOMER0001"

    client.associate_qualification_with_worker(
        QualificationTypeId=TYPE_HUNDRED, WorkerId=newcomer, IntegerValue=42
    )
    after_grant = rows_of(walk(client, TYPE_HUNDRED))
    client.disassociate_qualification_from_worker(
        QualificationTypeId=TYPE_HUNDRED, WorkerId=newcomer, Reason="test"
    )
    granted_after_revoke = rows_of(walk(client, TYPE_HUNDRED, Status="Granted"))
    revoked_after_revoke = rows_of(walk(client, TYPE_HUNDRED, Status="Revoked"))

    assert len(after_grant) == 101
    granted = next(row for row in after_grant if row["WorkerId"] == newcomer)
    assert (granted["IntegerValue"], granted["Status"]) == (42, "Granted")
    assert newcomer not in {row["WorkerId"] for row in granted_after_revoke}
    assert [row["WorkerId"] for row in revoked_after_revoke] == [newcomer]
    score = client.get_qualification_score(QualificationTypeId=TYPE_HUNDRED, WorkerId=newcomer)
    assert score["Qualification"]["Status"] == "Revoked"


def test_it_places_new_grants_where_the_ordering_puts_them(fresh_server: EmulatorServer) -> None:
    client = make_client(fresh_server)
    before = [row["WorkerId"] for row in fresh_server.emulator.workers(TYPE_SMALL)]

    for worker_id in ("AZZZZNEW00001", "AZZZZNEW00002", "AZZZZNEW00003"):
        client.associate_qualification_with_worker(
            QualificationTypeId=TYPE_SMALL, WorkerId=worker_id
        )
    after = [row["WorkerId"] for row in rows_of(walk(client, TYPE_SMALL))]

    assert len(after) == len(before) + 3
    assert [worker_id for worker_id in after if worker_id in set(before)] == before
    assert after[-3:] != ["AZZZZNEW00001", "AZZZZNEW00002", "AZZZZNEW00003"]


def test_it_answers_a_missing_score_with_a_request_error(boto_client: Any) -> None:
    with pytest.raises(boto_client.exceptions.RequestError) as excinfo:
        boto_client.get_qualification_score(QualificationTypeId=TYPE_ONE, WorkerId="ANOBODY000001")

    assert excinfo.value.response["TurkErrorCode"].startswith("AWS.MechanicalTurk.")


def test_it_answers_the_account_balance(boto_client: Any) -> None:
    balance = boto_client.get_account_balance()

    assert (balance["AvailableBalance"], balance["OnHoldBalance"]) == ("10000.00", "0.00")


@pytest.mark.parametrize("status", [None, "Granted", "Revoked"])
def test_it_returns_from_workers_exactly_what_a_full_walk_returns(
    emulator_server: EmulatorServer, boto_client: Any, status: str | None
) -> None:
    params = {"Status": status} if status else {}

    walked = rows_of(walk(boto_client, TYPE_SMALL, **params))

    truth = emulator_server.emulator.workers(TYPE_SMALL, status)
    # botocore gives local-time datetimes; == on aware datetimes compares instants.
    assert walked == truth
    assert len(truth) == {None: 2537, "Granted": 2154, "Revoked": 383}[status]


def test_it_orders_rows_neither_by_id_nor_by_time(emulator_server: EmulatorServer) -> None:
    rows = emulator_server.emulator.workers(TYPE_SMALL)
    ids = [row["WorkerId"] for row in rows]
    times = [row["GrantTime"] for row in rows]

    assert ids not in (sorted(ids), sorted(ids, reverse=True))
    assert times not in (sorted(times), sorted(times, reverse=True))


def test_it_seeds_realistic_rows_with_ties(emulator_server: EmulatorServer) -> None:
    rows = emulator_server.emulator.workers(TYPE_SMALL)

    assert len({row["WorkerId"] for row in rows}) == len(rows)
    assert all(row["WorkerId"].startswith("A") and 13 <= len(row["WorkerId"]) <= 14 for row in rows)
    assert len({row["GrantTime"] for row in rows}) < len(rows)
    without_value = sum("IntegerValue" not in row for row in rows) / len(rows)
    without_locale = sum("LocaleValue" not in row for row in rows) / len(rows)
    assert 0.05 < without_value < 0.15
    assert 0.05 < without_locale < 0.15
    assert all(0 <= row.get("IntegerValue", 0) <= 100 for row in rows)
    subdivided = {
        row["LocaleValue"]["Country"] for row in rows if "Subdivision" in row.get("LocaleValue", {})
    }
    assert subdivided <= {"US", "CA", "IN", "AU"}


def test_it_seeds_every_type_with_its_counts() -> None:
    emulator = Emulator()
    for seed in SEED_TYPES:
        if seed.granted + seed.revoked > 3000:
            continue
        assert len(emulator.workers(seed.type_id, "Granted")) == seed.granted
        assert len(emulator.workers(seed.type_id, "Revoked")) == seed.revoked


def _digest(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def test_it_seeds_the_same_data_in_every_instance_and_process() -> None:
    here = _digest(Emulator().workers(TYPE_SMALL))
    script = (
        "import hashlib, json; from qualdash.mturk.emulator import Emulator, TYPE_SMALL; "
        "print(hashlib.sha256(json.dumps(Emulator().workers(TYPE_SMALL), default=str)"
        ".encode()).hexdigest())"
    )
    project_root = str(Path(__file__).resolve().parents[1])
    # Our own interpreter running a literal script: nothing untrusted reaches the command line.
    elsewhere = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": project_root},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert _digest(Emulator().workers(TYPE_SMALL)) == here
    assert elsewhere == here


def test_it_records_the_access_key_id_of_each_call(fresh_server: EmulatorServer) -> None:
    make_client(fresh_server).get_account_balance()
    fresh_server.emulator.handle(TARGET_PREFIX + "GetAccountBalance", b"{}", {})

    assert fresh_server.emulator.calls == [
        ("GetAccountBalance", "AKIDEMULATOR"),
        ("GetAccountBalance", ""),
    ]


def test_it_answers_an_unknown_operation() -> None:
    status, body = Emulator().handle(TARGET_PREFIX + "CreateHIT", b"{}", {})

    assert status == 400
    assert body["__type"] == "UnknownOperationException"


def post(
    connection: http.client.HTTPConnection, operation: str, body: bytes
) -> tuple[http.client.HTTPResponse, bytes]:
    connection.request(
        "POST",
        "/",
        body=body,
        headers={
            "X-Amz-Target": TARGET_PREFIX + operation,
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    response = connection.getresponse()
    return response, response.read()


def test_it_speaks_json_1_1_over_a_kept_alive_connection(
    emulator_server: EmulatorServer,
) -> None:
    host, port = emulator_server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        first, first_body = post(connection, "GetAccountBalance", b"{}")
        first_socket = connection.sock
        malformed, malformed_body = post(connection, LIST_WORKERS, b"{not json")
        second, _ = post(connection, "GetAccountBalance", b"{}")
        last_socket = connection.sock
    finally:
        connection.close()

    assert first.status == 200
    assert first.getheader("Content-Type") == "application/x-amz-json-1.1"
    assert first.getheader("x-amzn-RequestId")
    assert json.loads(first_body)["AvailableBalance"] == "10000.00"
    assert malformed.status == 400
    assert json.loads(malformed_body)["__type"] == "SerializationException"
    assert second.status == 200
    assert last_socket is first_socket is not None


def test_it_sends_timestamps_as_epoch_seconds() -> None:
    status, body = Emulator().handle(
        TARGET_PREFIX + LIST_WORKERS,
        json.dumps({"QualificationTypeId": TYPE_ONE}).encode(),
        {},
    )

    assert status == 200
    assert isinstance(body["Qualifications"][0]["GrantTime"], float)

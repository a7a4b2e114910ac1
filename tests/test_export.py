"""The CSV export: the table's query, every row, UTC, safe cells, web and command line alike."""

import csv
import io
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from qualdash.dashboard import export
from qualdash.dashboard.query import WorkerQuery
from qualdash.mturk import emulator as seeds
from qualdash.mturk.emulator import Emulator
from qualdash.mturk.pages import WorkerRow
from tests.observe import CSV_COLUMNS
from tests.reference import select, truth

HEADER = CSV_COLUMNS


def download(client: Client, type_id: str, params: dict[str, Any] | None = None) -> Any:
    response = client.get(f"/types/{type_id}/export.csv", params or {})
    assert response.status_code == 200
    assert response.streaming
    return response


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def expected_lines(type_id: str, rows: list[dict[str, Any]]) -> list[list[str]]:
    return [HEADER] + [
        [
            row["worker_id"],
            type_id,
            row["status"],
            "" if row["score"] is None else str(row["score"]),
            row["country"] or "",
            row["subdivision"] or "",
            row["granted"]
            .astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        ]
        for row in rows
    ]


@pytest.mark.parametrize(
    ("type_id", "params", "select_args"),
    [
        (seeds.TYPE_SMALL, {}, {}),
        (seeds.TYPE_SMALL, {"status": "revoked", "sort": "score"}, {"sort": "score"}),
        (
            seeds.TYPE_SMALL,
            {"country": ["US", "IN"], "score_min": "30", "sort": "-subdivision", "page": "3"},
            {"countries": ("US", "IN"), "score_min": 30, "sort": "-subdivision"},
        ),
        (
            seeds.TYPE_SMALL,
            {"status": "all", "q": "b", "sort": "country"},
            {"q": "b", "sort": "country"},
        ),
        (seeds.TYPE_EMPTY, {}, {}),
        (seeds.TYPE_MEDIUM, {"status": "all", "sort": "worker_id"}, {"sort": "worker_id"}),
        (seeds.TYPE_MEDIUM, {"status": "all"}, {}),
    ],
)
def test_it_exports_every_selected_row_in_the_table_order(
    owner_client: Client,
    mturk: Emulator,
    type_id: str,
    params: dict[str, Any],
    select_args: dict[str, Any],
) -> None:
    body = b"".join(download(owner_client, type_id, {**params, "per_page": "25"}).streaming_content)
    status = params.get("status", "granted")
    wanted = select(truth(mturk, type_id, status), **select_args)
    assert parse(body.decode("utf-8")) == expected_lines(type_id, wanted)


def test_it_matches_the_table_row_for_row(owner_client: Client) -> None:
    params = {"status": "all", "country": "GB", "sort": "-score", "per_page": "500"}
    table = owner_client.get(f"/types/{seeds.TYPE_SMALL}/", params).context["page"]
    assert table.total <= 500
    lines = parse(
        b"".join(download(owner_client, seeds.TYPE_SMALL, params).streaming_content).decode()
    )
    assert [line[0] for line in lines[1:]] == [row.worker_id for row in table.rows]


def test_it_names_the_file_and_sends_csv_headers(owner_client: Client) -> None:
    response = download(owner_client, seeds.TYPE_SMALL, {"status": "all"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    match = re.fullmatch(
        r'attachment; filename="qualdash-(\w+)-all-(\d{8}T\d{6}Z)\.csv"',
        response["Content-Disposition"],
    )
    assert match is not None
    assert match.group(1) == seeds.TYPE_SMALL
    stamp = datetime.strptime(match.group(2), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


def test_it_writes_utc_whatever_the_server_time_zone(
    owner_client: Client, mturk: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        body = b"".join(download(owner_client, seeds.TYPE_HUNDRED).streaming_content).decode()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    lines = parse(body)
    wanted = select(truth(mturk, seeds.TYPE_HUNDRED))
    assert lines == expected_lines(seeds.TYPE_HUNDRED, wanted)
    assert all(line[6].endswith("Z") for line in lines[1:])


def test_it_uses_crlf_line_ends_and_quotes_as_rfc_4180() -> None:
    row = WorkerRow(
        "A1", "Granted", 7, "US", 'Say "hi", then\nleave', datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    )
    text = "".join(export._row_chunks("3T", [row], *_writer()))
    assert text == 'A1,3T,Granted,7,US,"Say ""hi"", then\nleave",2025-01-02T03:04:05.000Z\r\n'


@pytest.mark.parametrize("trigger", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_it_neutralizes_cells_a_spreadsheet_would_run(trigger: str) -> None:
    formula = f'{trigger}HYPERLINK("http://evil.example")'
    row = WorkerRow("A1", formula, -5, formula, formula, datetime(2025, 1, 2, tzinfo=UTC))
    (line,) = parse("".join(export._row_chunks("3T", [row], *_writer())))
    assert line[2] == line[4] == line[5] == "'" + formula
    # A number is not a formula: a negative score stays a number.
    assert line[3] == "-5"


def test_the_command_line_export_equals_the_web_export(
    owner_client: Client, tmp_path: Path
) -> None:
    web = b"".join(
        download(
            owner_client,
            seeds.TYPE_SMALL,
            {"status": "all", "country": ["US", "CA"], "score_max": "60", "sort": "granted"},
        ).streaming_content
    )
    out = tmp_path / "workers.csv"
    call_command(
        "export_workers",
        seeds.TYPE_SMALL,
        "--status=all",
        "--country=US",
        "--country=CA",
        "--score-max=60",
        "--sort=granted",
        f"--output={out}",
    )
    assert out.read_bytes() == web


def test_the_command_line_export_refuses_bad_filters(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="score_min"):
        call_command("export_workers", seeds.TYPE_SMALL, "--score-min=lots")
    with pytest.raises(CommandError, match="not a Qualification type id"):
        call_command("export_workers", "abc")
    with pytest.raises(CommandError, match="no Qualification type"):
        call_command("export_workers", "3NOSUCHTYPE0000000000000000000")


def test_a_failure_mid_export_ends_with_an_error_row_and_aborts(
    owner_client: Client, mturk: Emulator
) -> None:
    response = download(owner_client, seeds.TYPE_SMALL, {"status": "all"})
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"WorkerId,")
    mturk.fail_next(1000)
    received = []
    with pytest.raises(export.ExportFailed):
        received.extend(chunks)
    (last_line,) = parse(received[-1].decode())
    assert last_line[0] == "#qualdash-export-error"
    assert last_line[1].startswith("Export incomplete: MTurk answered ServiceFault")


def test_a_failed_command_line_export_leaves_no_file(mturk: Emulator, tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    mturk.fail_next(1000)
    with pytest.raises(CommandError, match="Export failed"):
        call_command("export_workers", seeds.TYPE_SMALL, f"--output={folder / 'workers.csv'}")
    assert list(folder.iterdir()) == []


def test_the_export_walks_what_the_table_has_not_loaded(
    owner_client: Client, mturk: Emulator, settings: Any
) -> None:
    settings.QUALDASH_WALK_BUDGET = 0.05
    mturk.latency = 0.01
    table = owner_client.get(f"/types/{seeds.TYPE_SMALL}/").context
    assert not table["workers"].complete
    mturk.latency = 0.0
    lines = parse(b"".join(download(owner_client, seeds.TYPE_SMALL).streaming_content).decode())
    assert len(lines) == 1 + 2154
    assert mturk.call_count("ListWorkersWithQualificationType") == 22


def test_filename_and_iso_helpers() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)
    assert export.utc_iso(moment) == "2026-03-04T05:06:07.890Z"
    assert export.utc_iso(moment.replace(microsecond=0)) == "2026-03-04T05:06:07.000Z"
    name = export.filename("3ABC", WorkerQuery(status="revoked"), moment)
    assert name == "qualdash-3ABC-revoked-20260304T050607Z.csv"


def _writer() -> tuple[Any, io.StringIO]:
    buffer = io.StringIO()
    return csv.writer(buffer, lineterminator="\r\n"), buffer

"""The CSV export: exactly the rows and order of the table's query, every page of them.

One code path serves the web download and `manage.py export_workers`.
"""

import csv
import io
import logging
import typing
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

from qualdash.dashboard import table
from qualdash.dashboard.query import WorkerQuery
from qualdash.mturk import pages
from qualdash.mturk.client import MTurkUnavailable

if typing.TYPE_CHECKING:
    import _csv

log = logging.getLogger(__name__)

# Named as MTurk names them, so scripts written against the API read the file unchanged.
COLUMNS = (
    "WorkerId",
    "QualificationTypeId",
    "Status",
    "IntegerValue",
    "Country",
    "Subdivision",
    "GrantTime",
)
# A cell starting with one of these runs as a formula in Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
ERROR_MARKER = "#qualdash-export-error"
ROWS_PER_CHUNK = 1000


class ExportFailed(Exception):
    """MTurk failed while the export was being written: the output is incomplete."""


def neutralize(text: str | None) -> str:
    """OWASP's defence against CSV injection: a leading quote makes the cell plain text."""
    if not text:
        return ""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds (MTurk's precision), one width for every row."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def filename(type_id: str, query: WorkerQuery, now: datetime) -> str:
    return f"qualdash-{type_id}-{query.status}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv"


def selected_rows(type_id: str, query: WorkerQuery) -> list[pages.WorkerRow]:
    """Every row the query selects, walking whatever MTurk pages are not cached yet."""
    workers = pages.load_workers(type_id, query.status, budget=None)
    return table.apply(workers.rows, query)


def csv_chunks(type_id: str, query: WorkerQuery) -> Iterator[str]:
    """The CSV text in chunks: the header at once, then the rows once every page is walked.

    If MTurk fails before the walk ends, the output ends with an error row and ExportFailed is
    raised, so a web download is aborted rather than looking complete.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield _drain(buffer)
    try:
        rows = selected_rows(type_id, query)
    except MTurkUnavailable as error:
        log.warning("Export of %s stopped: MTurk failed: %s", type_id, error)
        writer.writerow([ERROR_MARKER, f"Export incomplete: {error}"])
        yield _drain(buffer)
        raise ExportFailed(str(error)) from error
    yield from _row_chunks(type_id, rows, writer, buffer)


def _row_chunks(
    type_id: str, rows: Sequence[pages.WorkerRow], writer: "_csv.Writer", buffer: io.StringIO
) -> Iterator[str]:
    safe_type_id = neutralize(type_id)
    for start in range(0, len(rows), ROWS_PER_CHUNK):
        writer.writerows(
            (
                neutralize(row.worker_id),
                safe_type_id,
                neutralize(row.status),
                "" if row.score is None else row.score,
                neutralize(row.country),
                neutralize(row.subdivision),
                utc_iso(row.granted),
            )
            for row in rows[start : start + ROWS_PER_CHUNK]
        )
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text

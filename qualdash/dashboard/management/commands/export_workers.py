import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from qualdash.dashboard import export
from qualdash.dashboard.query import SORT_FIELDS, WorkerQuery, parse_worker_query
from qualdash.mturk import pages
from qualdash.mturk.client import MTurkNotConfigured, MTurkUnavailable, QualificationTypeNotFound
from qualdash.urls import QualificationTypeId

FILTER_OPTIONS = (
    "status",
    "q",
    "score_min",
    "score_max",
    "granted_after",
    "granted_before",
    "sort",
)


class Command(BaseCommand):
    help = (
        "Export a Qualification type's workers to CSV with the worker table's filters and sort "
        "(the same code path as the web export)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("type_id", help="the QualificationTypeId")
        parser.add_argument("--status", choices=("granted", "revoked", "all"), default="granted")
        parser.add_argument("--q", default="", help="Worker ID contains (case-insensitive)")
        parser.add_argument("--score-min", dest="score_min", default="")
        parser.add_argument("--score-max", dest="score_max", default="")
        parser.add_argument(
            "--country", action="append", default=[], help="ISO alpha-2 code, repeatable"
        )
        parser.add_argument("--granted-after", dest="granted_after", default="", metavar="DATE")
        parser.add_argument("--granted-before", dest="granted_before", default="", metavar="DATE")
        parser.add_argument(
            "--sort",
            default="-granted",
            help=f"one of {', '.join(SORT_FIELDS)}; a leading - is descending",
        )
        parser.add_argument("-o", "--output", help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        type_id = options["type_id"]
        if not QualificationTypeId.pattern.fullmatch(type_id):
            raise CommandError(f"{type_id!r} is not a Qualification type id (A-Z and 0-9).")
        params = QueryDict(mutable=True)
        for name in FILTER_OPTIONS:
            if options[name]:
                params[name] = str(options[name])
        params.setlist("country", options["country"])
        query = parse_worker_query(params)
        if query.errors:
            problems = "; ".join(f"{name}: {message}" for name, message in query.errors.items())
            raise CommandError(f"Bad filter: {problems}")
        try:
            pages.get_qualification_type(type_id)
            if options["output"]:
                self._write_file(Path(options["output"]), type_id, query)
            else:
                for chunk in export.csv_chunks(type_id, query):
                    sys.stdout.write(chunk)
        except QualificationTypeNotFound:
            raise CommandError(f"MTurk has no Qualification type {type_id}.") from None
        except (MTurkNotConfigured, MTurkUnavailable, export.ExportFailed) as error:
            raise CommandError(f"Export failed: {error}") from error

    def _write_file(self, path: Path, type_id: str, query: WorkerQuery) -> None:
        """Write beside the target and rename, so a failed export never leaves a partial file."""
        handle, temporary = tempfile.mkstemp(dir=path.parent or ".", suffix=".partial")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                for chunk in export.csv_chunks(type_id, query):
                    out.write(chunk)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

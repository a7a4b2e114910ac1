"""What a requester sees, read back from responses; and the figures the reliability tests quote.

Shared by test_faults.py, test_bad_input.py and test_security.py. It reads pages and CSV files
the way a person or a script would, never the app's internals.
"""

import csv
import html
import io
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff

# botocore's base delays (1 s after throttling, 50 ms after a fault), read each time it backs
# off: tests that only count attempts may scale them down with monkeypatch.setitem.
BACKOFF_SCALES: dict[str, float] = vars(ExponentialBackoff)["_DEFAULT_BACKOFF_CONFIG"]
FIGURES_DIR = Path(__file__).resolve().parent.parent / "var" / "test-figures"
ROW_ID = re.compile(r"<td><code>(A[A-Z0-9]+)</code></td>")
SUMMARY = re.compile(r'<p class="summary" role="status">\s*(.*?)\s*</p>', re.S)
SHOWING = re.compile(r"Showing ([\d,]+)–([\d,]+) of ([\d,]+) worker")
PAGE_OF = re.compile(r"<span>Page ([\d,]+) of ([\d,]+)</span>")
CSV_COLUMNS = [
    "WorkerId",
    "QualificationTypeId",
    "Status",
    "IntegerValue",
    "Country",
    "Subdivision",
    "GrantTime",
]


@dataclass(frozen=True)
class TablePage:
    ids: list[str]
    total: int  # workers matching, as the summary states it (0 for "No workers match")
    start: int
    end: int
    page: int
    num_pages: int
    complete: bool
    body: str


def number(text: str) -> int:
    return int(text.replace(",", ""))


def read_table(response: Any) -> TablePage:
    body = response.content.decode()
    summary_match = SUMMARY.search(body)
    assert summary_match, "the table has no summary line"
    summary = html.unescape(summary_match.group(1))
    showing = SHOWING.search(summary)
    if showing:
        start, end, total = (number(part) for part in showing.groups())
    else:
        assert "No workers match" in summary, summary
        start = end = total = 0
    pager = PAGE_OF.search(body)
    assert pager, "the table has no pager"
    return TablePage(
        ids=ROW_ID.findall(body),
        total=total,
        start=start,
        end=end,
        page=number(pager.group(1)),
        num_pages=number(pager.group(2)),
        complete="still loading" not in body and "among those loaded so far" not in summary,
        body=body,
    )


def csv_text(response: Any) -> str:
    return b"".join(response.streaming_content).decode()


def read_csv(response: Any) -> list[list[str]]:
    """The data rows of a complete export, after checking its header and its end."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_text(response))))
    assert rows[0] == CSV_COLUMNS
    assert all(row[0] != "#qualdash-export-error" for row in rows)
    return rows[1:]


class Figures:
    """Counts a test module adds to as it goes, written out when the module ends."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount

    def report(self, config: pytest.Config, module: str) -> None:
        FIGURES_DIR.mkdir(parents=True, exist_ok=True)
        path = FIGURES_DIR / f"{module}.json"
        path.write_text(json.dumps(dict(sorted(self.counts.items())), indent=2) + "\n")
        reporter: Any = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            line = ", ".join(f"{name}: {count:,}" for name, count in sorted(self.counts.items()))
            reporter.write_line(f"\n[figures] {module}: {line}")

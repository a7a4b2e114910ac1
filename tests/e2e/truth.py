"""What the emulator says the table must show, computed here without the app's code.

Rules (README, "Using the worker table"): ties are broken by Worker ID ascending, and rows
without the sorted value come last in both directions.
"""

from collections.abc import Callable
from functools import cmp_to_key
from typing import Any

from qualdash.mturk.emulator import Emulator

Row = dict[str, Any]

VALUES: dict[str, Callable[[Row], Any]] = {
    "worker_id": lambda row: row["WorkerId"],
    "status": lambda row: row["Status"],
    "score": lambda row: row.get("IntegerValue"),
    "country": lambda row: row.get("LocaleValue", {}).get("Country"),
    "subdivision": lambda row: row.get("LocaleValue", {}).get("Subdivision"),
    "granted": lambda row: row["GrantTime"],
}
API_STATUS = {"granted": "Granted", "revoked": "Revoked", "all": None}


def _three_way(a: Any, b: Any) -> int:
    return int(a > b) - int(a < b)


def expected_rows(
    emulator: Emulator, type_id: str, status: str = "granted", sort: str = "-granted", q: str = ""
) -> list[Row]:
    """Every row the table's query selects, in the table's order."""
    rows = [
        row for row in emulator.workers(type_id, API_STATUS[status]) if q.upper() in row["WorkerId"]
    ]
    value = VALUES[sort.removeprefix("-")]
    direction = -1 if sort.startswith("-") else 1

    def compare(a: Row, b: Row) -> int:
        left, right = value(a), value(b)
        if left is None or right is None:
            # Missing values last, whichever way the column is sorted.
            order = (left is None) - (right is None)
        else:
            order = direction * _three_way(left, right)
        return order or _three_way(a["WorkerId"], b["WorkerId"])

    return sorted(rows, key=cmp_to_key(compare))


def expected_ids(
    emulator: Emulator, type_id: str, status: str = "granted", sort: str = "-granted", q: str = ""
) -> list[str]:
    return [row["WorkerId"] for row in expected_rows(emulator, type_id, status, sort, q)]

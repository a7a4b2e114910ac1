"""An independent model of what the worker table must show, computed from the emulator's truth.

It shares no code with qualdash.dashboard.table: a comparator instead of stable sorts, dicts
instead of rows, so a bug in one is not silently repeated in the other.
"""

from datetime import UTC, date, datetime
from functools import cmp_to_key
from typing import Any

from qualdash.mturk.emulator import Emulator

FIELDS = ("worker_id", "status", "score", "country", "subdivision", "granted")


def truth(emulator: Emulator, type_id: str, status: str = "granted") -> list[dict[str, Any]]:
    """The emulator's rows for a status choice ("granted", "revoked" or "all"), flattened."""
    api_status = None if status == "all" else status.capitalize()
    rows = []
    for item in emulator.workers(type_id, api_status):
        locale = item.get("LocaleValue") or {}
        rows.append(
            {
                "worker_id": item["WorkerId"],
                "status": item["Status"],
                "score": item.get("IntegerValue"),
                "country": locale.get("Country"),
                "subdivision": locale.get("Subdivision"),
                "granted": item["GrantTime"],
            }
        )
    return rows


def select(
    rows: list[dict[str, Any]],
    *,
    q: str = "",
    score_min: int | None = None,
    score_max: int | None = None,
    countries: tuple[str, ...] = (),
    granted_after: date | None = None,
    granted_before: date | None = None,
    sort: str = "-granted",
) -> list[dict[str, Any]]:
    def keep(row: dict[str, Any]) -> bool:
        if q and q.lower() not in row["worker_id"].lower():
            return False
        if (score_min is not None or score_max is not None) and row["score"] is None:
            return False
        if score_min is not None and row["score"] < score_min:
            return False
        if score_max is not None and row["score"] > score_max:
            return False
        if countries and row["country"] not in countries:
            return False
        day = row["granted"].astimezone(UTC).date()
        if granted_after and day < granted_after:
            return False
        return not (granted_before and day > granted_before)

    field = sort.lstrip("-")
    descending = sort.startswith("-")

    def compare(a: dict[str, Any], b: dict[str, Any]) -> int:
        va, vb = a[field], b[field]
        if va is None or vb is None or va == vb:
            if (va is None) != (vb is None):
                return 1 if va is None else -1
            return int(a["worker_id"] > b["worker_id"]) - int(a["worker_id"] < b["worker_id"])
        order = int(va > vb) - int(va < vb)
        return -order if descending else order

    return sorted(filter(keep, rows), key=cmp_to_key(compare))


def ids(rows: list[Any]) -> list[str]:
    return [row["worker_id"] if isinstance(row, dict) else row.worker_id for row in rows]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)

"""The worker table's state, parsed once from the query string and shared by table and CSV.

A malformed value never fails the request: it is dropped, the query falls back to that
parameter's default, and the error is reported next to its control.
"""

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict

from qualdash.mturk.pages import StatusChoice

SORT_FIELDS = ("worker_id", "status", "score", "country", "subdivision", "granted")
PER_PAGE_CHOICES = (25, 50, 100, 250, 500)
STATUS_CHOICES: tuple[StatusChoice, ...] = ("granted", "revoked", "all")
# MTurk's IntegerValue is a 32-bit signed integer.
SCORE_LIMIT = 2**31
COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
MAX_COUNTRIES = 50


@dataclass(frozen=True)
class WorkerQuery:
    status: StatusChoice = "granted"
    q: str = ""
    score_min: int | None = None
    score_max: int | None = None
    countries: tuple[str, ...] = ()
    granted_after: date | None = None
    granted_before: date | None = None
    sort: str = "-granted"
    page: int = 1
    per_page: int = 50
    errors: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def sort_field(self) -> str:
        return self.sort.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def filtered(self) -> bool:
        return any(
            (
                self.q,
                self.score_min is not None,
                self.score_max is not None,
                self.countries,
                self.granted_after,
                self.granted_before,
            )
        )

    def to_params(self, *, with_page: bool = True) -> list[tuple[str, str]]:
        """The query string pairs that reproduce this query; defaults are left out."""
        defaults = WorkerQuery()
        pairs: list[tuple[str, str]] = []
        for name, value in (
            ("status", self.status),
            ("q", self.q),
            ("score_min", self.score_min),
            ("score_max", self.score_max),
            ("granted_after", self.granted_after),
            ("granted_before", self.granted_before),
            ("sort", self.sort),
        ):
            if value is not None and value != "" and value != getattr(defaults, name):
                pairs.append((name, str(value)))
        pairs.extend(("country", code) for code in self.countries)
        if with_page:
            if self.per_page != defaults.per_page:
                pairs.append(("per_page", str(self.per_page)))
            if self.page != 1:
                pairs.append(("page", str(self.page)))
        return pairs

    def url(self, **changes: Any) -> str:
        """`?query` for this query with `changes`; any change but paging goes back to page 1."""
        if set(changes) - {"page"}:
            changes.setdefault("page", 1)
        changed = replace(self, **changes)
        return "?" + urlencode(changed.to_params())

    def sort_url(self, column: str) -> str:
        """Sort by `column`; a second click on the sorted column reverses it."""
        if self.sort_field == column:
            return self.url(sort=column if self.descending else f"-{column}")
        return self.url(sort=f"-{column}" if column in {"score", "granted"} else column)

    def chips(self) -> list[tuple[str, str]]:
        """(label, url without that filter) for each active filter."""
        chips: list[tuple[str, str]] = []
        if self.q:
            chips.append((f"Worker ID contains “{self.q}”", self.url(q="")))
        if self.score_min is not None:
            chips.append((f"Score ≥ {self.score_min}", self.url(score_min=None)))
        if self.score_max is not None:
            chips.append((f"Score ≤ {self.score_max}", self.url(score_max=None)))
        for code in self.countries:
            others = tuple(c for c in self.countries if c != code)
            chips.append((f"Country {code}", self.url(countries=others)))
        if self.granted_after:
            chips.append(
                (f"Granted on or after {self.granted_after}", self.url(granted_after=None))
            )
        if self.granted_before:
            chips.append(
                (f"Granted on or before {self.granted_before}", self.url(granted_before=None))
            )
        return chips


class CountryCodesField(forms.Field):
    """A repeatable ISO 3166 alpha-2 code; any of them matches."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> tuple[str, ...]:
        codes: list[str] = []
        for raw in value or []:
            code = str(raw).strip()
            if not code:
                continue
            if not COUNTRY_CODE.match(code):
                raise forms.ValidationError(
                    "Countries are two-letter ISO codes such as US or GB; "
                    f"“{code[:20]}” is not one."
                )
            if code.upper() not in codes:
                codes.append(code.upper())
        if len(codes) > MAX_COUNTRIES:
            raise forms.ValidationError(f"Choose at most {MAX_COUNTRIES} countries.")
        return tuple(codes)


class WorkerQueryForm(forms.Form):
    status = forms.ChoiceField(choices=[(s, s) for s in STATUS_CHOICES], required=False)
    q = forms.CharField(max_length=64, required=False)
    score_min = forms.IntegerField(
        required=False, min_value=-SCORE_LIMIT, max_value=SCORE_LIMIT - 1
    )
    score_max = forms.IntegerField(
        required=False, min_value=-SCORE_LIMIT, max_value=SCORE_LIMIT - 1
    )
    country = CountryCodesField(required=False)
    granted_after = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    granted_before = forms.DateField(required=False, input_formats=["%Y-%m-%d"])
    sort = forms.ChoiceField(
        choices=[(s, s) for name in SORT_FIELDS for s in (name, f"-{name}")], required=False
    )
    page = forms.IntegerField(required=False, min_value=1)
    per_page = forms.TypedChoiceField(
        choices=[(str(n), str(n)) for n in PER_PAGE_CHOICES], coerce=int, required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("score_min"), cleaned.get("score_max")
        if low is not None and high is not None and low > high:
            self.add_error("score_max", "The maximum score is below the minimum.")
        after, before = cleaned.get("granted_after"), cleaned.get("granted_before")
        if after and before and after > before:
            self.add_error("granted_before", "This date is before the “granted after” date.")
        return cleaned


def parse_worker_query(data: QueryDict) -> WorkerQuery:
    """The query for these parameters; each malformed one falls back to its default."""
    form = WorkerQueryForm(data)
    form.is_valid()
    values = form.cleaned_data
    defaults = WorkerQuery()
    errors = {name: " ".join(str(m) for m in messages) for name, messages in form.errors.items()}
    query = WorkerQuery(
        status=values.get("status") or defaults.status,
        q=(values.get("q") or "").upper(),
        score_min=values.get("score_min"),
        score_max=values.get("score_max"),
        countries=values.get("country") or (),
        granted_after=values.get("granted_after"),
        granted_before=values.get("granted_before"),
        sort=values.get("sort") or defaults.sort,
        page=values.get("page") or 1,
        per_page=values.get("per_page") or defaults.per_page,
        errors=errors,
    )
    return query

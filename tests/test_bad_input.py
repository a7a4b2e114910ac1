"""Whatever arrives in the path and the query string: the right answer or a clear message.

Hypothesis throws arbitrary strings, repeated parameters, huge values, unicode and NULs at the
worker table, its HTMX partial, the CSV export and the type list of a type walked beforehand. No
answer is a 5xx. A 200 is checked against an independent computation from the emulator's rows
(tests/reference.py) for the query the page says it applied, and every parameter that was sent is
either applied or reported next to its control.
"""

import csv
import html
import io
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from qualdash.mturk import emulator as seeds
from qualdash.mturk.emulator import Emulator
from tests.observe import CSV_COLUMNS, Figures, read_table
from tests.reference import ids, select, truth

TYPE = seeds.TYPE_SMALL
URL = f"/types/{TYPE}/"
STATUSES = ("granted", "revoked", "all")
FIELDS = ("worker_id", "status", "score", "country", "subdivision", "granted")
SORTS = tuple(s for name in FIELDS for s in (name, f"-{name}"))
PER_PAGE = ("25", "50", "100", "250", "500")
EXAMPLES = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
figures = Figures()
Check = TypeVar("Check", bound=Callable[..., None])


@pytest.fixture(scope="module", autouse=True)
def _report_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    figures.report(request.config, "test_bad_input")


# --- strategies ----------------------------------------------------------------------------

EDGE_STRINGS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "-",
    "0",
    "-1",
    "+7",
    " 42 ",
    "1e3",
    "1_000",
    "４２",
    "٣",
    "5.0",
    "NaN",
    "inf",
    "9" * 40,
    "-" + "9" * 40,
    "9" * 5000,
    str(2**31),
    str(2**31 - 1),
    str(-(2**31)),
    str(-(2**31) - 1),
    "0001-01-01",
    "9999-12-31",
    "2024-02-30",
    "2024-2-3",
    "2024-13-01",
    "10000-01-01",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1",
    '=HYPERLINK("http://evil.example")',
    "%00",
    "%",
    "\u202e",
    "\ufeff",
    "🙂",
    "ß",
    "ı",
    "ﬁ",
    "a" * 65,
    "A" * 64,
    "A" * 100_000,
    "US",
    "us",
    " US ",
    "U",
    "USA",
    "granted",
    "GRANTED",
    "all ",
    "-score",
    "--score",
    "score ",
)

junk = st.one_of(
    st.sampled_from(EDGE_STRINGS),
    st.sampled_from(EDGE_STRINGS),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8),
    st.from_regex(r"[ +\-0-9.]{1,12}", fullmatch=True),
    st.text(min_size=300, max_size=3000),
)

VALID: dict[str, st.SearchStrategy[str]] = {
    "status": st.sampled_from(STATUSES),
    "q": st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcxyz0123456789", max_size=3),
    "score_min": st.integers(-5, 105).map(str),
    "score_max": st.integers(-5, 105).map(str),
    "country": st.sampled_from(["US", "IN", "GB", "ca", "de", "VE", "ZZ"]),
    "granted_after": st.dates(date(2022, 10, 1), date(2026, 2, 1)).map(str),
    "granted_before": st.dates(date(2022, 10, 1), date(2026, 2, 1)).map(str),
    "sort": st.sampled_from(SORTS),
    "page": st.integers(1, 120).map(str),
    "per_page": st.sampled_from(PER_PAGE),
}
NAMES = tuple(VALID)


@st.composite
def query_params(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Pairs for a query string: each parameter absent, valid, junk, or repeated."""
    pairs: list[tuple[str, str]] = []
    for name in NAMES:
        repeats = draw(st.sampled_from([0, 0, 1, 1, 1, 2, 3]))
        for _ in range(repeats):
            pairs.append((name, draw(st.one_of(VALID[name], VALID[name], junk))))
    if draw(st.booleans()):
        pairs.append((draw(st.one_of(st.sampled_from(NAMES), junk)), draw(junk)))
    return draw(st.permutations(pairs))


def known_edges(**others: Any) -> Callable[[Check], Check]:
    """Inputs that once broke a page, tried on every run whatever hypothesis draws."""
    edges = (
        [("granted_before", "9999-12-31")],  # a 500: the day after it overflowed
        [("granted_after", "0001-01-01"), ("granted_before", "9999-12-31"), ("status", "all")],
        [("page", "9" * 5000), ("per_page", "9" * 5000)],
        [("score_min", "9" * 40), ("score_max", "-" + "9" * 40)],
        [("q", "a\x00b"), ("sort", "\x00")],
        [("country", code) for code in ("US", "us", " GB ", "", "IN")],
        [("country", f"{a}{b}") for a in "ABC" for b in "ABCDEFGHIJKLMNOPQRS"],  # 57 codes
        [("status", "revoked"), ("status", "bogus")],
        [("score_min", "50"), ("score_max", "10")],
        [("granted_after", "2025-01-01"), ("granted_before", "2024-01-01")],
    )

    def decorate(test: Check) -> Check:
        for pairs in edges:
            test = example(pairs=pairs, **others)(test)
        return test

    return decorate


# --- the page, read back -------------------------------------------------------------------


def attribute(body: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}" name="[a-z_]+" value="([^"]*)"', body)
    assert match, element_id
    return html.unescape(match.group(1))


def selected(body: str, element_id: str) -> list[str]:
    match = re.search(rf'<select[^>]* id="{element_id}"[^>]*>(.*?)</select>', body, re.S)
    assert match, element_id
    return re.findall(r'<option value="([^"]*)" selected>', match.group(1))


def errors_of(body: str) -> dict[str, str]:
    return {
        name: html.unescape(message).strip()
        for name, message in re.findall(
            r'<span class="field-error" id="error-([a-z_]+)"[^>]*>(.*?)</span>', body, re.S
        )
        if message.strip()
    }


def applied(body: str) -> dict[str, Any]:
    """The query the page says it applied, from its own controls."""
    status = re.search(r'name="status" value="([a-z]+)" checked', body)
    assert status
    sort = re.search(r'<input type="hidden" name="sort" value="([^"]*)" form="filters">', body)
    assert sort
    score_min, score_max = attribute(body, "score-min"), attribute(body, "score-max")
    after, before = attribute(body, "granted-after"), attribute(body, "granted-before")
    per_page = selected(body, "per-page")
    assert len(per_page) == 1
    return {
        "status": status.group(1),
        "q": attribute(body, "worker-search"),
        "score_min": int(score_min) if score_min else None,
        "score_max": int(score_max) if score_max else None,
        "countries": tuple(selected(body, "country")),
        "granted_after": date.fromisoformat(after) if after else None,
        "granted_before": date.fromisoformat(before) if before else None,
        "sort": html.unescape(sort.group(1)),
        "per_page": int(per_page[0]),
    }


def last(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in pairs if key == name]
    return values[-1] if values else None


PLAIN_INT = re.compile(r"\s*[+-]?[0-9]+\s*")


def assert_each_parameter_applied_or_reported(
    pairs: list[tuple[str, str]], query: dict[str, Any], errors: dict[str, str]
) -> None:
    """A parameter that was sent with a value is what the page applied, or its error is shown."""
    for name in NAMES:
        raw = last(pairs, name)
        if name == "country":
            codes = [value.strip() for key, value in pairs if key == "country" and value.strip()]
            if codes and "country" not in errors:
                assert {code.upper() for code in codes} == set(query["countries"])
            elif "country" in errors:
                assert query["countries"] == ()
            continue
        if raw is None or name in errors:
            continue
        if name == "status":
            assert query["status"] == (raw or "granted")
        elif name == "q":
            assert query["q"] == raw.strip().upper()
        elif name in {"score_min", "score_max"}:
            if PLAIN_INT.fullmatch(raw):
                assert query[name] == int(raw)
            elif raw.strip():
                assert query[name] is not None, (name, raw)
        elif name in {"granted_after", "granted_before"}:
            if raw.strip():
                expected = datetime.strptime(raw.strip(), "%Y-%m-%d").date()
                assert query[name] == expected
        elif name == "sort":
            assert query["sort"] == (raw or "-granted")
        elif name == "per_page":
            assert query["per_page"] == int(raw or "50")
    for name in errors:
        if name in {"score_min", "score_max", "granted_after", "granted_before"}:
            assert query[name] is None, (name, errors)


def expected_rows(truths: dict[str, list[dict[str, Any]]], query: dict[str, Any]) -> Any:
    return select(
        truths[query["status"]],
        q=query["q"],
        score_min=query["score_min"],
        score_max=query["score_max"],
        countries=query["countries"],
        granted_after=query["granted_after"],
        granted_before=query["granted_before"],
        sort=query["sort"],
    )


@pytest.fixture
def truths(owner_client: Client, mturk: Emulator) -> dict[str, list[dict[str, Any]]]:
    """The type walked once in each status, and its rows as MTurk has them."""
    for status in STATUSES:
        assert read_table(owner_client.get(URL, {"status": status})).complete
    return {status: truth(mturk, TYPE, status) for status in STATUSES}


def get(client: Client, path: str, pairs: list[tuple[str, str]], **headers: str) -> Any:
    return client.get(f"{path}?{urlencode(pairs)}", headers=headers)


# --- properties ----------------------------------------------------------------------------


def test_the_table_shows_the_right_rows_or_reports_the_parameter_for_any_query(
    owner_client: Client, truths: dict[str, list[dict[str, Any]]], mturk: Emulator
) -> None:
    calls = mturk.call_count()

    @EXAMPLES
    @given(pairs=query_params(), partial=st.booleans())
    @known_edges(partial=True)
    def check(pairs: list[tuple[str, str]], partial: bool) -> None:
        response = get(owner_client, URL, pairs)
        figures.add("bad inputs tried (table)")
        assert response.status_code == 200, response.status_code
        page = read_table(response)
        body = page.body
        errors = errors_of(body)
        query = applied(body)
        assert_each_parameter_applied_or_reported(pairs, query, errors)
        expected = expected_rows(truths, query)
        assert page.complete
        assert page.total == len(expected)
        per_page = query["per_page"]
        offset = (page.page - 1) * per_page
        assert page.ids == ids(expected)[offset : offset + per_page]
        assert 1 <= page.page <= max(1, -(-len(expected) // per_page))
        figures.add("rows verified (table pages)", len(page.ids))
        if partial:
            swapped = read_table(
                get(owner_client, URL, pairs, HX_Request="true", HX_Target="table-region")
            )
            assert "<html" not in swapped.body
            assert (swapped.total, swapped.ids) == (page.total, page.ids)
            figures.add("bad inputs tried (table partial)")

    check()
    assert mturk.call_count() == calls  # a warm type: no input made an API call


def test_the_csv_holds_exactly_the_selected_rows_or_refuses_a_malformed_filter(
    owner_client: Client, truths: dict[str, list[dict[str, Any]]], mturk: Emulator
) -> None:
    @EXAMPLES
    @given(pairs=query_params())
    @known_edges()
    def check(pairs: list[tuple[str, str]]) -> None:
        table = get(owner_client, URL, pairs).content.decode()
        errors = {
            name: message
            for name, message in errors_of(table).items()
            if name not in {"page", "per_page"}
        }
        response: Any = get(owner_client, f"{URL}export.csv", pairs)
        figures.add("bad inputs tried (csv)")
        if errors:
            assert response.status_code == 400
            assert response["Content-Type"].startswith("text/plain")
            message = response.content.decode()
            assert all(name in message for name in errors)
            return
        assert response.status_code == 200
        text = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == CSV_COLUMNS
        expected = expected_rows(truths, applied(table))
        assert [row[0] for row in rows[1:]] == ids(expected)
        figures.add("rows verified (csv)", len(expected))

    check()


def test_the_type_list_finds_exactly_the_matching_names_for_any_search(
    owner_client: Client,
) -> None:
    names = [seed.name for seed in seeds.SEED_TYPES]
    owner_client.get("/")

    @EXAMPLES
    @given(
        searches=st.lists(
            st.one_of(junk, st.sampled_from(["panel", "PANEL 00", "wave 2"])), max_size=3
        ),
        partial=st.booleans(),
    )
    def check(searches: list[str], partial: bool) -> None:
        headers = {"HX-Request": "true", "HX-Target": "type-table"} if partial else {}
        response = get(owner_client, "/", [("q", value) for value in searches], **headers)
        figures.add("bad inputs tried (type list)")
        assert response.status_code == 200
        body = response.content.decode()
        needle = (searches[-1] if searches else "").strip()[:200].casefold()
        expected = [name for name in names if needle in name.casefold()]
        rows = re.findall(r'<td><a href="/types/([A-Z0-9]+)/">', body)
        assert len(rows) == len(expected)
        if needle:
            assert f"{len(expected)} of {len(names)} types match" in body
        else:
            assert f"{len(names)} types" in body

    check()


PATH_TAILS = ("", "export.csv", "refresh/", "export.csv/", "x", "../", "%2e%2e/")


def test_any_path_is_a_page_or_a_clear_not_found(owner_client: Client) -> None:
    @EXAMPLES
    @given(
        segment=st.one_of(
            junk,
            st.from_regex(r"[A-Z0-9]{1,70}", fullmatch=True),
            st.sampled_from([TYPE, TYPE.lower(), TYPE + "0", "3" * 64, "3" * 65]),
        ),
        tail=st.sampled_from(PATH_TAILS),
        encode=st.booleans(),
    )
    def check(segment: str, tail: str, encode: bool) -> None:
        piece = quote(segment, safe="") if encode or "\x00" in segment else segment
        response = owner_client.get(f"/types/{piece}/{tail}")
        figures.add("bad inputs tried (paths)")
        assert response.status_code < 500
        if response.status_code == 404:
            body = response.content.decode()
            assert "Traceback" not in body
            assert "Not Found" in body or "Qualification type not found" in body

    check()


def test_too_many_parameters_are_a_clear_400_not_a_crash(owner_client: Client) -> None:
    pairs = [("country", "US")] * 1001
    for path in (URL, f"{URL}export.csv", "/"):
        response = get(owner_client, path, pairs)
        figures.add("bad inputs tried (too many fields)")
        assert response.status_code == 400

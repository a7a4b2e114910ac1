"""Thin function views: parse the request, ask the service, hand rows to the table, render."""

from dataclasses import replace

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from qualdash.dashboard import export, table
from qualdash.dashboard.fragments import wants_fragment
from qualdash.dashboard.query import (
    PER_PAGE_CHOICES,
    SORT_FIELDS,
    STATUS_CHOICES,
    WorkerQuery,
    WorkerQueryForm,
    parse_worker_query,
)
from qualdash.mturk import pages
from qualdash.mturk.client import QualificationTypeNotFound

COLUMN_LABELS = {
    "worker_id": "Worker ID",
    "status": "Status",
    "score": "Score",
    "country": "Country",
    "subdivision": "Subdivision",
    "granted": "Granted (UTC)",
}
# The id of the element that asks for more of a walk while a type loads (worker_table.html).
KEEP_LOADING_TRIGGER = "keep-loading"
# Every control of the filter form: an HTMX response re-renders each one's error slot.
FILTER_FIELDS = tuple(WorkerQueryForm.base_fields)


# Parameters of the table's paging, which an export ignores.
PAGING = frozenset({"page", "per_page"})


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _partial_target(request: HtmxHttpRequest, targets: set[str]) -> str | None:
    """The fragment to render for an HTMX swap, or None for the full page."""
    if wants_fragment(request) and request.htmx.target in targets:
        return request.htmx.target
    return None


def _render(
    request: HtmxHttpRequest, template: str, partials: set[str], context: dict[str, object]
) -> HttpResponse:
    partial = _partial_target(request, partials)
    response = render(request, f"{template}#{partial}" if partial else template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target", "HX-History-Restore-Request"))
    return response


@require_GET
def type_list(request: HtmxHttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()[:200]
    types = pages.list_qualification_types()
    needle = search.casefold()
    shown = [t for t in types if needle in t.name.casefold()] if needle else types
    return _render(
        request,
        "dashboard/type_list.html",
        {"type-table"},
        {"types": types, "shown": shown, "search": search},
    )


@require_POST
def refresh_types(request: HttpRequest) -> HttpResponse:
    pages.refresh_types()
    return HttpResponseRedirect(reverse("type_list"))


@require_GET
def worker_table(request: HtmxHttpRequest, type_id: str) -> HttpResponse:
    qualification_type = _qualification_type(type_id)
    if qualification_type is None:
        return _type_not_found(request, type_id)
    query = parse_worker_query(request.GET)
    workers = pages.load_workers(type_id, query.status, budget=_walk_budget(request))
    shown = table.apply(workers.rows, query)
    page = table.page_of(shown, query.page, query.per_page)
    # The pager may have moved a page past the end back to the last one.
    query = replace(query, page=page.number)
    countries = sorted(workers.countries | set(query.countries))
    context = {
        "qualification_type": qualification_type,
        "query": query,
        "workers": workers,
        "page": page,
        "loaded": len(workers.rows),
        "countries": countries,
        "columns": _columns(query),
        "chips": query.chips(),
        "error_slots": [(name, query.errors.get(name, "")) for name in FILTER_FIELDS],
        "per_page_choices": PER_PAGE_CHOICES,
        "export_query": query.url(page=1).replace("?", "", 1),
        "previous_url": query.url(page=page.number - 1) if page.has_previous else None,
        "next_url": query.url(page=page.number + 1) if page.has_next else None,
        "status_choices": STATUS_CHOICES,
    }
    response = _render(request, "dashboard/worker_table.html", {"workers", "table-region"}, context)
    # The filter form sends every control, empty ones and defaults too: have htmx push the
    # short URL of the same query, the one the links, the bookmarks and the history share.
    canonical = (request.path + query.url()).removesuffix("?")
    if request.htmx and canonical != request.get_full_path():
        response["HX-Push-Url"] = canonical
    return response


def _walk_budget(request: HtmxHttpRequest) -> float:
    """Seconds this look may spend fetching from MTurk (see settings.QUALDASH_FIRST_LOOK_BUDGET)."""
    walk_budget: float = settings.QUALDASH_WALK_BUDGET
    if request.htmx.trigger == KEEP_LOADING_TRIGGER:
        return walk_budget
    return min(walk_budget, settings.QUALDASH_FIRST_LOOK_BUDGET)


def _qualification_type(type_id: str) -> pages.QualificationType | None:
    """The type, or None when MTurk does not know it: not found is an answer, not an error."""
    try:
        return pages.get_qualification_type(type_id)
    except QualificationTypeNotFound:
        return None


def _type_not_found(request: HttpRequest, type_id: str) -> HttpResponse:
    return render(request, "dashboard/type_not_found.html", {"type_id": type_id}, status=404)


def _columns(query: WorkerQuery) -> list[dict[str, str]]:
    columns = []
    for name in SORT_FIELDS:
        if query.sort_field == name:
            aria_sort = "descending" if query.descending else "ascending"
        else:
            aria_sort = "none"
        columns.append(
            {
                "name": name,
                "label": COLUMN_LABELS[name],
                "url": query.sort_url(name),
                "aria_sort": aria_sort,
            }
        )
    return columns


@require_POST
def refresh_workers(request: HttpRequest, type_id: str) -> HttpResponse:
    pages.refresh_workers(type_id)
    query = parse_worker_query(request.GET)
    return HttpResponseRedirect(reverse("worker_table", args=[type_id]) + query.url())


@require_GET
def export_csv(request: HttpRequest, type_id: str) -> HttpResponseBase:
    query = parse_worker_query(request.GET)
    # The table reports a malformed value next to its control and ignores it; a download has
    # nowhere to report it, and ignoring a filter would export rows nobody asked for (the
    # export_workers command refuses them too). Paging does not apply to an export.
    problems = [f"{name}: {error}" for name, error in query.errors.items() if name not in PAGING]
    if problems:
        return HttpResponseBadRequest(
            "Bad filter: " + "; ".join(problems) + "\n", content_type="text/plain; charset=utf-8"
        )
    if _qualification_type(type_id) is None:
        return _type_not_found(request, type_id)
    response = StreamingHttpResponse(
        (chunk.encode() for chunk in export.csv_chunks(type_id, query)),
        content_type="text/csv; charset=utf-8",
    )
    name = export.filename(type_id, query, timezone.now())
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response

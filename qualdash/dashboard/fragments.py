"""How an answer reaches an HTMX request: the rules that views and error pages share."""

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url


def wants_fragment(request: HttpRequest) -> bool:
    """True for an HTMX swap; a history restore (the page fell out of htmx's history cache)
    needs the full page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx and not htmx.history_restore_request)


def retry_url(request: HttpRequest) -> str:
    """Where a Retry link on an error page goes: the page the user was looking at."""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.current_url_abs_path:
        return str(htmx.current_url_abs_path)
    if request.method == "GET":
        return request.get_full_path()
    return resolve_url("type_list")


def swap_over_content(response: HttpResponseBase) -> HttpResponseBase:
    """Send an error fragment over the whole content area: what failed may be a table or a list."""
    response["HX-Retarget"] = "#content"
    response["HX-Reswap"] = "innerHTML"
    return response

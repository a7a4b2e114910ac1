"""The database unreachable: a clear 503 page instead of a server error.

The session and the user are loaded lazily, by whatever first asks for request.user (here
LoginRequiredMiddleware, which this middleware precedes) or by the view. This middleware asks
first, in process_view, and catches a failing view in process_exception. The page it answers with
is rendered without a request context, so neither the user nor the session is touched again.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from qualdash.dashboard.fragments import retry_url, swap_over_content, wants_fragment

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
TEMPLATE = "errors/database_unavailable.html"

View = Callable[[HttpRequest], HttpResponse]


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: View) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        try:
            # Loads the session and the user now, where a failure can still be answered.
            _ = request.user.is_authenticated
        except (OperationalError, InterfaceError) as error:
            return unavailable(request, error)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            return unavailable(request, exception)
        return None


def unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    """The 503 page, or its card for an HTMX request (swapped over the whole content area)."""
    log.warning(
        "The database is unavailable (%s) for %s %s",
        type(error).__name__,
        request.method,
        request.path,
    )
    partial = wants_fragment(request)
    body = render_to_string(
        f"{TEMPLATE}#unavailable" if partial else TEMPLATE, {"retry_url": retry_url(request)}
    )
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    if partial:
        swap_over_content(response)
    return response


database_unavailable = DatabaseUnavailableMiddleware

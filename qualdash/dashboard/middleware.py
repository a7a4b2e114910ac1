"""Request-wide answers: MTurk problems as clear pages, and HTMX-aware login redirects."""

import logging
from collections.abc import Callable
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render, resolve_url
from django_htmx.http import HttpResponseClientRedirect

from qualdash.dashboard.fragments import retry_url, swap_over_content, wants_fragment
from qualdash.mturk.client import MTurkNotConfigured, MTurkUnavailable

log = logging.getLogger(__name__)

View = Callable[[HttpRequest], HttpResponse]


def htmx_login_redirect(get_response: View) -> View:
    """An HTMX request whose session expired gets the whole page sent to the login form.

    Without this, htmx follows the login redirect and swaps the login form into the table.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        login_url = resolve_url(settings.LOGIN_URL)
        htmx = getattr(request, "htmx", None)
        if (
            htmx
            and response.status_code == 302
            and response.get("Location", "").startswith(login_url)
        ):
            back_to = htmx.current_url_abs_path or request.get_full_path()
            return HttpResponseClientRedirect(f"{login_url}?next={quote(back_to)}")
        return response

    return middleware


class _ProblemMiddleware:
    def __init__(self, get_response: View) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, MTurkNotConfigured):
            title, status = "MTurk is not set up", 503
        elif isinstance(exception, MTurkUnavailable):
            title, status = "MTurk is not answering", 503
            log.warning("Showing an MTurk problem for %s: %s", request.path, exception)
        else:
            return None
        context = {"title": title, "message": str(exception), "retry_url": retry_url(request)}
        if wants_fragment(request):
            response = render(request, "dashboard/problem.html#problem", context, status=status)
            swap_over_content(response)
            return response
        return render(request, "dashboard/problem.html", context, status=status)


mturk_problems = _ProblemMiddleware

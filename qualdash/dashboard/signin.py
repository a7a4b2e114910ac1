"""Where a sign-in comes from, for django-axes' lockout of a user name from one address."""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The address of the browser that is signing in.

    Behind the TLS proxy of the README (SECURE_PROXY_SSL_HEADER set) every request comes from
    the proxy itself, and a lockout by address would lock a user name out for everybody. There
    the address is the last X-Forwarded-For entry: the one that proxy appended. Entries before it
    came from the client and could be forged to dodge the lockout.
    """
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
        appended = forwarded.rsplit(",", 1)[-1].strip()
        if appended:
            return appended
    address: str | None = request.META.get("REMOTE_ADDR")
    return address

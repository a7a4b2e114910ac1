"""Settings from environment variables, each with an embedded default.

A bad value raises ImproperlyConfigured naming the variable, so a typo in a deployment fails at
start instead of silently running with a default.
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def envstr(name: str, default: str) -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def envint(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def envheader(name: str) -> tuple[str, str] | None:
    """A request header and the value that marks it secure: "X-Forwarded-Proto: https".

    Answers Django's SECURE_PROXY_SSL_HEADER form, ("HTTP_X_FORWARDED_PROTO", "https"), or None
    when unset or empty.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    header, _, value = raw.partition(":")
    header, value = header.strip(), value.strip()
    if not header or not value or not all(c.isalnum() or c == "-" for c in header):
        raise ImproperlyConfigured(
            f"{name} must look like 'X-Forwarded-Proto: https' (a header, a colon, the value "
            f"your TLS proxy sets), not {raw!r}"
        )
    return "HTTP_" + header.upper().replace("-", "_"), value


def database_from_url(name: str, url: str) -> dict[str, Any]:
    """sqlite:///relative/or//absolute/path.sqlite3 or postgres://user:pass@host:port/db."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        # sqlite:///file is relative to the working directory; sqlite:////abs is absolute.
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ImproperlyConfigured(f"{name} names no SQLite file: {url!r}")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": path}
    if parts.scheme in {"postgres", "postgresql"}:
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        database = unquote(parts.path.lstrip("/"))
        if not database:
            raise ImproperlyConfigured(f"{name} names no database: {_redact(url)!r}")
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{name} has a bad port: {_redact(url)!r}") from None
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": database,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(
        f"{name} must start with sqlite:// or postgres://, not {_redact(url)!r}"
    )


def cache_from_url(name: str, url: str, *, max_entries: int) -> dict[str, Any]:
    """file:///dir, db://table, locmem://, redis://host:port/db (rediss:// too)."""
    parts = urlsplit(url)
    options = {"MAX_ENTRIES": max_entries}
    if parts.scheme == "file":
        directory = unquote(parts.path)
        if not directory:
            raise ImproperlyConfigured(f"{name} names no directory: {url!r}")
        return {
            # Django's FileBasedCache, but not listing the directory on every write (see there).
            "BACKEND": "qualdash.filecache.FileBasedCache",
            "LOCATION": str(Path(directory)),
            "OPTIONS": options,
        }
    if parts.scheme == "db":
        table = parts.netloc or parts.path.lstrip("/")
        if not table.isidentifier():
            raise ImproperlyConfigured(f"{name} names no cache table: {url!r}")
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": table,
            "OPTIONS": options,
        }
    if parts.scheme == "locmem":
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": parts.netloc or "qualdash",
            "OPTIONS": options,
        }
    if parts.scheme in {"redis", "rediss"}:
        if not parts.hostname:
            raise ImproperlyConfigured(f"{name} names no Redis host: {_redact(url)!r}")
        _port(name, url)
        database = parts.path.strip("/")
        if database and not database.isdigit():
            raise ImproperlyConfigured(
                f"{name} must name a Redis database by number (redis://host:6379/0), "
                f"not {_redact(url)!r}"
            )
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            # A Redis host that drops packets must cost seconds, not a hung page: with these
            # bounds the page walks MTurk directly (see qualdash/mturk/tolerant_cache.py).
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    raise ImproperlyConfigured(
        f"{name} must start with file://, db://, locmem:// or redis://, not {_redact(url)!r}"
    )


def _port(name: str, url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a bad port: {_redact(url)!r}") from None


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url

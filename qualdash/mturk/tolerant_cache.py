"""Django's default cache, kept from failing a page when its backend is down.

The cache is an optimization: MTurk is the source of truth. When Redis (or the cache table, or the
cache directory) cannot be reached, the pages.py operations here answer what Django's DummyCache
answers instead of raising, so every look walks MTurk directly and no page fails:

- get() is a miss, set() stores nothing, delete() and touch() report nothing done;
- add() answers True: with no shared cache there is nobody to coordinate with, so a walker that
  asks for the lock gets it and walks, rather than waiting for pages that can never land.

`available` is false from a failure until an operation succeeds again: pages.py then knows that
what it fetches cannot be kept, and finishes a walk instead of stopping at its time budget for a
continuation that would have to start over.

After a failure the backend is not asked again for RETRY_SECONDS, so a host that drops packets
costs one connect timeout per process per window, not one per API page. The outage is logged once
when it starts, at most every WARN_EVERY_SECONDS while it lasts, and once when it ends.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis.exceptions
from django.core.cache import cache as django_cache
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver

log = logging.getLogger(__name__)

# What a backend raises when it cannot be reached: Redis down or timing out, the database of a
# DatabaseCache gone, the file system of a FileBasedCache failing. Anything else (a pickling error,
# a bad key) is a bug and propagates.
UNAVAILABLE: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OperationalError,
    InterfaceError,
    OSError,
)
RETRY_SECONDS = 5.0
WARN_EVERY_SECONDS = 60.0

T = TypeVar("T")


class TolerantCache:
    """get/set/add/delete/touch on django.core.cache.cache, a miss or a no-op when it is down."""

    def __init__(
        self, retry_seconds: float = RETRY_SECONDS, warn_every: float = WARN_EVERY_SECONDS
    ) -> None:
        self.retry_seconds = retry_seconds
        self.warn_every = warn_every
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self._skip_until = 0.0
        self._warned_at = 0.0

    @property
    def available(self) -> bool:
        """False from a failed operation until one succeeds again."""
        return self._failing_since is None

    def get(self, key: str, default: Any = None) -> Any:
        return self._call("get", lambda: django_cache.get(key, default), default)

    def set(self, key: str, value: Any, timeout: float | None) -> None:
        self._call("set", lambda: django_cache.set(key, value, timeout), None)

    def add(self, key: str, value: Any, timeout: float | None) -> bool:
        return self._call("add", lambda: django_cache.add(key, value, timeout), True)

    def delete(self, key: str) -> bool:
        return self._call("delete", lambda: django_cache.delete(key), False)

    def touch(self, key: str, timeout: float | None) -> bool:
        return self._call("touch", lambda: django_cache.touch(key, timeout), False)

    def reset(self) -> None:
        """Forget any outage: the next operation asks the backend."""
        with self._lock:
            self._failing_since = None
            self._skip_until = 0.0
            self._warned_at = 0.0

    def _call(self, operation: str, call: Callable[[], T], fallback: T) -> T:
        if self._failing_since is not None and time.monotonic() < self._skip_until:
            return fallback
        try:
            result = call()
        except UNAVAILABLE as error:
            self._failed(operation, error)
            return fallback
        if self._failing_since is not None:
            self._recovered()
        return result

    def _failed(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        with self._lock:
            started = self._failing_since is None
            if started:
                self._failing_since = now
            self._skip_until = now + self.retry_seconds
            warn = started or now - self._warned_at >= self.warn_every
            if warn:
                self._warned_at = now
        if warn:
            log.warning(
                "The cache is unavailable (%s on %s: %s); serving straight from MTurk, "
                "retrying the cache every %gs",
                type(error).__name__,
                operation,
                str(error)[:200],
                self.retry_seconds,
            )

    def _recovered(self) -> None:
        with self._lock:
            since, self._failing_since = self._failing_since, None
        if since is not None:
            log.info("The cache answers again after %.1fs", time.monotonic() - since)


cache = TolerantCache()


@receiver(setting_changed)
def _reset_on_cache_change(setting: str, **kwargs: Any) -> None:
    if setting == "CACHES":
        cache.reset()

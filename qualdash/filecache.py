"""The default cache backend: Django's FileBasedCache, with culling that costs O(1) per write.

Django's FileBasedCache lists its whole directory on every set() to decide whether to cull. A walk
of a 100,000-worker type writes about 1,000 pages into one directory, so that is O(n) per page and
O(n^2) per walk: measured at about 2 ms a write with 1,000 entries, four times the write itself,
and 85 ms a write once the directory nears the 50,000-entry default (README, "Performance").

This backend counts the directory once every CULL_CHECK_EVERY writes of an instance instead
(Django keeps one instance per thread). Between two counts the directory can grow past
MAX_ENTRIES by at most that many entries per writing thread, which the default size absorbs; the
cull itself, when it is due, is Django's own.
"""

from typing import Any

from django.core.cache.backends import filebased

CULL_CHECK_EVERY = 100


class FileBasedCache(filebased.FileBasedCache):
    def __init__(self, dir: str, params: dict[str, Any]) -> None:
        super().__init__(dir, params)
        # 0: the first write counts, so a process starting on a full directory culls at once.
        self._writes_until_check = 0

    def _cull(self) -> None:
        if self._writes_until_check > 0:
            self._writes_until_check -= 1
            return
        self._writes_until_check = CULL_CHECK_EVERY - 1
        super()._cull()  # type: ignore[misc]  # private in Django, so not in django-stubs

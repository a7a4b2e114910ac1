"""The default cache backend: Django's FileBasedCache, counting its directory every 100 writes."""

from pathlib import Path

from qualdash import filecache
from qualdash.env import cache_from_url
from qualdash.filecache import CULL_CHECK_EVERY, FileBasedCache


def entries(directory: Path) -> int:
    return len(list(directory.glob("*.djcache")))


def test_file_urls_get_this_backend(tmp_path: Path) -> None:
    config = cache_from_url("CACHE_URL", f"file://{tmp_path}", max_entries=1_000)
    assert config["BACKEND"] == "qualdash.filecache.FileBasedCache"


def test_it_culls_on_its_first_write(tmp_path: Path) -> None:
    full = FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10_000}})
    for n in range(20):
        full.set(f"old-{n}", n)
    fresh = FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 20, "CULL_FREQUENCY": 2}})
    fresh.set("new", 1)
    assert entries(tmp_path) == 11  # half of 20 culled, then the new entry written
    assert fresh.get("new") == 1


def test_it_counts_the_directory_once_every_hundred_writes(tmp_path: Path, monkeypatch) -> None:
    cache = FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 500, "CULL_FREQUENCY": 2}})
    listings = 0
    most = 0
    list_files = cache._list_cache_files  # type: ignore[attr-defined]

    def counting() -> list[str]:
        nonlocal listings, most
        listings += 1
        found: list[str] = list_files()
        most = max(most, len(found))
        return found

    monkeypatch.setattr(cache, "_list_cache_files", counting)
    for n in range(CULL_CHECK_EVERY * 10):
        cache.set(f"key-{n}", n)
    assert listings == 10
    # Past MAX_ENTRIES by at most CULL_CHECK_EVERY between two counts, then culled by Django.
    assert most <= 500 + CULL_CHECK_EVERY
    assert entries(tmp_path) < 500
    assert filecache.CULL_CHECK_EVERY == 100


def test_it_reads_and_writes_like_djangos(tmp_path: Path) -> None:
    cache = FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 50_000}})
    assert cache.add("lock", True, 30)
    assert not cache.add("lock", True, 30)
    cache.set("page", {"rows": [1, 2, 3]}, 900)
    assert cache.get("page") == {"rows": [1, 2, 3]}
    assert cache.touch("page", 60)
    assert cache.delete("page")
    assert cache.get("page") is None

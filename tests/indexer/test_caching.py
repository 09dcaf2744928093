"""The shared cache keeps what is read, within its byte budget."""

from indexer.search.caching import BoundedCache


def test_cache_stays_within_its_budget_and_keeps_what_is_read() -> None:
    cache = BoundedCache(max_bytes=300)
    for key in "abc":
        cache.put(key, key.upper(), 100)
    assert cache.get("a") == "A"  # read: gets a second chance
    cache.put("d", "D", 100)
    assert cache.get("a") == "A"
    assert cache.get("b") is None  # the oldest entry nobody read went first
    assert [cache.get(k) for k in "cd"] == ["C", "D"]


def test_an_entry_larger_than_the_budget_is_still_served_once() -> None:
    cache = BoundedCache(max_bytes=10)
    cache.put("big", "value", 50)
    assert cache.get("big") == "value"
    cache.put("next", "other", 5)
    assert cache.get("big") is None

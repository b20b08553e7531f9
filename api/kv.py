"""A small key-value interface over Redis, with an in-process stand-in for the embedded first run.

Used for token revocation (logout), rate limiting and, later, market-data fan-out. Nothing here is
the book of record: losing it loses at most a revoked token's remaining minutes and rate counters.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class KeyValueStore(Protocol):
    def set_with_ttl(self, key: str, value: str, ttl_seconds: int) -> None: ...

    def exists(self, key: str) -> bool: ...

    def incr_window(self, key: str, window_seconds: int) -> int: ...

    def exists_and_incr_window(self, key: str, counter: str, window_seconds: int) -> tuple[bool, int]: ...

    def ping(self) -> bool: ...


class RedisStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def set_with_ttl(self, key: str, value: str, ttl_seconds: int) -> None:
        self.client.set(key, value, ex=max(1, ttl_seconds))

    def exists(self, key: str) -> bool:
        return bool(self.client.exists(key))

    def incr_window(self, key: str, window_seconds: int) -> int:
        pipe = self.client.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def exists_and_incr_window(self, key: str, counter: str, window_seconds: int) -> tuple[bool, int]:
        """`exists(key)` and `incr_window(counter, …)` in one round trip (what every authenticated request
        asks: is its token revoked, and how many requests has its user made this minute)."""
        pipe = self.client.pipeline()
        pipe.exists(key)
        pipe.incr(counter)
        pipe.expire(counter, window_seconds, nx=True)
        found, count, _ = pipe.execute()
        return bool(found), int(count)

    def ping(self) -> bool:
        return bool(self.client.ping())


class MemoryStore:
    """The in-process stand-in: same behaviour, one process only."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def _alive(self, key: str, now: float) -> tuple[str, float] | None:
        item = self._data.get(key)
        if item is not None and item[1] <= now:
            del self._data[key]
            return None
        return item

    def set_with_ttl(self, key: str, value: str, ttl_seconds: int) -> None:
        with self._lock:
            self._data[key] = (value, time.monotonic() + max(1, ttl_seconds))

    def exists(self, key: str) -> bool:
        with self._lock:
            return self._alive(key, time.monotonic()) is not None

    def incr_window(self, key: str, window_seconds: int) -> int:
        with self._lock:
            now = time.monotonic()
            item = self._alive(key, now)
            count = int(item[0]) + 1 if item else 1
            expires = item[1] if item else now + window_seconds
            self._data[key] = (str(count), expires)
            return count

    def exists_and_incr_window(self, key: str, counter: str, window_seconds: int) -> tuple[bool, int]:
        return self.exists(key), self.incr_window(counter, window_seconds)

    def ping(self) -> bool:
        return True


def make_store(url: str | None) -> KeyValueStore:
    return RedisStore(url) if url else MemoryStore()

"""A small key-value interface over Redis, with an in-process stand-in for the embedded first run.

Used for token revocation (logout), rate limiting and, later, market-data fan-out. Nothing here is
the book of record: losing it loses at most a revoked token's remaining minutes and rate counters.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import redis
import redis.asyncio


class KeyValueStore(Protocol):
    def set_with_ttl(self, key: str, value: str, ttl_seconds: int) -> None: ...

    def exists(self, key: str) -> bool: ...

    def incr_window(self, key: str, window_seconds: int) -> int: ...

    def exists_and_incr_window(self, key: str, counter: str, window_seconds: int) -> tuple[bool, int]: ...

    async def exists_async(self, key: str) -> bool: ...

    async def incr_window_async(self, key: str, window_seconds: int) -> int: ...

    async def exists_and_incr_window_async(self, key: str, counter: str,
                                           window_seconds: int) -> tuple[bool, int]: ...

    def ping(self) -> bool: ...


# EXISTS key, then INCR counter with its window set when the window begins: what `exists_and_incr_window` asks
# in a pipeline of three commands, here one command (a script costs the asyncio client half a pipeline).
_GATE = """
local found = redis.call('EXISTS', KEYS[1])
local count = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1], 'NX')
return {found, count}
"""


T = TypeVar("T")


class PerLoop(Generic[T]):
    """One T (an asyncio Redis client) per running event loop: an asyncio connection belongs to the loop that
    opened it. A server has one loop; tests open several."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, T] = weakref.WeakKeyDictionary()

    def get(self) -> T:
        loop = asyncio.get_running_loop()
        found = self._by_loop.get(loop)
        if found is None:
            found = self._by_loop[loop] = self._make()
        return found


def async_client(url: str, **options: Any) -> Any:
    """An asyncio Redis client (redis.asyncio.Redis; typed Any like the sync clients' replies)."""
    return redis.asyncio.Redis.from_url(url, **options)


class RedisStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._async = PerLoop(self._connect_async)

    def _connect_async(self) -> tuple[Any, Any]:
        client = async_client(self.url, socket_timeout=2, socket_connect_timeout=2)
        return client, client.register_script(_GATE)

    def _async_client(self) -> tuple[Any, Any]:
        """This loop's asyncio client and its registered gate script."""
        return self._async.get()

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

    async def exists_async(self, key: str) -> bool:
        client, _ = self._async_client()
        return bool(await client.exists(key))

    async def incr_window_async(self, key: str, window_seconds: int) -> int:
        _, gate = self._async_client()
        _, count = await gate(keys=[key, key], args=[window_seconds])  # EXISTS of the counter itself: unused
        return int(count)

    async def exists_and_incr_window_async(self, key: str, counter: str,
                                           window_seconds: int) -> tuple[bool, int]:
        """`exists_and_incr_window` without blocking the event loop, in one round trip."""
        _, gate = self._async_client()
        found, count = await gate(keys=[key, counter], args=[window_seconds])
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

    # Memory never waits: the asyncio variants are the same calls (each holds the lock for microseconds).
    async def exists_async(self, key: str) -> bool:
        return self.exists(key)

    async def incr_window_async(self, key: str, window_seconds: int) -> int:
        return self.incr_window(key, window_seconds)

    async def exists_and_incr_window_async(self, key: str, counter: str,
                                           window_seconds: int) -> tuple[bool, int]:
        return self.exists_and_incr_window(key, counter, window_seconds)

    def ping(self) -> bool:
        return True


def make_store(url: str | None) -> KeyValueStore:
    return RedisStore(url) if url else MemoryStore()

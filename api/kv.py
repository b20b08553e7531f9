"""A small key-value interface over Redis, with an in-process stand-in for the embedded first run.

Used for token revocation (logout), rate limiting and, later, market-data fan-out. Nothing here is
the book of record: revocations are kept in the database and copied here for the hot path (api.deps.Revocations
fills an emptied store again), so losing it loses at most rate counters.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

import redis
import redis.asyncio


class KeyValueStore(Protocol):
    def set_with_ttl(self, key: str, value: str, ttl_seconds: int) -> None: ...

    def set_many_with_ttl(self, items: Sequence[tuple[str, str, int]]) -> None: ...

    def exists(self, key: str) -> bool: ...

    def incr_window(self, key: str, window_seconds: int) -> int: ...

    def exists_and_incr_window(self, key: str, counter: str, window_seconds: int) -> tuple[bool, int]: ...

    async def exists_async(self, key: str) -> bool: ...

    async def exists_each_async(self, *keys: str) -> list[bool]: ...

    async def incr_window_async(self, key: str, window_seconds: int, amount: int = 1) -> int: ...

    async def exists_and_incr_window_async(self, key: str, counter: str,
                                           window_seconds: int) -> tuple[bool, int]: ...

    async def exists_each_and_incr_window_async(self, keys: Sequence[str], counter: str,
                                                window_seconds: int) -> tuple[list[bool], int]: ...

    def ping(self) -> bool: ...


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


class Pipelined:
    """An asyncio Redis client for one event loop whose commands, issued in the same turn of the loop, go out
    together in one pipeline: the requests a server is serving at once share one write and one read instead
    of a round trip each (under load, a round trip per command cost the API process a sixth of its time in
    socket writes, and Redis a wake-up per command). The first command of a turn schedules the send for the
    end of it, so a lone command waits for nothing."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._queued: list[tuple[tuple[tuple[Any, ...], ...], asyncio.Future[list[Any]]]] = []
        self._sending: set[asyncio.Task[None]] = set()  # keeps the send tasks alive until they finish

    async def run(self, *commands: tuple[Any, ...]) -> list[Any]:
        """Run `commands` (each a tuple of Redis arguments), in this order, with whatever else is queued in
        this turn; their replies, or the first command error raised."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[list[Any]] = loop.create_future()
        if not self._queued:
            loop.call_soon(self._send_queued)
        self._queued.append((commands, answer))
        return await answer

    def _send_queued(self) -> None:
        queued, self._queued = self._queued, []
        task = asyncio.ensure_future(self._send(queued))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, queued: list[tuple[tuple[tuple[Any, ...], ...], asyncio.Future[list[Any]]]]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for commands, _ in queued:
            for command in commands:
                pipe.execute_command(*command)
        try:
            replies = await pipe.execute(raise_on_error=False)
        except BaseException as exc:  # the connection failed (or the loop is closing): nobody got an answer
            for _, answer in queued:
                if not answer.done():
                    if isinstance(exc, Exception):
                        answer.set_exception(exc)
                    else:
                        answer.cancel()
            if not isinstance(exc, Exception):
                raise
            return
        at = 0
        for commands, answer in queued:
            mine, at = replies[at:at + len(commands)], at + len(commands)
            if answer.done():  # its caller went away (cancelled)
                continue
            failed = next((reply for reply in mine if isinstance(reply, Exception)), None)
            if failed is not None:
                answer.set_exception(failed)
            else:
                answer.set_result(mine)


class RedisStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._async = PerLoop(lambda: Pipelined(async_client(url, socket_timeout=2, socket_connect_timeout=2)))

    def set_with_ttl(self, key: str, value: str, ttl_seconds: int) -> None:
        self.client.set(key, value, ex=max(1, ttl_seconds))

    def set_many_with_ttl(self, items: Sequence[tuple[str, str, int]]) -> None:
        """Set every (key, value, ttl) in one MULTI/EXEC: a flush finds all of them or none."""
        pipe = self.client.pipeline(transaction=True)
        for key, value, ttl_seconds in items:
            pipe.set(key, value, ex=max(1, ttl_seconds))
        pipe.execute()

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
        (found,) = await self._async.get().run(("EXISTS", key))
        return bool(found)

    async def exists_each_async(self, *keys: str) -> list[bool]:
        return [bool(found) for found in await self._async.get().run(*(("EXISTS", key) for key in keys))]

    async def incr_window_async(self, key: str, window_seconds: int, amount: int = 1) -> int:
        count, _ = await self._async.get().run(("INCRBY", key, amount), ("EXPIRE", key, window_seconds, "NX"))
        return int(count)

    async def exists_and_incr_window_async(self, key: str, counter: str,
                                           window_seconds: int) -> tuple[bool, int]:
        """`exists_and_incr_window` without blocking the event loop (sharing a round trip with the other
        requests of the moment)."""
        found, count, _ = await self._async.get().run(
            ("EXISTS", key), ("INCR", counter), ("EXPIRE", counter, window_seconds, "NX"))
        return bool(found), int(count)

    async def exists_each_and_incr_window_async(self, keys: Sequence[str], counter: str,
                                                window_seconds: int) -> tuple[list[bool], int]:
        """Whether each key exists, and `incr_window(counter, …)`, in the one round trip an authenticated
        request makes (is its token revoked, is the revocation list loaded, how many requests this minute)."""
        *found, count, _ = await self._async.get().run(
            *(("EXISTS", key) for key in keys), ("INCR", counter), ("EXPIRE", counter, window_seconds, "NX"))
        return [bool(one) for one in found], int(count)

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

    def set_many_with_ttl(self, items: Sequence[tuple[str, str, int]]) -> None:
        with self._lock:
            now = time.monotonic()
            for key, value, ttl_seconds in items:
                self._data[key] = (value, now + max(1, ttl_seconds))

    def clear(self) -> None:
        """Forget everything, as a restarted process would."""
        with self._lock:
            self._data.clear()

    def exists(self, key: str) -> bool:
        with self._lock:
            return self._alive(key, time.monotonic()) is not None

    def incr_window(self, key: str, window_seconds: int, amount: int = 1) -> int:
        with self._lock:
            now = time.monotonic()
            item = self._alive(key, now)
            count = int(item[0]) + amount if item else amount
            expires = item[1] if item else now + window_seconds
            self._data[key] = (str(count), expires)
            return count

    def exists_and_incr_window(self, key: str, counter: str, window_seconds: int) -> tuple[bool, int]:
        return self.exists(key), self.incr_window(counter, window_seconds)

    # Memory never waits: the asyncio variants are the same calls (each holds the lock for microseconds).
    async def exists_async(self, key: str) -> bool:
        return self.exists(key)

    async def exists_each_async(self, *keys: str) -> list[bool]:
        return [self.exists(key) for key in keys]

    async def incr_window_async(self, key: str, window_seconds: int, amount: int = 1) -> int:
        return self.incr_window(key, window_seconds, amount)

    async def exists_and_incr_window_async(self, key: str, counter: str,
                                           window_seconds: int) -> tuple[bool, int]:
        return self.exists_and_incr_window(key, counter, window_seconds)

    async def exists_each_and_incr_window_async(self, keys: Sequence[str], counter: str,
                                                window_seconds: int) -> tuple[list[bool], int]:
        return [self.exists(key) for key in keys], self.incr_window(counter, window_seconds)

    def ping(self) -> bool:
        return True


def make_store(url: str | None) -> KeyValueStore:
    return RedisStore(url) if url else MemoryStore()

"""Market data fan-out: the owner of a book publishes trades and book changes after each committed batch;
every API process streams them to its WebSocket clients. Redis pub/sub carries them between processes;
without Redis an in-process broker does the same for the single process."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis

CHANNEL = "carbonx:md:{code}"


class Broker(Protocol):
    def publish(self, code: str, messages: list[dict[str, Any]]) -> None:
        """Send a committed batch's messages, in order (one round trip to Redis)."""

    def subscribe(self, code: str) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


class LocalBroker:
    """Thread-safe publish from the writer threads into the event loops of the WebSocket handlers."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[dict[str, Any]]]]] = {}
        self._lock = threading.Lock()

    def publish(self, code: str, messages: list[dict[str, Any]]) -> None:
        with self._lock:
            targets = list(self._subscribers.get(code, ()))
        for loop, queue in targets:
            for message in messages:
                loop.call_soon_threadsafe(queue.put_nowait, message)

    @asynccontextmanager
    async def subscribe(self, code: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        """Subscribed from entering the block, so nothing published after that is missed."""
        loop, queue = asyncio.get_running_loop(), asyncio.Queue[dict[str, Any]](maxsize=10_000)
        with self._lock:
            self._subscribers.setdefault(code, set()).add((loop, queue))

        async def messages() -> AsyncIterator[dict[str, Any]]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            with self._lock:
                self._subscribers[code].discard((loop, queue))


class RedisBroker:
    """Redis pub/sub: at-most-once delivery, which suits market data (REST gives the full picture)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client = redis.Redis.from_url(url, socket_timeout=2)

    def publish(self, code: str, messages: list[dict[str, Any]]) -> None:
        # The writer publishes before it answers: one round trip per batch, not one per trade.
        with self._client.pipeline(transaction=False) as pipeline:
            for message in messages:
                pipeline.publish(CHANNEL.format(code=code), json.dumps(message))
            pipeline.execute()

    @asynccontextmanager
    async def subscribe(self, code: str) -> AsyncIterator[AsyncIterator[dict[str, Any]]]:
        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        await pubsub.subscribe(CHANNEL.format(code=code))

        async def messages() -> AsyncIterator[dict[str, Any]]:
            async for raw in pubsub.listen():
                if raw.get("type") == "message":
                    yield json.loads(raw["data"])

        try:
            yield messages()
        finally:
            await pubsub.aclose()
            await client.aclose()

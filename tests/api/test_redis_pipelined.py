"""The asyncio Redis client shared by the requests of a moment (api.kv.Pipelined), and the key-value store's
per-request gate built on it: commands issued in one turn of the loop go out in one pipeline, and each caller
gets its own replies, its own error, or nothing at all if it went away."""

from __future__ import annotations

import asyncio
from typing import Any

import redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from api.kv import Pipelined, RedisStore, async_client
from tests.conftest import Backend


class CountingClient:
    """An asyncio client that counts the pipelines sent through it."""

    def __init__(self, url: str) -> None:
        self.client = async_client(url)
        self.pipelines = 0

    def pipeline(self, **options: Any) -> Any:
        self.pipelines += 1
        return self.client.pipeline(**options)


def test_the_commands_of_one_turn_share_one_pipeline_and_each_caller_gets_its_own_replies(redis_url: str) -> None:
    async def scene() -> tuple[list[list[Any]], int, list[Any], int]:
        counting = CountingClient(redis_url)
        pipelined = Pipelined(counting)
        await counting.client.delete(*(f"pipelined:{i}" for i in range(20)))
        answers = await asyncio.gather(*(
            pipelined.run(("INCRBY", f"pipelined:{i}", i), ("INCRBY", f"pipelined:{i}", 100)) for i in range(20)))
        together = counting.pipelines
        later = await pipelined.run(("GET", "pipelined:3"))  # a lone command later: a pipeline of its own
        await counting.client.aclose()
        return answers, together, later, counting.pipelines - together

    answers, together, later, after = asyncio.run(scene())
    assert answers == [[i, i + 100] for i in range(20)]
    assert (together, after) == (1, 1)
    assert later == [b"103"]


def test_a_command_error_reaches_only_its_caller(redis_url: str) -> None:
    async def scene() -> tuple[Any, list[Any]]:
        client = async_client(redis_url)
        await client.set("pipelined:text", "not a number")
        await client.delete("pipelined:n")
        pipelined = Pipelined(client)
        outcomes: list[Any] = await asyncio.gather(
            pipelined.run(("SET", "pipelined:x", "1"), ("INCR", "pipelined:text")),
            pipelined.run(("INCR", "pipelined:n")), return_exceptions=True)
        await client.aclose()
        return outcomes[0], outcomes[1]

    failing, fine = asyncio.run(scene())
    assert isinstance(failing, redis.ResponseError)
    assert fine == [1]


def test_a_caller_that_went_away_leaves_the_others_their_answers(redis_url: str) -> None:
    async def scene() -> tuple[list[Any], bool]:
        client = async_client(redis_url)
        await client.delete("pipelined:kept", "pipelined:gone")
        pipelined = Pipelined(client)
        gone = asyncio.ensure_future(pipelined.run(("INCR", "pipelined:gone")))
        kept = asyncio.ensure_future(pipelined.run(("INCR", "pipelined:kept")))
        await asyncio.sleep(0)  # both queued
        gone.cancel()
        answer = await kept
        await client.aclose()
        return answer, gone.cancelled()

    answer, cancelled = asyncio.run(scene())
    assert answer == [1]
    assert cancelled


def test_when_redis_cannot_be_reached_every_caller_of_the_turn_is_told() -> None:
    async def scene() -> list[Any]:
        # Nothing listens on port 1; no retries, so the failure comes at once.
        client = redis.asyncio.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1,
                                     retry=Retry(NoBackoff(), 0))
        pipelined = Pipelined(client)
        return await asyncio.gather(*(pipelined.run(("INCR", "k")) for _ in range(3)), return_exceptions=True)

    assert all(isinstance(outcome, redis.ConnectionError) for outcome in asyncio.run(scene()))


def test_the_request_gate_counts_within_its_window_and_sees_a_revoked_token(backend: Backend) -> None:
    kv = backend.kv

    async def scene() -> list[tuple[bool, int]]:
        first = await kv.exists_and_incr_window_async("gate:revoked", "gate:count", 60)
        kv.set_with_ttl("gate:revoked", "1", 60)
        together = await asyncio.gather(*(kv.exists_and_incr_window_async("gate:revoked", "gate:count", 60)
                                          for _ in range(3)))
        return [first, *together]

    assert asyncio.run(scene()) == [(False, 1), (True, 2), (True, 3), (True, 4)]
    assert asyncio.run(kv.incr_window_async("gate:anonymous", 60)) == 1


def test_a_window_once_set_is_not_extended_by_later_requests(redis_url: str) -> None:
    kv, client = RedisStore(redis_url), redis.Redis.from_url(redis_url)
    client.set("gate:w", "5", ex=60)
    assert asyncio.run(kv.incr_window_async("gate:w", 3600)) == 6
    assert 0 < client.ttl("gate:w") <= 60
    client.delete("gate:new")
    assert asyncio.run(kv.incr_window_async("gate:new", 30)) == 1
    assert 0 < client.ttl("gate:new") <= 30

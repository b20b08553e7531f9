"""Who owns an instrument's book: the coordinator an Exchange routes through (`Coordinator`), and the one of a
single process (`LocalCoordinator`, SQLite or no Redis: it owns every book). Several API processes (uvicorn
workers, or hosts behind a load balancer) share the books through api/exchange/cluster.py's
ClusterCoordinator: a PostgreSQL advisory lock per book, and Redis streams that carry the other processes'
commands to the owner.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Protocol


class Coordinator(Protocol):
    # Whether a desk must hold an owner epoch to write (several processes; see ClusterCoordinator.epoch).
    fenced: bool

    def owns(self, instrument_id: int) -> bool: ...

    def owns_at_once(self, instrument_id: int) -> bool | None: ...

    async def send(self, instrument_id: int, command: dict[str, Any],
                   timeout_s: float) -> dict[str, Any] | None: ...

    def start(self, serve: Serve, instrument_ids: Callable[[], list[int]], on_acquire: Callable[[int], object],
              may_own: Callable[[int], bool] = ..., on_lose: Callable[[int], object] = ...) -> None: ...

    def epoch(self, instrument_id: int) -> int | None: ...

    def let_go(self, instrument_id: int) -> None: ...

    def stop(self) -> None: ...

    def holding_replies(self) -> AbstractContextManager[None]: ...


# An answer awaited by a routed request, and answers handed to the requests awaiting them on one loop (None: the
# answer is lost, as after a timeout).
Waiter = asyncio.Future[dict[str, Any] | None]
Deliveries = list[tuple[Waiter, dict[str, Any] | None]]

# serve(instrument_id, command, reply): queue a routed command for the local writer; `reply` gets the answer.
Serve = Callable[[int, dict[str, Any], Callable[[dict[str, Any]], None]], None]

class LocalCoordinator:
    """One process owns every book (SQLite, or no Redis configured)."""

    fenced = False

    def owns(self, instrument_id: int) -> bool:
        return True

    def owns_at_once(self, instrument_id: int) -> bool | None:
        return True

    async def send(self, instrument_id: int, command: dict[str, Any],
                   timeout_s: float) -> dict[str, Any] | None:
        raise RuntimeError("a single process never routes commands")

    def start(self, serve: Serve, instrument_ids: Callable[[], list[int]], on_acquire: Callable[[int], object],
              may_own: Callable[[int], bool] = lambda _: True, on_lose: Callable[[int], object] = lambda _: None,
              ) -> None:
        return None

    def epoch(self, instrument_id: int) -> int | None:
        return None  # one process: nothing to fence

    def let_go(self, instrument_id: int) -> None:
        raise RuntimeError("a single process owns every book for good")

    def stop(self) -> None:
        return None

    def holding_replies(self) -> AbstractContextManager[None]:
        return nullcontext()

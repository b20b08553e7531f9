"""What one order costs the instrument's writer, without HTTP: SQL statements and writer CPU per command.

    python -m bench.writer_bench --orders 2000 --submitters 32 --seed 1

Reads the server's configuration (``CARBONX_DATABASE_URL`` …) like ``bench.loadgen``, prepares the same market
(traders with cash and credits, one instrument) with ``--prefix``, starts an in-process exchange on it (no
other process may own the instrument meanwhile: stop the server first) and sends ``--orders`` place and
cancel commands from ``--submitters`` threads, as the HTTP routes would. It prints commands per second
through the writer, the SQL statements the writer ran per command, the writer thread's CPU per command
(from /proc) and the batch sizes, then checks the ledger. A benchmark prints figures; nothing asserts on time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import re
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import event

from api.exchange.commands import Cancel, Place
from api.exchange.desk import InstrumentDesk
from api.exchange.routing import Exchange
from api.exchange.writer import Job
from api.settings import get_settings
from bench.loadgen import prepare_market
from registry.errors import DomainError
from registry.principals import Principal
from registry.services import ledger_check


def _thread_cpu_s(native_id: int) -> float:
    """CPU seconds (user + system) of one thread of this process, from /proc."""
    with open(f"/proc/self/task/{native_id}/stat") as stat:
        rest = stat.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.writer_bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--submitters", type=int, default=32)
    parser.add_argument("--traders", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cancel-share", type=float, default=0.2)
    parser.add_argument("--prefix", default="loadgen")
    parser.add_argument("--instrument", default="JXCI-LOADGEN")
    parser.add_argument("--shapes", action="store_true", help="also count the writer's statements by their start")
    parser.add_argument("--profile", metavar="PATH", help="write a cProfile of the writer's batches to PATH "
                        "(read it with python -m pstats PATH); profiling slows the writer down")
    args = parser.parse_args(argv)
    settings = get_settings()
    from api.app import build_registry

    registry = build_registry(settings)
    market = prepare_market(settings, traders=args.traders, prefix=args.prefix, instrument=args.instrument,
                            registry=registry)
    exchange = Exchange(registry, settings.exchange_fee_bp, resale_lock=settings.resale_lock)
    desk: InstrumentDesk = exchange.desk(market.instrument_id)
    statements: Counter[str] = Counter()
    shapes: Counter[str] = Counter()
    batches: list[int] = []

    @event.listens_for(registry.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.current_thread() is desk.thread:
            statements[statement.split(None, 1)[0].upper()] += 1
            shapes[re.sub(r"\d+", "N", " ".join(statement.split())[:70])] += 1

    process = desk._process

    profile = cProfile.Profile(time.thread_time) if args.profile else None  # the writer thread's CPU, not wall time

    def counted(batch: list[Job]) -> None:
        batches.append(len(batch))
        if profile is None:
            process(batch)
        else:
            profile.runcall(process, batch)

    desk._process = counted  # type: ignore[method-assign]
    principals = [Principal(t.user_id, t.participant_id, t.username, frozenset({"trader", "owner"}))
                  for t in market.traders]
    run_tag = f"wb{random.Random().randrange(10**8)}"
    outcomes: Counter[str] = Counter()
    per_submitter = args.orders // args.submitters

    def submitter(index: int) -> None:
        rng = random.Random(f"{args.seed}:{index}")
        principal = principals[index % len(principals)]
        resting: list[int] = []
        for number in range(per_submitter):
            try:
                if resting and rng.random() < args.cancel_share:
                    order_id = resting.pop(rng.randrange(len(resting)))
                    desk.submit(Job(Cancel(principal=principal, order_id=order_id)))
                    outcomes["cancel"] += 1
                    continue
                side = rng.choice(("buy", "sell"))
                place = Place(principal=principal, client_order_id=f"{run_tag}-{index}-{number}", side=side,
                              order_type="LIMIT", price_fen=rng.randint(4950, 5050), quantity_t=rng.randint(1, 20),
                              tif="GTC", request_hash=f"h{index}-{number}")
                answer = desk.submit(Job(place))
                outcomes["place"] += 1
                if answer["status"] == "open":
                    resting.append(answer["id"])
            except DomainError as refusal:
                outcomes[f"refused {refusal.code}: {refusal.message_en[:40]}"] += 1

    cpu0 = _thread_cpu_s(desk.thread.native_id or 0)
    started = time.perf_counter()
    with ThreadPoolExecutor(args.submitters) as pool:
        list(pool.map(submitter, range(args.submitters)))
    elapsed = time.perf_counter() - started
    cpu = _thread_cpu_s(desk.thread.native_id or 0) - cpu0
    exchange.stop()
    if profile is not None:
        profile.dump_stats(args.profile)
    commands = sum(batches) or 1
    total = sum(statements.values())
    print(f"{commands} commands in {len(batches)} batches (mean {commands / max(len(batches), 1):.1f}) "
          f"in {elapsed:.2f} s = {commands / elapsed:.1f} commands/s through the writer; outcomes {dict(outcomes)}")
    print(f"writer CPU {cpu:.2f} s = {1000 * cpu / commands:.2f} ms per command; "
          f"SQL statements {total} = {total / commands:.2f} per command: {dict(statements.most_common())}")
    if args.shapes:
        for shape, count in shapes.most_common(30):
            print(f"{count / commands:7.2f} per command  {shape}")
    with registry.uow() as uow:
        report = ledger_check.check(uow)
    print(f"ledger check: {'SOUND' if report.ok else 'FAILED'}")
    registry.engine.dispose()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

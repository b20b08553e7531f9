"""Python's cycle collector, set for a long-running server process.

A server holds a large, long-lived heap: modules and SQLAlchemy's mappers, and in a books process every
resting order and the serial blocks its sells hold (half a million tracked objects after a few load runs).
With the default thresholds the collector scanned all of it every few seconds, stopping every thread for
150–250 ms (the worst latencies under load). After start-up, the objects that exist are collected once and
frozen (never scanned again), and the youngest generation is allowed to grow to 20,000 objects before a
collection: most of a request's or a batch's objects are gone by then, so far fewer survive into the older
generations and the full collections become rare.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 50, 100)


def settle_start_up() -> None:
    """Call once, when the process has finished starting (never in tests: frozen objects stay for good)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)

"""The call auction's (集合竞价) single clearing price, as a pure function of the book's price levels.

The price is chosen among all prices on the tick grid:
1. the price that executes the most volume (min of what is bid at or above it and offered at or below it);
2. then the least imbalance (|bid volume - offered volume| at that price);
3. then the price nearest the auction's reference (today's last trade, else the day's reference price);
4. then the lower price (also the rule when there is no reference).

Demand and supply only change at limit prices, so the function evaluates the limit prices inside the
crossed range and, in each gap between two of them, the grid price nearest the reference (or the gap's
lowest price without a reference); that is exactly the same as evaluating every tick.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import pairwise

from matching_engine.records import AuctionIndication

NO_CROSS = AuctionIndication(None, 0, 0, 0)


def clearing_price(
    bid_levels: Sequence[tuple[int, int]],
    ask_levels: Sequence[tuple[int, int]],
    reference_fen: int | None,
    tick_fen: int,
) -> AuctionIndication:
    """Where the book uncrosses; ``bid_levels`` (price, quantity) highest first, ``ask_levels`` lowest."""
    if not bid_levels or not ask_levels or bid_levels[0][0] < ask_levels[0][0]:
        return NO_CROSS
    low_fen = ask_levels[0][0]
    high_fen = bid_levels[0][0]
    prices = sorted({p for p, _ in bid_levels if p >= low_fen} | {p for p, _ in ask_levels if p <= high_fen})
    candidates = list(prices)
    for below, above in pairwise(prices):
        if above - below > tick_fen:
            first, last = below + tick_fen, above - tick_fen
            if reference_fen is None:
                candidates.append(first)
            else:
                for aim in (reference_fen // tick_fen * tick_fen, -(-reference_fen // tick_fen) * tick_fen):
                    candidates.append(min(max(aim, first), last))

    neg_bid_prices = [-p for p, _ in bid_levels]  # ascending
    bid_cum = [0]
    for _, quantity in bid_levels:
        bid_cum.append(bid_cum[-1] + quantity)
    ask_prices = [p for p, _ in ask_levels]
    ask_cum = [0]
    for _, quantity in ask_levels:
        ask_cum.append(ask_cum[-1] + quantity)

    best: tuple[int, int, int, int] | None = None
    best_sides = (0, 0)
    for price in candidates:
        demand = bid_cum[bisect_right(neg_bid_prices, -price)]
        supply = ask_cum[bisect_right(ask_prices, price)]
        matched = min(demand, supply)
        distance = abs(price - reference_fen) if reference_fen is not None else 0
        key = (-matched, abs(demand - supply), distance, price)
        if best is None or key < best:
            best = key
            best_sides = (demand, supply)
    assert best is not None
    matched = -best[0]
    return AuctionIndication(best[3], matched, best_sides[0] - matched, best_sides[1] - matched)

"""The double-entry ledger's pure rules: assets, buckets, legs that must balance per asset."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

AVAILABLE, HELD, RETIRED, REVOKED = "available", "held", "retired", "revoked"
CASH = "CNY_FEN"


def credit_asset(batch_id: int) -> str:
    """Credits are an asset per issuance batch."""
    return f"CREDIT:{batch_id}"


def batch_of(asset: str) -> int | None:
    return int(asset.split(":", 1)[1]) if asset.startswith("CREDIT:") else None


@dataclass(frozen=True, slots=True)
class Leg:
    account_id: int
    asset: str
    bucket: str
    amount: int


def unbalanced(legs: Iterable[Leg]) -> dict[str, int]:
    """Assets whose legs do not sum to zero, with the sum (an entry must have none)."""
    sums: dict[str, int] = defaultdict(int)
    for leg in legs:
        sums[leg.asset] += leg.amount
    return {asset: amount for asset, amount in sums.items() if amount != 0}


def move(asset: str, quantity: int, source: tuple[int, str], target: tuple[int, str]) -> list[Leg]:
    """The two legs of moving `quantity` of `asset` from (account, bucket) to (account, bucket)."""
    return [Leg(source[0], asset, source[1], -quantity), Leg(target[0], asset, target[1], quantity)]

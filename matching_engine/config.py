"""One instrument's trading rules: tick, lot, sizes, price bands, self-trade default, limits.

Prices are integers in fen per tonne, quantities whole tonnes, percentages basis points (1 bp = 0.01 %),
so a band of 1000 bp is ±10 %. A band limit is rounded inwards to the tick grid: the upper limit down, the
lower limit up, never below one tick. A band applies only once there is a reference price.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matching_engine.codec import from_plain, to_plain
from matching_engine.enums import ReferencePriceRule, StpMode, TradeMode

BP_PER_UNIT = 10_000


def band_limits(
    reference_price_fen: int | None, band_bp: int | None, tick_fen: int
) -> tuple[int, int] | None:
    """The lowest and highest price in a band of ``band_bp`` around the reference, on the tick grid."""
    if reference_price_fen is None or band_bp is None:
        return None
    step = BP_PER_UNIT * tick_fen
    high_fen = reference_price_fen * (BP_PER_UNIT + band_bp) // step * tick_fen
    low_fen = -(-reference_price_fen * (BP_PER_UNIT - band_bp) // step) * tick_fen
    return max(low_fen, tick_fen), high_fen


@dataclass(frozen=True, slots=True)
class InstrumentConfig:
    """The rules of one instrument's market; every mode of the instrument shares them.

    Order book (竞价交易): ``tick_fen``, ``lot_t``, ``min_order_t``/``max_order_t`` (also bound one-sided
    auction bids), ``price_band_bp`` around the reference price (None: no band), ``market_protection_bp``
    (how far from the best opposite price a market order without its own protection price may trade),
    ``default_stp``. Market data: ``reference_price_fen`` (the first reference, e.g. an issue price),
    ``reference_price_rule`` and ``market_data_modes`` (whose trades make last price, OHLCV and the next
    reference; by default the order book's). Listings (挂牌点选): ``listing_band_bp``, ``max_listing_t``.
    Negotiated transfers (协议转让): ``negotiated_band_bp`` below ``block_threshold_t`` and ``block_band_bp``
    at or above it, ``negotiated_min_t``/``negotiated_max_t``. Limits: ``max_live_*``.
    """

    instrument_id: str
    tick_fen: int = 1
    lot_t: int = 1
    min_order_t: int = 1
    max_order_t: int = 1_000_000
    reference_price_fen: int | None = None
    price_band_bp: int | None = 1000
    market_protection_bp: int = 500
    default_stp: StpMode = StpMode.CANCEL_NEWEST
    reference_price_rule: ReferencePriceRule = ReferencePriceRule.PREVIOUS_CLOSE
    market_data_modes: frozenset[TradeMode] = field(
        default=frozenset({TradeMode.CONTINUOUS, TradeMode.CALL_AUCTION})
    )
    listing_band_bp: int | None = 1000
    max_listing_t: int | None = None
    negotiated_band_bp: int | None = 1000
    block_threshold_t: int | None = 100_000
    block_band_bp: int | None = 3000
    negotiated_min_t: int = 1
    negotiated_max_t: int | None = None
    max_live_orders: int = 2_000_000
    max_live_listings: int = 1_000_000
    max_live_proposals: int = 100_000
    max_live_auctions: int = 10_000
    max_bids_per_auction: int = 1_000_000

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise ValueError("invalid InstrumentConfig: " + "; ".join(problems))

    def _problems(self) -> list[str]:
        out = []
        if not self.instrument_id:
            out.append("instrument_id is empty")
        if self.tick_fen <= 0:
            out.append("tick_fen must be positive")
        if self.lot_t <= 0:
            out.append("lot_t must be positive")
        for name in ("min_order_t", "max_order_t", "negotiated_min_t"):
            if getattr(self, name) <= 0:
                out.append(f"{name} must be positive")
        if self.max_order_t < self.min_order_t:
            out.append("max_order_t is below min_order_t")
        if self.negotiated_max_t is not None and self.negotiated_max_t < self.negotiated_min_t:
            out.append("negotiated_max_t is below negotiated_min_t")
        if self.reference_price_fen is not None and self.reference_price_fen <= 0:
            out.append("reference_price_fen must be positive")
        for name in ("price_band_bp", "listing_band_bp", "negotiated_band_bp", "block_band_bp"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < BP_PER_UNIT:
                out.append(f"{name} must lie in [0, {BP_PER_UNIT})")
        if not 0 < self.market_protection_bp < BP_PER_UNIT:
            out.append(f"market_protection_bp must lie in (0, {BP_PER_UNIT})")
        if self.block_threshold_t is not None and self.block_threshold_t <= 0:
            out.append("block_threshold_t must be positive")
        for name in (
            "max_live_orders",
            "max_live_listings",
            "max_live_proposals",
            "max_live_auctions",
            "max_bids_per_auction",
        ):
            if getattr(self, name) <= 0:
                out.append(f"{name} must be positive")
        return out

    def negotiated_band_for(self, quantity_t: int) -> int | None:
        """The band (bp) for a negotiated transfer of ``quantity_t``: the block band from the threshold."""
        if self.block_threshold_t is not None and quantity_t >= self.block_threshold_t:
            return self.block_band_bp
        return self.negotiated_band_bp

    def is_block(self, quantity_t: int) -> bool:
        """Whether a negotiated transfer of ``quantity_t`` is a block trade (大宗)."""
        return self.block_threshold_t is not None and quantity_t >= self.block_threshold_t

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of every field."""
        plain: dict[str, Any] = to_plain(self)
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InstrumentConfig:
        """The config :meth:`to_dict` describes."""
        return from_plain(cls, data)

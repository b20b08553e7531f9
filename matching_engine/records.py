"""Read-only views of the engine's state. The same records rebuild an engine (``Engine.restore_*``), so a
service can restore the books from its own tables as well as from :meth:`Engine.snapshot`."""

from __future__ import annotations

from dataclasses import dataclass

from matching_engine.enums import AuctionPricing, Phase, ProposalStatus, Side, StpMode, TimeInForce, TradeMode


@dataclass(frozen=True, slots=True)
class OrderState:
    """A resting order; ``quantity_t`` is what is still open, ``priority`` its place in time (lower first)."""

    order_id: int
    account_id: str
    side: Side
    price_fen: int
    quantity_t: int
    tif: TimeInForce
    expires_at_ms: int | None
    stp: StpMode
    priority: int


@dataclass(frozen=True, slots=True)
class ListingState:
    """A live listing; ``quantity_t`` is what is left to pick."""

    listing_id: int
    account_id: str
    side: Side
    price_fen: int
    quantity_t: int
    min_pick_t: int
    expires_at_ms: int | None
    batch_id: str | None
    allowed_counterparties: frozenset[str] | None
    priority: int


@dataclass(frozen=True, slots=True)
class ProposalState:
    """A negotiated-transfer proposal; only OPEN ones can still change, the others are remembered by id."""

    proposal_id: int
    account_id: str
    counterparty_id: str
    side: Side
    price_fen: int
    quantity_t: int
    expires_at_ms: int
    batch_id: str | None
    status: ProposalStatus = ProposalStatus.OPEN


@dataclass(frozen=True, slots=True)
class BidState:
    """A sealed bid in a one-sided auction."""

    bid_id: int
    account_id: str
    price_fen: int
    quantity_t: int
    priority: int


@dataclass(frozen=True, slots=True)
class AuctionState:
    """A one-sided auction still taking bids, with its bids in the order they came."""

    auction_id: int
    account_id: str
    side: Side
    quantity_t: int
    reserve_price_fen: int
    end_ts_ms: int
    pricing: AuctionPricing
    batch_id: str | None
    bids: tuple[BidState, ...] = ()


@dataclass(frozen=True, slots=True)
class Bar:
    """One trading day's OHLCV (prices None until the first trade), with turnover and trade count."""

    trading_day: str
    open_fen: int | None = None
    high_fen: int | None = None
    low_fen: int | None = None
    close_fen: int | None = None
    volume_t: int = 0
    turnover_fen: int = 0
    trade_count: int = 0

    @property
    def vwap_fen(self) -> int | None:
        """The volume-weighted average price, rounded half up to a whole fen; None without volume."""
        if not self.volume_t:
            return None
        return (2 * self.turnover_fen + self.volume_t) // (2 * self.volume_t)


@dataclass(frozen=True, slots=True)
class LastTrade:
    """The last trade that counts for market data."""

    price_fen: int
    quantity_t: int
    ts_ms: int
    mode: TradeMode


@dataclass(frozen=True, slots=True)
class FloorState:
    """Everything about an engine that is not a resting object: clock, counters, phase, market data."""

    now_ms: int
    next_seq: int
    next_trade_id: int
    phase: Phase
    trading_day: str
    reference_price_fen: int | None
    last_trade: LastTrade | None
    bar: Bar | None
    bars: tuple[Bar, ...] = ()


@dataclass(frozen=True, slots=True)
class PriceLevel:
    """One price of the book: total open quantity and number of orders."""

    price_fen: int
    quantity_t: int
    order_count: int


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """Best bid and best ask (None when that side is empty)."""

    bid_price_fen: int | None
    bid_quantity_t: int
    ask_price_fen: int | None
    ask_quantity_t: int


@dataclass(frozen=True, slots=True)
class Depth:
    """The best N levels of each side, best first."""

    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]


@dataclass(frozen=True, slots=True)
class AuctionIndication:
    """Where a call auction would uncross now (price None: nothing crosses)."""

    price_fen: int | None
    matched_t: int
    buy_surplus_t: int
    sell_surplus_t: int

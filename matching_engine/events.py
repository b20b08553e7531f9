"""Events: what the engine answers. Every event is a frozen dataclass whose first two fields are ``seq`` (the
engine's sequence number, one higher for every event, never reused) and ``ts_ms`` (the time of the command
that produced it).

The ``seq`` of the event that put a resting object in its queue (``OrderAccepted``, ``OrderAmended`` with
``priority_kept=False``, ``ListingPosted``, ``BidAccepted``) is that object's time priority; a service that
rebuilds the engine from its own tables passes it back as ``priority``.

``Trade`` is one event for every mode; ``buy_order_id`` / ``sell_order_id`` name each side's object in that
mode: the two orders (CONTINUOUS, CALL_AUCTION); the listing and the pick (LISTING); the proposal on both
sides (NEGOTIATED); the auction for its initiator and the bid for the bidder (ONE_SIDED_AUCTION).
``aggressor`` is the side of whoever completed the trade (the incoming order, the picker, the accepting
counterparty) and None for auctions, where no side takes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from matching_engine.codec import from_plain, to_plain
from matching_engine.enums import (
    AuctionCloseReason,
    AuctionPricing,
    CancelReason,
    ListingCloseReason,
    OrderType,
    Phase,
    ProposalStatus,
    Reason,
    Side,
    TimeInForce,
    TradeMode,
)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A command was refused and changed nothing; ``ref_id`` is the id the command named, if any."""

    seq: int
    ts_ms: int
    command: str
    ref_id: int | None
    reason: Reason


# --- trading day ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PhaseChanged:
    """The instrument entered ``phase``."""

    seq: int
    ts_ms: int
    phase: Phase
    trading_day: str


@dataclass(frozen=True, slots=True)
class DayClosed:
    """A trading day ended: its bar (prices None when nothing traded) and the next day's reference price."""

    seq: int
    ts_ms: int
    trading_day: str
    open_fen: int | None
    high_fen: int | None
    low_fen: int | None
    close_fen: int | None
    volume_t: int
    turnover_fen: int
    trade_count: int
    next_reference_price_fen: int | None


# --- order book -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """An order passed every check; trades, a rest in the book or a cancellation of the rest follow."""

    seq: int
    ts_ms: int
    order_id: int
    account_id: str
    side: Side
    order_type: OrderType
    tif: TimeInForce
    price_fen: int | None
    quantity_t: int


@dataclass(frozen=True, slots=True)
class OrderAmended:
    """A resting order now has ``quantity_t`` open (it had ``old_quantity_t``) at ``price_fen``."""

    seq: int
    ts_ms: int
    order_id: int
    account_id: str
    side: Side
    price_fen: int
    old_quantity_t: int
    quantity_t: int
    priority_kept: bool


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """``cancelled_t`` of an order left the book for ``reason``; ``remaining_t`` is still open (usually 0)."""

    seq: int
    ts_ms: int
    order_id: int
    account_id: str
    side: Side
    cancelled_t: int
    remaining_t: int
    reason: CancelReason


@dataclass(frozen=True, slots=True)
class OrderExpired:
    """A DAY order at the close of its day, or a GTD order at its ``expires_at_ms``, left the book."""

    seq: int
    ts_ms: int
    order_id: int
    account_id: str
    side: Side
    expired_t: int


@dataclass(frozen=True, slots=True)
class Trade:
    """``quantity_t`` changed hands at ``price_fen``; see the module docstring for the ids per mode."""

    seq: int
    ts_ms: int
    trade_id: int
    mode: TradeMode
    price_fen: int
    quantity_t: int
    buy_order_id: int
    sell_order_id: int
    buy_account_id: str
    sell_account_id: str
    aggressor: Side | None
    batch_id: str | None


@dataclass(frozen=True, slots=True)
class CallAuctionResult:
    """A call auction uncrossed at ``price_fen`` (None: nothing crossed); its trades follow.

    ``buy_surplus_t`` / ``sell_surplus_t`` are what was bid / offered at that price but not matched.
    """

    seq: int
    ts_ms: int
    price_fen: int | None
    matched_t: int
    buy_surplus_t: int
    sell_surplus_t: int


# --- listing-pick -----------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ListingPosted:
    """A listing is on the board."""

    seq: int
    ts_ms: int
    listing_id: int
    account_id: str
    side: Side
    price_fen: int
    quantity_t: int
    min_pick_t: int
    expires_at_ms: int | None
    batch_id: str | None
    allowed_counterparties: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class ListingClosed:
    """A listing left the board with ``remaining_t`` unpicked."""

    seq: int
    ts_ms: int
    listing_id: int
    account_id: str
    remaining_t: int
    reason: ListingCloseReason


# --- negotiated transfer ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NegotiatedTransferProposed:
    """A proposal awaits its counterparty; ``block``: a block trade (大宗) by the instrument's threshold."""

    seq: int
    ts_ms: int
    proposal_id: int
    account_id: str
    counterparty_id: str
    side: Side
    price_fen: int
    quantity_t: int
    expires_at_ms: int
    batch_id: str | None
    block: bool


@dataclass(frozen=True, slots=True)
class ProposalClosed:
    """A proposal reached a final status; ACCEPTED is followed by its trade."""

    seq: int
    ts_ms: int
    proposal_id: int
    account_id: str
    counterparty_id: str
    status: ProposalStatus


# --- one-sided auction ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AuctionOpened:
    """A one-sided auction takes sealed bids until ``end_ts_ms``."""

    seq: int
    ts_ms: int
    auction_id: int
    account_id: str
    side: Side
    quantity_t: int
    reserve_price_fen: int
    end_ts_ms: int
    pricing: AuctionPricing
    batch_id: str | None


@dataclass(frozen=True, slots=True)
class BidAccepted:
    """A sealed bid was taken. It is private to the bidder and the operator until the auction closes."""

    seq: int
    ts_ms: int
    auction_id: int
    bid_id: int
    account_id: str
    price_fen: int
    quantity_t: int


@dataclass(frozen=True, slots=True)
class AuctionClosed:
    """A one-sided auction ended; for COMPLETED its trades and then the released bids follow.

    ``clearing_price_fen`` is the last winning bid's price (the price of every trade under UNIFORM pricing).
    """

    seq: int
    ts_ms: int
    auction_id: int
    account_id: str
    reason: AuctionCloseReason
    allocated_t: int
    unallocated_t: int
    clearing_price_fen: int | None
    winning_bids: int


@dataclass(frozen=True, slots=True)
class BidReleased:
    """``released_t`` of a bid did not win (the whole bid, or the rest of the partly filled last winner)."""

    seq: int
    ts_ms: int
    auction_id: int
    bid_id: int
    account_id: str
    released_t: int


Event = (
    Rejected
    | PhaseChanged
    | DayClosed
    | OrderAccepted
    | OrderAmended
    | OrderCancelled
    | OrderExpired
    | Trade
    | CallAuctionResult
    | ListingPosted
    | ListingClosed
    | NegotiatedTransferProposed
    | ProposalClosed
    | AuctionOpened
    | BidAccepted
    | AuctionClosed
    | BidReleased
)

EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Rejected,
        PhaseChanged,
        DayClosed,
        OrderAccepted,
        OrderAmended,
        OrderCancelled,
        OrderExpired,
        Trade,
        CallAuctionResult,
        ListingPosted,
        ListingClosed,
        NegotiatedTransferProposed,
        ProposalClosed,
        AuctionOpened,
        BidAccepted,
        AuctionClosed,
        BidReleased,
    )
}


def _install_fast_init(cls: type) -> None:
    """Give a frozen slots dataclass an ``__init__`` that sets its slots through their descriptors.

    The ``__init__`` dataclasses writes for a frozen class calls ``object.__setattr__`` once per field, which
    costs about as much as the rest of a cancel. Writing each slot through its member descriptor does the
    same thing (the instance is still frozen to everyone else) at about half the cost. The source is
    generated, as dataclasses does itself, from the class's own field names only.
    """
    names = [field.name for field in dataclasses.fields(cls)]
    params = ", ".join(names)
    body = "\n".join(f"    _set_{name}(self, {name})" for name in names)
    source = f"def __init__(self, {params}):\n{body}\n"
    namespace: dict[str, Any] = {f"_set_{name}": cls.__dict__[name].__set__ for name in names}
    exec(source, namespace)  # noqa: S102 - trusted source built from dataclass field names above
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__  # type: ignore[misc]
    setattr(cls, "__init__", init)  # noqa: B010 - mypy forbids assigning to a method directly


for _cls in EVENT_TYPES.values():
    _install_fast_init(_cls)


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-safe dict of an event: ``{"type": "Trade", "seq": ..., ...}``."""
    plain: dict[str, Any] = {"type": type(event).__name__}
    plain.update(to_plain(event))
    return plain


def event_from_dict(data: dict[str, Any]) -> Event:
    """The event :func:`event_to_dict` wrote. Raises ``ValueError`` for an unknown type."""
    fields = dict(data)
    name = fields.pop("type", None)
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown event type {name!r}")
    event: Event = from_plain(cls, fields)
    return event

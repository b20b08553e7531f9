"""Commands: what a caller asks the engine to do. Plain frozen dataclasses, journaled as plain dicts.

Every command carries ``ts_ms``, the time the service assigned to it (milliseconds since the epoch); the
engine reads no clock. Timestamps must not go backwards (a command with an earlier time than the previous
one is rejected with ``STALE_TIMESTAMP``). Ids (``order_id``, ``listing_id`` ...) are assigned by the caller
and unique among the live objects of their kind; ``account_id`` names the trading account.

Ordering of the checks, and so the reason reported when several apply, is documented per command in
``matching_engine/engine.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matching_engine.codec import from_plain, to_plain
from matching_engine.enums import AuctionPricing, OrderType, Phase, Side, StpMode, TimeInForce


# --- trading day ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OpenDay:
    """Start a trading day (from CLOSED) in ``phase``: CALL for an opening call auction, or CONTINUOUS."""

    ts_ms: int
    trading_day: str
    phase: Phase = Phase.CALL


@dataclass(frozen=True, slots=True)
class SetPhase:
    """Move between CALL, CONTINUOUS and HALTED within a day; leaving CALL uncrosses the auction."""

    ts_ms: int
    phase: Phase


@dataclass(frozen=True, slots=True)
class CloseDay:
    """End the day: uncross a running call auction, expire DAY orders, close the bar, roll the reference.

    Resting orders outside the band of the new reference price are cancelled (``OUTSIDE_BAND``).
    """

    ts_ms: int


@dataclass(frozen=True, slots=True)
class AdvanceTime:
    """Let time pass: expire what is due (GTD orders, listings, proposals), close due one-sided auctions."""

    ts_ms: int


# --- order book (竞价交易) --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """A limit or market order for the continuous book or the call auction.

    ``tif`` None means GTC for a limit order and IOC for a market order.
    A limit order needs ``price_fen``; a market order has none and is IOC or FOK, bounded by
    ``protection_price_fen`` or, without one, by the best opposite price ± ``market_protection_bp``. GTD
    needs ``expires_at_ms`` (the first instant at which the order is no longer live); other TIFs must not
    have one. ``stp`` None means the instrument's default self-trade prevention.
    """

    ts_ms: int
    order_id: int
    account_id: str
    side: Side
    quantity_t: int
    price_fen: int | None = None
    order_type: OrderType = OrderType.LIMIT
    tif: TimeInForce | None = None
    expires_at_ms: int | None = None
    stp: StpMode | None = None
    protection_price_fen: int | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    """Cancel the rest of a resting order of ``account_id``."""

    ts_ms: int
    order_id: int
    account_id: str


@dataclass(frozen=True, slots=True)
class AmendOrder:
    """Change a resting order's open quantity and/or price.

    ``quantity_t`` is the new open (unfilled) quantity. A pure cut keeps time priority; a price change or a
    raise loses it (the order goes to the back of its new level and, in CONTINUOUS, may trade at once).
    """

    ts_ms: int
    order_id: int
    account_id: str
    quantity_t: int | None = None
    price_fen: int | None = None


# --- listing-pick (挂牌点选) ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PostListing:
    """Post a listing: sell (or buy) ``quantity_t`` at ``price_fen``; each pick takes ``min_pick_t`` or more.

    ``batch_id`` ties it to one batch of credits (None: any credits of the instrument);
    ``allowed_counterparties`` None means anyone may pick it; ``expires_at_ms`` None means until cancelled.
    """

    ts_ms: int
    listing_id: int
    account_id: str
    side: Side
    price_fen: int
    quantity_t: int
    min_pick_t: int
    expires_at_ms: int | None = None
    batch_id: str | None = None
    allowed_counterparties: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class PickListing:
    """Take ``quantity_t`` of a listing at its price; ``pick_id`` is the picker's side of the trade."""

    ts_ms: int
    pick_id: int
    listing_id: int
    account_id: str
    quantity_t: int


@dataclass(frozen=True, slots=True)
class CancelListing:
    """Take the rest of a listing of ``account_id`` off the board."""

    ts_ms: int
    listing_id: int
    account_id: str


# --- negotiated transfer (协议转让) -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ProposeNegotiatedTransfer:
    """``account_id`` proposes to ``counterparty_id`` to trade ``quantity_t`` at ``price_fen``.

    ``side`` is the initiator's side; the proposal is open until ``expires_at_ms`` (exclusive).
    """

    ts_ms: int
    proposal_id: int
    account_id: str
    counterparty_id: str
    side: Side
    price_fen: int
    quantity_t: int
    expires_at_ms: int
    batch_id: str | None = None


@dataclass(frozen=True, slots=True)
class AcceptNegotiatedTransfer:
    """The named counterparty accepts an open proposal; it trades at once."""

    ts_ms: int
    proposal_id: int
    account_id: str


@dataclass(frozen=True, slots=True)
class RejectNegotiatedTransfer:
    """The named counterparty turns an open proposal down."""

    ts_ms: int
    proposal_id: int
    account_id: str


@dataclass(frozen=True, slots=True)
class WithdrawNegotiatedTransfer:
    """The initiator withdraws a proposal that is still open (not yet accepted)."""

    ts_ms: int
    proposal_id: int
    account_id: str


# --- one-sided auction (单向竞价) -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OpenAuction:
    """``account_id`` auctions a lot: ``side`` SELL offers ``quantity_t`` to bidders (who must bid at least
    ``reserve_price_fen``), BUY asks sellers to offer (at most the reserve). Sealed bids are taken from now
    until ``end_ts_ms`` (exclusive); at ``end_ts_ms`` the lot is allocated by price then time."""

    ts_ms: int
    auction_id: int
    account_id: str
    side: Side
    quantity_t: int
    reserve_price_fen: int
    end_ts_ms: int
    pricing: AuctionPricing = AuctionPricing.PAY_AS_BID
    batch_id: str | None = None


@dataclass(frozen=True, slots=True)
class PlaceBid:
    """A sealed, binding bid (an offer, for a BUY auction) of ``quantity_t`` at ``price_fen``."""

    ts_ms: int
    auction_id: int
    bid_id: int
    account_id: str
    price_fen: int
    quantity_t: int


@dataclass(frozen=True, slots=True)
class CancelAuction:
    """The initiator calls off an auction that has no bids yet."""

    ts_ms: int
    auction_id: int
    account_id: str


@dataclass(frozen=True, slots=True)
class WithdrawAuction:
    """The market takes a one-sided auction off whatever bids it has (any phase): it closes CANCELLED and its
    bids are released, as when its initiator leaves the market. For an auction whose lot may no longer be sold
    (its credits are being taken back, Art. 26); its initiator may still deal otherwise."""

    ts_ms: int
    auction_id: int


@dataclass(frozen=True, slots=True)
class WithdrawBid:
    """The market takes one bid out of an auction still taking bids (any phase): it is released, as when its
    bidder leaves the market. For a bid whose credits are being taken back (Art. 26)."""

    ts_ms: int
    auction_id: int
    bid_id: int


# --- a participant leaves the market ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WithdrawAccount:
    """Take everything of ``account_id`` off the market at once (any phase; never rejected but for its time):
    its resting orders, its listings, the proposals it made and those naming it as counterparty, its one-sided
    auctions with their bids, and its bids in other auctions. For an account that may no longer deal
    (suspended or disqualified): nothing of it is left for anyone to trade against. It fires no timers:
    what falls due at its time (an auction's end, say) fires with the next command, without the account."""

    ts_ms: int
    account_id: str


Command = (
    OpenDay
    | SetPhase
    | CloseDay
    | AdvanceTime
    | PlaceOrder
    | CancelOrder
    | AmendOrder
    | PostListing
    | PickListing
    | CancelListing
    | ProposeNegotiatedTransfer
    | AcceptNegotiatedTransfer
    | RejectNegotiatedTransfer
    | WithdrawNegotiatedTransfer
    | OpenAuction
    | PlaceBid
    | CancelAuction
    | WithdrawAuction
    | WithdrawBid
    | WithdrawAccount
)

COMMAND_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        OpenDay,
        SetPhase,
        CloseDay,
        AdvanceTime,
        PlaceOrder,
        CancelOrder,
        AmendOrder,
        PostListing,
        PickListing,
        CancelListing,
        ProposeNegotiatedTransfer,
        AcceptNegotiatedTransfer,
        RejectNegotiatedTransfer,
        WithdrawNegotiatedTransfer,
        OpenAuction,
        PlaceBid,
        CancelAuction,
        WithdrawAuction,
        WithdrawBid,
        WithdrawAccount,
    )
}


def command_to_dict(command: Command) -> dict[str, Any]:
    """A JSON-safe dict for the command log: ``{"type": "PlaceOrder", "ts_ms": ..., ...}``."""
    plain: dict[str, Any] = {"type": type(command).__name__}
    plain.update(to_plain(command))
    return plain


def command_from_dict(data: dict[str, Any]) -> Command:
    """The command :func:`command_to_dict` wrote. Raises ``ValueError`` for an unknown type."""
    fields = dict(data)
    name = fields.pop("type", None)
    cls = COMMAND_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValueError(f"unknown command type {name!r}")
    command: Command = from_plain(cls, fields)
    return command

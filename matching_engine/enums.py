"""The engine's vocabulary: sides, order types, phases, trade modes and the stable reason codes.

Every enum is a ``StrEnum`` whose value equals its name, so a value is its own stable wire code: it goes
into a command log, an event stream or a JSON answer unchanged and comes back with ``Enum(value)``.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Which way a party trades."""

    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    """A limit order names its worst price; a market order takes what is there up to a protection price."""

    LIMIT = "LIMIT"
    MARKET = "MARKET"


class TimeInForce(StrEnum):
    """How long an order may live.

    GTC rests until filled or cancelled; DAY until the ``CloseDay`` of its trading day; GTD until
    ``expires_at_ms``; IOC fills what it can at once and cancels the rest; FOK fills completely at once or
    not at all.
    """

    GTC = "GTC"
    DAY = "DAY"
    GTD = "GTD"
    IOC = "IOC"
    FOK = "FOK"


class StpMode(StrEnum):
    """Self-trade prevention: what happens when an order would trade with an order of the same account.

    The incoming (newest) order's mode decides. CANCEL_NEWEST cancels the rest of the incoming order;
    CANCEL_OLDEST cancels the resting order and goes on matching; CANCEL_BOTH cancels both; DECREMENT
    takes the smaller quantity off both without a trade, so the smaller one disappears.
    """

    CANCEL_NEWEST = "CANCEL_NEWEST"
    CANCEL_OLDEST = "CANCEL_OLDEST"
    CANCEL_BOTH = "CANCEL_BOTH"
    DECREMENT = "DECREMENT"


class Phase(StrEnum):
    """The trading phase of an instrument.

    CLOSED: between trading days; only cancellations, withdrawals and time pass. CALL: a call auction
    (集合竞价) collects limit orders without matching; leaving CALL uncrosses the book at one price.
    CONTINUOUS: continuous matching (连续竞价). HALTED: trading paused; like CLOSED but within a day.
    """

    CLOSED = "CLOSED"
    CALL = "CALL"
    CONTINUOUS = "CONTINUOUS"
    HALTED = "HALTED"


class TradeMode(StrEnum):
    """The trade mode (Art. 20) a trade came from."""

    CONTINUOUS = "CONTINUOUS"
    CALL_AUCTION = "CALL_AUCTION"
    ONE_SIDED_AUCTION = "ONE_SIDED_AUCTION"
    LISTING = "LISTING"
    NEGOTIATED = "NEGOTIATED"


class AuctionPricing(StrEnum):
    """How a one-sided auction prices its winners: each at its own bid, or all at the last winning bid."""

    PAY_AS_BID = "PAY_AS_BID"
    UNIFORM = "UNIFORM"


class ReferencePriceRule(StrEnum):
    """How ``CloseDay`` sets the next day's reference price from the day's trades."""

    PREVIOUS_CLOSE = "PREVIOUS_CLOSE"
    PREVIOUS_VWAP = "PREVIOUS_VWAP"


class Reason(StrEnum):
    """Why a command was rejected. Stable codes; a rejected command changes nothing but the clock."""

    STALE_TIMESTAMP = "STALE_TIMESTAMP"
    INVALID_TIMESTAMP = "INVALID_TIMESTAMP"
    MARKET_CLOSED = "MARKET_CLOSED"
    TRADING_HALTED = "TRADING_HALTED"
    NOT_ALLOWED_IN_CALL = "NOT_ALLOWED_IN_CALL"
    WRONG_PHASE = "WRONG_PHASE"
    INVALID_TRADING_DAY = "INVALID_TRADING_DAY"
    DUPLICATE_ID = "DUPLICATE_ID"
    CAPACITY = "CAPACITY"
    INVALID_SIDE = "INVALID_SIDE"
    INVALID_ORDER_TYPE = "INVALID_ORDER_TYPE"
    INVALID_TIF = "INVALID_TIF"
    INVALID_STP = "INVALID_STP"
    INVALID_PRICING = "INVALID_PRICING"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    LOT_SIZE = "LOT_SIZE"
    BELOW_MIN_SIZE = "BELOW_MIN_SIZE"
    ABOVE_MAX_SIZE = "ABOVE_MAX_SIZE"
    INVALID_PRICE = "INVALID_PRICE"
    TICK_SIZE = "TICK_SIZE"
    PRICE_BELOW_BAND = "PRICE_BELOW_BAND"
    PRICE_ABOVE_BAND = "PRICE_ABOVE_BAND"
    INVALID_EXPIRY = "INVALID_EXPIRY"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    NOT_OWNER = "NOT_OWNER"
    NOTHING_TO_AMEND = "NOTHING_TO_AMEND"
    SELF_TRADE = "SELF_TRADE"
    UNKNOWN_LISTING = "UNKNOWN_LISTING"
    INVALID_MIN_PICK = "INVALID_MIN_PICK"
    COUNTERPARTY_NOT_ALLOWED = "COUNTERPARTY_NOT_ALLOWED"
    BELOW_MIN_PICK = "BELOW_MIN_PICK"
    EXCEEDS_REMAINING = "EXCEEDS_REMAINING"
    UNKNOWN_PROPOSAL = "UNKNOWN_PROPOSAL"
    PROPOSAL_CLOSED = "PROPOSAL_CLOSED"
    NOT_COUNTERPARTY = "NOT_COUNTERPARTY"
    NOT_INITIATOR = "NOT_INITIATOR"
    UNKNOWN_AUCTION = "UNKNOWN_AUCTION"
    AUCTION_CLOSED = "AUCTION_CLOSED"
    BELOW_RESERVE = "BELOW_RESERVE"
    ABOVE_RESERVE = "ABOVE_RESERVE"
    EXCEEDS_LOT = "EXCEEDS_LOT"
    AUCTION_HAS_BIDS = "AUCTION_HAS_BIDS"


class CancelReason(StrEnum):
    """Why (part of) an order left the book other than by trading or expiring."""

    REQUESTED = "REQUESTED"
    IOC_REMAINDER = "IOC_REMAINDER"
    FOK_NOT_FILLED = "FOK_NOT_FILLED"
    PROTECTION_PRICE = "PROTECTION_PRICE"
    NO_LIQUIDITY = "NO_LIQUIDITY"
    SELF_TRADE = "SELF_TRADE"
    OUTSIDE_BAND = "OUTSIDE_BAND"
    ACCOUNT_WITHDRAWN = "ACCOUNT_WITHDRAWN"


class ListingCloseReason(StrEnum):
    """Why a listing left the board."""

    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class ProposalStatus(StrEnum):
    """The state of a negotiated-transfer proposal; every state but OPEN is final."""

    OPEN = "OPEN"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"


class AuctionCloseReason(StrEnum):
    """Why a one-sided auction ended."""

    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"

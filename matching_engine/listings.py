"""The listing board of 挂牌点选: posted listings, browsable by price then time, picked at the listed price.

Each side keeps a ``SortedList`` of ``(price key, priority, listing_id)`` (the price key is the price for sell
listings and minus the price for buy listings, so the best listing for a picker always comes first), plus one
such list per batch, so browsing the best N of a side or of a batch is a slice. Internal to the engine; the
facade is :class:`matching_engine.Engine`.
"""

from __future__ import annotations

import sys
from itertools import islice

from sortedcontainers import SortedList

from matching_engine.commands import CancelListing, PickListing, PostListing
from matching_engine.enums import ListingCloseReason, Reason, Side, TradeMode
from matching_engine.events import Event, ListingClosed, ListingPosted
from matching_engine.floor import TIMER_LISTING, Floor
from matching_engine.records import ListingState

SIDES = {member: member for member in Side}
MAX_BROWSE = 1000


class Listing:
    """A live listing; ``quantity_t`` is what is left."""

    __slots__ = (
        "account_id",
        "allowed",
        "batch_id",
        "expires_at_ms",
        "key",
        "listing_id",
        "min_pick_t",
        "price_fen",
        "priority",
        "quantity_t",
        "side",
    )

    def __init__(self, state: ListingState) -> None:
        self.listing_id = state.listing_id
        self.account_id = state.account_id
        self.side = Side(state.side)
        self.price_fen = state.price_fen
        self.quantity_t = state.quantity_t
        self.min_pick_t = state.min_pick_t
        self.expires_at_ms = state.expires_at_ms
        self.batch_id = state.batch_id
        allowed = state.allowed_counterparties
        self.allowed = None if allowed is None else frozenset(allowed)
        self.priority = state.priority
        price_key = self.price_fen if self.side is Side.SELL else -self.price_fen
        self.key = (price_key, self.priority, self.listing_id)

    def state(self) -> ListingState:
        """The public record of this listing."""
        return ListingState(
            self.listing_id,
            self.account_id,
            self.side,
            self.price_fen,
            self.quantity_t,
            self.min_pick_t,
            self.expires_at_ms,
            self.batch_id,
            self.allowed,
            self.priority,
        )

    def visible_to(self, viewer_id: str | None) -> bool:
        """Restricted listings are shown only to their owner and the counterparties they allow."""
        return (
            self.allowed is None
            or viewer_id == self.account_id
            or (viewer_id is not None and viewer_id in self.allowed)
        )


class ListingBoard:
    """All live listings of one instrument."""

    __slots__ = ("by_batch", "by_side", "config", "floor", "listings")

    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.config = floor.config
        self.listings: dict[int, Listing] = {}
        self.by_side: dict[Side, SortedList] = {Side.BUY: SortedList(), Side.SELL: SortedList()}
        self.by_batch: dict[tuple[Side, str], SortedList] = {}

    def post(self, cmd: PostListing, events: list[Event]) -> None:
        """Put a listing on the board.

        Checks in order: INVALID_SIDE; MARKET_CLOSED / TRADING_HALTED; DUPLICATE_ID; CAPACITY; quantity
        (INVALID_QUANTITY, LOT_SIZE, ABOVE_MAX_SIZE over ``max_listing_t``); INVALID_MIN_PICK (not a positive
        lot multiple, or above the quantity); price (INVALID_PRICE, TICK_SIZE, PRICE_BELOW_BAND /
        PRICE_ABOVE_BAND by ``listing_band_bp``); INVALID_EXPIRY (not after now).
        """
        floor = self.floor
        side = SIDES.get(cmd.side)
        reason = Reason.INVALID_SIDE if side is None else self._check_post(cmd)
        if reason is not None:
            floor.reject(events, cmd.ts_ms, "PostListing", cmd.listing_id, reason)
            return
        assert side is not None
        floor.seq += 1
        allowed = None if cmd.allowed_counterparties is None else frozenset(cmd.allowed_counterparties)
        listing = Listing(
            ListingState(
                cmd.listing_id,
                cmd.account_id,
                side,
                cmd.price_fen,
                cmd.quantity_t,
                cmd.min_pick_t,
                cmd.expires_at_ms,
                cmd.batch_id,
                allowed,
                floor.seq,
            )
        )
        self._add(listing)
        events.append(
            ListingPosted(
                floor.seq,
                cmd.ts_ms,
                cmd.listing_id,
                cmd.account_id,
                side,
                cmd.price_fen,
                cmd.quantity_t,
                cmd.min_pick_t,
                cmd.expires_at_ms,
                cmd.batch_id,
                allowed,
            )
        )

    def _check_post(self, cmd: PostListing) -> Reason | None:
        floor = self.floor
        config = self.config
        reason = floor.open_check()
        if reason is not None:
            return reason
        if cmd.listing_id in self.listings:
            return Reason.DUPLICATE_ID
        if len(self.listings) >= config.max_live_listings:
            return Reason.CAPACITY
        quantity_t = cmd.quantity_t
        if type(quantity_t) is not int or quantity_t <= 0:
            return Reason.INVALID_QUANTITY
        if quantity_t % config.lot_t:
            return Reason.LOT_SIZE
        if config.max_listing_t is not None and quantity_t > config.max_listing_t:
            return Reason.ABOVE_MAX_SIZE
        min_pick_t = cmd.min_pick_t
        if (
            type(min_pick_t) is not int
            or min_pick_t <= 0
            or min_pick_t % config.lot_t
            or min_pick_t > quantity_t
        ):
            return Reason.INVALID_MIN_PICK
        price_fen = cmd.price_fen
        if type(price_fen) is not int or price_fen <= 0:
            return Reason.INVALID_PRICE
        if price_fen % config.tick_fen:
            return Reason.TICK_SIZE
        reason = floor.band_check(price_fen, config.listing_band_bp)
        if reason is not None:
            return reason
        if cmd.expires_at_ms is not None and (
            type(cmd.expires_at_ms) is not int or cmd.expires_at_ms <= cmd.ts_ms
        ):
            return Reason.INVALID_EXPIRY
        return None

    def pick(self, cmd: PickListing, events: list[Event]) -> None:
        """Fill a pick at the listed price.

        Checks in order: MARKET_CLOSED / TRADING_HALTED; UNKNOWN_LISTING (never posted, or filled, cancelled
        or expired); SELF_TRADE (the lister's own account); COUNTERPARTY_NOT_ALLOWED; INVALID_QUANTITY;
        LOT_SIZE; EXCEEDS_REMAINING; BELOW_MIN_PICK (less than the minimum pick, unless it takes the whole
        remainder); PRICE_BELOW_BAND / PRICE_ABOVE_BAND when the listed price has left today's band.
        """
        floor = self.floor
        listing = self.listings.get(cmd.listing_id)
        reason = self._check_pick(cmd, listing)
        if reason is not None:
            floor.reject(events, cmd.ts_ms, "PickListing", cmd.listing_id, reason)
            return
        assert listing is not None
        quantity_t = cmd.quantity_t
        if listing.side is Side.SELL:
            trade = floor.trade(
                cmd.ts_ms,
                TradeMode.LISTING,
                listing.price_fen,
                quantity_t,
                cmd.pick_id,
                listing.listing_id,
                cmd.account_id,
                listing.account_id,
                Side.BUY,
                listing.batch_id,
            )
        else:
            trade = floor.trade(
                cmd.ts_ms,
                TradeMode.LISTING,
                listing.price_fen,
                quantity_t,
                listing.listing_id,
                cmd.pick_id,
                listing.account_id,
                cmd.account_id,
                Side.SELL,
                listing.batch_id,
            )
        events.append(trade)
        listing.quantity_t -= quantity_t
        if not listing.quantity_t:
            self._close(listing, cmd.ts_ms, ListingCloseReason.FILLED, events)

    def _check_pick(self, cmd: PickListing, listing: Listing | None) -> Reason | None:
        reason = self.floor.open_check()
        if reason is not None:
            return reason
        if listing is None:
            return Reason.UNKNOWN_LISTING
        if cmd.account_id == listing.account_id:
            return Reason.SELF_TRADE
        if listing.allowed is not None and cmd.account_id not in listing.allowed:
            return Reason.COUNTERPARTY_NOT_ALLOWED
        quantity_t = cmd.quantity_t
        if type(quantity_t) is not int or quantity_t <= 0:
            return Reason.INVALID_QUANTITY
        if quantity_t % self.config.lot_t:
            return Reason.LOT_SIZE
        if quantity_t > listing.quantity_t:
            return Reason.EXCEEDS_REMAINING
        if quantity_t < listing.min_pick_t and quantity_t != listing.quantity_t:
            return Reason.BELOW_MIN_PICK
        return self.floor.band_check(listing.price_fen, self.config.listing_band_bp)

    def cancel(self, cmd: CancelListing, events: list[Event]) -> None:
        """Take a listing off the board (any phase). Checks: UNKNOWN_LISTING, NOT_OWNER."""
        listing = self.listings.get(cmd.listing_id)
        if listing is None or listing.account_id != cmd.account_id:
            reason = Reason.UNKNOWN_LISTING if listing is None else Reason.NOT_OWNER
            self.floor.reject(events, cmd.ts_ms, "CancelListing", cmd.listing_id, reason)
            return
        self._close(listing, cmd.ts_ms, ListingCloseReason.CANCELLED, events)

    def withdraw_account(self, account_id: str, ts_ms: int, events: list[Event]) -> None:
        """Every listing of the account leaves the board (CANCELLED), by id."""
        for listing_id in sorted(k for k, listing in self.listings.items() if listing.account_id == account_id):
            self._close(self.listings[listing_id], ts_ms, ListingCloseReason.CANCELLED, events)

    def expire(self, deadline_ms: int, listing_id: int, ts_ms: int, events: list[Event]) -> None:
        """A listing's timer fired: expire it if it is still live with that deadline."""
        listing = self.listings.get(listing_id)
        if listing is not None and listing.expires_at_ms == deadline_ms:
            self._close(listing, ts_ms, ListingCloseReason.EXPIRED, events)

    def _add(self, listing: Listing) -> None:
        self.listings[listing.listing_id] = listing
        self.by_side[listing.side].add(listing.key)
        if listing.batch_id is not None:
            batch_key = (listing.side, listing.batch_id)
            index = self.by_batch.get(batch_key)
            if index is None:
                index = self.by_batch[batch_key] = SortedList()
            index.add(listing.key)
        if listing.expires_at_ms is not None:
            self.floor.add_timer(listing.expires_at_ms, TIMER_LISTING, listing.listing_id)

    def _close(self, listing: Listing, ts_ms: int, reason: ListingCloseReason, events: list[Event]) -> None:
        del self.listings[listing.listing_id]
        self.by_side[listing.side].remove(listing.key)
        if listing.batch_id is not None:
            batch_key = (listing.side, listing.batch_id)
            index = self.by_batch[batch_key]
            index.remove(listing.key)
            if not index:
                del self.by_batch[batch_key]
        self.floor.seq += 1
        events.append(
            ListingClosed(
                self.floor.seq, ts_ms, listing.listing_id, listing.account_id, listing.quantity_t, reason
            )
        )

    def restore(self, state: ListingState) -> None:
        """Put a listing back on the board as it was."""
        if state.listing_id in self.listings:
            raise ValueError(f"listing {state.listing_id} is already on the board")
        if state.quantity_t <= 0 or state.min_pick_t <= 0:
            raise ValueError(f"listing {state.listing_id} has nothing left: {state}")
        self._add(Listing(state))

    def browse(
        self,
        side: Side,
        *,
        viewer_id: str | None = None,
        batch_id: str | None = None,
        min_price_fen: int | None = None,
        max_price_fen: int | None = None,
        min_quantity_t: int | None = None,
        account_id: str | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> list[ListingState]:
        """Live listings of ``side``, best price first then oldest, filtered; at most ``MAX_BROWSE``."""
        side = Side(side)
        if batch_id is None:
            index = self.by_side[side]
        else:
            index = self.by_batch.get((side, batch_id))
            if index is None:
                return []
        if side is Side.SELL:
            low_key, high_key = min_price_fen, max_price_fen
        else:
            low_key = None if max_price_fen is None else -max_price_fen
            high_key = None if min_price_fen is None else -min_price_fen
        keys = index.irange(
            None if low_key is None else (low_key,),
            None if high_key is None else (high_key, sys.maxsize, sys.maxsize),
        )
        limit = max(0, min(limit, MAX_BROWSE))
        listings = self.listings
        matches = (
            listing
            for listing in (listings[key[2]] for key in keys)
            if listing.visible_to(viewer_id)
            and (min_quantity_t is None or listing.quantity_t >= min_quantity_t)
            and (account_id is None or listing.account_id == account_id)
        )
        return [listing.state() for listing in islice(matches, max(0, offset), max(0, offset) + limit)]

"""One-sided auctions (单向竞价): one party's lot, sealed bids in a window, allocation at the close.

A SELL auction offers ``quantity_t`` and takes bids at or above the reserve; a BUY auction asks for
``quantity_t`` and takes offers at or below it. Bids are binding and sealed (the engine never publishes them
before the close). At ``end_ts_ms`` the bids are ranked by price (highest first for a SELL auction, lowest
first for a BUY auction) then time, and filled in that order until the lot is gone; the last winner may be
filled in part. PAY_AS_BID trades each winner at its own price, UNIFORM trades all at the last winner's
price. Internal to the engine; the facade is :class:`matching_engine.Engine`.
"""

from __future__ import annotations

from matching_engine.commands import CancelAuction, OpenAuction, PlaceBid, WithdrawAuction, WithdrawBid
from matching_engine.enums import AuctionCloseReason, AuctionPricing, Reason, Side, TradeMode
from matching_engine.events import AuctionClosed, AuctionOpened, BidAccepted, BidReleased, Event
from matching_engine.floor import TIMER_AUCTION, Floor
from matching_engine.records import AuctionState, BidState

SIDES = {member: member for member in Side}
PRICINGS = {member: member for member in AuctionPricing}


class Bid:
    """A sealed bid."""

    __slots__ = ("account_id", "bid_id", "price_fen", "priority", "quantity_t")

    def __init__(self, bid_id: int, account_id: str, price_fen: int, quantity_t: int, priority: int) -> None:
        self.bid_id = bid_id
        self.account_id = account_id
        self.price_fen = price_fen
        self.quantity_t = quantity_t
        self.priority = priority


class Auction:
    """An auction taking bids; ``bids`` in the order they came."""

    __slots__ = (
        "account_id",
        "auction_id",
        "batch_id",
        "bids",
        "end_ts_ms",
        "pricing",
        "quantity_t",
        "reserve_price_fen",
        "side",
    )

    def __init__(self, state: AuctionState) -> None:
        self.auction_id = state.auction_id
        self.account_id = state.account_id
        self.side = Side(state.side)
        self.quantity_t = state.quantity_t
        self.reserve_price_fen = state.reserve_price_fen
        self.end_ts_ms = state.end_ts_ms
        self.pricing = AuctionPricing(state.pricing)
        self.batch_id = state.batch_id
        self.bids: list[Bid] = [
            Bid(b.bid_id, b.account_id, b.price_fen, b.quantity_t, b.priority)
            for b in sorted(state.bids, key=lambda b: b.priority)
        ]

    def state(self) -> AuctionState:
        """The public record of this auction, bids included."""
        return AuctionState(
            self.auction_id,
            self.account_id,
            self.side,
            self.quantity_t,
            self.reserve_price_fen,
            self.end_ts_ms,
            self.pricing,
            self.batch_id,
            tuple(BidState(b.bid_id, b.account_id, b.price_fen, b.quantity_t, b.priority) for b in self.bids),
        )


class AuctionHouse:
    """The live one-sided auctions of one instrument, and the ids of the closed ones."""

    __slots__ = ("auctions", "bid_ids", "closed", "config", "floor")

    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.config = floor.config
        self.auctions: dict[int, Auction] = {}
        self.closed: set[int] = set()
        self.bid_ids: set[int] = set()

    def open(self, cmd: OpenAuction, events: list[Event]) -> None:
        """Open an auction.

        Checks in order: INVALID_SIDE; INVALID_PRICING; MARKET_CLOSED / TRADING_HALTED; DUPLICATE_ID (live or
        closed); CAPACITY; quantity (INVALID_QUANTITY, LOT_SIZE); reserve price (INVALID_PRICE, TICK_SIZE);
        INVALID_EXPIRY (the end is not after now).
        """
        floor = self.floor
        side = SIDES.get(cmd.side)
        pricing = PRICINGS.get(cmd.pricing)
        if side is None:
            reason: Reason | None = Reason.INVALID_SIDE
        elif pricing is None:
            reason = Reason.INVALID_PRICING
        else:
            reason = self._check_open(cmd)
        if reason is not None:
            floor.reject(events, cmd.ts_ms, "OpenAuction", cmd.auction_id, reason)
            return
        assert side is not None and pricing is not None
        self._add(
            Auction(
                AuctionState(
                    cmd.auction_id,
                    cmd.account_id,
                    side,
                    cmd.quantity_t,
                    cmd.reserve_price_fen,
                    cmd.end_ts_ms,
                    pricing,
                    cmd.batch_id,
                )
            )
        )
        floor.seq += 1
        events.append(
            AuctionOpened(
                floor.seq,
                cmd.ts_ms,
                cmd.auction_id,
                cmd.account_id,
                side,
                cmd.quantity_t,
                cmd.reserve_price_fen,
                cmd.end_ts_ms,
                pricing,
                cmd.batch_id,
            )
        )

    def _check_open(self, cmd: OpenAuction) -> Reason | None:
        config = self.config
        reason = self.floor.open_check()
        if reason is not None:
            return reason
        if cmd.auction_id in self.auctions or cmd.auction_id in self.closed:
            return Reason.DUPLICATE_ID
        if len(self.auctions) >= config.max_live_auctions:
            return Reason.CAPACITY
        if type(cmd.quantity_t) is not int or cmd.quantity_t <= 0:
            return Reason.INVALID_QUANTITY
        if cmd.quantity_t % config.lot_t:
            return Reason.LOT_SIZE
        if type(cmd.reserve_price_fen) is not int or cmd.reserve_price_fen <= 0:
            return Reason.INVALID_PRICE
        if cmd.reserve_price_fen % config.tick_fen:
            return Reason.TICK_SIZE
        if type(cmd.end_ts_ms) is not int or cmd.end_ts_ms <= cmd.ts_ms:
            return Reason.INVALID_EXPIRY
        return None

    def _find(self, auction_id: int) -> tuple[Auction | None, Reason | None]:
        auction = self.auctions.get(auction_id)
        if auction is not None:
            return auction, None
        return None, Reason.AUCTION_CLOSED if auction_id in self.closed else Reason.UNKNOWN_AUCTION

    def bid(self, cmd: PlaceBid, events: list[Event]) -> None:
        """Take a sealed bid.

        Checks in order: UNKNOWN_AUCTION / AUCTION_CLOSED (also once the window has ended); MARKET_CLOSED /
        TRADING_HALTED; DUPLICATE_ID; SELF_TRADE (the initiator bids); CAPACITY; quantity
        (INVALID_QUANTITY, LOT_SIZE, BELOW_MIN_SIZE under ``min_order_t``, ABOVE_MAX_SIZE over
        ``max_order_t``, EXCEEDS_LOT); price
        (INVALID_PRICE, TICK_SIZE, BELOW_RESERVE for a SELL auction, ABOVE_RESERVE for a BUY auction).
        """
        floor = self.floor
        auction, reason = self._find(cmd.auction_id)
        if auction is not None:
            reason = self._check_bid(cmd, auction)
        if reason is not None:
            floor.reject(events, cmd.ts_ms, "PlaceBid", cmd.bid_id, reason)
            return
        assert auction is not None
        floor.seq += 1
        auction.bids.append(Bid(cmd.bid_id, cmd.account_id, cmd.price_fen, cmd.quantity_t, floor.seq))
        self.bid_ids.add(cmd.bid_id)
        events.append(
            BidAccepted(
                floor.seq,
                cmd.ts_ms,
                cmd.auction_id,
                cmd.bid_id,
                cmd.account_id,
                cmd.price_fen,
                cmd.quantity_t,
            )
        )

    def _check_bid(self, cmd: PlaceBid, auction: Auction) -> Reason | None:
        config = self.config
        reason = self.floor.open_check()
        if reason is not None:
            return reason
        if cmd.bid_id in self.bid_ids:
            return Reason.DUPLICATE_ID
        if cmd.account_id == auction.account_id:
            return Reason.SELF_TRADE
        if len(auction.bids) >= config.max_bids_per_auction:
            return Reason.CAPACITY
        quantity_t = cmd.quantity_t
        if type(quantity_t) is not int or quantity_t <= 0:
            return Reason.INVALID_QUANTITY
        if quantity_t % config.lot_t:
            return Reason.LOT_SIZE
        if quantity_t < config.min_order_t:
            return Reason.BELOW_MIN_SIZE
        if quantity_t > config.max_order_t:
            return Reason.ABOVE_MAX_SIZE
        if quantity_t > auction.quantity_t:
            return Reason.EXCEEDS_LOT
        price_fen = cmd.price_fen
        if type(price_fen) is not int or price_fen <= 0:
            return Reason.INVALID_PRICE
        if price_fen % config.tick_fen:
            return Reason.TICK_SIZE
        if auction.side is Side.SELL and price_fen < auction.reserve_price_fen:
            return Reason.BELOW_RESERVE
        if auction.side is Side.BUY and price_fen > auction.reserve_price_fen:
            return Reason.ABOVE_RESERVE
        return None

    def cancel(self, cmd: CancelAuction, events: list[Event]) -> None:
        """The initiator calls off an auction without bids (any phase).

        Checks: UNKNOWN_AUCTION / AUCTION_CLOSED, NOT_INITIATOR, AUCTION_HAS_BIDS.
        """
        auction, reason = self._find(cmd.auction_id)
        if auction is not None:
            if cmd.account_id != auction.account_id:
                reason = Reason.NOT_INITIATOR
            elif auction.bids:
                reason = Reason.AUCTION_HAS_BIDS
        if reason is not None:
            self.floor.reject(events, cmd.ts_ms, "CancelAuction", cmd.auction_id, reason)
            return
        assert auction is not None
        self._remove(auction)
        self.floor.seq += 1
        events.append(
            AuctionClosed(
                self.floor.seq,
                cmd.ts_ms,
                auction.auction_id,
                auction.account_id,
                AuctionCloseReason.CANCELLED,
                0,
                auction.quantity_t,
                None,
                0,
            )
        )

    def withdraw(self, cmd: WithdrawAuction, events: list[Event]) -> None:
        """The market takes an auction off, whatever bids it has (any phase): see `_withdraw`.

        Checks: UNKNOWN_AUCTION / AUCTION_CLOSED.
        """
        auction, reason = self._find(cmd.auction_id)
        if reason is not None:
            self.floor.reject(events, cmd.ts_ms, "WithdrawAuction", cmd.auction_id, reason)
            return
        assert auction is not None
        self._withdraw(auction, cmd.ts_ms, events)

    def withdraw_bid(self, cmd: WithdrawBid, events: list[Event]) -> None:
        """The market takes one bid out of an auction still taking bids (any phase): it is released.

        Checks: UNKNOWN_AUCTION / AUCTION_CLOSED, UNKNOWN_ORDER (no such bid in it).
        """
        auction, reason = self._find(cmd.auction_id)
        released = [bid for bid in auction.bids if bid.bid_id == cmd.bid_id] if auction is not None else []
        if auction is not None and not released:
            reason = Reason.UNKNOWN_ORDER
        if reason is not None:
            self.floor.reject(events, cmd.ts_ms, "WithdrawBid", cmd.bid_id, reason)
            return
        assert auction is not None
        self._take_out(auction, released, cmd.ts_ms, events)

    def withdraw_account(self, account_id: str, ts_ms: int, events: list[Event]) -> None:
        """The account's auctions are cancelled, whatever bids they have, each followed by its bids released
        (oldest first); then its bids in other auctions are released. Auctions by id."""
        for auction_id in sorted(self.auctions):
            auction = self.auctions[auction_id]
            if auction.account_id == account_id:
                self._withdraw(auction, ts_ms, events)
                continue
            released = [bid for bid in auction.bids if bid.account_id == account_id]
            if released:
                self._take_out(auction, released, ts_ms, events)

    def _take_out(self, auction: Auction, released: list[Bid], ts_ms: int, events: list[Event]) -> None:
        """Release some bids of an auction that goes on taking others."""
        auction.bids = [bid for bid in auction.bids if bid not in released]
        self.bid_ids.difference_update(bid.bid_id for bid in released)
        self._release(auction.auction_id, released, ts_ms, events)

    def _withdraw(self, auction: Auction, ts_ms: int, events: list[Event]) -> None:
        """Cancel an auction whatever bids it has, then release its bids (oldest first)."""
        floor = self.floor
        self._remove(auction)
        floor.seq += 1
        events.append(
            AuctionClosed(
                floor.seq,
                ts_ms,
                auction.auction_id,
                auction.account_id,
                AuctionCloseReason.CANCELLED,
                0,
                auction.quantity_t,
                None,
                0,
            )
        )
        self._release(auction.auction_id, auction.bids, ts_ms, events)

    def _release(self, auction_id: int, bids: list[Bid], ts_ms: int, events: list[Event]) -> None:
        floor = self.floor
        for bid in bids:
            floor.seq += 1
            events.append(BidReleased(floor.seq, ts_ms, auction_id, bid.bid_id, bid.account_id, bid.quantity_t))

    def close_due(self, deadline_ms: int, auction_id: int, ts_ms: int, events: list[Event]) -> None:
        """An auction's window ended: allocate the lot."""
        auction = self.auctions.get(auction_id)
        if auction is None or auction.end_ts_ms != deadline_ms:
            return
        floor = self.floor
        selling = auction.side is Side.SELL
        if selling:
            ranked = sorted(auction.bids, key=lambda b: (-b.price_fen, b.priority))
        else:
            ranked = sorted(auction.bids, key=lambda b: (b.price_fen, b.priority))
        left_t = auction.quantity_t
        winners: list[tuple[Bid, int]] = []
        for bid in ranked:
            if not left_t:
                break
            quantity_t = min(bid.quantity_t, left_t)
            winners.append((bid, quantity_t))
            left_t -= quantity_t
        clearing_fen = winners[-1][0].price_fen if winners else None
        self._remove(auction)
        floor.seq += 1
        events.append(
            AuctionClosed(
                floor.seq,
                ts_ms,
                auction.auction_id,
                auction.account_id,
                AuctionCloseReason.COMPLETED,
                auction.quantity_t - left_t,
                left_t,
                clearing_fen,
                len(winners),
            )
        )
        uniform = auction.pricing is AuctionPricing.UNIFORM
        initiator_id = auction.account_id
        batch_id = auction.batch_id
        for bid, quantity_t in winners:
            price_fen = clearing_fen if uniform else bid.price_fen
            assert price_fen is not None
            if selling:
                trade = floor.trade(
                    ts_ms,
                    TradeMode.ONE_SIDED_AUCTION,
                    price_fen,
                    quantity_t,
                    bid.bid_id,
                    auction.auction_id,
                    bid.account_id,
                    initiator_id,
                    None,
                    batch_id,
                )
            else:
                trade = floor.trade(
                    ts_ms,
                    TradeMode.ONE_SIDED_AUCTION,
                    price_fen,
                    quantity_t,
                    auction.auction_id,
                    bid.bid_id,
                    initiator_id,
                    bid.account_id,
                    None,
                    batch_id,
                )
            events.append(trade)
        won = {id(bid): quantity_t for bid, quantity_t in winners}
        for bid in ranked:
            released_t = bid.quantity_t - won.get(id(bid), 0)
            if released_t:
                floor.seq += 1
                events.append(
                    BidReleased(
                        floor.seq, ts_ms, auction.auction_id, bid.bid_id, bid.account_id, released_t
                    )
                )

    def _add(self, auction: Auction) -> None:
        self.auctions[auction.auction_id] = auction
        self.bid_ids.update(bid.bid_id for bid in auction.bids)
        self.floor.add_timer(auction.end_ts_ms, TIMER_AUCTION, auction.auction_id)

    def _remove(self, auction: Auction) -> None:
        del self.auctions[auction.auction_id]
        self.closed.add(auction.auction_id)
        self.bid_ids.difference_update(bid.bid_id for bid in auction.bids)

    def restore(self, state: AuctionState) -> None:
        """Put back an auction that is still taking bids, with its bids."""
        if state.auction_id in self.auctions or state.auction_id in self.closed:
            raise ValueError(f"auction {state.auction_id} is already known")
        if any(bid.bid_id in self.bid_ids for bid in state.bids):
            raise ValueError(f"auction {state.auction_id} repeats a bid id")
        self._add(Auction(state))

    def restore_closed(self, auction_id: int) -> None:
        """Remember that ``auction_id`` has ended."""
        if auction_id in self.auctions:
            raise ValueError(f"auction {auction_id} is live")
        self.closed.add(auction_id)

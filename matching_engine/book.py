"""The order book of 竞价交易: continuous price-time matching and the call auction's uncrossing.

Each side is a ``SortedDict`` of price → :class:`Level`; a level is a FIFO of :class:`Order` objects kept as
an intrusive doubly linked list, and ``orders`` indexes every resting order by id, so adding at the back,
taking from the front and cancelling from the middle are all O(1) once the level is found.
Internal to the engine; the facade is :class:`matching_engine.Engine`.
"""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedDict

from matching_engine.call_auction import clearing_price
from matching_engine.commands import AmendOrder, CancelOrder, PlaceOrder
from matching_engine.config import BP_PER_UNIT
from matching_engine.enums import (
    CancelReason,
    OrderType,
    Phase,
    Reason,
    Side,
    StpMode,
    TimeInForce,
    TradeMode,
)
from matching_engine.events import (
    CallAuctionResult,
    Event,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderExpired,
)
from matching_engine.floor import TIMER_ORDER, Floor
from matching_engine.records import AuctionIndication, OrderState, PriceLevel

BUY = Side.BUY
SELL = Side.SELL
LIMIT = OrderType.LIMIT
MARKET = OrderType.MARKET
GTC = TimeInForce.GTC
DAY = TimeInForce.DAY
GTD = TimeInForce.GTD
IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
CALL = Phase.CALL
CONTINUOUS = Phase.CONTINUOUS
CANCEL_NEWEST = StpMode.CANCEL_NEWEST
CANCEL_OLDEST = StpMode.CANCEL_OLDEST
CANCEL_BOTH = StpMode.CANCEL_BOTH
DECREMENT = StpMode.DECREMENT
SELF_TRADE = CancelReason.SELF_TRADE
CONTINUOUS_MODE = TradeMode.CONTINUOUS

# Canonical members by value: a caller that passes "BUY" instead of Side.BUY still gets Side.BUY, and the
# hot path can then compare members with ``is``. Anything else is not a member and is rejected.
SIDES = {member: member for member in Side}
ORDER_TYPES = {member: member for member in OrderType}
TIFS = {member: member for member in TimeInForce}
STPS = {member: member for member in StpMode}


class Order:
    """A resting (or incoming) order; ``quantity_t`` is its open quantity."""

    __slots__ = (
        "account_id",
        "expires_at_ms",
        "level",
        "next",
        "order_id",
        "prev",
        "price_fen",
        "priority",
        "quantity_t",
        "side",
        "stp",
        "tif",
    )

    def __init__(
        self,
        order_id: int,
        account_id: str,
        side: Side,
        price_fen: int,
        quantity_t: int,
        tif: TimeInForce,
        expires_at_ms: int | None,
        stp: StpMode,
        priority: int,
    ) -> None:
        self.order_id = order_id
        self.account_id = account_id
        self.side = side
        self.price_fen = price_fen
        self.quantity_t = quantity_t
        self.tif = tif
        self.expires_at_ms = expires_at_ms
        self.stp = stp
        self.priority = priority
        self.prev: Order | None = None
        self.next: Order | None = None
        self.level: Level | None = None

    def state(self) -> OrderState:
        """The public record of this order."""
        return OrderState(
            self.order_id,
            self.account_id,
            self.side,
            self.price_fen,
            self.quantity_t,
            self.tif,
            self.expires_at_ms,
            self.stp,
            self.priority,
        )


class Level:
    """All resting orders at one price of one side, oldest first."""

    __slots__ = ("count", "head", "price_fen", "quantity_t", "tail")

    def __init__(self, price_fen: int) -> None:
        self.price_fen = price_fen
        self.head: Order | None = None
        self.tail: Order | None = None
        self.quantity_t = 0
        self.count = 0

    def orders(self) -> Iterator[Order]:
        """The orders, oldest first."""
        order = self.head
        while order is not None:
            yield order
            order = order.next


class OrderBook:
    """Both sides of one instrument's book and the commands that act on it."""

    __slots__ = (
        "ask_fen",
        "asks",
        "bid_fen",
        "bids",
        "config",
        "default_stp",
        "floor",
        "lot_t",
        "max_order_t",
        "min_order_t",
        "orders",
        "tick_fen",
    )

    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        config = floor.config
        self.config = config
        self.tick_fen = config.tick_fen
        self.lot_t = config.lot_t
        self.min_order_t = config.min_order_t
        self.max_order_t = config.max_order_t
        self.default_stp = config.default_stp
        self.bids: SortedDict = SortedDict()
        self.asks: SortedDict = SortedDict()
        self.orders: dict[int, Order] = {}
        # The best bid and ask, cached: most orders do not cross, and one comparison says so.
        self.bid_fen: int | None = None
        self.ask_fen: int | None = None

    # --- commands ------------------------------------------------------------------------------------------
    def place(self, cmd: PlaceOrder, events: list[Event]) -> None:
        """Check, accept and match (or, in CALL, rest) a new order.

        Checks in order: side, order type, TIF, STP mode; phase (MARKET_CLOSED, TRADING_HALTED, and in CALL
        NOT_ALLOWED_IN_CALL for market, IOC and FOK orders); DUPLICATE_ID; CAPACITY; quantity
        (INVALID_QUANTITY, LOT_SIZE, BELOW_MIN_SIZE, ABOVE_MAX_SIZE); price (INVALID_PRICE, TICK_SIZE,
        PRICE_BELOW_BAND, PRICE_ABOVE_BAND; for a market order the same for its protection price and
        INVALID_TIF unless IOC or FOK); INVALID_EXPIRY.
        """
        floor = self.floor
        ts_ms = cmd.ts_ms
        side = SIDES.get(cmd.side)
        order_type = ORDER_TYPES.get(cmd.order_type)
        tif = TIFS.get(cmd.tif) if cmd.tif is not None else (IOC if order_type is MARKET else GTC)
        stp = self.default_stp if cmd.stp is None else STPS.get(cmd.stp)
        reason: Reason | None
        if side is None:
            reason = Reason.INVALID_SIDE
        elif order_type is None:
            reason = Reason.INVALID_ORDER_TYPE
        elif tif is None:
            reason = Reason.INVALID_TIF
        elif stp is None:
            reason = Reason.INVALID_STP
        else:
            reason = self._check_place(cmd, order_type, tif)
        if reason is not None:
            floor.reject(events, ts_ms, "PlaceOrder", cmd.order_id, reason)
            return
        assert side is not None and order_type is not None and tif is not None and stp is not None
        floor.seq += 1
        priority = floor.seq
        quantity_t = cmd.quantity_t
        events.append(
            OrderAccepted(
                priority,
                ts_ms,
                cmd.order_id,
                cmd.account_id,
                side,
                order_type,
                tif,
                cmd.price_fen,
                quantity_t,
            )
        )
        if order_type is LIMIT:
            limit_fen: int = cmd.price_fen  # type: ignore[assignment]
        else:
            opposite = self.asks if side is BUY else self.bids
            if not opposite:
                floor.seq += 1
                events.append(
                    OrderCancelled(
                        floor.seq,
                        ts_ms,
                        cmd.order_id,
                        cmd.account_id,
                        side,
                        quantity_t,
                        0,
                        CancelReason.NO_LIQUIDITY,
                    )
                )
                return
            limit_fen = self.protection_fen(side, cmd.protection_price_fen)
        order = Order(
            cmd.order_id, cmd.account_id, side, limit_fen, quantity_t, tif, cmd.expires_at_ms, stp, priority
        )
        if floor.phase is CALL:
            self._rest(order)
            return
        if tif is FOK and not self._fok_fits(order):
            floor.seq += 1
            events.append(
                OrderCancelled(
                    floor.seq,
                    ts_ms,
                    cmd.order_id,
                    cmd.account_id,
                    side,
                    quantity_t,
                    0,
                    CancelReason.FOK_NOT_FILLED,
                )
            )
            return
        best_fen = self.ask_fen if side is BUY else self.bid_fen
        if best_fen is not None and (best_fen <= limit_fen if side is BUY else best_fen >= limit_fen):
            self._match(order, ts_ms, events)
        remaining_t = order.quantity_t
        if not remaining_t:
            return
        if order_type is MARKET:
            opposite = self.asks if side is BUY else self.bids
            why = CancelReason.PROTECTION_PRICE if opposite else CancelReason.NO_LIQUIDITY
        elif tif is IOC or tif is FOK:
            why = CancelReason.IOC_REMAINDER
        else:
            self._rest(order)
            return
        floor.seq += 1
        events.append(
            OrderCancelled(floor.seq, ts_ms, cmd.order_id, cmd.account_id, side, remaining_t, 0, why)
        )

    def _check_place(self, cmd: PlaceOrder, order_type: OrderType, tif: TimeInForce) -> Reason | None:
        floor = self.floor
        phase = floor.phase
        if phase is not CONTINUOUS:
            if phase is CALL:
                if order_type is MARKET or tif is IOC or tif is FOK:
                    return Reason.NOT_ALLOWED_IN_CALL
            else:
                return floor.open_check()
        if cmd.order_id in self.orders:
            return Reason.DUPLICATE_ID
        if len(self.orders) >= self.config.max_live_orders:
            return Reason.CAPACITY
        reason = self._check_quantity(cmd.quantity_t, self.min_order_t)
        if reason is not None:
            return reason
        if order_type is LIMIT:
            if cmd.protection_price_fen is not None:
                return Reason.INVALID_PRICE
            reason = self._check_price(cmd.price_fen)
        else:
            if cmd.price_fen is not None:
                return Reason.INVALID_PRICE
            if tif is not IOC and tif is not FOK:
                return Reason.INVALID_TIF
            if cmd.protection_price_fen is not None:
                reason = self._check_price(cmd.protection_price_fen)
        if reason is not None:
            return reason
        if tif is GTD:
            expires_at_ms = cmd.expires_at_ms
            if type(expires_at_ms) is not int or expires_at_ms <= cmd.ts_ms:
                return Reason.INVALID_EXPIRY
        elif cmd.expires_at_ms is not None:
            return Reason.INVALID_EXPIRY
        return None

    def _check_quantity(self, quantity_t: object, minimum_t: int) -> Reason | None:
        if type(quantity_t) is not int or quantity_t <= 0:
            return Reason.INVALID_QUANTITY
        if quantity_t % self.lot_t:
            return Reason.LOT_SIZE
        if quantity_t < minimum_t:
            return Reason.BELOW_MIN_SIZE
        if quantity_t > self.max_order_t:
            return Reason.ABOVE_MAX_SIZE
        return None

    def _check_price(self, price_fen: object) -> Reason | None:
        if type(price_fen) is not int or price_fen <= 0:
            return Reason.INVALID_PRICE
        if price_fen % self.tick_fen:
            return Reason.TICK_SIZE
        if price_fen < self.floor.band_low_fen:
            return Reason.PRICE_BELOW_BAND
        if price_fen > self.floor.band_high_fen:
            return Reason.PRICE_ABOVE_BAND
        return None

    def protection_fen(self, side: Side, given_fen: int | None) -> int:
        """A market order's worst price: its own, or the best opposite price ± the protection, in band."""
        if given_fen is not None:
            return given_fen
        config = self.config
        tick_fen = self.tick_fen
        step = BP_PER_UNIT * tick_fen
        if side is BUY:
            best_fen = self.ask_fen
            assert best_fen is not None
            limit_fen = best_fen * (BP_PER_UNIT + config.market_protection_bp) // step * tick_fen
            return int(min(limit_fen, self.floor.band_high_fen))
        best_fen = self.bid_fen
        assert best_fen is not None
        limit_fen = -(-best_fen * (BP_PER_UNIT - config.market_protection_bp) // step) * tick_fen
        return int(max(limit_fen, self.floor.band_low_fen, tick_fen))

    def cancel(self, cmd: CancelOrder, events: list[Event]) -> None:
        """Cancel a resting order (any phase). Checks: UNKNOWN_ORDER, NOT_OWNER."""
        floor = self.floor
        order = self.orders.get(cmd.order_id)
        if order is None:
            floor.reject(events, cmd.ts_ms, "CancelOrder", cmd.order_id, Reason.UNKNOWN_ORDER)
            return
        if order.account_id != cmd.account_id:
            floor.reject(events, cmd.ts_ms, "CancelOrder", cmd.order_id, Reason.NOT_OWNER)
            return
        self._remove(order)
        floor.seq += 1
        events.append(
            OrderCancelled(
                floor.seq,
                cmd.ts_ms,
                order.order_id,
                order.account_id,
                order.side,
                order.quantity_t,
                0,
                CancelReason.REQUESTED,
            )
        )

    def amend(self, cmd: AmendOrder, events: list[Event]) -> None:
        """Cut, raise or re-price a resting order.

        Checks in order: UNKNOWN_ORDER, NOT_OWNER; the new quantity (INVALID_QUANTITY, LOT_SIZE,
        ABOVE_MAX_SIZE; the minimum size binds only new orders, as fills leave smaller rests anyway); the new
        price (INVALID_PRICE when not an int, whatever its value; when it differs from the order's, TICK_SIZE,
        PRICE_BELOW_BAND, PRICE_ABOVE_BAND); NOTHING_TO_AMEND; a change
        that loses priority needs CALL or CONTINUOUS (MARKET_CLOSED, TRADING_HALTED), a cut is allowed in
        any phase.
        """
        floor = self.floor
        ts_ms = cmd.ts_ms
        order = self.orders.get(cmd.order_id)
        reason: Reason | None = None
        if order is None:
            reason = Reason.UNKNOWN_ORDER
        elif order.account_id != cmd.account_id:
            reason = Reason.NOT_OWNER
        else:
            new_quantity_t = order.quantity_t if cmd.quantity_t is None else cmd.quantity_t
            new_price_fen = order.price_fen if cmd.price_fen is None else cmd.price_fen
            reason = self._check_quantity(new_quantity_t, 0)
            if reason is None and type(new_price_fen) is not int:
                # Checked whatever its value: a float equal to the price (1000.0 == 1000) would otherwise pass
                # and, with a raise, become the order's price and so its trades' and the reference's.
                reason = Reason.INVALID_PRICE
            if reason is None and new_price_fen != order.price_fen:
                reason = self._check_price(new_price_fen)
            if reason is None:
                if new_quantity_t == order.quantity_t and new_price_fen == order.price_fen:
                    reason = Reason.NOTHING_TO_AMEND
                elif new_price_fen != order.price_fen or new_quantity_t > order.quantity_t:
                    reason = floor.open_check()
        if reason is not None:
            floor.reject(events, ts_ms, "AmendOrder", cmd.order_id, reason)
            return
        assert order is not None
        old_quantity_t = order.quantity_t
        floor.seq += 1
        if new_price_fen == order.price_fen and new_quantity_t < old_quantity_t:
            order.quantity_t = new_quantity_t
            level = order.level
            assert level is not None
            level.quantity_t -= old_quantity_t - new_quantity_t
            events.append(
                OrderAmended(
                    floor.seq,
                    ts_ms,
                    order.order_id,
                    order.account_id,
                    order.side,
                    new_price_fen,
                    old_quantity_t,
                    new_quantity_t,
                    True,
                )
            )
            return
        self._remove(order)
        order.price_fen = new_price_fen
        order.quantity_t = new_quantity_t
        order.priority = floor.seq
        events.append(
            OrderAmended(
                floor.seq,
                ts_ms,
                order.order_id,
                order.account_id,
                order.side,
                new_price_fen,
                old_quantity_t,
                new_quantity_t,
                False,
            )
        )
        if floor.phase is CONTINUOUS:
            self._match(order, ts_ms, events)
            if not order.quantity_t:
                return
        self._rest(order, new_timer=False)

    # --- matching ------------------------------------------------------------------------------------------
    def _fok_fits(self, order: Order) -> bool:
        """Whether ``order`` would fill completely now (self-trade prevention included), book untouched."""
        need_t = order.quantity_t
        account_id = order.account_id
        skip_own = order.stp is CANCEL_OLDEST
        limit_fen = order.price_fen
        if order.side is BUY:
            opposite = self.asks
            prices = opposite.keys()
            beyond = limit_fen.__lt__
        else:
            opposite = self.bids
            prices = reversed(opposite.keys())
            beyond = limit_fen.__gt__
        for price_fen in prices:
            if beyond(price_fen):
                return False
            maker = opposite[price_fen].head
            while maker is not None:
                if maker.account_id == account_id:
                    if not skip_own:
                        return False
                else:
                    need_t -= maker.quantity_t
                    if need_t <= 0:
                        return True
                maker = maker.next
        return False

    def _match(self, taker: Order, ts_ms: int, events: list[Event]) -> None:
        """Trade ``taker`` against the opposite side up to its price; its rest stays in ``quantity_t``."""
        floor = self.floor
        orders = self.orders
        remaining_t = taker.quantity_t
        limit_fen = taker.price_fen
        account_id = taker.account_id
        taker_id = taker.order_id
        buying = taker.side is BUY
        opposite = self.asks if buying else self.bids
        stopped = False
        while remaining_t:
            price_fen = self.ask_fen if buying else self.bid_fen
            if price_fen is None or ((price_fen > limit_fen) if buying else (price_fen < limit_fen)):
                break
            level = opposite[price_fen]
            maker = level.head
            while maker is not None:
                if maker.account_id == account_id:
                    remaining_t, stopped = self._self_trade(taker, remaining_t, maker, level, ts_ms, events)
                    if stopped:
                        break
                    maker = level.head
                    continue
                quantity_t = maker.quantity_t
                if quantity_t > remaining_t:
                    quantity_t = remaining_t
                if buying:
                    events.append(
                        floor.trade(
                            ts_ms,
                            CONTINUOUS_MODE,
                            price_fen,
                            quantity_t,
                            taker_id,
                            maker.order_id,
                            account_id,
                            maker.account_id,
                            BUY,
                            None,
                        )
                    )
                else:
                    events.append(
                        floor.trade(
                            ts_ms,
                            CONTINUOUS_MODE,
                            price_fen,
                            quantity_t,
                            maker.order_id,
                            taker_id,
                            maker.account_id,
                            account_id,
                            SELL,
                            None,
                        )
                    )
                remaining_t -= quantity_t
                level.quantity_t -= quantity_t
                left_t = maker.quantity_t - quantity_t
                maker.quantity_t = left_t
                if left_t:
                    break  # the taker is done; the maker keeps its place with the rest
                nxt = maker.next
                level.head = nxt
                level.count -= 1
                if nxt is None:
                    level.tail = None
                else:
                    nxt.prev = None
                del orders[maker.order_id]
                maker = nxt
                if not remaining_t:
                    break
            if level.head is None:
                self._drop_level(opposite, price_fen, not buying)
            if stopped:
                break
        taker.quantity_t = remaining_t

    def _self_trade(
        self, taker: Order, remaining_t: int, maker: Order, level: Level, ts_ms: int, events: list[Event]
    ) -> tuple[int, bool]:
        """Apply the taker's STP mode against ``maker``; the taker's rest, and whether matching stops."""
        floor = self.floor
        mode = taker.stp
        if mode is CANCEL_OLDEST or mode is CANCEL_BOTH:
            self._unlink(maker, level)
            del self.orders[maker.order_id]
            floor.seq += 1
            events.append(
                OrderCancelled(
                    floor.seq,
                    ts_ms,
                    maker.order_id,
                    maker.account_id,
                    maker.side,
                    maker.quantity_t,
                    0,
                    SELF_TRADE,
                )
            )
            if mode is CANCEL_OLDEST:
                return remaining_t, False
        elif mode is DECREMENT:
            cut_t = min(remaining_t, maker.quantity_t)
            maker.quantity_t -= cut_t
            level.quantity_t -= cut_t
            if not maker.quantity_t:
                self._unlink(maker, level)
                del self.orders[maker.order_id]
            floor.seq += 1
            events.append(
                OrderCancelled(
                    floor.seq,
                    ts_ms,
                    maker.order_id,
                    maker.account_id,
                    maker.side,
                    cut_t,
                    maker.quantity_t,
                    SELF_TRADE,
                )
            )
            remaining_t -= cut_t
            floor.seq += 1
            events.append(
                OrderCancelled(
                    floor.seq,
                    ts_ms,
                    taker.order_id,
                    taker.account_id,
                    taker.side,
                    cut_t,
                    remaining_t,
                    SELF_TRADE,
                )
            )
            return remaining_t, not remaining_t
        floor.seq += 1
        events.append(
            OrderCancelled(
                floor.seq, ts_ms, taker.order_id, taker.account_id, taker.side, remaining_t, 0, SELF_TRADE
            )
        )
        return 0, True

    # --- book keeping --------------------------------------------------------------------------------------
    def _rest(self, order: Order, new_timer: bool = True) -> None:
        """Put ``order`` at the back of its price level."""
        book = self.bids if order.side is BUY else self.asks
        price_fen = order.price_fen
        level = book.get(price_fen)
        if level is None:
            level = Level(price_fen)
            book[price_fen] = level
            if order.side is BUY:
                if self.bid_fen is None or price_fen > self.bid_fen:
                    self.bid_fen = price_fen
            elif self.ask_fen is None or price_fen < self.ask_fen:
                self.ask_fen = price_fen
        order.level = level
        order.next = None
        tail = level.tail
        order.prev = tail
        if tail is None:
            level.head = order
        else:
            tail.next = order
        level.tail = order
        level.quantity_t += order.quantity_t
        level.count += 1
        self.orders[order.order_id] = order
        if new_timer and order.tif is GTD:
            self.floor.add_timer(order.expires_at_ms, TIMER_ORDER, order.order_id)  # type: ignore[arg-type]

    @staticmethod
    def _unlink(order: Order, level: Level) -> None:
        prev = order.prev
        nxt = order.next
        if prev is None:
            level.head = nxt
        else:
            prev.next = nxt
        if nxt is None:
            level.tail = prev
        else:
            nxt.prev = prev
        order.prev = order.next = None
        level.quantity_t -= order.quantity_t
        level.count -= 1

    def _remove(self, order: Order) -> None:
        """Take a resting order out of its level and the index."""
        level = order.level
        assert level is not None
        self._unlink(order, level)
        if level.head is None:
            buying = order.side is BUY
            self._drop_level(self.bids if buying else self.asks, level.price_fen, buying)
        del self.orders[order.order_id]

    def _drop_level(self, book: SortedDict, price_fen: int, bids: bool) -> None:
        """Delete an empty level and, if it was the best, find the next best."""
        del book[price_fen]
        if bids:
            if price_fen == self.bid_fen:
                self.bid_fen = book.peekitem(-1)[0] if book else None
        elif price_fen == self.ask_fen:
            self.ask_fen = book.peekitem(0)[0] if book else None

    def expire(self, deadline_ms: int, order_id: int, ts_ms: int, events: list[Event]) -> None:
        """A GTD timer fired: expire the order if it is still resting with that deadline."""
        order = self.orders.get(order_id)
        if order is None or order.expires_at_ms != deadline_ms or order.tif is not GTD:
            return
        self._expire(order, ts_ms, events)

    def _expire(self, order: Order, ts_ms: int, events: list[Event]) -> None:
        self._remove(order)
        self.floor.seq += 1
        events.append(
            OrderExpired(
                self.floor.seq, ts_ms, order.order_id, order.account_id, order.side, order.quantity_t
            )
        )

    def cancel_outside_band(self, ts_ms: int, events: list[Event]) -> None:
        """The band moved (a new reference price): resting orders now outside it are cancelled, oldest first.

        Otherwise an incoming order inside the band could trade at an old order's price outside it.
        """
        low_fen = self.floor.band_low_fen
        high_fen = self.floor.band_high_fen
        outside = [o for o in self.orders.values() if not low_fen <= o.price_fen <= high_fen]
        self._cancel_resting(outside, CancelReason.OUTSIDE_BAND, ts_ms, events)

    def withdraw_account(self, account_id: str, ts_ms: int, events: list[Event]) -> None:
        """Every resting order of the account leaves the book, oldest first (``ACCOUNT_WITHDRAWN``)."""
        mine = [o for o in self.orders.values() if o.account_id == account_id]
        self._cancel_resting(mine, CancelReason.ACCOUNT_WITHDRAWN, ts_ms, events)

    def _cancel_resting(self, orders: list[Order], reason: CancelReason, ts_ms: int, events: list[Event]) -> None:
        """Take these resting orders off the book, oldest first, each with an ``OrderCancelled`` for `reason`."""
        for order in sorted(orders, key=lambda o: o.priority):
            self._remove(order)
            self.floor.seq += 1
            events.append(OrderCancelled(self.floor.seq, ts_ms, order.order_id, order.account_id, order.side,
                                         order.quantity_t, 0, reason))

    def expire_day_orders(self, ts_ms: int, events: list[Event]) -> None:
        """The trading day closed: every DAY order expires, oldest first."""
        day_orders = sorted((o for o in self.orders.values() if o.tif is DAY), key=lambda o: o.priority)
        for order in day_orders:
            self._expire(order, ts_ms, events)

    # --- call auction --------------------------------------------------------------------------------------
    def indication(self) -> AuctionIndication:
        """Where the book would uncross now."""
        bids = self.bids
        asks = self.asks
        if not bids or not asks:
            return clearing_price((), (), None, self.tick_fen)
        best_bid_fen = self.bid_fen
        best_ask_fen = self.ask_fen
        bid_levels = [(p, bids[p].quantity_t) for p in bids.irange(minimum=best_ask_fen, reverse=True)]
        ask_levels = [(p, asks[p].quantity_t) for p in asks.irange(maximum=best_bid_fen)]
        return clearing_price(bid_levels, ask_levels, self.floor.auction_reference_fen(), self.tick_fen)

    def _crossing_orders(self, side: Side, price_fen: int) -> Iterator[Order]:
        if side is BUY:
            for level_price in self.bids.irange(minimum=price_fen, reverse=True):
                yield from self.bids[level_price].orders()
        else:
            for level_price in self.asks.irange(maximum=price_fen):
                yield from self.asks[level_price].orders()

    def uncross(self, ts_ms: int, events: list[Event]) -> None:
        """Execute the call auction at its single clearing price, pairing orders in price-time priority.

        If a pair would be one account's buy and sell, the newer order's STP mode applies, as in continuous
        trading, and the clearing price is computed again; every such round removes quantity, so it ends.
        """
        floor = self.floor
        while True:
            indication = self.indication()
            price_fen = indication.price_fen
            if price_fen is None:
                floor.seq += 1
                events.append(CallAuctionResult(floor.seq, ts_ms, None, 0, 0, 0))
                return
            plan: list[tuple[Order, Order, int]] = []
            buys = self._crossing_orders(BUY, price_fen)
            sells = self._crossing_orders(SELL, price_fen)
            to_match_t = indication.matched_t
            buy = next(buys)
            sell = next(sells)
            buy_left_t = buy.quantity_t
            sell_left_t = sell.quantity_t
            clash = False
            while to_match_t:
                if buy.account_id == sell.account_id:
                    clash = True
                    break
                quantity_t = min(buy_left_t, sell_left_t, to_match_t)
                plan.append((buy, sell, quantity_t))
                to_match_t -= quantity_t
                buy_left_t -= quantity_t
                sell_left_t -= quantity_t
                if not to_match_t:
                    break
                if not buy_left_t:
                    buy = next(buys)
                    buy_left_t = buy.quantity_t
                if not sell_left_t:
                    sell = next(sells)
                    sell_left_t = sell.quantity_t
            if clash:
                self._auction_self_trade(buy, sell, ts_ms, events)
                continue
            floor.seq += 1
            events.append(
                CallAuctionResult(
                    floor.seq,
                    ts_ms,
                    price_fen,
                    indication.matched_t,
                    indication.buy_surplus_t,
                    indication.sell_surplus_t,
                )
            )
            for buy, sell, quantity_t in plan:
                events.append(
                    floor.trade(
                        ts_ms,
                        TradeMode.CALL_AUCTION,
                        price_fen,
                        quantity_t,
                        buy.order_id,
                        sell.order_id,
                        buy.account_id,
                        sell.account_id,
                        None,
                        None,
                    )
                )
                for order in (buy, sell):
                    order.quantity_t -= quantity_t
                    level = order.level
                    assert level is not None
                    level.quantity_t -= quantity_t
                    if not order.quantity_t:
                        self._remove(order)
            return

    def _auction_self_trade(self, buy: Order, sell: Order, ts_ms: int, events: list[Event]) -> None:
        newer, older = (buy, sell) if buy.priority > sell.priority else (sell, buy)
        mode = newer.stp
        floor = self.floor
        if mode is DECREMENT:
            cut_t = min(buy.quantity_t, sell.quantity_t)
            for order in (newer, older):
                order.quantity_t -= cut_t
                level = order.level
                assert level is not None
                level.quantity_t -= cut_t
                if not order.quantity_t:
                    self._remove(order)
                floor.seq += 1
                events.append(
                    OrderCancelled(
                        floor.seq,
                        ts_ms,
                        order.order_id,
                        order.account_id,
                        order.side,
                        cut_t,
                        order.quantity_t,
                        SELF_TRADE,
                    )
                )
            return
        victims = {CANCEL_NEWEST: (newer,), CANCEL_OLDEST: (older,), CANCEL_BOTH: (newer, older)}[mode]
        for order in victims:
            self._remove(order)
            floor.seq += 1
            events.append(
                OrderCancelled(
                    floor.seq,
                    ts_ms,
                    order.order_id,
                    order.account_id,
                    order.side,
                    order.quantity_t,
                    0,
                    SELF_TRADE,
                )
            )

    # --- queries and restore -------------------------------------------------------------------------------
    def best(self) -> tuple[int | None, int, int | None, int]:
        """(best bid, its quantity, best ask, its quantity)."""
        bid_fen, ask_fen = self.bid_fen, self.ask_fen
        bid_t = 0 if bid_fen is None else self.bids[bid_fen].quantity_t
        ask_t = 0 if ask_fen is None else self.asks[ask_fen].quantity_t
        return bid_fen, bid_t, ask_fen, ask_t

    def depth(self, levels: int) -> tuple[tuple[PriceLevel, ...], tuple[PriceLevel, ...]]:
        """The best ``levels`` levels of each side."""
        bids: list[PriceLevel] = []
        for price_fen in self.bids.irange(reverse=True):
            if len(bids) >= levels:
                break
            level = self.bids[price_fen]
            bids.append(PriceLevel(price_fen, level.quantity_t, level.count))
        asks: list[PriceLevel] = []
        for price_fen in self.asks.irange():
            if len(asks) >= levels:
                break
            level = self.asks[price_fen]
            asks.append(PriceLevel(price_fen, level.quantity_t, level.count))
        return tuple(bids), tuple(asks)

    def all_orders(self) -> Iterator[Order]:
        """Every resting order: bids best price first, then asks best price first, each level oldest first."""
        for price_fen in self.bids.irange(reverse=True):
            yield from self.bids[price_fen].orders()
        for price_fen in self.asks.irange():
            yield from self.asks[price_fen].orders()

    def restore(self, state: OrderState) -> None:
        """Put a resting order back in its place by priority (cheapest when given in priority order)."""
        if state.order_id in self.orders:
            raise ValueError(f"order {state.order_id} is already in the book")
        order = Order(
            state.order_id,
            state.account_id,
            Side(state.side),
            state.price_fen,
            state.quantity_t,
            TimeInForce(state.tif),
            state.expires_at_ms,
            StpMode(state.stp),
            state.priority,
        )
        if (
            order.quantity_t <= 0
            or order.tif in (IOC, FOK)
            or (order.tif is GTD) != (order.expires_at_ms is not None)
        ):
            raise ValueError(f"order {state.order_id} cannot rest: {state}")
        book = self.bids if order.side is BUY else self.asks
        level = book.get(order.price_fen)
        if level is None or level.tail is None or level.tail.priority < order.priority:
            self._rest(order)
            return
        after = level.tail
        while after is not None and after.priority > order.priority:
            after = after.prev
        order.level = level
        order.prev = after
        order.next = level.head if after is None else after.next
        if after is None:
            level.head = order
        else:
            after.next = order
        assert order.next is not None
        order.next.prev = order
        level.quantity_t += order.quantity_t
        level.count += 1
        self.orders[order.order_id] = order
        if order.tif is GTD:
            self.floor.add_timer(order.expires_at_ms, TIMER_ORDER, order.order_id)  # type: ignore[arg-type]

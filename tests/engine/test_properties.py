"""Properties on random flows (hypothesis).

* the book is never crossed after a command outside the call phase;
* quantity is conserved per order: submitted = filled + resting + cancelled + expired;
* the trades (and the final book) equal those of a brute-force reference matcher written here from the
  rules, independently of the engine's data structures;
* replaying the command log, or restoring a snapshot taken anywhere and going on, reproduces the events;
* listing quantity is conserved: posted = picked + left + closed unpicked.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from matching_engine import (
    AcceptNegotiatedTransfer,
    AdvanceTime,
    AmendOrder,
    AuctionPricing,
    CancelListing,
    CancelOrder,
    CloseDay,
    Command,
    Engine,
    Event,
    InstrumentConfig,
    ListingClosed,
    ListingPosted,
    OpenAuction,
    OpenDay,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderExpired,
    OrderType,
    Phase,
    PickListing,
    PlaceBid,
    PlaceOrder,
    PostListing,
    ProposeNegotiatedTransfer,
    RejectNegotiatedTransfer,
    SetPhase,
    Side,
    StpMode,
    TimeInForce,
    Trade,
    TradeMode,
    WithdrawNegotiatedTransfer,
    command_from_dict,
    command_to_dict,
)

REF_FEN = 100
CONFIG = InstrumentConfig(
    "JX-PROP", reference_price_fen=REF_FEN, price_band_bp=2000, market_protection_bp=500
)
ACCOUNTS = ("A", "B", "C")
TIFS = (TimeInForce.GTC, TimeInForce.GTC, TimeInForce.DAY, TimeInForce.GTD, TimeInForce.IOC, TimeInForce.FOK)
STPS = (None, StpMode.CANCEL_NEWEST, StpMode.CANCEL_OLDEST, StpMode.CANCEL_BOTH, StpMode.DECREMENT)
PHASES = (Phase.CALL, Phase.CONTINUOUS, Phase.HALTED)


# --- the flow ---------------------------------------------------------------------------------------------
place_op = st.tuples(
    st.just("place"),
    st.sampled_from((Side.BUY, Side.SELL)),
    st.integers(-6, 6),
    st.integers(1, 8),
    st.sampled_from(ACCOUNTS),
    st.sampled_from(TIFS),
    st.booleans(),
    st.sampled_from(STPS),
    st.integers(1, 30),
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 10_000), st.booleans())
amend_op = st.tuples(
    st.just("amend"),
    st.integers(0, 10_000),
    st.integers(1, 10),
    st.integers(-6, 6),
    st.sampled_from(("qty", "price", "both")),
)
time_op = st.tuples(st.just("advance"), st.integers(0, 25))
phase_op = st.tuples(st.just("phase"), st.sampled_from(PHASES))
day_op = st.tuples(st.just("day"), st.sampled_from((Phase.CALL, Phase.CONTINUOUS)))


@st.composite
def book_op(draw: st.DrawFn) -> tuple:
    """Mostly orders, some cancels and amends, now and then time passing, a phase change or a new day."""
    roll = draw(st.integers(0, 99))
    if roll < 62:
        return draw(place_op)
    if roll < 80:
        return draw(cancel_op)
    if roll < 90:
        return draw(amend_op)
    if roll < 95:
        return draw(time_op)
    if roll < 98:
        return draw(phase_op)
    return draw(day_op)


book_ops = st.lists(book_op(), min_size=5, max_size=80)


def random_book_ops(rng: random.Random, count: int) -> list[tuple]:
    """The same operations as ``book_op`` draws, from a seeded generator: long flows with deep books."""
    ops: list[tuple] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.60:
            ops.append(
                (
                    "place",
                    rng.choice((Side.BUY, Side.SELL)),
                    rng.randint(-6, 6),
                    rng.randint(1, 8),
                    rng.choice(ACCOUNTS),
                    rng.choice(TIFS),
                    rng.random() < 0.3,
                    rng.choice(STPS),
                    rng.randint(1, 60),
                )
            )
        elif roll < 0.80:
            ops.append(("cancel", rng.randrange(10_000), rng.random() < 0.9))
        elif roll < 0.90:
            ops.append(
                (
                    "amend",
                    rng.randrange(10_000),
                    rng.randint(1, 10),
                    rng.randint(-6, 6),
                    rng.choice(("qty", "price", "both")),
                )
            )
        elif roll < 0.95:
            ops.append(("advance", rng.randint(0, 25)))
        elif roll < 0.985:
            ops.append(("phase", rng.choice(PHASES)))
        else:
            ops.append(("day", rng.choice((Phase.CALL, Phase.CONTINUOUS))))
    return ops


def book_commands(ops: list[tuple]) -> list[Command]:
    """Turn drawn operations into commands with rising timestamps and fresh order ids."""
    commands: list[Command] = [OpenDay(0, "d000", Phase.CONTINUOUS)]
    ts_ms = 0
    day = 0
    ids: list[tuple[int, str]] = []
    for op in ops:
        ts_ms += 1
        kind = op[0]
        if kind == "place":
            _, side, offset, quantity_t, account, tif, market, stp, life_ms = op
            order_id = len(ids) + 1
            ids.append((order_id, account))
            if market and tif in (TimeInForce.IOC, TimeInForce.FOK):
                commands.append(
                    PlaceOrder(
                        ts_ms, order_id, account, side, quantity_t, None, OrderType.MARKET, tif, stp=stp
                    )
                )
            else:
                expires = ts_ms + life_ms if tif is TimeInForce.GTD else None
                commands.append(
                    PlaceOrder(
                        ts_ms,
                        order_id,
                        account,
                        side,
                        quantity_t,
                        REF_FEN + offset,
                        tif=tif,
                        expires_at_ms=expires,
                        stp=stp,
                    )
                )
        elif kind == "cancel" and ids:
            order_id, account = ids[op[1] % len(ids)]
            commands.append(CancelOrder(ts_ms, order_id, account if op[2] else "Z"))
        elif kind == "amend" and ids:
            _, index, quantity_t, offset, what = op
            order_id, account = ids[index % len(ids)]
            commands.append(
                AmendOrder(
                    ts_ms,
                    order_id,
                    account,
                    None if what == "price" else quantity_t,
                    None if what == "qty" else REF_FEN + offset,
                )
            )
        elif kind == "advance":
            ts_ms += op[1]
            commands.append(AdvanceTime(ts_ms))
        elif kind == "phase":
            commands.append(SetPhase(ts_ms, op[1]))
        elif kind == "day":
            day += 1
            commands.append(CloseDay(ts_ms))
            commands.append(OpenDay(ts_ms, f"d{day:03d}", op[1]))
    return commands


# --- the brute-force reference ----------------------------------------------------------------------------
@dataclass
class RefOrder:
    order_id: int
    account: str
    side: Side
    price: int
    qty: int
    tif: TimeInForce
    expires: int | None
    stp: StpMode
    prio: int


@dataclass
class Reference:
    """The rules, written the slow and obvious way: lists, sorting, a full scan for every step."""

    config: InstrumentConfig
    orders: dict[int, RefOrder] = field(default_factory=dict)
    phase: Phase = Phase.CLOSED
    reference: int | None = None
    last_today: int | None = None
    prio: int = 0
    trades: list[tuple[int, int, int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.reference = self.config.reference_price_fen

    def band(self) -> tuple[int, int]:
        ref, bp = self.reference, self.config.price_band_bp
        if ref is None or bp is None:
            return 1, 10**12
        low = -(-ref * (10_000 - bp) // 10_000)
        return max(low, 1), ref * (10_000 + bp) // 10_000

    def next_prio(self) -> int:
        self.prio += 1
        return self.prio

    def trade(self, price: int, qty: int, buy: RefOrder, sell: RefOrder) -> None:
        self.trades.append((price, qty, buy.order_id, sell.order_id))
        self.last_today = price

    def apply(self, command: Command) -> None:
        for order in list(self.orders.values()):
            if order.tif is TimeInForce.GTD and order.expires is not None and order.expires <= command.ts_ms:
                del self.orders[order.order_id]
        if isinstance(command, OpenDay):
            if self.phase is Phase.CLOSED:
                self.phase = command.phase
                self.last_today = None
        elif isinstance(command, SetPhase):
            if self.phase is not Phase.CLOSED and command.phase not in (Phase.CLOSED, self.phase):
                if self.phase is Phase.CALL:
                    self.uncross()
                self.phase = command.phase
        elif isinstance(command, CloseDay):
            if self.phase is not Phase.CLOSED:
                if self.phase is Phase.CALL:
                    self.uncross()
                for order in list(self.orders.values()):
                    if order.tif is TimeInForce.DAY:
                        del self.orders[order.order_id]
                if self.last_today is not None:
                    self.reference = self.last_today
                low, high = self.band()
                for order in list(self.orders.values()):
                    if not low <= order.price <= high:
                        del self.orders[order.order_id]
                self.phase = Phase.CLOSED
        elif isinstance(command, PlaceOrder):
            self.place(command)
        elif isinstance(command, CancelOrder):
            order = self.orders.get(command.order_id)
            if order is not None and order.account == command.account_id:
                del self.orders[order.order_id]
        elif isinstance(command, AmendOrder):
            self.amend(command)

    def place(self, cmd: PlaceOrder) -> None:
        market = cmd.order_type is OrderType.MARKET
        tif = cmd.tif or (TimeInForce.IOC if market else TimeInForce.GTC)
        if self.phase in (Phase.CLOSED, Phase.HALTED):
            return
        if self.phase is Phase.CALL and (market or tif in (TimeInForce.IOC, TimeInForce.FOK)):
            return
        low, high = self.band()
        if not market and not low <= cmd.price_fen <= high:  # type: ignore[operator]
            return
        taker = RefOrder(
            cmd.order_id,
            cmd.account_id,
            cmd.side,
            0,
            cmd.quantity_t,
            tif,
            cmd.expires_at_ms,
            cmd.stp or self.config.default_stp,
            self.next_prio(),
        )
        if market:
            opposite = [o.price for o in self.orders.values() if o.side is not cmd.side]
            if not opposite:
                return
            bp = self.config.market_protection_bp
            if cmd.side is Side.BUY:
                taker.price = min(min(opposite) * (10_000 + bp) // 10_000, high)
            else:
                taker.price = max(-(-max(opposite) * (10_000 - bp) // 10_000), low)
        else:
            taker.price = cmd.price_fen  # type: ignore[assignment]
        if self.phase is Phase.CALL:
            self.orders[taker.order_id] = taker
            return
        if tif is TimeInForce.FOK:
            trial = Reference(self.config, {k: RefOrder(**vars(o)) for k, o in self.orders.items()})
            trial_taker = RefOrder(**vars(taker))
            if trial.match(trial_taker) < taker.qty:
                return
        self.match(taker)
        if taker.qty and not market and tif not in (TimeInForce.IOC, TimeInForce.FOK):
            self.orders[taker.order_id] = taker

    def match(self, taker: RefOrder) -> int:
        """Trade ``taker`` against the best opposite order, one at a time; the quantity filled."""
        filled = 0
        while taker.qty:
            buying = taker.side is Side.BUY
            candidates = [
                o
                for o in self.orders.values()
                if o.side is not taker.side and (o.price <= taker.price if buying else o.price >= taker.price)
            ]
            if not candidates:
                break
            best = min(candidates, key=lambda o: (o.price if buying else -o.price, o.prio))
            if best.account == taker.account:
                mode = taker.stp
                if mode in (StpMode.CANCEL_OLDEST, StpMode.CANCEL_BOTH):
                    del self.orders[best.order_id]
                if mode in (StpMode.CANCEL_NEWEST, StpMode.CANCEL_BOTH):
                    taker.qty = 0
                if mode is StpMode.DECREMENT:
                    cut = min(taker.qty, best.qty)
                    taker.qty -= cut
                    best.qty -= cut
                    if not best.qty:
                        del self.orders[best.order_id]
                continue
            qty = min(taker.qty, best.qty)
            buy, sell = (taker, best) if buying else (best, taker)
            self.trade(best.price, qty, buy, sell)
            taker.qty -= qty
            best.qty -= qty
            filled += qty
            if not best.qty:
                del self.orders[best.order_id]
        return filled

    def amend(self, cmd: AmendOrder) -> None:
        order = self.orders.get(cmd.order_id)
        if order is None or order.account != cmd.account_id:
            return
        qty = order.qty if cmd.quantity_t is None else cmd.quantity_t
        price = order.price if cmd.price_fen is None else cmd.price_fen
        low, high = self.band()
        if price != order.price and not low <= price <= high:
            return
        if qty == order.qty and price == order.price:
            return
        if price == order.price and qty < order.qty:
            order.qty = qty
            return
        if self.phase not in (Phase.CALL, Phase.CONTINUOUS):
            return
        del self.orders[order.order_id]
        order.qty, order.price, order.prio = qty, price, self.next_prio()
        if self.phase is Phase.CONTINUOUS:
            self.match(order)
        if order.qty:
            self.orders[order.order_id] = order

    def uncross(self) -> None:
        while True:
            bids = [o for o in self.orders.values() if o.side is Side.BUY]
            asks = [o for o in self.orders.values() if o.side is Side.SELL]
            if not bids or not asks:
                return
            aim = self.last_today if self.last_today is not None else self.reference
            prices = [o.price for o in bids + asks]
            best = None
            for price in range(min(prices), max(prices) + 1):
                demand = sum(o.qty for o in bids if o.price >= price)
                supply = sum(o.qty for o in asks if o.price <= price)
                key = (
                    -min(demand, supply),
                    abs(demand - supply),
                    0 if aim is None else abs(price - aim),
                    price,
                )
                best = key if best is None or key < best else best
            assert best is not None
            volume, price = -best[0], best[3]
            if not volume:
                return
            buys = sorted((o for o in bids if o.price >= price), key=lambda o: (-o.price, o.prio))
            sells = sorted((o for o in asks if o.price <= price), key=lambda o: (o.price, o.prio))
            left = {o.order_id: o.qty for o in buys + sells}
            pairs = []
            i = j = 0
            clash = None
            while volume:
                buy, sell = buys[i], sells[j]
                if buy.account == sell.account:
                    clash = (buy, sell)
                    break
                qty = min(left[buy.order_id], left[sell.order_id], volume)
                pairs.append((buy, sell, qty))
                left[buy.order_id] -= qty
                left[sell.order_id] -= qty
                volume -= qty
                i += not left[buy.order_id]
                j += not left[sell.order_id]
            if clash is None:
                for buy, sell, qty in pairs:
                    self.trade(price, qty, buy, sell)
                    for order in (buy, sell):
                        order.qty -= qty
                        if not order.qty:
                            del self.orders[order.order_id]
                return
            newer, older = sorted(clash, key=lambda o: -o.prio)
            if newer.stp is StpMode.DECREMENT:
                cut = min(newer.qty, older.qty)
                for order in (newer, older):
                    order.qty -= cut
                    if not order.qty:
                        del self.orders[order.order_id]
                continue
            if newer.stp in (StpMode.CANCEL_NEWEST, StpMode.CANCEL_BOTH):
                del self.orders[newer.order_id]
            if newer.stp in (StpMode.CANCEL_OLDEST, StpMode.CANCEL_BOTH):
                del self.orders[older.order_id]

    def book(self) -> list[tuple[int, str, int, int]]:
        bids = sorted(
            (o for o in self.orders.values() if o.side is Side.BUY), key=lambda o: (-o.price, o.prio)
        )
        asks = sorted(
            (o for o in self.orders.values() if o.side is Side.SELL), key=lambda o: (o.price, o.prio)
        )
        return [(o.order_id, o.side.value, o.price, o.qty) for o in bids + asks]


# --- the properties ---------------------------------------------------------------------------------------
def conservation(events: list[Event], engine: Engine) -> None:
    submitted: dict[int, int] = defaultdict(int)
    accounted: dict[int, int] = defaultdict(int)
    for event in events:
        if isinstance(event, OrderAccepted):
            submitted[event.order_id] += event.quantity_t
        elif isinstance(event, OrderAmended):
            change = event.quantity_t - event.old_quantity_t
            if change > 0:
                submitted[event.order_id] += change
            else:
                accounted[event.order_id] -= change
        elif isinstance(event, Trade) and event.mode in (TradeMode.CONTINUOUS, TradeMode.CALL_AUCTION):
            accounted[event.buy_order_id] += event.quantity_t
            accounted[event.sell_order_id] += event.quantity_t
        elif isinstance(event, OrderCancelled):
            accounted[event.order_id] += event.cancelled_t
        elif isinstance(event, OrderExpired):
            accounted[event.order_id] += event.expired_t
    for order in engine.orders():
        accounted[order.order_id] += order.quantity_t
    assert dict(submitted) == {k: v for k, v in accounted.items() if v or k in submitted}


@settings(max_examples=500, deadline=None)
@given(ops=book_ops)
def test_book_flow_matches_the_reference_never_crosses_and_conserves_quantity(ops: list[tuple]) -> None:
    check_against_reference(book_commands(ops))


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_long_seeded_flows_match_the_reference(seed: int) -> None:
    check_against_reference(book_commands(random_book_ops(random.Random(seed), 500)))


def check_against_reference(commands: list[Command]) -> None:
    engine = Engine(CONFIG)
    reference = Reference(CONFIG)
    events: list[Event] = []
    for command in commands:
        produced = engine.submit(command)
        events.extend(produced)
        reference.apply(command)
        if engine.phase is not Phase.CALL:
            top = engine.top_of_book()
            if top.bid_price_fen is not None and top.ask_price_fen is not None:
                assert top.bid_price_fen < top.ask_price_fen, command
        engine_trades = [
            (t.price_fen, t.quantity_t, t.buy_order_id, t.sell_order_id)
            for t in events
            if isinstance(t, Trade)
        ]
        assert engine_trades == reference.trades, command
        assert [
            (o.order_id, o.side.value, o.price_fen, o.quantity_t) for o in engine.orders()
        ] == reference.book()
        if produced:
            assert [e.seq for e in produced] == list(range(produced[0].seq, produced[0].seq + len(produced)))
    conservation(events, engine)
    assert all(
        t.mode in (TradeMode.CONTINUOUS, TradeMode.CALL_AUCTION) for t in events if isinstance(t, Trade)
    )


# --- every mode: replay, snapshot, listing conservation ---------------------------------------------------
def rich_flow(rng: random.Random, count: int) -> list[Command]:
    """A seeded flow over every mode, aimed at live objects: built by driving a scratch engine, so picks,
    answers and bids mostly name listings, proposals and auctions that are really open (and sometimes not)."""
    scratch = Engine(CONFIG)
    commands: list[Command] = []

    def add(command: Command) -> None:
        commands.append(command)
        scratch.submit(command)

    add(OpenDay(0, "d000", Phase.CONTINUOUS))
    ts_ms = 0
    day = 0
    for next_id in range(1, count + 1):
        ts_ms += rng.choice((0, 1, 1, 2, 5))
        roll = rng.random()
        account = rng.choice(ACCOUNTS)
        listings = scratch.listings(Side.SELL, viewer_id=account) + scratch.listings(
            Side.BUY, viewer_id=account
        )
        if roll < 0.25:
            side = rng.choice((Side.BUY, Side.SELL))
            tif = rng.choice(TIFS)
            add(
                PlaceOrder(
                    ts_ms,
                    next_id,
                    account,
                    side,
                    rng.randint(1, 8),
                    REF_FEN + rng.randint(-5, 5),
                    tif=tif,
                    expires_at_ms=ts_ms + rng.randint(1, 40) if tif is TimeInForce.GTD else None,
                    stp=rng.choice(STPS),
                )
            )
        elif roll < 0.32 and scratch.orders():
            order = rng.choice(scratch.orders())
            if rng.random() < 0.5:
                add(CancelOrder(ts_ms, order.order_id, order.account_id))
            else:
                add(AmendOrder(ts_ms, order.order_id, order.account_id, rng.randint(1, 10), None))
        elif roll < 0.45:
            quantity = rng.randint(1, 40)
            add(
                PostListing(
                    ts_ms,
                    next_id,
                    account,
                    rng.choice((Side.BUY, Side.SELL)),
                    REF_FEN + rng.randint(-6, 6),
                    quantity,
                    rng.randint(1, quantity),
                    ts_ms + rng.randint(5, 80) if rng.random() < 0.5 else None,
                    rng.choice((None, "batch-1", "batch-2")),
                    frozenset({rng.choice(ACCOUNTS)}) if rng.random() < 0.2 else None,
                )
            )
        elif roll < 0.62 and listings:
            listing = rng.choice(listings)
            quantity = rng.choice(
                (listing.quantity_t, listing.min_pick_t, rng.randint(1, listing.quantity_t + 2))
            )
            add(PickListing(ts_ms, next_id, listing.listing_id, account, quantity))
        elif roll < 0.66 and listings:
            listing = rng.choice(listings)
            add(CancelListing(ts_ms, listing.listing_id, rng.choice((listing.account_id, account))))
        elif roll < 0.72:
            add(
                ProposeNegotiatedTransfer(
                    ts_ms,
                    next_id,
                    account,
                    rng.choice(ACCOUNTS),
                    rng.choice((Side.BUY, Side.SELL)),
                    REF_FEN + rng.randint(-12, 12),
                    rng.randint(1, 50),
                    ts_ms + rng.randint(1, 60),
                )
            )
        elif roll < 0.80 and scratch.proposals():
            proposal = rng.choice(scratch.proposals())
            kind = rng.choice((AcceptNegotiatedTransfer, AcceptNegotiatedTransfer, RejectNegotiatedTransfer,
                               WithdrawNegotiatedTransfer))
            who = proposal.account_id if kind is WithdrawNegotiatedTransfer else proposal.counterparty_id
            add(kind(ts_ms, proposal.proposal_id, who if rng.random() < 0.9 else account))
        elif roll < 0.83:
            pricing = rng.choice((AuctionPricing.UNIFORM, AuctionPricing.PAY_AS_BID))
            add(
                OpenAuction(
                    ts_ms,
                    next_id,
                    account,
                    rng.choice((Side.BUY, Side.SELL)),
                    rng.randint(5, 40),
                    REF_FEN,
                    ts_ms + rng.randint(5, 60),
                    pricing,
                )
            )
        elif roll < 0.93 and scratch.auctions():
            auction = rng.choice(scratch.auctions())
            add(
                PlaceBid(
                    ts_ms,
                    auction.auction_id,
                    next_id,
                    account,
                    REF_FEN + rng.randint(-6, 6),
                    rng.randint(1, 20),
                )
            )
        elif roll < 0.96:
            add(AdvanceTime(ts_ms + rng.randint(0, 30)))
            ts_ms = commands[-1].ts_ms
        elif roll < 0.985:
            add(SetPhase(ts_ms, rng.choice(PHASES)))
        else:
            day += 1
            add(CloseDay(ts_ms))
            add(OpenDay(ts_ms, f"d{day:03d}", rng.choice((Phase.CALL, Phase.CONTINUOUS))))
    add(AdvanceTime(ts_ms + 100))
    return commands


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 300), cut=st.floats(0, 1))
def test_replay_and_snapshot_restore_reproduce_the_events(seed: int, count: int, cut: float) -> None:
    commands = rich_flow(random.Random(seed), count)
    engine = Engine(CONFIG)
    events = engine.submit_all(commands)

    log = json.loads(json.dumps([command_to_dict(c) for c in commands]))
    replayed_engine, replayed = Engine.replay(CONFIG, [command_from_dict(item) for item in log])
    assert replayed == events
    assert replayed_engine.snapshot() == engine.snapshot()

    k = int(cut * len(commands))
    first = Engine(CONFIG)
    head = first.submit_all(commands[:k])
    restored = Engine.from_snapshot(json.loads(json.dumps(first.snapshot())))
    tail = restored.submit_all(commands[k:])
    assert head + tail == events
    assert restored.snapshot() == engine.snapshot()

    posted: dict[int, int] = defaultdict(int)
    gone: dict[int, int] = defaultdict(int)
    for event in events:
        if isinstance(event, ListingPosted):
            posted[event.listing_id] += event.quantity_t
        elif isinstance(event, Trade) and event.mode is TradeMode.LISTING:
            listing_id = event.sell_order_id if event.aggressor is Side.BUY else event.buy_order_id
            gone[listing_id] += event.quantity_t
        elif isinstance(event, ListingClosed):
            gone[event.listing_id] += event.remaining_t
    for listing in engine.snapshot()["listings"]:  # every live listing, whoever may see it
        gone[listing["listing_id"]] += listing["quantity_t"]
    assert dict(posted) == {k: v for k, v in gone.items() if v or k in posted}
    conservation(events, engine)
    for account in ACCOUNTS:
        sells = engine.listings(Side.SELL, viewer_id=account, limit=1000)
        buys = engine.listings(Side.BUY, viewer_id=account, limit=1000)
        assert [(x.price_fen, x.priority) for x in sells] == sorted((x.price_fen, x.priority) for x in sells)
        assert [(-x.price_fen, x.priority) for x in buys] == sorted((-x.price_fen, x.priority) for x in buys)

"""Orders in the registry: the plan of a command (the rules of order entry over the facts loaded for it, and
the pre-trade holds it needs: cash plus fee for a buy, exact serial ranges for a sell) and the writer's reads
of orders; what the market recorded, for routes and exports, is registry/services/trade_records.py's. A plan
writes nothing: the writer (api/exchange/desk.py) lets the matching engine accept the command first, then
records it (`record_order`, `add_hold`); registry/services/settlement.py applies what the engine did,
releasing holds and settling trades delivery versus payment through registry/services/delivery.py."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.util import identity_key

from registry import ledger, serials
from registry.errors import InvalidInput, NotFound, RuleViolation, StateConflict
from registry.orm import Instrument, Order, Participant
from registry.principals import Principal
from registry.repositories import instruments as instrument_repo
from registry.repositories import trading as trading_repo
from registry.services import balances, instruments, ledger_accounts, market_calendar, participants, serial_blocks
from registry.services.idempotency import Replayed
from registry.statements import FixedStatement, one_of
from registry.unit_of_work import UnitOfWork
from rules import trading as trading_rules
from rules.violations import Violation


def fee_fen(notional_fen: int, fee_bp: int) -> int:
    """The buyer's exchange fee, rounded down to the fen (so per-fill fees never exceed the held fee)."""
    return notional_fen * fee_bp // 10_000


def cash_needed(quantity_t: int, price_fen: int, fee_bp: int) -> int:
    """What a buy must hold: the most it can pay plus the fee on that."""
    notional = quantity_t * price_fen
    return notional + fee_fen(notional, fee_bp)


@dataclass(frozen=True, slots=True)
class OrderRequest:
    client_order_id: str
    side: str
    order_type: str
    tif: str
    price_fen: int | None
    hold_price_fen: int | None
    quantity_t: int
    expires_at: datetime | None
    request_hash: str
    kind: str = "order"
    parent_order_id: int | None = None
    counterparty_participant_id: int | None = None
    min_pick_t: int | None = None
    batch_id: int | None = None
    allowed_counterparties: list[int] | None = None


def existing_order(uow: UnitOfWork, participant_id: int, client_order_id: str) -> Order | None:
    key = ("order", participant_id, client_order_id)
    if key in uow.cache.memo:
        found: Order | None = uow.cache.memo[key]
        return found
    return uow.session.scalar(select(Order).where(Order.participant_id == participant_id,
                                                  Order.client_order_id == client_order_id))


def preload(uow: UnitOfWork, instrument: Instrument, participant_ids: set[int], seller_ids: set[int],
            client_order_ids: set[tuple[int, str]], order_ids: set[int], resale_lock: bool = True) -> None:
    """Read what a batch of commands will ask for in a few queries instead of several each: the participants
    (into the session), which (participant, client_order_id) pairs already name an order, the orders named by
    key, and — locked — the participants' available cash and the sellers' available credits and usable
    serial blocks in the instrument's batches. The resting orders a command trades against are read as it trades."""
    if participant_ids:
        # Held in the memo: the session forgets rows nothing refers to.
        uow.cache.memo["participants"] = list(uow.session.scalars(
            select(Participant).where(Participant.id.in_(sorted(participant_ids)))))
        accounts = {p: ledger_accounts.main_account_id(uow, p) for p in sorted(participant_ids)}
        # What holds take from; what they put aside and what trades credit is not read (defer_balances).
        balances.lock_accounts(uow, set(accounts.values()), {ledger.CASH}, [ledger.AVAILABLE])
        sellers = {accounts[p] for p in seller_ids & accounts.keys()}
        if sellers:
            batch_ids = instrument_batch_ids(uow, instrument)
            balances.lock_accounts(uow, sellers, {ledger.credit_asset(b) for b in batch_ids}, [ledger.AVAILABLE])
            def holds(account_id: int, batch_id: int) -> bool:
                balance = uow.cache.locked.get((account_id, ledger.credit_asset(batch_id), ledger.AVAILABLE))
                return balance is not None and balance.amount > 0

            held = [b for b in batch_ids if any(holds(a, b) for a in sellers)]
            serial_blocks.load_blocks(uow, sellers, {ledger.AVAILABLE}, held,
                                 sellable_on=uow.today() if resale_lock else None)
    if client_order_ids:
        for pair in client_order_ids:
            uow.cache.memo[("order", *pair)] = None
        # Mostly none exist (a retry names one): their keys first, then only those orders.
        named = {order_id for order_id, *pair in uow.sql.fetch(_CLIENT_ORDER_IDS, {
            "p": sorted({p for p, _ in client_order_ids}), "c": sorted({c for _, c in client_order_ids})})
            if tuple(pair) in client_order_ids}
        for order in orders_by_id(uow, named).values():
            uow.cache.memo[("order", order.participant_id, order.client_order_id)] = order
    # A cancelled or amended sell gives back exact serial ranges: their blocks, read at once.
    named_sells = [o for o in orders_by_id(uow, order_ids).values() if o.side == "sell" and o.held_blocks
                   and serial_blocks.known_blocks_holding(uow, (o.account_id, ledger.HELD), _held(o)) is None]
    if named_sells:
        serial_blocks.load_blocks(uow, {o.account_id for o in named_sells}, {ledger.HELD},
                             sorted({batch_id for o in named_sells for batch_id, _, _ in o.held_blocks}))


_CLIENT_ORDER_IDS = FixedStatement(lambda dialect: select(Order.id, Order.participant_id, Order.client_order_id).where(
    one_of(Order.participant_id, "p", dialect), one_of(Order.client_order_id, "c", dialect)))


def instrument_batch_ids(uow: UnitOfWork, instrument: Instrument) -> list[int]:
    """The instrument's batches, read once per transaction."""
    key = ("batch_ids", instrument.id)
    if key not in uow.cache.memo:
        uow.cache.memo[key] = instruments.batch_ids(uow, instrument)
    found: list[int] = uow.cache.memo[key]
    return found


def next_trading_day(uow: UnitOfWork, day: date) -> date:
    """The next trading day: the resale lock lasts over weekends, public holidays and other closures."""
    return market_calendar.current(uow).next_trading_day(day)


@dataclass(frozen=True, slots=True)
class OrderPlan:
    """An order checked and its holds worked out, nothing written yet (see plan_order)."""

    order: Order
    credits: serial_blocks.CreditMove | None  # a sell's serial ranges to hold
    cash_legs: list[ledger.Leg]  # a buy's cash (plus fee) to hold


def plan_order(uow: UnitOfWork, principal: Principal, instrument: Instrument, request: OrderRequest,
               fee_bp: int, resale_lock: bool = True) -> OrderPlan:
    """Check the trader and what the order must hold, and refuse it if they fall short, writing nothing: the
    caller lets the matching engine accept the order before `record_order` writes it with its holds."""
    participant = uow.session.get(Participant, principal.participant_id)
    assert participant is not None
    problems = instruments.trading_violations(participant)
    if problems:
        raise RuleViolation(problems)
    needs_batches = request.side == "sell" or request.batch_id is not None
    batch_ids = instrument_batch_ids(uow, instrument) if needs_batches else []
    if request.batch_id is not None and request.batch_id not in batch_ids:
        raise RuleViolation([Violation("JX-18", "Art. 18", "batch_id", "该批次不属于此交易品种。",
                                       "That batch is not traded under this instrument.")])
    if request.counterparty_participant_id is not None:
        if uow.session.get(Participant, request.counterparty_participant_id) is None:
            raise NotFound("The named counterparty is unknown.", "未找到指定的交易对手方。")
        problems = participants.counterparty_violations(uow, request.counterparty_participant_id,
                                                        "counterparty_participant_id")
        if problems:
            raise RuleViolation(problems)
    if request.parent_order_id is not None:
        # A pick of a listing, an acceptance of a proposal, a bid in an auction: the other side posted it.
        parent = order_by_id(uow, request.parent_order_id)
        if parent is not None:
            problems = participants.counterparty_violations(uow, parent.participant_id, None)
            if problems:
                raise RuleViolation(problems)
    if request.side == "buy" and request.hold_price_fen is None:
        raise InvalidInput("A buy needs a price to hold cash against.", "买单需要用于冻结资金的价格。")
    account_id = ledger_accounts.main_account_id(uow, principal.participant_id)
    cash_held = cash_needed(request.quantity_t, request.hold_price_fen, fee_bp) \
        if request.side == "buy" and request.hold_price_fen is not None else 0
    order = Order(id=uow.sql.next_id("orders"), instrument_id=instrument.id, participant_id=principal.participant_id,
                  account_id=account_id,
                  user_id=principal.user_id, client_order_id=request.client_order_id, side=request.side,
                  order_type=request.order_type, tif=request.tif, price_fen=request.price_fen,
                  hold_price_fen=request.hold_price_fen, quantity_t=request.quantity_t,
                  remaining_t=request.quantity_t, filled_t=0, expires_at=request.expires_at, status="open",
                  cash_held_fen=cash_held, held_blocks=[], request_hash=request.request_hash, created_at=uow.now(),
                  updated_at=uow.now(), kind=request.kind, parent_order_id=request.parent_order_id,
                  counterparty_participant_id=request.counterparty_participant_id, min_pick_t=request.min_pick_t,
                  batch_id=request.batch_id, allowed_counterparties=request.allowed_counterparties)
    if request.side == "sell":
        if request.batch_id is not None:
            batch_ids = [request.batch_id]
        if not batch_ids:
            raise RuleViolation([], "This instrument has no batches to sell yet.", "该交易品种尚无可售批次。")
        credits = serial_blocks.plan_credits(uow, source=(account_id, ledger.AVAILABLE),
                                        target=(account_id, ledger.HELD), quantity=request.quantity_t,
                                        batch_ids=batch_ids, sellable_on=uow.today() if resale_lock else None)
        return OrderPlan(order, credits, [])
    legs = ledger.move(ledger.CASH, cash_held, (account_id, ledger.AVAILABLE), (account_id, ledger.HELD))
    balances.check(uow, "order_hold", legs)
    return OrderPlan(order, None, legs)


def record_order(uow: UnitOfWork, plan: OrderPlan) -> Order:
    """Write a planned order and take its holds (the rows are written at the transaction's next flush: the
    order, as it then stands, ahead of the rows appended, its trades among them, see Statements.add_new)."""
    order = plan.order
    uow.sql.add_new(order)
    remember_order(uow, order)
    uow.cache.memo[("order", order.participant_id, order.client_order_id)] = order
    if plan.credits is not None:
        moved = serial_blocks.apply_credits(uow, "order_hold", plan.credits, reference=f"order:{order.id}")
        order.held_blocks = [[b.batch_id, b.start, b.end] for b in moved.blocks]
    else:
        balances.post(uow, "order_hold", plan.cash_legs, reference=f"order:{order.id}")
    return order


def remember_order(uow: UnitOfWork, order: Order) -> None:
    """Keep an order this transaction wrote or read where `order_by_id` finds it (a new one is not in the
    database until the next flush)."""
    uow.cache.memo[("order_id", order.id)] = order


def order_by_id(uow: UnitOfWork, order_id: int) -> Order | None:
    """An order by key, including one this transaction made and has not flushed yet."""
    return orders_by_id(uow, {order_id}).get(order_id)


def _known_order(uow: UnitOfWork, order_id: int) -> Order | None:
    """An order this transaction has, or one its caller kept open from an earlier one (see keep_open_orders),
    taken back into the session without reading it."""
    found: Order | None = uow.cache.memo.get(("order_id", order_id))
    if found is None:
        found = uow.cache.kept.pop(("order_id", order_id), None)
        if found is not None:
            # A query of this transaction may have read the row already: then that object is the order.
            present = uow.session.identity_map.get(identity_key(Order, order_id))
            if present is None:
                uow.session.add(found)
            remember_order(uow, present or found)
            found = present or found
            serial_blocks.know_blocks(uow, uow.cache.kept.pop(("held_blocks", order_id), []))
    return found


def keep_open_orders(uow: UnitOfWork) -> None:
    """After a commit, keep the open orders this transaction touched in `uow.cache.kept` for the caller's next
    transactions, with the serial blocks a sell holds: an instrument's writer is the only one to change its
    orders and what they hold, so what it committed is what they are. An order taken back leaves `uow.cache.kept`
    until a commit keeps it again, so a failed transaction leaves none of its orders there (the writer
    forgets the others too then)."""
    for key, order in uow.cache.memo.items():
        if key[0] != "order_id":
            continue
        held = ("held_blocks", order.id)
        uow.cache.kept.pop(held, None)
        if order.status != "open":
            uow.cache.kept.pop(key, None)
            continue
        uow.cache.kept[key] = order
        if order.side == "sell" and order.held_blocks:
            blocks = serial_blocks.known_blocks_holding(uow, (order.account_id, ledger.HELD), _held(order))
            if blocks is not None and len(blocks) == len(order.held_blocks):  # exactly its blocks
                uow.cache.kept[held] = blocks


def _held(order: Order) -> list[serials.Block]:
    return [serials.Block(start, end, batch) for batch, start, end in order.held_blocks]


@dataclass(frozen=True, slots=True)
class ExtraHold:
    """What an amended order must hold beyond what it holds (see plan_extra_hold)."""

    order: Order
    credits: serial_blocks.CreditMove | None
    cash_legs: list[ledger.Leg]
    hold_price_fen: int | None


def plan_extra_hold(uow: UnitOfWork, order: Order, instrument: Instrument, extra_t: int,
                    new_hold_price_fen: int | None, fee_bp: int, resale_lock: bool = True) -> ExtraHold:
    """Work out and check what an amendment (a raise, or a buy at a higher price) must hold more, writing
    nothing, so the engine can refuse the amendment before anything is written."""
    credits, cash_legs, hold_price = None, [], None
    if order.side == "sell" and extra_t > 0:
        credits = serial_blocks.plan_credits(uow, source=(order.account_id, ledger.AVAILABLE),
                                        target=(order.account_id, ledger.HELD), quantity=extra_t,
                                        batch_ids=[order.batch_id] if order.batch_id else instrument_batch_ids(
                                            uow, instrument), sellable_on=uow.today() if resale_lock else None)
    if order.side == "buy":
        hold_price = new_hold_price_fen or order.hold_price_fen
        assert hold_price is not None
        needed = cash_needed(order.remaining_t + max(extra_t, 0), hold_price, fee_bp)
        if needed > order.cash_held_fen:
            cash_legs = ledger.move(ledger.CASH, needed - order.cash_held_fen, (order.account_id, ledger.AVAILABLE),
                                    (order.account_id, ledger.HELD))
            balances.check(uow, "order_hold", cash_legs)
    return ExtraHold(order, credits, cash_legs, hold_price)


def add_hold(uow: UnitOfWork, hold: ExtraHold) -> None:
    """Take a planned extra hold."""
    order = hold.order
    if hold.credits is not None:
        moved = serial_blocks.apply_credits(uow, "order_hold", hold.credits, reference=f"order:{order.id}")
        order.held_blocks = [[b.batch_id, b.start, b.end] for b in sorted(_held(order) + moved.blocks)]
    if hold.cash_legs:
        balances.post(uow, "order_hold", hold.cash_legs, reference=f"order:{order.id}")
        order.cash_held_fen += hold.cash_legs[1].amount
    if hold.hold_price_fen is not None:
        order.hold_price_fen = hold.hold_price_fen


def orders_by_id(uow: UnitOfWork, order_ids: set[int]) -> dict[int, Order]:
    """Orders by id: those this transaction knows or was handed (see _known_order), the rest in one query."""
    found = {i: o for i in order_ids if (o := _known_order(uow, i)) is not None}
    missing = sorted(order_ids - found.keys())
    if missing:
        for order in trading_repo.orders_by_ids(uow.session, missing):
            remember_order(uow, order)
            found[order.id] = order
    return found


def get_order(uow: UnitOfWork, participant_id: int, order_id: int) -> Order:
    order = order_by_id(uow, order_id)
    if order is None or order.participant_id != participant_id:
        raise NotFound(f"Order {order_id} not found.", f"未找到订单 {order_id}。")
    return order


def open_orders(uow: UnitOfWork, instrument_id: int, kind: str = "order") -> list[Order]:
    """The live book orders, listings or proposals of an instrument in time priority: what a restarted
    engine is rebuilt from."""
    return trading_repo.open_orders(uow.session, instrument_id, kind)


# --- a participant that may no longer deal (Art. 19, 26) ---------------------------------------------------
DISQUALIFIED = "PARTICIPANT_DISQUALIFIED"
SUSPENDED = "PARTICIPANT_SUSPENDED"
BATCH_REVOKED = "BATCH_REVOKED"  # an order holding credits of a batch the bureau takes back (Art. 26)


def withdrawal_reason(status: str, trading_status: str) -> str | None:
    """Why a participant's interest must leave the market: disqualified by the bureau (Art. 26), suspended
    in the registry or from trading by the operator, or no longer admitted (Art. 19); None while it may
    trade (active and admitted)."""
    if status == "disqualified":
        return DISQUALIFIED
    if status != "active" or trading_status != "admitted":
        return SUSPENDED
    return None


def counterparty_reason(reason: str) -> str:
    """The reason given to another participant's order that leaves with it (a proposal naming it, a bid in
    its auction): COUNTERPARTY_SUSPENDED or COUNTERPARTY_DISQUALIFIED."""
    return "COUNTERPARTY_" + reason.removeprefix("PARTICIPANT_")


def barred(uow: UnitOfWork, participant_ids: set[int]) -> dict[int, str]:
    """Of these participants, those that may not trade now, with the reason (withdrawal_reason). The rows are
    read FOR SHARE (on PostgreSQL): a status change waits for this transaction, so what it found holds until
    its commit, and a change made after that is followed by the withdrawal of what it committed."""
    if not participant_ids:
        return {}
    rows = uow.session.execute(select(Participant.id, Participant.status, Participant.trading_status).where(
        Participant.id.in_(sorted(participant_ids))).order_by(Participant.id).with_for_update(read=True))
    found = {row.id: withdrawal_reason(row.status, row.trading_status) for row in rows}
    return {participant_id: reason for participant_id, reason in found.items() if reason is not None}


def withdrawal_reason_of(uow: UnitOfWork, participant_id: int) -> str | None:
    """withdrawal_reason for one participant as it stands (read FOR SHARE, see `barred`); an unknown one has
    nothing to withdraw."""
    return barred(uow, {participant_id}).get(participant_id)


def instruments_with_open_interest(uow: UnitOfWork, participant_id: int) -> list[int]:
    """The instruments where the participant has something open (an order, listing, proposal, auction or
    bid), or is named by an open proposal: the books its withdrawal goes to."""
    return trading_repo.instruments_with_open_interest(uow.session, participant_id)


def barred_with_open_interest(uow: UnitOfWork, instrument_id: int) -> set[int]:
    """The participants that may not trade but still have something open in the instrument's book (or are
    named by an open proposal in it): a rebuilt book withdraws them first."""
    return trading_repo.barred_with_open_interest(uow.session, instrument_id)


def bids_of(uow: UnitOfWork, auction_id: int) -> list[Order]:
    """The live bids of a one-sided auction in the order they came."""
    return trading_repo.open_bids_of(uow.session, auction_id)


def book_instrument(uow: UnitOfWork, instrument_id: int) -> Instrument:
    """The instrument of the book a writer's transaction works on, read once per transaction (the session
    forgets rows nothing holds, so the unit of work's memo holds it)."""
    instrument: Instrument | None = uow.cache.memo.get("instrument") or instrument_repo.instrument(uow.session,
                                                                                                   instrument_id)
    assert instrument is not None
    uow.cache.memo["instrument"] = instrument
    return instrument


def order_view(order: Order) -> dict[str, Any]:
    """An order (listing, proposal, auction, bid) as the exchange answers it."""
    return {"id": order.id, "client_order_id": order.client_order_id, "side": order.side,
            "order_type": order.order_type, "tif": order.tif, "price_fen": order.price_fen,
            "quantity_t": order.quantity_t, "filled_t": order.filled_t, "remaining_t": order.remaining_t,
            "status": order.status, "reason": order.reason, "cash_held_fen": order.cash_held_fen,
            "created_at": order.created_at.isoformat(), "updated_at": order.updated_at.isoformat()}


# --- the plan of a command: rules over the facts loaded for it --------------------------------------------------
@dataclass(frozen=True, slots=True)
class Terms:
    """The exchange's terms a plan needs: the buyer's fee, whether bought credits wait for the next trading
    day before they can be sold, and how far ahead an expiry or an auction's end may lie."""

    fee_bp: int
    resale_lock: bool = True
    max_horizon_days: int = 365


def open_book(uow: UnitOfWork, instrument_id: int) -> Instrument:
    """The book's instrument, refusing when it is halted (Art. 20): what adds to a book needs it active."""
    instrument = book_instrument(uow, instrument_id)
    problems = trading_rules.halted(instrument.status)
    if problems:
        raise RuleViolation(problems)
    return instrument


def plan_place(uow: UnitOfWork, principal: Principal, instrument: Instrument, terms: Terms,
               band: tuple[int, int] | None, *, client_order_id: str, side: str, order_type: str,
               price_fen: int | None, quantity_t: int, tif: str | None, expires_at: datetime | None,
               protection_price_fen: int | None, request_hash: str) -> OrderPlan | Replayed:
    """The plan of an order on the central book (or the answer it was given before): what a market buy
    holds cash against (its protection price, else the top of the price `band`), its time in force, its
    expiry, then the trader's and the holds' checks (`plan_order`). The plan's order carries the resolved
    tif, hold price and expiry for the engine."""
    earlier = _earlier_answer(uow, principal, client_order_id, request_hash, "order", "订单")
    if earlier is not None:
        return earlier
    hold = trading_rules.hold_price_fen(order_type, side, price_fen, protection_price_fen, band)
    if order_type == "MARKET" and side == "buy" and hold is None:
        raise InvalidInput("A market buy needs protection_price_fen when the instrument has no band.",
                           "无价格涨跌幅限制时，市价买单须给出保护价。")
    request = OrderRequest(client_order_id=client_order_id, side=side, order_type=order_type,
                           tif=trading_rules.time_in_force(order_type, tif), price_fen=price_fen,
                           hold_price_fen=hold, quantity_t=quantity_t,
                           expires_at=_kept_instant(uow, "expires_at", expires_at, terms),
                           request_hash=request_hash)
    return plan_order(uow, principal, instrument, request, terms.fee_bp, terms.resale_lock)


def plan_hold(uow: UnitOfWork, principal: Principal, instrument: Instrument, terms: Terms, request: OrderRequest,
              instant_field: str = "expires_at") -> OrderPlan | Replayed:
    """The plan of one side of a listing, pick, proposal, auction, bid or acceptance with its hold (or the
    answer it was given before); `instant_field` names the request's expiry ("end_at" for an auction)."""
    earlier = _earlier_answer(uow, principal, request.client_order_id, request.request_hash, "request", "委托")
    if earlier is not None:
        return earlier
    request = replace(request, expires_at=_kept_instant(uow, instant_field, request.expires_at, terms))
    return plan_order(uow, principal, instrument, request, terms.fee_bp, terms.resale_lock)


def _earlier_answer(uow: UnitOfWork, principal: Principal, client_order_id: str, request_hash: str, what_en: str,
                    what_zh: str) -> Replayed | None:
    """The answer given to this client order id before, if the same request sent it; a different request
    under the same id is refused."""
    earlier = existing_order(uow, principal.participant_id, client_order_id)
    if earlier is None:
        return None
    if earlier.request_hash != request_hash:
        raise InvalidInput(f"client_order_id was already used for a different {what_en}.",
                           f"client_order_id 已用于另一笔{what_zh}。")
    return Replayed(order_view(earlier))


def _kept_instant(uow: UnitOfWork, field: str, at: datetime | None, terms: Terms) -> datetime | None:
    """The expiry or auction end a command gives, in UTC, once the rules accept it (None if it gives none)."""
    if at is None:
        return None
    problem = trading_rules.instant_problem(field, at, uow.now(), terms.max_horizon_days)
    if problem is not None:
        raise InvalidInput(problem.message_en, problem.message_zh, [problem.violation])
    return trading_rules.in_utc(at)


def parent_of(uow: UnitOfWork, instrument_id: int, order_id: int, kind: str, name_zh: str) -> Order:
    """The listing or auction a pick or bid is for, in this instrument."""
    parent = order_by_id(uow, order_id)
    if parent is None or parent.kind != kind or parent.instrument_id != instrument_id:
        raise NotFound(f"{kind.capitalize()} {order_id} not found.", f"未找到{name_zh} {order_id}。")
    return parent


def open_order_of(uow: UnitOfWork, participant_id: int, order_id: int) -> Order:
    """The participant's order (listing, auction) to cancel or amend, refused unless it is open."""
    order = get_order(uow, participant_id, order_id)
    if order.status != "open":
        raise StateConflict(f"The order is {order.status}.", f"订单状态为 {order.status}。")
    return order


def proposal_for(uow: UnitOfWork, participant_id: int, proposal_id: int) -> Order:
    """A proposal the participant made or is named in."""
    proposal = order_by_id(uow, proposal_id)
    if proposal is None or proposal.kind != "proposal" or participant_id not in (
            proposal.participant_id, proposal.counterparty_participant_id):
        raise NotFound("Proposal not found.", "未找到该协议转让申请。")
    return proposal


def instrument_of_order(uow: UnitOfWork, participant_id: int, order_id: int, any_owner: bool) -> int:
    """The instrument an order (listing, proposal, auction) is in: the participant's own, or with
    `any_owner` anyone's (the desk then checks who may act on it)."""
    row = trading_repo.order(uow.session, order_id)
    if row is None or (not any_owner and row.participant_id != participant_id):
        raise NotFound(f"{order_id} not found.", f"未找到 {order_id}。")
    return row.instrument_id

"""The exchange service: one matching engine per instrument, fed by one writer thread, settling every trade
through the registry's ledger.

A writer takes the commands queued for its instrument in a batch, applies them in order inside ONE database
transaction (a savepoint per command, so one refused hold does not spoil the rest), commits, and only then
answers the callers (group commit). Pre-trade holds are taken before the engine sees a command; if the
engine rejects it, the savepoint rolls the holds back. Should anything fail after the engine has changed, or
the commit itself fail, the whole batch is rolled back and the book is rebuilt from the database, which
holds exactly the state before the batch. On start the books are rebuilt the same way.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from matching_engine import (
    AmendOrder,
    CancelOrder,
    Engine,
    InstrumentConfig,
    OpenDay,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderExpired,
    OrderType,
    Phase,
    PlaceOrder,
    Rejected,
    Side,
    TimeInForce,
    Trade,
    to_plain,
)
from matching_engine.events import Event
from matching_engine.records import OrderState, SessionState
from registry.context import Registry
from registry.errors import DomainError, InvalidInput, RuleViolation, StateConflict
from registry.orm import EngineSession, IdempotencyKey, Instrument, Order
from registry.orm import Trade as TradeRow
from registry.principals import Principal
from registry.services import instruments, trading
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation

log = logging.getLogger("carbonx.exchange")
BATCH_LIMIT = 64
ANSWER_TIMEOUT_S = 30.0


class EngineRefusal(DomainError):
    """The matching engine refused the command (a stable reason code such as PRICE_ABOVE_BAND)."""

    status = 409
    code = "order_rejected"


class _BatchFailed(Exception):
    """Something failed after the engine changed: the batch is rolled back and the book rebuilt."""


@dataclass
class Job:
    """One caller's command waiting for its instrument's writer."""

    action: Callable[[UnitOfWork], dict[str, Any]]
    principal: Principal
    idempotency_key: str | None = None
    request_hash: str = ""
    future: Future[dict[str, Any]] = field(default_factory=Future)


def request_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def order_view(order: Order) -> dict[str, Any]:
    return {"id": order.id, "client_order_id": order.client_order_id, "side": order.side,
            "order_type": order.order_type, "tif": order.tif, "price_fen": order.price_fen,
            "quantity_t": order.quantity_t, "filled_t": order.filled_t, "remaining_t": order.remaining_t,
            "status": order.status, "reason": order.reason, "cash_held_fen": order.cash_held_fen,
            "created_at": order.created_at.isoformat(), "updated_at": order.updated_at.isoformat()}


class InstrumentDesk:
    """The single writer of one instrument's book."""

    def __init__(self, exchange: Exchange, instrument_id: int) -> None:
        self.exchange = exchange
        self.instrument_id = instrument_id
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self.lock = threading.Lock()  # readers of the in-memory book take it too
        self.engine = self._rebuild()
        self.last_ts_ms = self.engine.now_ms
        self.thread = threading.Thread(target=self._run, name=f"desk-{instrument_id}", daemon=True)
        self.thread.start()

    # --- building the book from the database ------------------------------------------------------------
    def _rebuild(self) -> Engine:
        registry = self.exchange.registry
        with registry.uow() as uow:
            instrument = uow.session.get(Instrument, self.instrument_id)
            assert instrument is not None
            engine = Engine(InstrumentConfig(instrument_id=instrument.code, **instrument.config))
            saved = uow.session.get(EngineSession, self.instrument_id)
            now_ms = int(uow.now().timestamp() * 1000)
            if saved is None:
                engine.submit(OpenDay(now_ms, uow.today().isoformat(), Phase.CONTINUOUS))
            else:
                last_trade_id = uow.session.scalar(
                    select(func.max(TradeRow.engine_trade_id)).where(TradeRow.instrument_id == self.instrument_id))
                engine.restore_session(SessionState(
                    now_ms=now_ms, next_seq=saved.next_seq, next_trade_id=(last_trade_id or 0) + 1,
                    phase=Phase.CONTINUOUS, trading_day=saved.trading_day,
                    reference_price_fen=saved.reference_price_fen, last_trade=None, bar=None))
            for order in trading.open_orders(uow, self.instrument_id):
                assert order.price_fen is not None and order.priority is not None
                engine.restore_order(OrderState(
                    order_id=order.id, account_id=str(order.participant_id), side=Side(order.side.upper()),
                    price_fen=order.price_fen, quantity_t=order.remaining_t, tif=TimeInForce(order.tif),
                    expires_at_ms=int(order.expires_at.timestamp() * 1000) if order.expires_at else None,
                    stp=engine.config.default_stp, priority=order.priority))
        return engine

    # --- the writer ---------------------------------------------------------------------------------------
    def submit(self, job: Job) -> dict[str, Any]:
        self.queue.put(job)
        return job.future.result(timeout=ANSWER_TIMEOUT_S)

    def stop(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < BATCH_LIMIT:
                try:
                    job = self.queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self.queue.put(None)
                    break
                batch.append(job)
            self._process(batch)

    def _process(self, batch: list[Job]) -> None:
        outcomes: list[tuple[Job, dict[str, Any] | None, BaseException | None]] = []
        try:
            with self.lock, self.exchange.registry.uow() as uow:
                for job in batch:
                    uow.actor = job.principal
                    try:
                        replay = self._replay(uow, job)
                    except DomainError as refusal:
                        outcomes.append((job, None, refusal))
                        continue
                    if replay is not None:
                        outcomes.append((job, replay, None))
                        continue
                    savepoint = uow.session.begin_nested()
                    try:
                        result = job.action(uow)
                    except _BatchFailed:
                        raise
                    except DomainError as refusal:
                        savepoint.rollback()
                        outcomes.append((job, None, refusal))
                        continue
                    savepoint.commit()
                    self._remember(uow, job, result)
                    outcomes.append((job, result, None))
                self._save_session(uow)
                uow.actor = None
                uow.commit()
        except Exception as exc:  # any failure here means: roll back and rebuild
            log.exception("batch of %d commands on instrument %s failed; rebuilding the book",
                          len(batch), self.instrument_id)
            with self.lock:
                self.engine = self._rebuild()
            failure = StateConflict("The exchange could not complete this command; nothing was done. Retry.",
                                    "交易系统未能完成该指令，未作任何变更，请重试。")
            failure.__cause__ = exc
            for job in batch:
                job.future.set_exception(failure)
            return
        for done, answer, error in outcomes:
            if error is not None:
                done.future.set_exception(error)
            elif answer is not None:
                done.future.set_result(answer)

    def _replay(self, uow: UnitOfWork, job: Job) -> dict[str, Any] | None:
        """The stored answer of an earlier request with the same Idempotency-Key, if any."""
        if job.idempotency_key is None:
            return None
        stored = uow.session.get(IdempotencyKey, (job.principal.user_id, job.idempotency_key))
        if stored is None:
            return None
        if stored.request_hash != job.request_hash:
            raise InvalidInput("This Idempotency-Key was used with a different request.", "该幂等键已用于不同的请求。")
        return dict(stored.response)

    def _remember(self, uow: UnitOfWork, job: Job, result: dict[str, Any]) -> None:
        if job.idempotency_key is not None:
            uow.session.add(IdempotencyKey(user_id=job.principal.user_id, key=job.idempotency_key,
                                           request_hash=job.request_hash, status_code=201, response=result,
                                           created_at=uow.now()))

    def _save_session(self, uow: UnitOfWork) -> None:
        saved = uow.session.get(EngineSession, self.instrument_id)
        if saved is None:
            saved = EngineSession(instrument_id=self.instrument_id)
            uow.session.add(saved)
        saved.next_seq = self.engine.next_seq
        saved.trading_day = self.engine.trading_day
        saved.reference_price_fen = self.engine.reference_price_fen
        saved.updated_at = uow.now()

    def ts_ms(self, uow: UnitOfWork) -> int:
        """Time for the engine: the clock's, never going backwards."""
        self.last_ts_ms = max(self.last_ts_ms, int(uow.now().timestamp() * 1000))
        return self.last_ts_ms

    # --- applying engine events -------------------------------------------------------------------------
    def apply(self, uow: UnitOfWork, instrument: Instrument, events: list[Event]) -> None:
        """Turn the engine's events into order updates and settlements, in this transaction."""
        fee_bp = self.exchange.fee_bp
        for event in events:
            if isinstance(event, OrderAccepted):
                order = uow.session.get(Order, event.order_id)
                assert order is not None
                order.priority = event.seq
            elif isinstance(event, Trade):
                buy = uow.session.get(Order, event.buy_order_id)
                sell = uow.session.get(Order, event.sell_order_id)
                assert buy is not None and sell is not None
                trading.settle(uow, instrument, engine_trade_id=event.trade_id, mode=str(event.mode),
                               price_fen=event.price_fen, quantity_t=event.quantity_t, buy=buy, sell=sell,
                               aggressor=str(event.aggressor).lower() if event.aggressor else None,
                               trading_day=self.engine.trading_day, fee_bp=fee_bp)
            elif isinstance(event, OrderCancelled):
                order = uow.session.get(Order, event.order_id)
                assert order is not None
                trading.release(uow, order, event.cancelled_t, fee_bp, status="cancelled",
                                reason=str(event.reason))
            elif isinstance(event, OrderExpired):
                order = uow.session.get(Order, event.order_id)
                assert order is not None
                trading.release(uow, order, event.expired_t, fee_bp, status="expired", reason="expired")
            elif isinstance(event, OrderAmended):
                order = uow.session.get(Order, event.order_id)
                assert order is not None
                if not event.priority_kept:
                    order.priority = event.seq
                order.price_fen = event.price_fen
                cut = event.old_quantity_t - event.quantity_t
                if cut <= 0:
                    # A raise was held before the engine saw it; a buy may now need less cash (a lower price).
                    order.remaining_t = event.quantity_t
                trading.release(uow, order, max(cut, 0), fee_bp)
                order.quantity_t = order.filled_t + order.remaining_t

    def run_engine(self, uow: UnitOfWork, instrument: Instrument, command: Any) -> list[Event]:
        """Submit to the engine; a rejection refuses the command (its holds roll back with the savepoint);
        any failure after the engine changed fails the batch."""
        events = self.engine.submit(command)
        if len(events) == 1 and isinstance(events[0], Rejected):
            reason = str(events[0].reason)
            raise EngineRefusal(f"The order was refused: {reason}.", f"订单被拒绝：{reason}。",
                                [Violation(reason, "Art. 20", None, f"撮合引擎拒绝：{reason}",
                                           f"refused by the matching engine: {reason}")])
        try:
            self.apply(uow, instrument, events)
            uow.session.flush()
        except Exception as exc:
            raise _BatchFailed(str(exc)) from exc
        return events


class Exchange:
    """Every instrument's desk in this process."""

    def __init__(self, registry: Registry, fee_bp: int) -> None:
        self.registry = registry
        self.fee_bp = fee_bp
        self._desks: dict[int, InstrumentDesk] = {}
        self._lock = threading.Lock()

    def desk(self, instrument_id: int) -> InstrumentDesk:
        with self._lock:
            desk = self._desks.get(instrument_id)
            if desk is None:
                desk = self._desks[instrument_id] = InstrumentDesk(self, instrument_id)
            return desk

    def stop(self) -> None:
        with self._lock:
            for desk in self._desks.values():
                desk.stop()
            self._desks.clear()

    # --- commands -----------------------------------------------------------------------------------------
    def place(self, principal: Principal, instrument_code: str, body: dict[str, Any],
              idempotency_key: str | None) -> dict[str, Any]:
        with self.registry.uow(principal) as uow:
            instrument = instruments.get(uow, instrument_code)
            instrument_id, status = instrument.id, instrument.status
        if status != "active":
            raise RuleViolation([Violation("HALTED", "Art. 20", "instrument", "该交易品种已暂停交易。",
                                           "Trading in this instrument is halted.")])
        desk = self.desk(instrument_id)
        digest = request_hash({"instrument": instrument_code, **body})

        def action(uow: UnitOfWork) -> dict[str, Any]:
            instrument = uow.session.get(Instrument, instrument_id)
            assert instrument is not None
            earlier = trading.existing_order(uow, principal.participant_id, body["client_order_id"])
            if earlier is not None:
                if earlier.request_hash != digest:
                    raise InvalidInput("client_order_id was already used for a different order.",
                                       "client_order_id 已用于另一笔订单。")
                return order_view(earlier)
            hold_price = body.get("price_fen")
            if body["order_type"] == "MARKET" and body["side"] == "buy":
                band = desk.engine.price_band()
                hold_price = body.get("protection_price_fen") or (band[1] if band else None)
                if hold_price is None:
                    raise InvalidInput("A market buy needs protection_price_fen when the instrument has no band.",
                                       "无价格涨跌幅限制时，市价买单须给出保护价。")
            tif = body.get("tif") or ("IOC" if body["order_type"] == "MARKET" else "GTC")
            expires_at: datetime | None = body.get("expires_at")
            order = trading.open_order(uow, principal, instrument, trading.OrderRequest(
                client_order_id=body["client_order_id"], side=body["side"], order_type=body["order_type"], tif=tif,
                price_fen=body.get("price_fen"), hold_price_fen=hold_price, quantity_t=body["quantity_t"],
                expires_at=expires_at, request_hash=digest), self.fee_bp)
            uow.session.flush()
            desk.run_engine(uow, instrument, PlaceOrder(
                ts_ms=desk.ts_ms(uow), order_id=order.id, account_id=str(principal.participant_id),
                side=Side(body["side"].upper()), quantity_t=body["quantity_t"], price_fen=body.get("price_fen"),
                order_type=OrderType(body["order_type"]), tif=TimeInForce(tif),
                expires_at_ms=int(expires_at.timestamp() * 1000) if expires_at else None,
                protection_price_fen=hold_price if body["order_type"] == "MARKET" else None))
            return order_view(order)

        return desk.submit(Job(action, principal, idempotency_key, digest))

    def cancel(self, principal: Principal, order_id: int) -> dict[str, Any]:
        desk, _ = self._desk_for_order(principal, order_id)

        def action(uow: UnitOfWork) -> dict[str, Any]:
            order = trading.get_order(uow, principal.participant_id, order_id)
            instrument = uow.session.get(Instrument, order.instrument_id)
            assert instrument is not None
            if order.status != "open":
                raise StateConflict(f"The order is {order.status}.", f"订单状态为 {order.status}。")
            desk.run_engine(uow, instrument, CancelOrder(desk.ts_ms(uow), order.id, str(principal.participant_id)))
            return order_view(order)

        return desk.submit(Job(action, principal))

    def amend(self, principal: Principal, order_id: int, quantity_t: int | None,
              price_fen: int | None) -> dict[str, Any]:
        desk, _ = self._desk_for_order(principal, order_id)

        def action(uow: UnitOfWork) -> dict[str, Any]:
            order = trading.get_order(uow, principal.participant_id, order_id)
            instrument = uow.session.get(Instrument, order.instrument_id)
            assert instrument is not None
            if order.status != "open":
                raise StateConflict(f"The order is {order.status}.", f"订单状态为 {order.status}。")
            extra = (quantity_t - order.remaining_t) if quantity_t is not None else 0
            trading.add_hold(uow, order, instrument, extra, price_fen if order.side == "buy" else None, self.fee_bp)
            desk.run_engine(uow, instrument, AmendOrder(desk.ts_ms(uow), order.id, str(principal.participant_id),
                                                        quantity_t=quantity_t, price_fen=price_fen))
            return order_view(order)

        return desk.submit(Job(action, principal))

    def _desk_for_order(self, principal: Principal, order_id: int) -> tuple[InstrumentDesk, int]:
        with self.registry.uow(principal) as uow:
            order = trading.get_order(uow, principal.participant_id, order_id)
            instrument_id = order.instrument_id
        return self.desk(instrument_id), instrument_id

    # --- market data from the live book -------------------------------------------------------------------
    def depth(self, instrument_id: int, levels: int) -> dict[str, Any]:
        desk = self.desk(instrument_id)
        with desk.lock:
            depth = desk.engine.depth(levels)
            top = desk.engine.top_of_book()
            band = desk.engine.price_band()
            return {"depth": to_plain(depth), "top": to_plain(top), "price_band_fen": list(band) if band else None,
                    "reference_price_fen": desk.engine.reference_price_fen, "bar": to_plain(desk.engine.bar())}


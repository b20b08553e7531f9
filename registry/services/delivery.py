"""Delivery versus payment in the registry's ledger: a trade moves the seller's held serial blocks to the buyer
and the buyer's held cash to the seller (the fee to the exchange), and an order leaving the book gives back
what it held for its open quantity. The writer calls these through settlement.apply, in its transaction.

What an order holds is worked out and taken by trading.py (the plan of a command); this module spends or
releases it. Money in fen, carbon in whole tonnes."""

from __future__ import annotations

from registry import ledger, serials
from registry.orm import Instrument, Order
from registry.repositories import trading as trading_repo
from registry.services import balances, holdings, ledger_accounts, serial_blocks

# What an order holds and what a buy must keep held are trading's: its plan of a command takes the holds.
from registry.services.trading import _held, cash_needed, fee_fen, next_trading_day
from registry.unit_of_work import UnitOfWork


def _take_held(order: Order, quantity_t: int) -> list[serials.Block]:
    """The order's lowest held serials for `quantity_t`; the rest stay recorded on the order."""
    taken, rest = serials.take_lowest(_held(order), quantity_t)
    untouched = [b for b in _held(order) if not any(t.batch_id == b.batch_id and b.start <= t.start <= b.end
                                                    for t in taken)]
    order.held_blocks = [[b.batch_id, b.start, b.end] for b in sorted(rest + untouched)]
    return taken


def release(uow: UnitOfWork, order: Order, quantity_t: int, fee_bp: int, status: str | None = None,
            reason: str | None = None) -> None:
    """`quantity_t` of the order's open quantity leaves the book: give back what it held for them."""
    order.remaining_t -= quantity_t
    if order.side == "sell" and quantity_t:
        holdings.move_credits(uow, "order_release", source=(order.account_id, ledger.HELD),
                              target=(order.account_id, ledger.AVAILABLE), ranges=_take_held(order, quantity_t),
                              reference=f"order:{order.id}")
    if order.side == "buy":
        assert order.hold_price_fen is not None
        keep = cash_needed(order.remaining_t, order.hold_price_fen, fee_bp) if order.remaining_t else 0
        surplus = order.cash_held_fen - keep
        if surplus:
            balances.post(uow, "order_release", ledger.move(ledger.CASH, surplus, (order.account_id, ledger.HELD),
                                                            (order.account_id, ledger.AVAILABLE)),
                          reference=f"order:{order.id}")
        order.cash_held_fen = keep
    if order.remaining_t == 0 and status:
        order.status = status
        order.reason = reason
    order.updated_at = uow.now()


def prepare_settlement(uow: UnitOfWork, pairs: list[tuple[Order, Order]]) -> None:
    """Read the sellers' held blocks that settling these (buy, sell) pairs will deliver, in one query instead
    of one per trade. (Their balances are not read: a trade only spends holds and credits, see
    TransactionCache.unread_changes.)"""
    unknown = [sell for _, sell in pairs
               if sell.held_blocks and serial_blocks.known_blocks_holding(uow, (sell.account_id, ledger.HELD),
                                                                    _held(sell)) is None]
    sellers = {sell.account_id for sell in unknown}
    batches = {batch_id for sell in unknown for batch_id, _, _ in sell.held_blocks}
    if sellers:
        serial_blocks.load_blocks(uow, sellers, {ledger.HELD}, sorted(batches))


def settle(uow: UnitOfWork, instrument: Instrument, *, engine_trade_id: int, mode: str, price_fen: int,
           quantity_t: int, buy: Order, sell: Order, aggressor: str | None, trading_day: str,
           fee_bp: int, resale_lock: bool = True) -> None:
    """Delivery versus payment, in the caller's transaction: cash (buyer → seller, fee → exchange) and the
    seller's held serial ranges (→ buyer), with the buyer's surplus hold released."""
    notional = price_fen * quantity_t
    fee = fee_fen(notional, fee_bp)
    buy.remaining_t -= quantity_t
    buy.filled_t += quantity_t
    assert buy.hold_price_fen is not None
    keep = cash_needed(buy.remaining_t, buy.hold_price_fen, fee_bp) if buy.remaining_t else 0
    surplus = buy.cash_held_fen - notional - fee - keep
    if surplus < 0:
        raise AssertionError(f"order {buy.id} held too little cash")  # prevented by the holds; never expected
    fee_account_id = ledger_accounts.fee_account_id(uow)
    legs = [
        ledger.Leg(buy.account_id, ledger.CASH, ledger.HELD, -(notional + fee + surplus)),
        ledger.Leg(sell.account_id, ledger.CASH, ledger.AVAILABLE, notional),
        ledger.Leg(buy.account_id, ledger.CASH, ledger.AVAILABLE, surplus),
        ledger.Leg(fee_account_id, ledger.CASH, ledger.AVAILABLE, fee),
    ]
    ranges = _take_held(sell, quantity_t)
    cash_entry = balances.post(uow, "trade_payment", [leg for leg in legs if leg.amount],
                               reference=f"{instrument.code}:{engine_trade_id}")
    buy.cash_held_fen = keep
    delivery = holdings.move_credits(uow, "trade_delivery", source=(sell.account_id, ledger.HELD),
                                     target=(buy.account_id, ledger.AVAILABLE), ranges=ranges,
                                     reference=f"{instrument.code}:{engine_trade_id}",
                                     lock_until=next_trading_day(uow, uow.today()) if resale_lock else None)
    sell.remaining_t -= quantity_t
    sell.filled_t += quantity_t
    for order in (buy, sell):
        order.updated_at = uow.now()
        if order.remaining_t == 0:
            order.status = "filled"
    # A trade row is never changed: appended (after the entries it names and the orders, see Statements.add_new).
    uow.sql.append("trades", {"id": uow.sql.next_id("trades"), "instrument_id": instrument.id,
                              "engine_trade_id": engine_trade_id, "mode": mode, "price_fen": price_fen,
                              "quantity_t": quantity_t, "buy_order_id": buy.id, "sell_order_id": sell.id,
                              "aggressor": aggressor, "fee_fen": fee, "cash_entry_id": cash_entry.id,
                              "credit_entry_id": delivery.entry.id, "trading_day": trading_day,
                              "created_at": uow.now()})


def acceptance_of(uow: UnitOfWork, proposal_id: int) -> Order:
    """The counterparty's side of an accepted proposal (recorded in this transaction, or read)."""
    found = next((o for key, o in uow.cache.memo.items() if key[0] == "order_id" and o.kind == "acceptance"
                  and o.parent_order_id == proposal_id), None) or trading_repo.acceptance_of(uow.session, proposal_id)
    assert found is not None, f"proposal {proposal_id} traded without an acceptance"
    return found

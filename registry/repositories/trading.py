"""Queries of orders (of every trade mode) and trades: a participant's orders and fills, an instrument's trades
and open book, proposals, auctions and their bids, and who still has something open where. The writer's own
reads of orders (cached per transaction) stay with it in registry/services/trading.py."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.orm import Order, Participant, Trade


def orders_of(session: Session, participant_id: int, status: str | None, limit: int,
              before_id: int | None = None) -> list[Order]:
    """A participant's orders, newest first; `before_id` continues after the last page."""
    query = select(Order).where(Order.participant_id == participant_id)
    if status:
        query = query.where(Order.status == status)
    if before_id is not None:
        query = query.where(Order.id < before_id)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(limit)))


def fills_of(session: Session, participant_id: int, limit: int,
             before_id: int | None = None) -> list[tuple[Trade, str]]:
    """A participant's trades with its side in each, newest first; `before_id` continues after the last page."""
    mine = select(Order.id).where(Order.participant_id == participant_id)
    query = select(Trade).where(Trade.buy_order_id.in_(mine) | Trade.sell_order_id.in_(mine))
    if before_id is not None:
        query = query.where(Trade.id < before_id)
    rows = session.scalars(query.order_by(Trade.id.desc()).limit(limit))
    own = set(session.scalars(mine))
    return [(t, "buy" if t.buy_order_id in own else "sell") for t in rows]


def recent_trades(session: Session, instrument_id: int, limit: int, before_id: int | None = None) -> list[Trade]:
    """An instrument's trades, newest first; `before_id` continues after the last page."""
    query = select(Trade).where(Trade.instrument_id == instrument_id)
    if before_id is not None:
        query = query.where(Trade.id < before_id)
    return list(session.scalars(query.order_by(Trade.id.desc()).limit(limit)))


def trades_by_day(session: Session, instrument_id: int, since_day: str | None = None,
                  only_day: str | None = None) -> list[Trade]:
    """An instrument's trades in the order they happened, from `since_day` or of `only_day` (trading days)."""
    query = select(Trade).where(Trade.instrument_id == instrument_id)
    if since_day:
        query = query.where(Trade.trading_day >= since_day)
    if only_day:
        query = query.where(Trade.trading_day == only_day)
    return list(session.scalars(query.order_by(Trade.id)))


def trades_of_order(session: Session, order_id: int) -> list[Trade]:
    """The trades an order (an auction) took part in, on either side, in the order they happened."""
    return list(session.scalars(select(Trade).where(
        (Trade.buy_order_id == order_id) | (Trade.sell_order_id == order_id)).order_by(Trade.id)))


def open_orders(session: Session, instrument_id: int, kind: str = "order") -> list[Order]:
    """The open orders, listings or proposals of an instrument in time priority."""
    query = select(Order).where(Order.instrument_id == instrument_id, Order.status == "open", Order.kind == kind)
    if kind in ("order", "listing"):
        query = query.where(Order.priority.is_not(None))
    return list(session.scalars(query.order_by(Order.priority, Order.id)))


def open_bids_of(session: Session, auction_id: int) -> list[Order]:
    """The open bids of an auction in the order they came."""
    return list(session.scalars(select(Order).where(Order.parent_order_id == auction_id, Order.kind == "bid",
                                                    Order.status == "open").order_by(Order.priority)))


def auctions_of(session: Session, instrument_id: int, status: str | None, limit: int) -> list[Order]:
    """An instrument's auctions, newest first."""
    query = select(Order).where(Order.instrument_id == instrument_id, Order.kind == "auction")
    if status:
        query = query.where(Order.status == status)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(limit)))


def proposals_for(session: Session, participant_id: int, limit: int) -> list[Order]:
    """Proposals the participant made or is named in, newest first."""
    return list(session.scalars(
        select(Order).where(Order.kind == "proposal",
                            (Order.participant_id == participant_id)
                            | (Order.counterparty_participant_id == participant_id))
        .order_by(Order.id.desc()).limit(limit)))


def instruments_with_open_interest(session: Session, participant_id: int) -> list[int]:
    """The instruments where the participant has something open, or is named by an open proposal, by id."""
    own = select(Order.instrument_id).where(Order.participant_id == participant_id, Order.status == "open")
    named = select(Order.instrument_id).where(Order.counterparty_participant_id == participant_id,
                                              Order.status == "open")
    return sorted(set(session.scalars(own.distinct())) | set(session.scalars(named.distinct())))


def barred_with_open_interest(session: Session, instrument_id: int) -> set[int]:
    """The participants not active or not admitted that have something open in the instrument's book, or are
    named by an open proposal in it."""
    may_not = (Participant.status != "active") | (Participant.trading_status != "admitted")
    open_here = (Order.instrument_id == instrument_id) & (Order.status == "open")
    own = select(Order.participant_id).join(Participant, Participant.id == Order.participant_id).where(
        open_here, may_not)
    named = select(Order.counterparty_participant_id).join(
        Participant, Participant.id == Order.counterparty_participant_id).where(open_here, may_not)
    return set(session.scalars(own.distinct())) | set(session.scalars(named.distinct()))


def order(session: Session, order_id: int) -> Order | None:
    return session.get(Order, order_id)


def orders_by_ids(session: Session, order_ids: list[int]) -> list[Order]:
    """These orders (those that exist), in one query."""
    return list(session.scalars(select(Order).where(Order.id.in_(order_ids))))


def acceptance_of(session: Session, proposal_id: int) -> Order | None:
    """The counterparty's side (kind "acceptance") of a proposal it accepted."""
    return session.scalar(select(Order).where(Order.parent_order_id == proposal_id, Order.kind == "acceptance"))

"""What the market has recorded, for the routes and the CSV exports: a participant's orders and fills, an
instrument's trades and daily bars, the day's summary (Art. 24), the negotiated-transfer inbox and auctions
with what they allocated. Reads only; the queries are registry/repositories/trading.py's."""

from __future__ import annotations

from typing import Any

from registry.orm import Order, Trade
from registry.repositories import trading as trading_repo
from registry.services import instruments
from registry.unit_of_work import UnitOfWork


def orders_of(uow: UnitOfWork, participant_id: int, status: str | None, limit: int,
              before_id: int | None = None) -> list[Order]:
    """A participant's orders, newest first; `before_id` continues after the last page (CSV exports)."""
    return trading_repo.orders_of(uow.session, participant_id, status, limit, before_id)


def fills_of(uow: UnitOfWork, participant_id: int, limit: int,
             before_id: int | None = None) -> list[tuple[Trade, str]]:
    """Your trades with your side in each, newest first; `before_id` continues after the last page."""
    return trading_repo.fills_of(uow.session, participant_id, limit, before_id)


def recent_trades(uow: UnitOfWork, instrument_id: int, limit: int, before_id: int | None = None) -> list[Trade]:
    """An instrument's trades, newest first; `before_id` continues after the last page."""
    return trading_repo.recent_trades(uow.session, instrument_id, limit, before_id)


def proposals_for(uow: UnitOfWork, participant_id: int, limit: int) -> list[Order]:
    """Proposals you made or received (the negotiated-transfer inbox), newest first."""
    return trading_repo.proposals_for(uow.session, participant_id, limit)


def daily_bars(uow: UnitOfWork, instrument_id: int, since_day: str | None = None,
               only_day: str | None = None) -> list[dict[str, int | str]]:
    """Per trading day: open, high, low, close, volume, turnover and trade count, from the settled trades."""
    bars: dict[str, dict[str, int | str]] = {}
    for t in trading_repo.trades_by_day(uow.session, instrument_id, since_day, only_day):
        bar = bars.get(t.trading_day)
        if bar is None:
            bar = bars[t.trading_day] = {"trading_day": t.trading_day, "open_fen": t.price_fen, "high_fen": t.price_fen,
                                         "low_fen": t.price_fen, "close_fen": t.price_fen, "volume_t": 0,
                                         "turnover_fen": 0, "trades": 0}
        bar["high_fen"] = max(int(bar["high_fen"]), t.price_fen)
        bar["low_fen"] = min(int(bar["low_fen"]), t.price_fen)
        bar["close_fen"] = t.price_fen
        bar["volume_t"] = int(bar["volume_t"]) + t.quantity_t
        bar["turnover_fen"] = int(bar["turnover_fen"]) + t.quantity_t * t.price_fen
        bar["trades"] = int(bar["trades"]) + 1
    return list(bars.values())


def daily_summary(uow: UnitOfWork, trading_day: str) -> dict[str, Any]:
    """Every instrument's bar of the day and the totals: the trade information Art. 24 has published."""
    rows: list[dict[str, Any]] = []
    volume = turnover = 0
    for instrument in instruments.all_instruments(uow):
        bars = daily_bars(uow, instrument.id, only_day=trading_day)
        if bars:
            volume += int(bars[0]["volume_t"])
            turnover += int(bars[0]["turnover_fen"])
        rows.append({"instrument": instrument.code, "name_zh": instrument.name_zh, "name_en": instrument.name_en,
                     "bar": bars[0] if bars else None})
    return {"trading_day": trading_day, "instruments": rows, "volume_t": volume, "turnover_fen": turnover}


def auctions(uow: UnitOfWork, instrument_id: int, status: str | None) -> list[Order]:
    return trading_repo.auctions_of(uow.session, instrument_id, status, 200)


def auction_result(uow: UnitOfWork, auction: Order) -> dict[str, Any]:
    """What an auction allocated: its trades' prices and quantities (never the bidders, never open bids)."""
    rows = trading_repo.trades_of_order(uow.session, auction.id)
    return {"allocated_t": sum(t.quantity_t for t in rows), "trades": len(rows),
            "prices_fen": sorted({t.price_fen for t in rows}),
            "turnover_fen": sum(t.quantity_t * t.price_fen for t in rows)}

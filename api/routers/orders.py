"""Continuous trading (竞价交易, Art. 20): orders, cancels, amends, my orders and fills, and the book."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response, WebSocket, WebSocketDisconnect
from pydantic import Field, StringConstraints, model_validator

from api.answers.orders import (
    BookOut,
    DailyBarOut,
    FillOut,
    MarketSummaryOut,
    MyOrderOut,
    OrderBatchOut,
    OrderOut,
    TradeOut,
    batch_item_out,
    fill_out,
    my_order_out,
    trade_out,
)
from api.deps import PUBLIC, Services, allow, count_as_requests, get_services, marked_if_replayed
from api.exchange.commands import Amend, Cancel, Place
from api.schemas import BoundedDate, BoundedInstant, IdempotencyKeyHeader, OneLine, PathId, Strict
from registry.errors import DomainError, InvalidInput
from registry.principals import Principal
from registry.services import instruments, trade_records

router = APIRouter(tags=["trading"])

InstrumentCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9\-]{2,39}$"), OneLine]
Price = Annotated[int, Field(ge=1, le=10**9, description="Fen per tonne.")]
Quantity = Annotated[int, Field(ge=1, le=10**9, description="Whole tonnes.")]


class OrderIn(Strict):
    instrument: InstrumentCode
    client_order_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-.:]{1,64}$"), OneLine]
    side: Literal["buy", "sell"]
    order_type: Literal["LIMIT", "MARKET"] = "LIMIT"
    price_fen: Price | None = None
    quantity_t: Quantity
    tif: Literal["GTC", "DAY", "GTD", "IOC", "FOK"] | None = None
    expires_at: BoundedInstant | None = None
    protection_price_fen: Price | None = None

    @model_validator(mode="after")
    def _shape(self) -> OrderIn:
        if self.order_type == "LIMIT" and self.price_fen is None:
            raise ValueError("a LIMIT order needs price_fen")
        if self.order_type == "MARKET" and self.price_fen is not None:
            raise ValueError("a MARKET order has no price_fen (use protection_price_fen)")
        if (self.tif == "GTD") != (self.expires_at is not None):
            raise ValueError("expires_at goes with tif GTD, and only with it")
        return self

    def command(self, principal: Principal, idempotency_key: str | None = None) -> Place:
        """The order as the exchange's command (the instrument routes it, see Exchange.place)."""
        return Place(principal=principal, idempotency_key=idempotency_key, **self.model_dump(exclude={"instrument"}))


ORDER_BATCH_MAX = 50  # commands in one batch request: a market maker's ladder, re-quoted at once
OrderIdIn = Annotated[int, Field(ge=1, le=2**31 - 1)]


class OrderBatchIn(Strict):
    cancel: list[OrderIdIn] = Field(default_factory=list, max_length=ORDER_BATCH_MAX,
                                    description="Your open orders to cancel (carried out first).")
    place: list[OrderIn] = Field(default_factory=list, max_length=ORDER_BATCH_MAX,
                                 description="Orders to place, in this order.")

    @model_validator(mode="after")
    def _shape(self) -> OrderBatchIn:
        if not self.cancel and not self.place:
            raise ValueError("a batch cancels or places at least one order")
        if len(self.cancel) + len(self.place) > ORDER_BATCH_MAX:
            raise ValueError(f"a batch holds at most {ORDER_BATCH_MAX} commands")
        if len(set(self.cancel)) < len(self.cancel):
            raise ValueError("an order is cancelled twice in one batch")
        if len({o.client_order_id for o in self.place}) < len(self.place):
            raise ValueError("two orders of one batch have the same client_order_id")
        return self


class AmendIn(Strict):
    quantity_t: Quantity | None = None
    price_fen: Price | None = None


@router.post("/orders", status_code=201, response_model=OrderOut)
async def place_order(body: OrderIn, response: Response, idempotency_key: IdempotencyKeyHeader = None,
                      principal: Principal = Depends(allow("trader")),
                      services: Services = Depends(get_services)) -> dict[str, Any]:
    """Place a limit or market order; credits (sell) or cash plus fee (buy) are held first. A repeated
    client_order_id answers the order as it stands, a repeated Idempotency-Key the first answer; either is
    marked `Idempotent-Replayed: true`."""
    return marked_if_replayed(response, await services.exchange.place(
        body.instrument, body.command(principal, idempotency_key)))


@router.post("/orders/batch", response_model=OrderBatchOut, response_model_exclude_unset=True)
async def order_batch(body: OrderBatchIn, idempotency_key: IdempotencyKeyHeader = None,
                      principal: Principal = Depends(allow("trader")),
                      services: Services = Depends(get_services)) -> dict[str, Any]:
    """Cancel and place up to 50 orders in one request (re-quoting a ladder): the cancels first, then the
    places, each carried out or refused on its own exactly as if sent alone — one refusal does not stop the
    rest. Every item answers with `status` (200 cancelled, 201 placed, else the refusal's 4xx) and `order` or
    `problem`. A retry is safe: a place repeats its client_order_id and gets its order back (the item then
    says `"replayed": true`); a cancel
    of an order already cancelled is refused and changes nothing. (No Idempotency-Key: a batch may span
    books, each committed on its own; the client_order_ids are its idempotency.)"""
    if idempotency_key is not None:
        raise InvalidInput("A batch takes no Idempotency-Key: its orders' client_order_ids make a retry safe.",
                           "批量指令不接受 Idempotency-Key：以各订单的 client_order_id 保证重试安全。")
    await count_as_requests(services, principal, len(body.cancel) + len(body.place) - 1)  # the request counted one
    cancelled, placed = await services.exchange.order_batch(
        principal, [Cancel(principal=principal, order_id=order_id) for order_id in body.cancel],
        [(o.instrument, o.command(principal)) for o in body.place])
    return {"cancel": [batch_item_out(outcome, 200) for outcome in cancelled],
            "place": [batch_item_out(outcome, 201) for outcome in placed]}


@router.delete("/orders/{order_id}", response_model=OrderOut)
async def cancel_order(order_id: PathId, principal: Principal = Depends(allow("trader")),
                       services: Services = Depends(get_services)) -> dict[str, Any]:
    """Cancel the open rest of your order; its holds are released."""
    return await services.exchange.cancel(Cancel(principal=principal, order_id=order_id))


@router.patch("/orders/{order_id}", response_model=OrderOut)
async def amend_order(order_id: PathId, body: AmendIn, principal: Principal = Depends(allow("trader")),
                      services: Services = Depends(get_services)) -> dict[str, Any]:
    """Change the open quantity and/or price: a cut keeps time priority, a raise or a new price loses it."""
    return await services.exchange.amend(Amend(principal=principal, order_id=order_id, quantity_t=body.quantity_t,
                                               price_fen=body.price_fen))


@router.get("/orders", response_model=list[MyOrderOut])
def my_orders(status: Literal["open", "filled", "cancelled", "expired", "rejected"] | None = None,
              limit: int = Query(100, ge=1, le=500), principal: Principal = Depends(allow("trader")),
              services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """Your orders of every trade mode, newest first; `kind` says which (order, listing, pick, proposal,
    acceptance, auction, bid)."""
    with services.registry.uow(principal) as uow:
        return [my_order_out(o) for o in trade_records.orders_of(uow, principal.participant_id, status, limit)]


@router.get("/fills", response_model=list[FillOut])
def my_fills(limit: int = Query(100, ge=1, le=500), principal: Principal = Depends(allow("trader")),
             services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """Your trades, newest first, with your side and the fee."""
    with services.registry.uow(principal) as uow:
        return [fill_out(t, side) for t, side in trade_records.fills_of(uow, principal.participant_id, limit)]


@router.get("/market/{code}/depth", response_model=BookOut)
async def market_depth(code: InstrumentCode, levels: int = Query(5, ge=1, le=50),
                       viewer: Principal | None = Depends(PUBLIC),
                       services: Services = Depends(get_services)) -> dict[str, Any]:
    """The live book: depth by price level, best bid and ask, the price band and today's bar."""
    return await services.exchange.depth(viewer, await services.exchange.instrument_id_async(code), levels)


@router.get("/market/{code}/trades", response_model=list[TradeOut])
def market_trades(code: InstrumentCode, limit: int = Query(50, ge=1, le=500), _: Principal | None = Depends(PUBLIC),
                  services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """Recent trades of an instrument (no counterparties: Art. 24 publishes trade information, not identities)."""
    with services.registry.uow() as uow:
        instrument = instruments.get(uow, code)
        return [trade_out(t) for t in trade_records.recent_trades(uow, instrument.id, limit)]



@router.websocket("/ws/market/{code}")
async def market_stream(websocket: WebSocket,
                        code: Annotated[str, StringConstraints(max_length=40), OneLine]) -> None:
    """Public market data, live: the book as it stands on connecting, then every trade and book change.
    (Public like GET /market/{code}/depth; no identities are ever sent.)"""
    services: Services = websocket.app.state.services
    try:
        instrument_id = await services.exchange.instrument_id_async(code)
    except DomainError:
        await websocket.close(code=4404)
        return
    await websocket.accept()
    try:
        async with services.exchange.broker.subscribe(code) as messages:
            snapshot = await services.exchange.depth(None, instrument_id, 10)
            await websocket.send_json({"type": "book", "instrument": code, **snapshot})
            async for message in messages:
                await websocket.send_json(message)
    except WebSocketDisconnect:
        return


@router.get("/market/{code}/ohlcv", response_model=list[DailyBarOut])
def market_ohlcv(code: InstrumentCode, since: BoundedDate | None = None, _: Principal | None = Depends(PUBLIC),
                 services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """Daily open, high, low, close, volume (t) and turnover (fen) of an instrument."""
    with services.registry.uow() as uow:
        instrument = instruments.get(uow, code)
        return trade_records.daily_bars(uow, instrument.id, since_day=since.isoformat() if since else None)


@router.get("/market/summary", response_model=MarketSummaryOut)
def market_summary(day: BoundedDate | None = None, _: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> dict[str, Any]:
    """The day's trading summary the bureau publishes (Art. 24): every instrument's bar and the totals."""
    with services.registry.uow() as uow:
        return trade_records.daily_summary(uow, (day or uow.today()).isoformat())

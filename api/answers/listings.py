"""Answers of the trade modes beside the order book (Art. 20): the listing board (挂牌点选), the negotiated-
transfer inbox (协议转让) and one-sided auctions (单向竞价) with their results — never the sealed bids.
A listing, pick, proposal, auction or bid itself answers as an order (api/answers/orders.py)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from api.answers.orders import OrderOut, order_view
from registry.orm import Order


class ListingOut(BaseModel):
    """A listing on the board as a trader may pick from it (`batch_id` as the engine names it)."""

    listing_id: int
    side: str
    price_fen: int
    quantity_t: int
    min_pick_t: int
    batch_id: str | None
    expires_at_ms: int | None
    restricted: bool


class ListingBoardOut(BaseModel):
    items: list[ListingOut]


class ProposalOut(OrderOut):
    """A proposal you made or received, with who proposed it to whom and until when."""

    counterparty_participant_id: int | None
    initiator_participant_id: int
    expires_at: str | None


def proposal_out(proposal: Order) -> dict[str, Any]:
    return order_view(proposal) | {"counterparty_participant_id": proposal.counterparty_participant_id,
                                   "initiator_participant_id": proposal.participant_id,
                                   "expires_at": proposal.expires_at.isoformat() if proposal.expires_at else None}


class AuctionResultOut(BaseModel):
    """What an auction allocated: its trades' prices and quantities (never the bidders)."""

    allocated_t: int
    trades: int
    prices_fen: list[int]
    turnover_fen: int


class AuctionOut(BaseModel):
    """An auction with its lot, reserve, end and, once closed, its result."""

    id: int
    side: str
    quantity_t: int
    reserve_price_fen: int | None
    pricing: str
    end_at: str | None
    status: str
    result: AuctionResultOut | None


def auction_out(auction: Order, result: dict[str, Any] | None) -> dict[str, Any]:
    """The auction's answer; `result` is what it allocated (None while it is open)."""
    return {"id": auction.id, "side": auction.side, "quantity_t": auction.quantity_t,
            "reserve_price_fen": auction.price_fen, "pricing": auction.order_type,
            "end_at": auction.expires_at.isoformat() if auction.expires_at else None, "status": auction.status,
            "result": result}

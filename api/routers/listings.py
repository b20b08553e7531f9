"""Listing-pick (挂牌点选), negotiated transfer (协议转让) and one-sided auctions (单向竞价), Art. 20: the
trade modes beside the order book."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import Field, StringConstraints, model_validator

from api.answers.listings import AuctionOut, ListingBoardOut, ProposalOut, auction_out, proposal_out
from api.answers.orders import OrderOut
from api.deps import PUBLIC, Services, allow, get_services, marked_if_replayed
from api.exchange.commands import (
    ANYONE,
    Accept,
    Bid,
    Browse,
    CancelAuction,
    CancelListing,
    OpenAuction,
    Pick,
    PostListing,
    Propose,
    Reject,
    Withdraw,
)
from api.schemas import BoundedInstant, OneLine, PathId, Strict
from registry.principals import Principal
from registry.services import instruments, trade_records

router = APIRouter(tags=["trading"])

InstrumentCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9\-]{2,39}$"), OneLine]
ClientId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_\-.:]{1,64}$"), OneLine]
Price = Annotated[int, Field(ge=1, le=10**9, description="Fen per tonne.")]
Quantity = Annotated[int, Field(ge=1, le=10**9, description="Whole tonnes.")]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class ListingIn(Strict):
    instrument: InstrumentCode
    client_order_id: ClientId
    side: Literal["buy", "sell"] = "sell"
    price_fen: Price
    quantity_t: Quantity
    min_pick_t: Quantity = 1
    expires_at: BoundedInstant | None = None
    batch_id: Id | None = Field(None, description="Offer (or ask for) one specific batch only.")
    allowed_counterparties: list[Id] | None = Field(None, max_length=50,
                                                    description="Participant ids who may pick; omit for anyone.")

    @model_validator(mode="after")
    def _pick_size(self) -> ListingIn:
        if self.min_pick_t > self.quantity_t:
            raise ValueError("min_pick_t must not exceed quantity_t")
        return self


class PickIn(Strict):
    client_order_id: ClientId
    quantity_t: Quantity


class ProposalIn(Strict):
    instrument: InstrumentCode
    client_order_id: ClientId
    counterparty_participant_id: Id
    side: Literal["buy", "sell"]
    price_fen: Price
    quantity_t: Quantity
    expires_at: BoundedInstant
    batch_id: Id | None = None


@router.post("/listings", status_code=201, response_model=OrderOut)
async def post_listing(body: ListingIn, response: Response, principal: Principal = Depends(allow("trader")),
                       services: Services = Depends(get_services)) -> dict[str, Any]:
    """Post a listing (挂牌); what it offers (credits) or would pay (cash plus fee) is held until picked."""
    return marked_if_replayed(response, await services.exchange.post_listing(
        body.instrument, PostListing(principal=principal, **body.model_dump(exclude={"instrument"}))))


@router.get("/listings", response_model=ListingBoardOut)
async def browse_listings(instrument: InstrumentCode, side: Literal["buy", "sell"] = "sell", batch_id: Id | None = None,
                          min_price_fen: Price | None = None, max_price_fen: Price | None = None,
                          min_quantity_t: Quantity | None = None, offset: int = Query(0, ge=0, le=100_000),
                          limit: int = Query(20, ge=1, le=100), viewer: Principal | None = Depends(PUBLIC),
                          services: Services = Depends(get_services)) -> dict[str, Any]:
    """The listing board, best price first then oldest; restricted listings only for those allowed."""
    return await services.exchange.browse(instrument, Browse(
        principal=viewer or ANYONE, side=side, batch_id=batch_id, min_price_fen=min_price_fen,
        max_price_fen=max_price_fen, min_quantity_t=min_quantity_t, offset=offset, limit=limit))


@router.post("/listings/{listing_id}/pick", status_code=201, response_model=OrderOut)
async def pick_listing(listing_id: PathId, body: PickIn, response: Response,
                       principal: Principal = Depends(allow("trader")),
                       services: Services = Depends(get_services)) -> dict[str, Any]:
    """Pick (点选) a quantity of a listing at its price: at least its minimum pick, or all that is left."""
    return marked_if_replayed(response, await services.exchange.pick(
        Pick(principal=principal, listing_id=listing_id, **body.model_dump())))


@router.delete("/listings/{listing_id}", response_model=OrderOut)
async def withdraw_listing(listing_id: PathId, principal: Principal = Depends(allow("trader")),
                           services: Services = Depends(get_services)) -> dict[str, Any]:
    """Take the rest of your listing off the board; its hold is released."""
    return await services.exchange.cancel_listing(CancelListing(principal=principal, order_id=listing_id))


@router.post("/proposals", status_code=201, response_model=OrderOut)
async def propose(body: ProposalIn, response: Response, principal: Principal = Depends(allow("trader")),
                  services: Services = Depends(get_services)) -> dict[str, Any]:
    """Propose a negotiated transfer (协议转让) to one named counterparty, within the price band."""
    return marked_if_replayed(response, await services.exchange.propose(
        body.instrument, Propose(principal=principal, **body.model_dump(exclude={"instrument"}))))


@router.get("/proposals", response_model=list[ProposalOut])
def proposal_inbox(limit: int = Query(100, ge=1, le=500), principal: Principal = Depends(allow("trader")),
                   services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """Proposals you made or received, newest first."""
    with services.registry.uow(principal) as uow:
        return [proposal_out(p) for p in trade_records.proposals_for(uow, principal.participant_id, limit)]


@router.post("/proposals/{proposal_id}/accept", status_code=201, response_model=OrderOut)
async def accept_proposal(proposal_id: PathId, response: Response, principal: Principal = Depends(allow("trader")),
                          services: Services = Depends(get_services)) -> dict[str, Any]:
    """Accept (the named counterparty): your side is held and the negotiated transfer settles at once."""
    return marked_if_replayed(response, await services.exchange.answer_proposal(Accept.to(principal, proposal_id)))


@router.post("/proposals/{proposal_id}/reject", response_model=OrderOut)
async def reject_proposal(proposal_id: PathId, principal: Principal = Depends(allow("trader")),
                          services: Services = Depends(get_services)) -> dict[str, Any]:
    """Turn a proposal down (the named counterparty)."""
    return await services.exchange.answer_proposal(Reject.to(principal, proposal_id))


@router.delete("/proposals/{proposal_id}", response_model=OrderOut)
async def withdraw_proposal(proposal_id: PathId, principal: Principal = Depends(allow("trader")),
                            services: Services = Depends(get_services)) -> dict[str, Any]:
    """Withdraw your proposal before it is accepted."""
    return await services.exchange.answer_proposal(Withdraw.to(principal, proposal_id))


class AuctionIn(Strict):
    instrument: InstrumentCode
    client_order_id: ClientId
    side: Literal["buy", "sell"] = "sell"
    quantity_t: Quantity
    reserve_price_fen: Price = Field(description="A sell auction's lowest acceptable bid; a buy auction's highest.")
    end_at: BoundedInstant
    pricing: Literal["PAY_AS_BID", "UNIFORM"] = "PAY_AS_BID"
    batch_id: Id | None = None


class BidIn(Strict):
    client_order_id: ClientId
    price_fen: Price
    quantity_t: Quantity


@router.post("/auctions", status_code=201, response_model=OrderOut)
async def open_auction(body: AuctionIn, response: Response, principal: Principal = Depends(allow("trader")),
                       services: Services = Depends(get_services)) -> dict[str, Any]:
    """Open a one-sided auction (单向竞价): sealed bids until `end_at`, then allocation by price then time."""
    return marked_if_replayed(response, await services.exchange.open_auction(
        body.instrument, OpenAuction(principal=principal, **body.model_dump(exclude={"instrument"}))))


@router.post("/auctions/{auction_id}/bids", status_code=201, response_model=OrderOut)
async def place_bid(auction_id: PathId, body: BidIn, response: Response,
                    principal: Principal = Depends(allow("trader")),
                    services: Services = Depends(get_services)) -> dict[str, Any]:
    """A sealed, binding bid; its cash (or credits, in a buy auction) is held until the auction closes."""
    return marked_if_replayed(response, await services.exchange.bid(
        Bid(principal=principal, auction_id=auction_id, **body.model_dump())))


@router.delete("/auctions/{auction_id}", response_model=OrderOut)
async def cancel_auction(auction_id: PathId, principal: Principal = Depends(allow("trader")),
                         services: Services = Depends(get_services)) -> dict[str, Any]:
    """Call off your auction while it has no bids."""
    return await services.exchange.cancel_auction(CancelAuction(principal=principal, order_id=auction_id))


@router.get("/auctions", response_model=list[AuctionOut])
def list_auctions(instrument: InstrumentCode, status: Literal["open", "filled", "expired", "cancelled"] | None = None,
                  _: Principal | None = Depends(PUBLIC),
                  services: Services = Depends(get_services)) -> list[dict[str, Any]]:
    """Auctions of an instrument with their lot, reserve, end and result — never the sealed bids."""
    with services.registry.uow() as uow:
        code_instrument = instruments.get(uow, instrument)
        return [auction_out(a, trade_records.auction_result(uow, a) if a.status != "open" else None)
                for a in trade_records.auctions(uow, code_instrument.id, status)]

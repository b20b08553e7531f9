"""What each command does in its book's writer, in one pass: the plan (registry.services.trading: the rules
over the facts loaded for it, and the holds it needs, writing nothing) → the matching engine → once the
engine has accepted, the plan recorded and the engine's events settled (registry.services.settlement), all
in the writer's transaction. A refusal before the engine leaves nothing behind; a failure after it fails
the batch (BatchFailed), whose transaction is rolled back and the book rebuilt (api/exchange/desk.py)."""

from __future__ import annotations

from typing import Any

from api import metrics
from api.exchange.commands import (
    WITHDRAWERS,
    Accept,
    Amend,
    Bid,
    Browse,
    Cancel,
    CancelAuction,
    CancelListing,
    Command,
    Depth,
    OpenAuction,
    Pick,
    Place,
    PostListing,
    Propose,
    Reject,
    Withdraw,
    WithdrawBatch,
    WithdrawParticipant,
)
from api.exchange.writer import BatchFailed
from matching_engine import (
    AcceptNegotiatedTransfer,
    AmendOrder,
    AuctionPricing,
    CancelOrder,
    Engine,
    OrderType,
    PickListing,
    PlaceBid,
    PlaceOrder,
    ProposeNegotiatedTransfer,
    Rejected,
    RejectNegotiatedTransfer,
    Side,
    TimeInForce,
    WithdrawAccount,
    WithdrawAuction,
    WithdrawBid,
    WithdrawNegotiatedTransfer,
    to_plain,
)
from matching_engine import (
    CancelAuction as EngineCancelAuction,
)
from matching_engine import (
    CancelListing as EngineCancelListing,
)
from matching_engine import (
    OpenAuction as EngineOpenAuction,
)
from matching_engine import (
    PostListing as EnginePostListing,
)
from matching_engine.events import Event
from registry.errors import DomainError, Forbidden
from registry.services import revocations, settlement, trading
from registry.services.trading import OrderPlan, OrderRequest, Terms, order_view
from registry.unit_of_work import UnitOfWork
from rules.violations import Violation

Answer = dict[str, Any]


class EngineRefusal(DomainError):
    """The matching engine refused the command (a stable reason code such as PRICE_ABOVE_BAND)."""

    status = 409
    code = "order_rejected"


def _opposite(side: str) -> str:
    return "buy" if side == "sell" else "sell"


def _batch(batch_id: int | None) -> str | None:
    return str(batch_id) if batch_id else None


class CommandSteps:
    """The command handlers of InstrumentDesk, by kind (`handle`); the desk provides the book and the clock."""

    instrument_id: int
    code: str
    engine: Engine
    published: list[Event]  # events of the batch in progress, published after its commit

    @property
    def terms(self) -> Terms:
        """The exchange's terms as they stand (fee, resale lock, horizon)."""
        raise NotImplementedError

    def ts_ms(self, uow: UnitOfWork) -> int:
        raise NotImplementedError

    def handle(self, uow: UnitOfWork, command: Command) -> Answer:
        handler = getattr(self, _HANDLERS[command.kind])
        answer: Answer = handler(uow, command) if command.kind not in _READS else handler(command)
        return answer

    def read(self, command: Command) -> Answer:
        """A read of the book (depth, the listing board): no transaction needed."""
        answer: Answer = getattr(self, _HANDLERS[command.kind])(command)
        return answer

    def run_engine(self, uow: UnitOfWork, command: Any, planned: OrderPlan | trading.ExtraHold | None = None
                   ) -> list[Event]:
        """Submit to the engine. A rejection refuses the command, and nothing of it has been written: the
        order and holds it `planned` were only checked so far. Once the engine has accepted, they are
        recorded and the events settled; any failure from here on fails the batch (the book has changed)."""
        events = self.engine.submit(command)
        if len(events) == 1 and isinstance(events[0], Rejected):
            reason = str(events[0].reason)
            raise EngineRefusal(f"The order was refused: {reason}.", f"订单被拒绝：{reason}。",
                                [Violation(reason, "Art. 20", None, f"撮合引擎拒绝：{reason}",
                                           f"refused by the matching engine: {reason}")])
        try:
            if isinstance(planned, OrderPlan):
                trading.record_order(uow, planned)
            elif planned is not None:
                trading.add_hold(uow, planned)
            self.settle(uow, events)
        except Exception as exc:
            raise BatchFailed(str(exc)) from exc
        self.published.extend(events)
        return events

    def settle(self, uow: UnitOfWork, events: list[Event]) -> None:
        """The engine's events in the ledger (settlement.apply), timing each trade's settlement."""
        settlement.apply(uow, self.instrument_id, events, self.terms, self.engine.trading_day,
                         metrics.SETTLEMENT_SECONDS.observe)

    # --- the central book ---------------------------------------------------------------------------------
    def _place(self, uow: UnitOfWork, command: Place) -> Answer:
        instrument = trading.open_book(uow, self.instrument_id)
        plan = trading.plan_place(
            uow, command.principal, instrument, self.terms, self.engine.price_band(),
            client_order_id=command.client_order_id, side=command.side, order_type=command.order_type,
            price_fen=command.price_fen, quantity_t=command.quantity_t, tif=command.tif,
            expires_at=command.expires_at, protection_price_fen=command.protection_price_fen,
            request_hash=command.request_hash)
        if not isinstance(plan, OrderPlan):
            return plan  # the answer given to this client_order_id before
        order = plan.order
        self.run_engine(uow, PlaceOrder(
            ts_ms=self.ts_ms(uow), order_id=order.id, account_id=str(command.principal.participant_id),
            side=Side(command.side.upper()), quantity_t=command.quantity_t, price_fen=command.price_fen,
            order_type=OrderType(command.order_type), tif=TimeInForce(order.tif),
            expires_at_ms=settlement.ms(order.expires_at),
            protection_price_fen=order.hold_price_fen if command.order_type == "MARKET" else None), plan)
        return order_view(order)

    def _cancel(self, uow: UnitOfWork, command: Cancel) -> Answer:
        order = trading.open_order_of(uow, command.principal.participant_id, command.order_id)
        self.run_engine(uow, CancelOrder(self.ts_ms(uow), order.id, str(command.principal.participant_id)))
        return order_view(order)

    def _amend(self, uow: UnitOfWork, command: Amend) -> Answer:
        order = trading.open_order_of(uow, command.principal.participant_id, command.order_id)
        instrument = trading.book_instrument(uow, self.instrument_id)
        quantity_t, price_fen = command.quantity_t, command.price_fen
        extra = (quantity_t - order.remaining_t) if quantity_t is not None else 0
        hold = trading.plan_extra_hold(uow, order, instrument, extra, price_fen if order.side == "buy" else None,
                                       self.terms.fee_bp, self.terms.resale_lock)
        self.run_engine(uow, AmendOrder(self.ts_ms(uow), order.id, str(command.principal.participant_id),
                                        quantity_t=quantity_t, price_fen=price_fen), hold)
        return order_view(order)

    def _depth(self, command: Depth) -> Answer:
        """A read of the live book (routed like a command, so only the owner's book is ever read)."""
        return self.snapshot() | {"depth": to_plain(self.engine.depth(command.levels))}

    def snapshot(self) -> Answer:
        engine, band = self.engine, self.engine.price_band()
        return {"depth": to_plain(engine.depth(10)), "top": to_plain(engine.top_of_book()),
                "price_band_fen": list(band) if band else None, "reference_price_fen": engine.reference_price_fen,
                "bar": to_plain(engine.bar())}

    # --- one side of a listing, pick, proposal, auction, bid or acceptance, held like an order -------------------
    def _hold(self, uow: UnitOfWork, command: Command, instrument: Any, request: OrderRequest,
              instant_field: str = "expires_at") -> OrderPlan | Answer:
        return trading.plan_hold(uow, command.principal, instrument, self.terms, request, instant_field)

    def _post_listing(self, uow: UnitOfWork, command: PostListing) -> Answer:
        """挂牌: post a listing at a price; its side is held like an order."""
        instrument = trading.open_book(uow, self.instrument_id)
        allowed = list(command.allowed_counterparties) if command.allowed_counterparties is not None else None
        listing = self._hold(uow, command, instrument, _request(
            command, kind="listing", side=command.side, price_fen=command.price_fen, quantity_t=command.quantity_t,
            expires_at=command.expires_at, min_pick_t=command.min_pick_t, batch_id=command.batch_id,
            allowed_counterparties=allowed))
        if not isinstance(listing, OrderPlan):
            return listing
        self.run_engine(uow, EnginePostListing(
            self.ts_ms(uow), listing.order.id, str(command.principal.participant_id), Side(command.side.upper()),
            command.price_fen, command.quantity_t, command.min_pick_t,
            expires_at_ms=settlement.ms(listing.order.expires_at), batch_id=_batch(command.batch_id),
            allowed_counterparties=frozenset(str(a) for a in allowed) if allowed else None), listing)
        return order_view(listing.order)

    def _pick(self, uow: UnitOfWork, command: Pick) -> Answer:
        """点选: take some or all of a listing at its price, at once."""
        instrument = trading.open_book(uow, self.instrument_id)
        listing = trading.parent_of(uow, self.instrument_id, command.listing_id, "listing", "挂牌")
        assert listing.price_fen is not None
        pick = self._hold(uow, command, instrument, _request(
            command, kind="pick", side=_opposite(listing.side), price_fen=listing.price_fen,
            quantity_t=command.quantity_t, parent_order_id=listing.id, batch_id=listing.batch_id))
        if not isinstance(pick, OrderPlan):
            return pick
        self.run_engine(uow, PickListing(self.ts_ms(uow), pick.order.id, listing.id,
                                         str(command.principal.participant_id), command.quantity_t), pick)
        return order_view(pick.order)

    def _cancel_listing(self, uow: UnitOfWork, command: CancelListing) -> Answer:
        listing = trading.open_order_of(uow, command.principal.participant_id, command.order_id)
        self.run_engine(uow, EngineCancelListing(self.ts_ms(uow), listing.id, str(command.principal.participant_id)))
        return order_view(listing)

    def _browse(self, command: Browse) -> Answer:
        """The listing board, best price first then oldest, as the caller may pick from it."""
        viewer = str(command.principal.participant_id) if command.principal.participant_id else None
        states = self.engine.listings(Side(command.side.upper()), viewer_id=viewer, batch_id=_batch(command.batch_id),
                                      min_price_fen=command.min_price_fen, max_price_fen=command.max_price_fen,
                                      min_quantity_t=command.min_quantity_t, offset=command.offset,
                                      limit=command.limit)
        return {"items": [{"listing_id": s.listing_id, "side": str(s.side).lower(), "price_fen": s.price_fen,
                           "quantity_t": s.quantity_t, "min_pick_t": s.min_pick_t, "batch_id": s.batch_id,
                           "expires_at_ms": s.expires_at_ms, "restricted": s.allowed_counterparties is not None}
                          for s in states]}

    def _propose(self, uow: UnitOfWork, command: Propose) -> Answer:
        """协议转让: propose a quantity and price to one named counterparty."""
        instrument = trading.open_book(uow, self.instrument_id)
        proposal = self._hold(uow, command, instrument, _request(
            command, kind="proposal", side=command.side, price_fen=command.price_fen, quantity_t=command.quantity_t,
            expires_at=command.expires_at, counterparty_participant_id=command.counterparty_participant_id,
            batch_id=command.batch_id))
        if not isinstance(proposal, OrderPlan):
            return proposal
        expires_at_ms = settlement.ms(proposal.order.expires_at)
        assert expires_at_ms is not None
        self.run_engine(uow, ProposeNegotiatedTransfer(
            self.ts_ms(uow), proposal.order.id, str(command.principal.participant_id),
            str(command.counterparty_participant_id), Side(command.side.upper()), command.price_fen,
            command.quantity_t, expires_at_ms, batch_id=_batch(command.batch_id)), proposal)
        return order_view(proposal.order)

    def _accept(self, uow: UnitOfWork, command: Accept) -> Answer:
        """The named counterparty accepts: its side is held and the negotiated transfer settles at once."""
        instrument = trading.open_book(uow, self.instrument_id)
        proposal = trading.proposal_for(uow, command.principal.participant_id, command.proposal_id)
        assert proposal.price_fen is not None
        acceptance = self._hold(uow, command, instrument, _request(
            command, kind="acceptance", side=_opposite(proposal.side), price_fen=proposal.price_fen,
            quantity_t=proposal.remaining_t, parent_order_id=proposal.id, batch_id=proposal.batch_id))
        if not isinstance(acceptance, OrderPlan):
            return acceptance
        self.run_engine(uow, AcceptNegotiatedTransfer(self.ts_ms(uow), proposal.id,
                                                      str(command.principal.participant_id)), acceptance)
        return order_view(acceptance.order)

    def _close_proposal(self, uow: UnitOfWork, command: Reject | Withdraw) -> Answer:
        """Reject (the counterparty) or withdraw (the initiator): the initiator's hold is released."""
        proposal = trading.proposal_for(uow, command.principal.participant_id, command.proposal_id)
        close = RejectNegotiatedTransfer if isinstance(command, Reject) else WithdrawNegotiatedTransfer
        self.run_engine(uow, close(self.ts_ms(uow), proposal.id, str(command.principal.participant_id)))
        return order_view(proposal)

    def _open_auction(self, uow: UnitOfWork, command: OpenAuction) -> Answer:
        """单向竞价: offer a lot (or ask for one) with a reserve price; sealed bids until it ends."""
        instrument = trading.open_book(uow, self.instrument_id)
        auction = self._hold(uow, command, instrument, _request(
            command, kind="auction", side=command.side, price_fen=command.reserve_price_fen,
            quantity_t=command.quantity_t, order_type=command.pricing, expires_at=command.end_at,
            batch_id=command.batch_id), instant_field="end_at")
        if not isinstance(auction, OrderPlan):
            return auction
        ends_ms = settlement.ms(auction.order.expires_at)
        assert ends_ms is not None
        self.run_engine(uow, EngineOpenAuction(
            self.ts_ms(uow), auction.order.id, str(command.principal.participant_id), Side(command.side.upper()),
            command.quantity_t, command.reserve_price_fen, ends_ms, AuctionPricing(command.pricing),
            batch_id=_batch(command.batch_id)), auction)
        return order_view(auction.order)

    def _bid(self, uow: UnitOfWork, command: Bid) -> Answer:
        """A sealed, binding bid; what it could cost (or deliver) is held until the auction closes."""
        instrument = trading.open_book(uow, self.instrument_id)
        auction = trading.parent_of(uow, self.instrument_id, command.auction_id, "auction", "竞价")
        bid = self._hold(uow, command, instrument, _request(
            command, kind="bid", side=_opposite(auction.side), price_fen=command.price_fen,
            quantity_t=command.quantity_t, parent_order_id=auction.id, batch_id=auction.batch_id))
        if not isinstance(bid, OrderPlan):
            return bid
        self.run_engine(uow, PlaceBid(self.ts_ms(uow), auction.id, bid.order.id,
                                      str(command.principal.participant_id), command.price_fen,
                                      command.quantity_t), bid)
        return order_view(bid.order)

    def _cancel_auction(self, uow: UnitOfWork, command: CancelAuction) -> Answer:
        auction = trading.open_order_of(uow, command.principal.participant_id, command.order_id)
        self.run_engine(uow, EngineCancelAuction(self.ts_ms(uow), auction.id, str(command.principal.participant_id)))
        return order_view(auction)

    # --- a participant that may no longer trade (Art. 19, 26) ---------------------------------------------------
    def _withdraw_participant(self, uow: UnitOfWork, command: WithdrawParticipant) -> Answer:
        """Take everything of a participant that may no longer trade out of this book (engine.WithdrawAccount):
        its orders, listings, proposals, auctions and bids are cancelled and their holds released through the
        ledger as a cancel releases them, with the reason PARTICIPANT_SUSPENDED or PARTICIPANT_DISQUALIFIED;
        proposals naming it and bids in its auctions, others' orders, with COUNTERPARTY_SUSPENDED or
        COUNTERPARTY_DISQUALIFIED. The reason comes from the participant's status as it stands: one active
        and admitted again (a re-admission overtook the command) keeps what it has."""
        if not command.principal.has(*WITHDRAWERS):
            raise Forbidden("Only the bureau, the operations center or the system withdraws a participant.",
                            "只有市生态环境局、运营管理中心或系统可撤下主体的委托。")
        participant_id = command.participant_id
        reason = trading.withdrawal_reason_of(uow, participant_id)
        withdrawn: list[dict[str, Any]] = []
        if reason is not None:
            events = self.run_engine(uow, WithdrawAccount(self.ts_ms(uow), str(participant_id)))
            withdrawn = settlement.mark_withdrawn(uow, events, participant_id, reason)
        if withdrawn:
            uow.audit("exchange.participant_withdrawn", "participant", participant_id, {
                "instrument": self.code, "reason": reason, "by_user_id": command.principal.user_id or None,
                "orders": [{k: w[k] for k in ("id", "kind", "participant_id")} for w in withdrawn]})
        return {"instrument": self.code, "participant_id": participant_id, "reason": reason, "withdrawn": withdrawn}

    def _withdraw_batch(self, uow: UnitOfWork, command: WithdrawBatch) -> Answer:
        """Take out of this book everything that holds credits of a batch being taken back (Art. 26): resting
        sells, listings, proposals, auction lots and bids, whoever's, each through the engine's own way of closing
        it, so their holds are released through the ledger as a cancel releases them (reason BATCH_REVOKED).
        The batch is frozen before this command is sent (registry.services.revocations.freeze), so nothing
        holds its credits again once this transaction commits."""
        if not command.principal.has(*WITHDRAWERS):
            raise Forbidden("Only the bureau, the operations center or the system withdraws a batch.",
                            "只有市生态环境局、运营管理中心或系统可撤下批次的委托。")
        ids = revocations.held_on_exchange(uow, command.batch_id, self.instrument_id)
        events: list[Event] = []
        for order in sorted(trading.orders_by_id(uow, ids).values(), key=lambda o: o.id):
            close = _withdrawal(order.kind, order.id, order.participant_id, order.parent_order_id, self.ts_ms(uow))
            if close is not None and order.status == "open":  # (an auction's bid may have closed with it)
                events += self.run_engine(uow, close)
        withdrawn: list[dict[str, Any]] = []
        closed_ids = {i for e in events if (i := settlement.closed_order_id(e)) is not None}
        for closed in sorted(trading.orders_by_id(uow, closed_ids).values(), key=lambda o: o.id):
            closed.reason = trading.BATCH_REVOKED  # with them, the bids on a withdrawn auction lot
            withdrawn.append({"id": closed.id, "kind": closed.kind, "participant_id": closed.participant_id,
                              "status": closed.status, "reason": closed.reason})
        if withdrawn:
            uow.audit("exchange.batch_withdrawn", "batch", command.batch_id, {
                "instrument": self.code, "by_user_id": command.principal.user_id or None,
                "orders": [{k: w[k] for k in ("id", "kind", "participant_id")} for w in withdrawn]})
        return {"instrument": self.code, "batch_id": command.batch_id, "withdrawn": withdrawn}


def _withdrawal(kind: str, order_id: int, owner_id: int, parent_id: int | None, ts_ms: int
                ) -> (CancelOrder | EngineCancelListing | WithdrawNegotiatedTransfer | WithdrawAuction | WithdrawBid
                      | None):
    """The engine command that takes an order of this kind off the market as its owner would (an auction lot
    whatever bids it has, a bid alone out of its auction); None for a kind that never rests holding credits."""
    owner = str(owner_id)
    if kind == "order":
        return CancelOrder(ts_ms, order_id, owner)
    if kind == "listing":
        return EngineCancelListing(ts_ms, order_id, owner)
    if kind == "proposal":
        return WithdrawNegotiatedTransfer(ts_ms, order_id, owner)
    if kind == "auction":
        return WithdrawAuction(ts_ms, order_id)
    if kind == "bid" and parent_id is not None:
        return WithdrawBid(ts_ms, parent_id, order_id)
    return None


def _request(command: PostListing | Pick | Propose | Accept | OpenAuction | Bid, *, kind: str, side: str,
             price_fen: int, quantity_t: int, order_type: str = "LIMIT", expires_at: Any = None,
             **extra: Any) -> OrderRequest:
    """The order request of one side of a listing, pick, proposal, auction, bid or acceptance: good till
    cancelled, holding at its own price."""
    return OrderRequest(client_order_id=command.client_order_id, side=side, order_type=order_type,
                        tif="GTC", price_fen=price_fen, hold_price_fen=price_fen, quantity_t=quantity_t,
                        expires_at=expires_at, request_hash=command.request_hash, kind=kind, **extra)


# The handler of each kind (a method name, so a test can replace one on the class); reads take no transaction.
_HANDLERS = {
    "place": "_place", "cancel": "_cancel", "amend": "_amend", "post_listing": "_post_listing", "pick": "_pick",
    "cancel_listing": "_cancel_listing", "propose": "_propose", "accept": "_accept", "reject": "_close_proposal",
    "withdraw": "_close_proposal", "open_auction": "_open_auction", "bid": "_bid",
    "cancel_auction": "_cancel_auction", "withdraw_participant": "_withdraw_participant",
    "withdraw_batch": "_withdraw_batch",
    "depth": "_depth", "browse": "_browse"}
_READS = frozenset({Depth.KIND, Browse.KIND})

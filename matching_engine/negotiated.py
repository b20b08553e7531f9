"""Negotiated transfers (协议转让): a proposal to one named counterparty, accepted, rejected, withdrawn or
expired. The price must lie in a band around the reference price (``negotiated_band_bp``; ``block_band_bp``
for block trades of at least ``block_threshold_t``), checked when proposed and again when accepted.
Internal to the engine; the facade is :class:`matching_engine.Engine`.
"""

from __future__ import annotations

from dataclasses import replace

from matching_engine.commands import (
    AcceptNegotiatedTransfer,
    ProposeNegotiatedTransfer,
    RejectNegotiatedTransfer,
    WithdrawNegotiatedTransfer,
)
from matching_engine.enums import ProposalStatus, Reason, Side, TradeMode
from matching_engine.events import Event, NegotiatedTransferProposed, ProposalClosed
from matching_engine.floor import TIMER_PROPOSAL, Floor
from matching_engine.records import ProposalState

SIDES = {member: member for member in Side}


class NegotiatedTransferDesk:
    """Open proposals by id, and the final status of every closed one (for precise late answers)."""

    __slots__ = ("closed", "config", "floor", "open")

    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.config = floor.config
        self.open: dict[int, ProposalState] = {}
        self.closed: dict[int, ProposalStatus] = {}

    def propose(self, cmd: ProposeNegotiatedTransfer, events: list[Event]) -> None:
        """Record a proposal.

        Checks in order: INVALID_SIDE; MARKET_CLOSED / TRADING_HALTED; DUPLICATE_ID (open or closed);
        CAPACITY; SELF_TRADE (counterparty is the initiator); quantity (INVALID_QUANTITY, LOT_SIZE,
        BELOW_MIN_SIZE under ``negotiated_min_t``, ABOVE_MAX_SIZE over ``negotiated_max_t``); price
        (INVALID_PRICE, TICK_SIZE, PRICE_BELOW_BAND / PRICE_ABOVE_BAND); INVALID_EXPIRY.
        """
        floor = self.floor
        side = SIDES.get(cmd.side)
        reason = Reason.INVALID_SIDE if side is None else self._check_propose(cmd)
        if reason is not None:
            floor.reject(events, cmd.ts_ms, "ProposeNegotiatedTransfer", cmd.proposal_id, reason)
            return
        assert side is not None
        state = ProposalState(
            cmd.proposal_id,
            cmd.account_id,
            cmd.counterparty_id,
            side,
            cmd.price_fen,
            cmd.quantity_t,
            cmd.expires_at_ms,
            cmd.batch_id,
        )
        self._add(state)
        floor.seq += 1
        events.append(
            NegotiatedTransferProposed(
                floor.seq,
                cmd.ts_ms,
                cmd.proposal_id,
                cmd.account_id,
                cmd.counterparty_id,
                side,
                cmd.price_fen,
                cmd.quantity_t,
                cmd.expires_at_ms,
                cmd.batch_id,
                self.config.is_block(cmd.quantity_t),
            )
        )

    def _check_propose(self, cmd: ProposeNegotiatedTransfer) -> Reason | None:
        floor = self.floor
        config = self.config
        reason = floor.open_check()
        if reason is not None:
            return reason
        if cmd.proposal_id in self.open or cmd.proposal_id in self.closed:
            return Reason.DUPLICATE_ID
        if len(self.open) >= config.max_live_proposals:
            return Reason.CAPACITY
        if cmd.counterparty_id == cmd.account_id:
            return Reason.SELF_TRADE
        quantity_t = cmd.quantity_t
        if type(quantity_t) is not int or quantity_t <= 0:
            return Reason.INVALID_QUANTITY
        if quantity_t % config.lot_t:
            return Reason.LOT_SIZE
        if quantity_t < config.negotiated_min_t:
            return Reason.BELOW_MIN_SIZE
        if config.negotiated_max_t is not None and quantity_t > config.negotiated_max_t:
            return Reason.ABOVE_MAX_SIZE
        price_fen = cmd.price_fen
        if type(price_fen) is not int or price_fen <= 0:
            return Reason.INVALID_PRICE
        if price_fen % config.tick_fen:
            return Reason.TICK_SIZE
        reason = floor.band_check(price_fen, config.negotiated_band_for(quantity_t))
        if reason is not None:
            return reason
        if type(cmd.expires_at_ms) is not int or cmd.expires_at_ms <= cmd.ts_ms:
            return Reason.INVALID_EXPIRY
        return None

    def _find(self, proposal_id: int) -> tuple[ProposalState | None, Reason | None]:
        proposal = self.open.get(proposal_id)
        if proposal is not None:
            return proposal, None
        return None, Reason.PROPOSAL_CLOSED if proposal_id in self.closed else Reason.UNKNOWN_PROPOSAL

    def accept(self, cmd: AcceptNegotiatedTransfer, events: list[Event]) -> None:
        """The counterparty accepts: the proposal closes and trades at its price.

        Checks in order: UNKNOWN_PROPOSAL / PROPOSAL_CLOSED; NOT_COUNTERPARTY; MARKET_CLOSED /
        TRADING_HALTED; PRICE_BELOW_BAND / PRICE_ABOVE_BAND against today's reference.
        """
        floor = self.floor
        proposal, reason = self._find(cmd.proposal_id)
        if proposal is not None:
            if cmd.account_id != proposal.counterparty_id:
                reason = Reason.NOT_COUNTERPARTY
            else:
                reason = floor.open_check() or floor.band_check(
                    proposal.price_fen, self.config.negotiated_band_for(proposal.quantity_t)
                )
        if reason is not None:
            floor.reject(events, cmd.ts_ms, "AcceptNegotiatedTransfer", cmd.proposal_id, reason)
            return
        assert proposal is not None
        self._close(proposal, ProposalStatus.ACCEPTED, cmd.ts_ms, events)
        if proposal.side is Side.SELL:
            buyer_id, seller_id, aggressor = proposal.counterparty_id, proposal.account_id, Side.BUY
        else:
            buyer_id, seller_id, aggressor = proposal.account_id, proposal.counterparty_id, Side.SELL
        events.append(
            floor.trade(
                cmd.ts_ms,
                TradeMode.NEGOTIATED,
                proposal.price_fen,
                proposal.quantity_t,
                proposal.proposal_id,
                proposal.proposal_id,
                buyer_id,
                seller_id,
                aggressor,
                proposal.batch_id,
            )
        )

    def reject(self, cmd: RejectNegotiatedTransfer, events: list[Event]) -> None:
        """The counterparty says no (any phase); checks UNKNOWN_PROPOSAL/PROPOSAL_CLOSED, NOT_COUNTERPARTY."""
        proposal, reason = self._find(cmd.proposal_id)
        if proposal is not None and cmd.account_id != proposal.counterparty_id:
            reason = Reason.NOT_COUNTERPARTY
        if reason is not None:
            self.floor.reject(events, cmd.ts_ms, "RejectNegotiatedTransfer", cmd.proposal_id, reason)
            return
        assert proposal is not None
        self._close(proposal, ProposalStatus.REJECTED, cmd.ts_ms, events)

    def withdraw(self, cmd: WithdrawNegotiatedTransfer, events: list[Event]) -> None:
        """The initiator withdraws before acceptance (any phase). Checks: UNKNOWN_PROPOSAL / PROPOSAL_CLOSED
        (so a withdrawal after acceptance is refused), NOT_INITIATOR."""
        proposal, reason = self._find(cmd.proposal_id)
        if proposal is not None and cmd.account_id != proposal.account_id:
            reason = Reason.NOT_INITIATOR
        if reason is not None:
            self.floor.reject(events, cmd.ts_ms, "WithdrawNegotiatedTransfer", cmd.proposal_id, reason)
            return
        assert proposal is not None
        self._close(proposal, ProposalStatus.WITHDRAWN, cmd.ts_ms, events)

    def withdraw_account(self, account_id: str, ts_ms: int, events: list[Event]) -> None:
        """Every open proposal the account made is withdrawn, and every one naming it is rejected, by id."""
        for proposal in self.states():
            if proposal.account_id == account_id:
                self._close(proposal, ProposalStatus.WITHDRAWN, ts_ms, events)
            elif proposal.counterparty_id == account_id:
                self._close(proposal, ProposalStatus.REJECTED, ts_ms, events)

    def expire(self, deadline_ms: int, proposal_id: int, ts_ms: int, events: list[Event]) -> None:
        """A proposal's timer fired: it expires if still open with that deadline."""
        proposal = self.open.get(proposal_id)
        if proposal is not None and proposal.expires_at_ms == deadline_ms:
            self._close(proposal, ProposalStatus.EXPIRED, ts_ms, events)

    def _add(self, state: ProposalState) -> None:
        self.open[state.proposal_id] = state
        self.floor.add_timer(state.expires_at_ms, TIMER_PROPOSAL, state.proposal_id)

    def _close(
        self, proposal: ProposalState, status: ProposalStatus, ts_ms: int, events: list[Event]
    ) -> None:
        del self.open[proposal.proposal_id]
        self.closed[proposal.proposal_id] = status
        self.floor.seq += 1
        events.append(
            ProposalClosed(
                self.floor.seq,
                ts_ms,
                proposal.proposal_id,
                proposal.account_id,
                proposal.counterparty_id,
                status,
            )
        )

    def restore(self, state: ProposalState) -> None:
        """Put back an open proposal, or remember a closed one's final status."""
        if state.proposal_id in self.open or state.proposal_id in self.closed:
            raise ValueError(f"proposal {state.proposal_id} is already known")
        status = ProposalStatus(state.status)
        if status is ProposalStatus.OPEN:
            self._add(replace(state, side=Side(state.side), status=status))
        else:
            self.closed[state.proposal_id] = status

    def restore_closed(self, proposal_id: int, status: ProposalStatus) -> None:
        """Remember that ``proposal_id`` ended with ``status``."""
        status = ProposalStatus(status)
        if status is ProposalStatus.OPEN or proposal_id in self.open or proposal_id in self.closed:
            raise ValueError(f"proposal {proposal_id} cannot be remembered as {status}")
        self.closed[proposal_id] = status

    def states(self) -> list[ProposalState]:
        """Open proposals by id."""
        return [self.open[key] for key in sorted(self.open)]

"""Negotiated transfers (协议转让): propose to one counterparty, accept/reject/withdraw/expire, the price
band (wider for block trades from the threshold), and the size bounds."""

from __future__ import annotations

import pytest

from matching_engine import (
    AcceptNegotiatedTransfer,
    AdvanceTime,
    CloseDay,
    Engine,
    NegotiatedTransferProposed,
    OpenDay,
    Phase,
    PlaceOrder,
    ProposalClosed,
    ProposalStatus,
    ProposeNegotiatedTransfer,
    Reason,
    RejectNegotiatedTransfer,
    Side,
    Trade,
    TradeMode,
    WithdrawNegotiatedTransfer,
)

from .builders import BUY, SELL, make_engine, of, reason, tick


def propose(
    engine: Engine,
    proposal_id: int,
    price_fen: int = 5_000,
    quantity_t: int = 1_000,
    side: Side = SELL,
    account_id: str = "I",
    counterparty_id: str = "C",
    expires_at_ms: int = 10_000,
    ts_ms: int | None = None,
) -> list:
    return engine.submit(
        ProposeNegotiatedTransfer(
            ts_ms or tick(engine),
            proposal_id,
            account_id,
            counterparty_id,
            side,
            price_fen,
            quantity_t,
            expires_at_ms,
            batch_id="JX-B7",
        )
    )


def answer(
    engine: Engine, command: type, proposal_id: int, account_id: str, ts_ms: int | None = None
) -> list:
    return engine.submit(command(ts_ms or tick(engine), proposal_id, account_id))


def test_accept_closes_the_proposal_and_trades() -> None:
    engine = make_engine()
    (proposed,) = of(propose(engine, 1), NegotiatedTransferProposed)
    assert proposed.block is False and engine.proposal_status(1) is ProposalStatus.OPEN
    events = answer(engine, AcceptNegotiatedTransfer, 1, "C")
    closed, trade = events
    assert isinstance(closed, ProposalClosed) and closed.status is ProposalStatus.ACCEPTED
    assert isinstance(trade, Trade)
    assert (trade.mode, trade.price_fen, trade.quantity_t, trade.batch_id) == (
        TradeMode.NEGOTIATED,
        5_000,
        1_000,
        "JX-B7",
    )
    assert (trade.buy_account_id, trade.sell_account_id, trade.aggressor) == ("C", "I", BUY)
    assert (trade.buy_order_id, trade.sell_order_id) == (1, 1)
    assert engine.proposal(1) is None and engine.proposal_status(1) is ProposalStatus.ACCEPTED


def test_a_buy_proposal_makes_the_initiator_the_buyer() -> None:
    engine = make_engine()
    propose(engine, 1, side=BUY)
    (trade,) = of(answer(engine, AcceptNegotiatedTransfer, 1, "C"), Trade)
    assert (trade.buy_account_id, trade.sell_account_id, trade.aggressor) == ("I", "C", SELL)


@pytest.mark.parametrize(
    ("price_fen", "expected"),
    [(5_500, None), (5_501, Reason.PRICE_ABOVE_BAND), (4_500, None), (4_499, Reason.PRICE_BELOW_BAND)],
)
def test_price_band_edges(price_fen: int, expected: Reason | None) -> None:
    assert reason(propose(make_engine(negotiated_band_bp=1000), 1, price_fen)) == expected


@pytest.mark.parametrize(
    ("quantity_t", "price_fen", "expected", "block"),
    [
        (
            99_999,
            5_501,
            Reason.PRICE_ABOVE_BAND,
            False,
        ),  # one tonne under the threshold: the normal ±10 % band
        (100_000, 5_501, None, True),  # at the threshold: the block band ±30 %
        (100_000, 6_500, None, True),
        (100_000, 6_501, Reason.PRICE_ABOVE_BAND, True),
        (100_000, 3_500, None, True),
        (100_000, 3_499, Reason.PRICE_BELOW_BAND, True),
    ],
)
def test_block_threshold_switches_to_the_block_band(
    quantity_t: int, price_fen: int, expected: Reason | None, block: bool
) -> None:
    engine = make_engine(negotiated_band_bp=1000, block_threshold_t=100_000, block_band_bp=3000)
    events = propose(engine, 1, price_fen, quantity_t)
    assert reason(events) == expected
    if expected is None:
        assert of(events, NegotiatedTransferProposed)[0].block is block


@pytest.mark.parametrize(
    ("quantity_t", "expected"),
    [
        (500, None),
        (499, Reason.BELOW_MIN_SIZE),
        (2_000, None),
        (2_001, Reason.ABOVE_MAX_SIZE),
        (0, Reason.INVALID_QUANTITY),
    ],
)
def test_size_bounds(quantity_t: int, expected: Reason | None) -> None:
    engine = make_engine(negotiated_min_t=500, negotiated_max_t=2_000)
    assert reason(propose(engine, 1, quantity_t=quantity_t)) == expected


def test_other_propose_checks() -> None:
    engine = make_engine(tick_fen=5, lot_t=10, max_live_proposals=1)
    assert reason(propose(engine, 1, counterparty_id="I")) is Reason.SELF_TRADE
    assert reason(propose(engine, 1, price_fen=5_001)) is Reason.TICK_SIZE
    assert reason(propose(engine, 1, quantity_t=1_005)) is Reason.LOT_SIZE
    assert reason(propose(engine, 1, expires_at_ms=50, ts_ms=50)) is Reason.INVALID_EXPIRY
    assert reason(propose(engine, 1, expires_at_ms=51 + 1, ts_ms=51)) is None
    assert reason(propose(engine, 2, ts_ms=52)) is None  # proposal 1 expired at 52: room for another
    assert reason(propose(engine, 1)) is Reason.DUPLICATE_ID  # closed ids are not reused
    assert reason(propose(engine, 3)) is Reason.CAPACITY


def test_only_the_counterparty_may_accept_or_reject() -> None:
    engine = make_engine()
    propose(engine, 1)
    assert reason(answer(engine, AcceptNegotiatedTransfer, 1, "I")) is Reason.NOT_COUNTERPARTY
    assert reason(answer(engine, AcceptNegotiatedTransfer, 1, "X")) is Reason.NOT_COUNTERPARTY
    assert reason(answer(engine, RejectNegotiatedTransfer, 1, "I")) is Reason.NOT_COUNTERPARTY
    (closed,) = of(answer(engine, RejectNegotiatedTransfer, 1, "C"), ProposalClosed)
    assert closed.status is ProposalStatus.REJECTED
    assert reason(answer(engine, AcceptNegotiatedTransfer, 1, "C")) is Reason.PROPOSAL_CLOSED


def test_withdraw_before_acceptance_and_refused_after() -> None:
    engine = make_engine()
    propose(engine, 1)
    propose(engine, 2)
    assert reason(answer(engine, WithdrawNegotiatedTransfer, 1, "C")) is Reason.NOT_INITIATOR
    (closed,) = of(answer(engine, WithdrawNegotiatedTransfer, 1, "I"), ProposalClosed)
    assert closed.status is ProposalStatus.WITHDRAWN
    assert reason(answer(engine, AcceptNegotiatedTransfer, 1, "C")) is Reason.PROPOSAL_CLOSED
    answer(engine, AcceptNegotiatedTransfer, 2, "C")
    events = answer(engine, WithdrawNegotiatedTransfer, 2, "I")
    assert reason(events) is Reason.PROPOSAL_CLOSED and not of(events, Trade)
    assert reason(answer(engine, WithdrawNegotiatedTransfer, 3, "I")) is Reason.UNKNOWN_PROPOSAL


def test_proposal_expires_exactly_at_its_deadline() -> None:
    engine = make_engine()
    propose(engine, 1, expires_at_ms=100, ts_ms=10)
    propose(engine, 2, expires_at_ms=100, ts_ms=11)
    assert reason(answer(engine, AcceptNegotiatedTransfer, 1, "C", ts_ms=99)) is None
    events = answer(engine, AcceptNegotiatedTransfer, 2, "C", ts_ms=100)
    assert [e.status for e in of(events, ProposalClosed)] == [ProposalStatus.EXPIRED]
    assert reason(events) is Reason.PROPOSAL_CLOSED


def test_time_alone_expires_proposals() -> None:
    engine = make_engine()
    propose(engine, 1, expires_at_ms=100, ts_ms=10)
    (closed,) = of(engine.submit(AdvanceTime(100)), ProposalClosed)
    assert closed.status is ProposalStatus.EXPIRED


def test_accept_rechecks_the_band_against_todays_reference_and_needs_an_open_market() -> None:
    engine = make_engine(negotiated_band_bp=1000)
    propose(engine, 1, price_fen=5_500, expires_at_ms=1_000_000)
    engine.submit(PlaceOrder(tick(engine), 1, "A", SELL, 1, 4_600))
    engine.submit(PlaceOrder(tick(engine), 2, "B", BUY, 1, 4_600))
    engine.submit(CloseDay(tick(engine)))
    assert reason(answer(engine, AcceptNegotiatedTransfer, 1, "C")) is Reason.MARKET_CLOSED
    assert reason(answer(engine, RejectNegotiatedTransfer, 9, "C")) is Reason.UNKNOWN_PROPOSAL
    engine.submit(OpenDay(tick(engine), "2026-11-24", Phase.CONTINUOUS))
    assert engine.reference_price_fen == 4_600
    assert reason(answer(engine, AcceptNegotiatedTransfer, 1, "C")) is Reason.PRICE_ABOVE_BAND
    assert engine.proposal(1) is not None  # still open: the initiator may withdraw or let it expire
    assert reason(answer(engine, WithdrawNegotiatedTransfer, 1, "I")) is None


def test_open_proposals_by_account() -> None:
    engine = make_engine()
    propose(engine, 1, account_id="I", counterparty_id="C")
    propose(engine, 2, account_id="C", counterparty_id="Z")
    propose(engine, 3, account_id="Y", counterparty_id="Z")
    assert [p.proposal_id for p in engine.proposals("C")] == [1, 2]
    assert [p.proposal_id for p in engine.proposals()] == [1, 2, 3]

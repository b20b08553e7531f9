"""Commands and events as plain dicts (for the command log and the event stream), snapshots and the per-record
restore a service uses to rebuild an engine from its own tables."""

from __future__ import annotations

import dataclasses
import json

import pytest

from matching_engine import (
    AcceptNegotiatedTransfer,
    AdvanceTime,
    AmendOrder,
    AuctionPricing,
    CancelAuction,
    CancelListing,
    CancelOrder,
    CloseDay,
    Command,
    Engine,
    Event,
    FloorState,
    InstrumentConfig,
    OpenAuction,
    OpenDay,
    OrderState,
    OrderType,
    Phase,
    PickListing,
    PlaceBid,
    PlaceOrder,
    PostListing,
    ProposalState,
    ProposalStatus,
    ProposeNegotiatedTransfer,
    ReferencePriceRule,
    RejectNegotiatedTransfer,
    SetPhase,
    Side,
    StpMode,
    TimeInForce,
    TradeMode,
    WithdrawAccount,
    WithdrawAuction,
    WithdrawBid,
    WithdrawNegotiatedTransfer,
    command_from_dict,
    command_to_dict,
    event_from_dict,
    event_to_dict,
    from_plain,
)
from matching_engine.commands import COMMAND_TYPES
from matching_engine.events import EVENT_TYPES

from .builders import BUY, SELL, book, make_engine

BUSY_DAY: list[Command] = [
    OpenDay(1, "2026-11-23", Phase.CALL),
    PlaceOrder(2, 1, "A", Side.BUY, 10, 5_010, tif=TimeInForce.DAY),
    PlaceOrder(3, 2, "B", Side.SELL, 4, 4_990),
    PlaceOrder(4, 3, "C", Side.SELL, 20, 5_030, tif=TimeInForce.GTD, expires_at_ms=500),
    SetPhase(5, Phase.CONTINUOUS),
    PlaceOrder(6, 4, "D", Side.BUY, 5, order_type=OrderType.MARKET, stp=StpMode.DECREMENT),
    AmendOrder(7, 3, "C", quantity_t=10),
    PlaceOrder(8, 5, "A", Side.BUY, 3, 5_000),
    PostListing(
        9,
        1,
        "L",
        Side.SELL,
        5_100,
        100,
        10,
        expires_at_ms=400,
        batch_id="B1",
        allowed_counterparties=frozenset({"P", "Q"}),
    ),
    PickListing(10, 1, 1, "P", 20),
    PostListing(11, 2, "L", Side.BUY, 4_900, 50, 50),
    ProposeNegotiatedTransfer(12, 1, "I", "C", Side.SELL, 5_000, 1_000, 450, "B2"),
    ProposeNegotiatedTransfer(13, 2, "I", "C", Side.BUY, 5_000, 1_000, 460),
    AcceptNegotiatedTransfer(14, 2, "C"),
    OpenAuction(15, 1, "S", Side.SELL, 100, 5_000, 480, AuctionPricing.UNIFORM, "LOT"),
    PlaceBid(16, 1, 1, "B1", 5_200, 60),
    PlaceBid(17, 1, 2, "B2", 5_100, 60),
    OpenAuction(18, 2, "S", Side.BUY, 100, 5_000, 700),
    CancelAuction(19, 2, "S"),
]
LATER: list[Command] = [
    AdvanceTime(450),
    PickListing(451, 2, 1, "Q", 10),
    WithdrawNegotiatedTransfer(452, 2, "I"),
    RejectNegotiatedTransfer(453, 1, "C"),
    AdvanceTime(480),
    PlaceOrder(481, 6, "E", Side.SELL, 10, 4_950, tif=TimeInForce.IOC),
    CancelOrder(482, 5, "A"),
    CancelListing(483, 2, "L"),
    AdvanceTime(500),
    CloseDay(600),
    OpenDay(700, "2026-11-24", Phase.CONTINUOUS),
    PlaceOrder(701, 7, "E", Side.SELL, 10, 5_000),
    WithdrawAccount(702, "E"),
    OpenAuction(703, 3, "S", Side.SELL, 10, 5_000, 900),
    PlaceBid(704, 3, 3, "B1", 5_000, 10),
    WithdrawAuction(705, 3),
    OpenAuction(706, 4, "S", Side.BUY, 10, 5_000, 900),
    PlaceBid(707, 4, 4, "B1", 5_000, 10),
    WithdrawBid(708, 4, 4),
]


def test_every_command_type_appears_in_the_sample_flow() -> None:
    assert {type(c).__name__ for c in BUSY_DAY + LATER} == set(COMMAND_TYPES)


@pytest.mark.parametrize("command", BUSY_DAY + LATER, ids=lambda c: type(c).__name__)
def test_command_round_trips_through_json(command: Command) -> None:
    plain = json.loads(json.dumps(command_to_dict(command)))
    assert plain["type"] == type(command).__name__
    assert command_from_dict(plain) == command


def test_unknown_command_and_event_types_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown command"):
        command_from_dict({"type": "Nope", "ts_ms": 1})
    with pytest.raises(ValueError, match="unknown event"):
        event_from_dict({"seq": 1})
    with pytest.raises(TypeError):
        Engine(InstrumentConfig("X")).submit(object())  # type: ignore[arg-type]


def run(commands: list[Command], engine: Engine | None = None) -> tuple[Engine, list[Event]]:
    engine = engine or Engine(InstrumentConfig("JX-TEST", reference_price_fen=5_000))
    return engine, engine.submit_all(commands)


def test_events_round_trip_through_json_and_cover_every_type() -> None:
    _, events = run(BUSY_DAY + LATER)
    seen = set()
    for event in events:
        plain = json.loads(json.dumps(event_to_dict(event)))
        assert event_from_dict(plain) == event
        seen.add(type(event).__name__)
    assert seen >= set(EVENT_TYPES) - {"Rejected"}


def test_events_are_frozen() -> None:
    _, events = run(BUSY_DAY[:2])
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].seq = 99  # type: ignore[misc]


def test_replaying_the_command_log_gives_the_same_events_and_state() -> None:
    engine, events = run(BUSY_DAY + LATER)
    log = [json.loads(json.dumps(command_to_dict(c))) for c in BUSY_DAY + LATER]
    again, replayed = Engine.replay(engine.config, [command_from_dict(item) for item in log])
    assert replayed == events
    assert again.snapshot() == engine.snapshot()


def test_snapshot_mid_flow_restores_an_engine_that_continues_identically() -> None:
    engine, _ = run(BUSY_DAY)
    snapshot = json.loads(json.dumps(engine.snapshot()))
    restored = Engine.from_snapshot(snapshot)
    assert restored.snapshot() == engine.snapshot()
    assert restored.submit_all(LATER) == engine.submit_all(LATER)
    assert restored.snapshot() == engine.snapshot()


def test_snapshot_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="format"):
        Engine.from_snapshot({"format": 99})


def test_config_round_trips() -> None:
    config = InstrumentConfig(
        "X",
        tick_fen=5,
        reference_price_rule=ReferencePriceRule.PREVIOUS_VWAP,
        market_data_modes=frozenset({TradeMode.LISTING}),
        default_stp=StpMode.CANCEL_BOTH,
    )
    assert InstrumentConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_a_service_can_rebuild_the_book_from_its_own_rows_in_any_order() -> None:
    engine = make_engine()
    for order_id, (side, price_fen) in enumerate(
        [(BUY, 4_990), (BUY, 4_990), (SELL, 5_010), (BUY, 4_990)], 1
    ):
        engine.submit(PlaceOrder(order_id, order_id, f"A{order_id}", side, order_id, price_fen))
    rows = list(reversed(engine.orders()))  # the rows come back in any order: priority puts them in place
    rebuilt = Engine(engine.config)
    rebuilt.restore_floor(from_plain(FloorState, engine.snapshot()["floor"]))
    for row in rows:
        rebuilt.restore_order(row)
    assert book(rebuilt) == book(engine)
    assert rebuilt.snapshot() == engine.snapshot()


def test_restore_refuses_what_cannot_rest() -> None:
    engine = make_engine()
    good = OrderState(1, "A", Side.BUY, 5_000, 5, TimeInForce.GTC, None, StpMode.CANCEL_NEWEST, 1)
    engine.restore_order(good)
    with pytest.raises(ValueError, match="already"):
        engine.restore_order(good)
    with pytest.raises(ValueError, match="cannot rest"):
        engine.restore_order(dataclasses.replace(good, order_id=2, tif=TimeInForce.IOC))
    with pytest.raises(ValueError, match="cannot rest"):
        engine.restore_order(dataclasses.replace(good, order_id=3, tif=TimeInForce.GTD))
    engine.restore_proposal(
        ProposalState(7, "I", "C", Side.SELL, 5_000, 10, 99, None, ProposalStatus.ACCEPTED)
    )
    assert engine.proposal_status(7) is ProposalStatus.ACCEPTED
    with pytest.raises(ValueError, match="already known"):
        engine.restore_proposal(ProposalState(7, "I", "C", Side.SELL, 5_000, 10, 99, None))


def test_restoring_an_object_before_the_floor_is_refused() -> None:
    engine = Engine(InstrumentConfig("JX-TEST"))
    order = OrderState(1, "A", Side.BUY, 5_000, 5, TimeInForce.GTC, None, StpMode.CANCEL_NEWEST, 7)
    with pytest.raises(ValueError, match="restore the floor first"):
        engine.restore_order(order)

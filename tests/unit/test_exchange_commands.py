"""The exchange's rooms: api/exchange/ reaches the ledger only through the registry's services (no
registry.orm), and its commands are typed classes that cross processes as plain data and come back equal."""

from __future__ import annotations

import ast
import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from api.exchange import commands
from api.exchange.commands import (
    KINDS,
    Accept,
    Command,
    OpenAuction,
    Place,
    PostListing,
    Propose,
    from_dict,
    from_params,
)
from registry.errors import InvalidInput
from registry.principals import Principal
from registry.services import idempotency

ROOT = Path(__file__).resolve().parents[2]
EXCHANGE = ROOT / "api" / "exchange"
TRADER = Principal(7, 3, "trader-7", frozenset({"trader", "owner"}))
AT = datetime(2026, 12, 24, 7, 30, tzinfo=timezone(timedelta(hours=8)))


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or anywhere else (TYPE_CHECKING blocks included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_exchange_imports_no_orm() -> None:
    """The desk, routing and the rest of api/exchange work on the ledger through registry services
    (trading's plan, settlement), never on its tables."""
    modules = sorted(EXCHANGE.rglob("*.py"))
    assert len(modules) >= 6
    for path in modules:
        orm = {name for name in _imports(path) if name == "registry.orm" or name.startswith("registry.orm.")}
        assert not orm, f"{path.relative_to(ROOT)} imports {sorted(orm)}"


def _sample(cls: type[Command]) -> Command:
    """A command of this kind with every field given (none left at its default)."""
    values = {"int": 41, "str": "c-1", "datetime": AT, "tuple": (5, 9)}
    fields = {}
    for f in dataclasses.fields(cls):
        if f.name in ("principal", "idempotency_key", "request_hash"):
            continue
        hint = str(f.type)
        kind = next(k for k in ("tuple", "datetime", "int", "str") if k in hint)
        fields[f.name] = values[kind]
    return cls(principal=TRADER, idempotency_key="key-1", request_hash="h-1", **fields)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_command_comes_back_from_its_wire_form_equal(kind: str) -> None:
    command = _sample(KINDS[kind])
    wire = json.loads(json.dumps(command.to_dict()))  # what the Redis stream carries
    assert wire["kind"] == kind
    again = from_dict(wire)
    assert again == command and type(again) is type(command)
    assert again.to_dict() == command.to_dict()


def test_defaults_survive_the_round_trip_too() -> None:
    place = Place(principal=TRADER, client_order_id="p1", side="buy", price_fen=5_000, quantity_t=3)
    assert from_dict(place.to_dict()) == place
    listing = PostListing(principal=TRADER, client_order_id="l1", price_fen=5_000, quantity_t=3,
                          allowed_counterparties=[4, 5])  # type: ignore[arg-type]  # as a request gives it
    assert listing.allowed_counterparties == (4, 5)
    assert from_dict(listing.to_dict()) == listing


@pytest.mark.parametrize(("params", "problem"), [
    ({"client_order_id": "x", "side": "buy", "quantity_t": True}, "quantity_t"),  # a bool is no quantity
    ({"client_order_id": "x", "side": "buy", "quantity_t": "5"}, "quantity_t"),
    ({"client_order_id": 5, "side": "buy", "quantity_t": 5}, "client_order_id"),
    ({"client_order_id": "x", "side": "buy"}, "quantity_t"),  # missing
    ({"client_order_id": "x", "side": "buy", "quantity_t": 5, "price": 1}, "price"),  # unknown
])
def test_the_door_refuses_a_command_that_does_not_fit(params: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        from_params("place", TRADER, params)
    assert problem in refused.value.message_en


def test_the_door_refuses_an_unknown_kind_and_an_unreadable_instant() -> None:
    with pytest.raises(InvalidInput):
        from_params("sweep_the_book", TRADER, {})
    with pytest.raises(InvalidInput) as refused:
        from_params("place", TRADER, {"client_order_id": "x", "side": "buy", "quantity_t": 5, "tif": "GTD",
                                      "price_fen": 5_000, "expires_at": "+10000-01-01T00:00:00+00:00"})
    assert [v.code for v in refused.value.violations] == ["INVALID_INSTANT"]


def test_the_request_hash_is_the_one_stored_before_the_commands_had_classes() -> None:
    """Orders in the database carry the hash of their request: a retry must hash to the same value, so the
    digest is taken over the same plain fields as before (the instrument, the kind where it was, the body)."""
    body = {"client_order_id": "h1", "side": "sell", "order_type": "LIMIT", "price_fen": 5_100, "quantity_t": 4,
            "tif": "GTD", "expires_at": AT, "protection_price_fen": None}
    place = Place(principal=TRADER, **body).digested(("instrument", "JXCI-2023"))  # type: ignore[arg-type]
    plain = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in body.items()}
    assert place.request_hash == idempotency.request_hash({"instrument": "JXCI-2023", **plain})
    proposal = Propose(principal=TRADER, client_order_id="p1", counterparty_participant_id=9, side="buy",
                       price_fen=5_000, quantity_t=2, expires_at=AT).digested(("instrument", "JXCI-2023"),
                                                                             ("kind", "propose"))
    assert proposal.request_hash == idempotency.request_hash({
        "instrument": "JXCI-2023", "kind": "propose", "client_order_id": "p1", "counterparty_participant_id": 9,
        "side": "buy", "price_fen": 5_000, "quantity_t": 2, "expires_at": AT.isoformat(), "batch_id": None})
    accept = Accept.to(TRADER, 12).digested(("kind", "accept"))
    assert accept.request_hash == idempotency.request_hash(
        {"kind": "accept", "proposal_id": 12, "client_order_id": "accept:12"})


def test_commands_are_frozen() -> None:
    auction = OpenAuction(principal=TRADER, client_order_id="a1", quantity_t=5, reserve_price_fen=4_000,
                          end_at=datetime.now(UTC))
    with pytest.raises(dataclasses.FrozenInstanceError):
        auction.quantity_t = 6  # type: ignore[misc]
    assert commands.READS and all(issubclass(c, Command) for c in KINDS.values())

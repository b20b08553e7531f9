"""The commands a book's writer carries out: one frozen class per kind, with typed fields named as in the
request and in the ledger (`quantity_t`, `price_fen`, `client_order_id`), from the route to the desk.

The routes build them from requests pydantic has checked; `from_dict` is the other door, for commands routed
from another process over the Redis stream (`to_dict` is their wire form: kind, params, principal,
idempotency key and request hash, as before there were classes). Either way, no dict goes past the door:
`from_params` checks every field's type and refuses a command that does not fit (InvalidInput).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar, Union

from registry.errors import InvalidInput
from registry.principals import Principal
from registry.services import idempotency
from rules.violations import Violation

C = TypeVar("C", bound="Command")
P = TypeVar("P", bound="ProposalAnswer")


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """What every command carries: who sends it, and how a retry of it is recognised (the Idempotency-Key
    and a digest of the request, see `digested`)."""

    KIND: ClassVar[str]
    principal: Principal
    idempotency_key: str | None = None
    request_hash: str = ""

    @property
    def kind(self) -> str:
        return self.KIND

    def params(self) -> dict[str, Any]:
        """The command's own fields as plain data (instants in ISO 8601): what its digest and its wire form
        hold."""
        plain: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in _ENVELOPE:
                continue
            value = getattr(self, f.name)
            plain[f.name] = value.isoformat() if isinstance(value, datetime) else \
                list(value) if isinstance(value, tuple) else value
        return plain

    def to_dict(self) -> dict[str, Any]:
        p = self.principal
        return {"kind": self.KIND, "params": self.params(), "idempotency_key": self.idempotency_key,
                "request_hash": self.request_hash,
                "principal": {"user_id": p.user_id, "participant_id": p.participant_id, "username": p.username,
                              "roles": sorted(p.roles)}}

    def digested(self: C, *scope: tuple[str, str]) -> C:
        """The command with its request hash: a digest of its fields and the `scope` pairs (the instrument's
        code, the kind), so a retry of the same request is known and a different one under the same client
        order id or Idempotency-Key is refused."""
        return dataclasses.replace(self, request_hash=idempotency.request_hash({**dict(scope), **self.params()}))


_ENVELOPE = frozenset(f.name for f in dataclasses.fields(Command))


# --- orders on the central book ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Place(Command):
    """A limit or market order."""

    KIND = "place"
    client_order_id: str
    side: str  # "buy" or "sell"
    order_type: str = "LIMIT"  # "LIMIT" or "MARKET"
    price_fen: int | None = None  # a LIMIT order's price
    quantity_t: int
    tif: str | None = None  # None: IOC for a market order, GTC for a limit order
    expires_at: datetime | None = None  # with tif GTD
    protection_price_fen: int | None = None  # the most a market buy pays (and holds cash for)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancel(Command):
    KIND = "cancel"
    order_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Amend(Command):
    """A new quantity or price for an open order (None: keep it)."""

    KIND = "amend"
    order_id: int
    quantity_t: int | None = None
    price_fen: int | None = None


# --- 挂牌 listings ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class PostListing(Command):
    KIND = "post_listing"
    client_order_id: str
    side: str = "sell"
    price_fen: int
    quantity_t: int
    min_pick_t: int = 1
    expires_at: datetime | None = None
    batch_id: int | None = None
    allowed_counterparties: tuple[int, ...] | None = None  # None: anyone may pick

    def __post_init__(self) -> None:
        if isinstance(self.allowed_counterparties, list):  # as a request gives it
            object.__setattr__(self, "allowed_counterparties", tuple(self.allowed_counterparties))


@dataclass(frozen=True, slots=True, kw_only=True)
class Pick(Command):
    KIND = "pick"
    listing_id: int
    client_order_id: str
    quantity_t: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelListing(Command):
    KIND = "cancel_listing"
    order_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Browse(Command):
    """A read of the listing board."""

    KIND = "browse"
    side: str = "sell"
    batch_id: int | None = None
    min_price_fen: int | None = None
    max_price_fen: int | None = None
    min_quantity_t: int | None = None
    offset: int = 0
    limit: int = 20


# --- 协议转让 proposals to a named counterparty -----------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Propose(Command):
    KIND = "propose"
    client_order_id: str
    counterparty_participant_id: int
    side: str
    price_fen: int
    quantity_t: int
    expires_at: datetime
    batch_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposalAnswer(Command):
    """An answer to a proposal; its `client_order_id` is the kind and the proposal's id, so that it is
    recorded once however often it is sent."""

    proposal_id: int
    client_order_id: str

    @classmethod
    def to(cls: type[P], principal: Principal, proposal_id: int) -> P:
        return cls(principal=principal, proposal_id=proposal_id, client_order_id=f"{cls.KIND}:{proposal_id}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Accept(ProposalAnswer):
    """The named counterparty takes the proposal: its side is held and the negotiated transfer settles at once."""

    KIND = "accept"


@dataclass(frozen=True, slots=True, kw_only=True)
class Reject(ProposalAnswer):
    """The named counterparty turns the proposal down."""

    KIND = "reject"


@dataclass(frozen=True, slots=True, kw_only=True)
class Withdraw(ProposalAnswer):
    """The initiator takes its proposal back."""

    KIND = "withdraw"


# --- 单向竞价 one-sided auctions ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class OpenAuction(Command):
    KIND = "open_auction"
    client_order_id: str
    side: str = "sell"
    quantity_t: int
    reserve_price_fen: int
    end_at: datetime
    pricing: str = "PAY_AS_BID"  # or "UNIFORM"
    batch_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Bid(Command):
    KIND = "bid"
    auction_id: int
    client_order_id: str
    price_fen: int
    quantity_t: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAuction(Command):
    KIND = "cancel_auction"
    order_id: int


# --- the book as a whole ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawParticipant(Command):
    """Take everything of a participant that may no longer trade out of the book (Art. 19, 26)."""

    KIND = "withdraw_participant"
    participant_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawBatch(Command):
    """Take out of the book whatever holds credits of a batch the bureau is taking back (Art. 26): the batch is
    frozen first, so nothing holds them again."""

    KIND = "withdraw_batch"
    batch_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Depth(Command):
    """A read of the live book."""

    KIND = "depth"
    levels: int


KINDS: dict[str, type[Command]] = {c.KIND: c for c in (
    Place, Cancel, Amend, PostListing, Pick, CancelListing, Browse, Propose, Accept, Reject, Withdraw,
    OpenAuction, Bid, CancelAuction, WithdrawParticipant, WithdrawBatch, Depth)}
READS = (Depth, Browse)  # commands that only read the book

# Who withdraws a participant from the books: the bureau (Art. 26), the operations center (Art. 19), an admin,
# and a writer itself when it finds one in its book (SYSTEM: no user, no organisation).
WITHDRAWERS = ("bureau", "operator", "admin", "system")
SYSTEM = Principal(0, 0, "system", frozenset({"system"}))
ANYONE = Principal(0, 0, "public", frozenset())  # a reader of public market data


# --- the door for commands that come as data ------------------------------------------------------------------
def from_dict(data: dict[str, Any]) -> Command:
    """A command in its wire form (`Command.to_dict`), checked."""
    p = data["principal"]
    principal = Principal(p["user_id"], p["participant_id"], p["username"], frozenset(p["roles"]))
    return from_params(data["kind"], principal, data["params"], data.get("idempotency_key"),
                       data.get("request_hash") or "")


def from_params(kind: str, principal: Principal, params: dict[str, Any], idempotency_key: str | None = None,
                request_hash: str = "") -> Command:
    """The command of this kind with these fields, each checked against its declared type (an instant from
    ISO 8601); a field missing, unknown or of the wrong type refuses the command."""
    cls = KINDS.get(kind)
    if cls is None:
        raise _unfit(f"unknown command kind {kind!r}")
    hints = _HINTS[cls]
    unknown = set(params) - set(hints)
    if unknown:
        raise _unfit(f"{kind} has no field {sorted(unknown)[0]}")
    fields = {name: _typed(kind, name, value, hints[name]) for name, value in params.items()}
    try:
        return cls(principal=principal, idempotency_key=idempotency_key, request_hash=request_hash, **fields)
    except TypeError as missing:
        raise _unfit(f"{kind}: {missing}") from None


def _unfit(problem: str, field: str | None = None) -> InvalidInput:
    return InvalidInput(f"The command does not fit: {problem}.", f"指令格式不符：{problem}。",
                        [Violation("INVALID_COMMAND", "Art. 20", field, "指令格式不符。", "The command does not fit.")])


def _typed(kind: str, name: str, value: Any, hint: Any) -> Any:
    allowed = typing.get_args(hint) if typing.get_origin(hint) in (Union, types.UnionType) else (hint,)
    if value is None:
        if type(None) in allowed:
            return None
        raise _unfit(f"{kind}.{name} is missing", name)
    for want in allowed:
        if want is datetime:
            if isinstance(value, datetime):
                return value
            if isinstance(value, str):
                try:
                    return datetime.fromisoformat(value)
                except ValueError:
                    raise InvalidInput(f"{name} is not an instant with a time zone the exchange can keep.",
                                       f"{name} 不是带时区且可保存的时间。",
                                       [Violation("INVALID_INSTANT", "Art. 20", name, "时间无效。",
                                                  "Not a valid instant.")]) from None
        elif typing.get_origin(want) is tuple:
            if isinstance(value, list | tuple) and all(type(v) is int for v in value):
                return tuple(value)
        elif want in (int, str) and type(value) is want:  # not a bool for an int
            return value
    raise _unfit(f"{kind}.{name} is not of type {hint}", name)


_HINTS: dict[type[Command], dict[str, Any]] = {
    cls: {name: hint for name, hint in typing.get_type_hints(cls).items()
          if name not in _ENVELOPE and name != "KIND"} for cls in KINDS.values()}

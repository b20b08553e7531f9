"""The commands a book's writer carries out, as they cross from the routes to the desk (and, routed, from one
process to another)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from registry.principals import Principal
from registry.services import idempotency


@dataclass
class DeskCommand:
    """A command for an instrument's writer, as plain data so it can be routed to another process."""

    kind: str  # "place", "cancel", "amend"
    principal: Principal
    params: dict[str, Any]
    idempotency_key: str | None = None
    request_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        p = self.principal
        return {"kind": self.kind, "params": self.params, "idempotency_key": self.idempotency_key,
                "request_hash": self.request_hash,
                "principal": {"user_id": p.user_id, "participant_id": p.participant_id, "username": p.username,
                              "roles": sorted(p.roles)}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeskCommand:
        p = data["principal"]
        return cls(data["kind"], Principal(p["user_id"], p["participant_id"], p["username"], frozenset(p["roles"])),
                   data["params"], data["idempotency_key"], data["request_hash"])


# Who withdraws a participant from the books: the bureau (Art. 26), the operations center (Art. 19), an admin,
# and a writer itself when it finds one in its book (SYSTEM: no user, no organisation).
WITHDRAWERS = ("bureau", "operator", "admin", "system")
SYSTEM = Principal(0, 0, "system", frozenset({"system"}))
WITHDRAW = "withdraw_participant"
BARRED_RETRIES = 3  # a batch refused for a barred participant's trade goes again after its withdrawal


def place_command(principal: Principal, instrument_code: str, body: dict[str, Any],
                   idempotency_key: str | None) -> DeskCommand:
    params = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in body.items()}
    digest = idempotency.request_hash({"instrument": instrument_code, **params})
    return DeskCommand("place", principal, params, idempotency_key, digest)


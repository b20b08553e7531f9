"""Accounts, holdings by serial block, registry transfers, revocation, and the ledger check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select

from api.deps import Services, allow, get_services, marked_if_replayed
from api.exchange.routing import withdraw_from_market
from api.schemas import IdempotencyKeyHeader, LongText, NoControl, OneLine, PathId, ShortText, Strict
from registry import serials
from registry.orm import Account, Batch
from registry.principals import Principal
from registry.services import holdings, idempotency, ledger_check, revocations, transfers
from registry.services.disclosure import batch_context

router = APIRouter(tags=["ledger"])

HOLDERS = ("owner", "trader")
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Quantity = Annotated[int, Field(ge=1, le=10**12)]


class SubAccountIn(Strict):
    label: ShortText


class TransferIn(Strict):
    to_account_code: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9\-]{3,60}$"), OneLine]
    quantity_t: Quantity
    from_account_id: Id | None = None
    batch_id: Id | None = None
    memo: LongText = ""


class RevocationIn(Strict):
    quantity_t: Quantity | None = Field(default=None, description="Omit to revoke every unretired tonne.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000), NoControl]
    # The stored notice adds a line stating why there was no correction order first (Art. 26).
    notice: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=3500), NoControl]


class BlockOut(BaseModel):
    block_id: str
    batch_id: int
    serial_start: int
    serial_end: int
    quantity_t: int
    bucket: str


class AccountOut(BaseModel):
    id: int
    code: str
    kind: str
    label: str
    balances: list[dict[str, Any]]


def account_out(uow: Any, account: Account) -> AccountOut:
    return AccountOut(id=account.id, code=account.code, kind=account.kind, label=account.label,
                      balances=[{"asset": b.asset, "bucket": b.bucket, "amount": b.amount}
                                for b in holdings.balances_of(uow, [account.id])])


@router.get("/accounts", response_model=list[AccountOut])
def my_accounts(principal: Principal = Depends(allow(*HOLDERS)),
                services: Services = Depends(get_services)) -> list[AccountOut]:
    """Your holding accounts with balances per batch and bucket (available, held, retired, revoked)."""
    with services.registry.uow(principal) as uow:
        holdings.main_account(uow, principal.participant_id)
        uow.commit()
        return [account_out(uow, a) for a in holdings.accounts_of(uow, principal.participant_id)]


@router.post("/accounts", status_code=201, response_model=AccountOut)
def open_sub_account(body: SubAccountIn, principal: Principal = Depends(allow(*HOLDERS)),
                     services: Services = Depends(get_services)) -> AccountOut:
    with services.registry.uow(principal) as uow:
        account = holdings.open_sub_account(uow, principal.participant_id, body.label)
        uow.commit()
        return account_out(uow, account)


@router.get("/accounts/{account_id}/holdings", response_model=list[BlockOut])
def account_holdings(account_id: PathId, principal: Principal = Depends(allow(*HOLDERS)),
                     services: Services = Depends(get_services)) -> list[BlockOut]:
    """Your live serial blocks in one account, in serial order."""
    with services.registry.uow(principal) as uow:
        holdings.own_account(uow, principal.participant_id, account_id)
        blocks = holdings.holdings(uow, [account_id])
        vintages = {row[0]: row[1] for row in uow.session.execute(
            select(Batch.id, Batch.vintage).where(Batch.id.in_({x.batch_id for x in blocks})))}
        return [BlockOut(block_id=serials.block_label(vintages[b.batch_id], b.batch_id, b.serial_start, b.serial_end),
                         batch_id=b.batch_id, serial_start=b.serial_start, serial_end=b.serial_end,
                         quantity_t=b.serial_end - b.serial_start + 1, bucket=b.bucket) for b in blocks]


@router.post("/transfers", status_code=201)
def transfer(body: TransferIn, response: Response, idempotency_key: IdempotencyKeyHeader = None,
             principal: Principal = Depends(allow(*HOLDERS)),
             services: Services = Depends(get_services)) -> dict[str, Any]:
    """Transfer available credits to another holding account (lowest serials first). With an
    Idempotency-Key a retry returns the first answer (marked `Idempotent-Replayed: true`) instead of moving
    the credits again."""
    digest = idempotency.request_hash(body.model_dump())
    with services.registry.uow(principal) as uow:
        earlier = idempotency.replay(uow, principal.user_id, idempotency_key, digest)
        if earlier is not None:
            return marked_if_replayed(response, earlier)
        moved = transfers.transfer(uow, principal, from_account_id=body.from_account_id,
                                   to_account_code=body.to_account_code, quantity_t=body.quantity_t,
                                   batch_id=body.batch_id, memo=body.memo)
        answer = {"entry_id": moved.entry.id, "quantity_t": moved.quantity,
                  "blocks": [{"batch_id": b.batch_id, "serial_start": b.start, "serial_end": b.end}
                             for b in moved.blocks]}
        idempotency.remember(uow, principal.user_id, idempotency_key, digest, answer)
        uow.commit()
        return answer


@router.post("/batches/{batch_id}/revocations", status_code=201)
def revoke_batch(batch_id: PathId, body: RevocationIn, principal: Principal = Depends(allow("bureau")),
                 services: Services = Depends(get_services)) -> dict[str, Any]:
    """Take back a batch or part of it at once, where the material cannot be corrected because the reduction
    never happened (Art. 26; the notice says so); the owner is disqualified, and everything it has on the
    exchange is withdrawn. Correctable material is first ordered corrected: POST /batches/{id}/corrections."""
    with services.registry.uow(principal) as uow:
        revocation = revocations.revoke(uow, principal, batch_id, quantity_t=body.quantity_t, reason=body.reason,
                                        notice=body.notice)
        uow.commit()
        batch = uow.session.get(Batch, batch_id)
        assert batch is not None
        answer = {"id": revocation.id, "quantity_t": revocation.quantity_t, "reason": revocation.reason,
                  "notice": revocation.notice, "batch": batch_context(uow, batch)}
        owner_id = revocations.owner_of(uow, batch)
    withdraw_from_market(services.exchange, principal, owner_id)
    return answer


@router.get("/ledger/check")
def check_ledger(principal: Principal = Depends(allow("operator", "bureau", "admin")),
                 services: Services = Depends(get_services)) -> dict[str, Any]:
    """Conservation: every entry balances; per batch issued = available + held + retired + revoked."""
    with services.registry.uow(principal) as uow:
        return ledger_check.check(uow).as_dict()

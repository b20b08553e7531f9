"""Accounts, holdings by serial block, registry transfers, revocation, and the ledger check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from pydantic import Field, StringConstraints

from api.answers.ledger import (
    AccountOut,
    BlockOut,
    LedgerCheckOut,
    RevokedOut,
    TransferOut,
    account_out,
    blocks_out,
    revoked_out,
    transfer_out,
)
from api.deps import Services, allow, get_services, marked_if_replayed
from api.exchange.routing import withdraw_batch_from_market, withdraw_from_market
from api.schemas import IdempotencyKeyHeader, LongText, NoControl, OneLine, PathId, ShortText, Strict
from registry.principals import Principal
from registry.services import accounts, idempotency, ledger_check, revocations, transfers

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


@router.get("/accounts", response_model=list[AccountOut])
def my_accounts(principal: Principal = Depends(allow(*HOLDERS)),
                services: Services = Depends(get_services)) -> list[AccountOut]:
    """Your holding accounts with balances per batch and bucket (available, held, retired, revoked)."""
    with services.registry.uow(principal) as uow:
        return [account_out(uow, a) for a in accounts.accounts(uow, principal.participant_id)]


@router.post("/accounts", status_code=201, response_model=AccountOut)
def open_sub_account(body: SubAccountIn, principal: Principal = Depends(allow(*HOLDERS)),
                     services: Services = Depends(get_services)) -> AccountOut:
    with services.registry.uow(principal) as uow:
        return account_out(uow, accounts.open_sub_account(uow, principal.participant_id, body.label))


@router.get("/accounts/{account_id}/holdings", response_model=list[BlockOut])
def account_holdings(account_id: PathId, principal: Principal = Depends(allow(*HOLDERS)),
                     services: Services = Depends(get_services)) -> list[BlockOut]:
    """Your live serial blocks in one account, in serial order."""
    with services.registry.uow(principal) as uow:
        return blocks_out(uow, accounts.live_blocks(uow, principal.participant_id, account_id))


@router.post("/transfers", status_code=201, response_model=TransferOut)
def transfer(body: TransferIn, response: Response, idempotency_key: IdempotencyKeyHeader = None,
             principal: Principal = Depends(allow(*HOLDERS)),
             services: Services = Depends(get_services)) -> dict[str, Any]:
    """Transfer available credits to another holding account (lowest serials first). With an
    Idempotency-Key a retry returns the first answer (marked `Idempotent-Replayed: true`) instead of moving
    the credits again."""
    digest = idempotency.request_hash(body.model_dump())
    with services.registry.uow(principal) as uow:
        answer = idempotency.replay_or_act(uow, principal.user_id, idempotency_key, digest, lambda: transfer_out(
            transfers.transfer(uow, principal, from_account_id=body.from_account_id,
                               to_account_code=body.to_account_code, quantity_t=body.quantity_t,
                               batch_id=body.batch_id, memo=body.memo)))
        return marked_if_replayed(response, answer)


@router.post("/batches/{batch_id}/revocations", status_code=201, response_model=RevokedOut)
def revoke_batch(batch_id: PathId, body: RevocationIn, principal: Principal = Depends(allow("bureau")),
                 services: Services = Depends(get_services)) -> dict[str, Any]:
    """Take back a batch or part of it at once, where the material cannot be corrected because the reduction
    never happened (Art. 26; the notice says so); the owner is disqualified, and everything it has on the
    exchange is withdrawn. Correctable material is first ordered corrected: POST /batches/{id}/corrections.
    The batch is frozen first (nothing holds its credits again) and the exchange withdraws whatever holds them,
    whoever's, so every unretired tonne is taken back; should a book not answer, 503 and the same request
    completes it later."""
    with services.registry.uow(principal) as uow:
        revocations.freeze_batch(uow, principal, batch_id)
    withdraw_batch_from_market(services.exchange, principal, batch_id)
    with services.registry.uow(principal) as uow:
        revoked = revocations.revoke_batch(uow, principal, batch_id, quantity_t=body.quantity_t, reason=body.reason,
                                           notice=body.notice)
        answer = revoked_out(uow, revoked)
    withdraw_from_market(services.exchange, principal, revoked.owner_participant_id)
    return answer


@router.get("/ledger/check", response_model=LedgerCheckOut)
def check_ledger(principal: Principal = Depends(allow("operator", "bureau", "admin")),
                 services: Services = Depends(get_services)) -> dict[str, Any]:
    """Conservation: every entry balances; per batch issued = available + held + retired + revoked."""
    with services.registry.uow(principal) as uow:
        return ledger_check.check(uow).as_dict()

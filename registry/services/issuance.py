"""Issuance (签发, Art. 17): a registered filing becomes a batch with one contiguous serial block,
credited to the owner's main account. Quantity = the verified quantity rounded down (Art. 28).

`issue` is the bureau's use case and commits its unit of work once, at its end."""

from __future__ import annotations

from registry import ledger, numbering, serials
from registry.errors import RuleViolation
from registry.orm import Batch
from registry.principals import Principal
from registry.repositories import issuance as repository
from registry.services import balances, filings, ledger_accounts, participants, serial_blocks
from registry.services.reviews import apply_action
from registry.unit_of_work import UnitOfWork
from rules.filing import issued_tonnes
from rules.violations import Violation

SERIAL_COUNTER = "serial"


def next_serials(uow: UnitOfWork, quantity: int) -> int:
    """Reserve `quantity` consecutive registry-wide serial numbers under a row lock; the first one."""
    return numbering.take(uow, SERIAL_COUNTER, quantity)


def issue(uow: UnitOfWork, principal: Principal, filing_id: int, comment: str) -> Batch:
    """The bureau issues a registered filing's certified reductions to its owner."""
    filing = filings.get_filing(uow, principal, filing_id, for_update=True)
    assert filing is not None
    quantity = issued_tonnes(filing.verified_tco2e) if filing.verified_tco2e is not None else 0
    if quantity <= 0:
        raise RuleViolation([Violation("JX-28", "Art. 28", "verified_tco2e",
                                       "核证减排量向下取整后不足 1 吨，无可签发的减排量。",
                                       "The verified quantity rounds down to zero whole tonnes; nothing to issue.")])
    participants.require_active(uow, filing.owner_participant_id, "receive issued credits", "获签发减排量")
    apply_action(uow, principal, filings.subject(filing), "issue", comment, notice_days=0)
    filings.require_unique(uow, filing)  # Art. 13(3) once more: a registration imported since stops issuance
    first = next_serials(uow, quantity)
    vintage = filing.monitoring_end.year
    batch = Batch(code="pending", filing_id=filing.id, project_id=filing.project_id, vintage=vintage,
                  quantity_t=quantity, serial_start=first, serial_end=first + quantity - 1, issued_at=uow.now())
    uow.session.add(batch)
    uow.session.flush()
    batch.code = serials.batch_code(vintage, batch.id)
    owner = ledger_accounts.main_account(uow, filing.owner_participant_id)
    source = ledger_accounts.issuance_account(uow)
    asset = ledger.credit_asset(batch.id)
    entry = balances.post(uow, "issuance", ledger.move(asset, quantity, (source.id, ledger.AVAILABLE),
                                                       (owner.id, ledger.AVAILABLE)),
                          reference=f"filing:{filing.id}", memo=batch.code)
    serial_blocks.make_block(uow, batch_id=batch.id, start=batch.serial_start, end=batch.serial_end,
                        holder=(owner.id, ledger.AVAILABLE), entry_id=entry.id, sellable_from=None)
    filing.issued_at = uow.now()
    uow.audit("batch.issued", "batch", batch.id,
              {"code": batch.code, "filing_id": filing.id, "quantity_t": quantity, "serial_start": batch.serial_start,
               "serial_end": batch.serial_end, "verified_tco2e": filing.verified_tco2e, "account": owner.code})
    uow.commit()
    return batch


def batches(uow: UnitOfWork) -> list[Batch]:
    return repository.batches(uow.session)

"""The ledger check: every entry balances, balances equal their postings, serial blocks equal balances,
no serial sits in two live blocks, and per batch issued = available + held + retired + revoked."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from registry import ledger, serials
from registry.repositories import ledger as ledger_repo
from registry.unit_of_work import UnitOfWork


@dataclass
class LedgerReport:
    ok: bool = True
    entries_checked: int = 0
    batches_checked: int = 0
    problems: list[str] = field(default_factory=list)
    batches: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, problem: str) -> None:
        self.ok = False
        if len(self.problems) < 100:
            self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries_checked": self.entries_checked, "batches_checked": self.batches_checked,
                "problems": self.problems, "batches": self.batches}


def check(uow: UnitOfWork) -> LedgerReport:
    """Run every conservation check over the whole ledger (read-only)."""
    report = LedgerReport()
    session = uow.session
    report.entries_checked = ledger_repo.entries_posted(session)
    for entry_id, asset, total in ledger_repo.unbalanced_entries(session):
        report.fail(f"journal entry {entry_id} does not balance for {asset}: {total}")
    posted = ledger_repo.posted_sums(session)
    balances = {(b.account_id, b.asset, b.bucket): b for b in ledger_repo.all_balances(session)}
    for key in set(posted) | set(balances):
        cached = balances[key].amount if key in balances else 0
        if cached != posted.get(key, 0):
            report.fail(f"balance {key} is {cached} but its postings sum to {posted.get(key, 0)}")
        if key in balances and cached < 0 and not balances[key].may_go_negative:
            report.fail(f"balance {key} is negative: {cached}")
    live = ledger_repo.all_live_blocks(session)
    in_blocks: dict[tuple[int, str, str], int] = defaultdict(int)
    for block in live:
        in_blocks[(block.account_id, ledger.credit_asset(block.batch_id), block.bucket)] += (
            block.serial_end - block.serial_start + 1)
    source_ids = ledger_repo.issuance_account_ids(session)
    cash_total = sum(b.amount for k, b in balances.items() if k[1] == ledger.CASH)
    if cash_total != 0:
        report.fail(f"cash does not sum to zero across accounts: {cash_total} fen")
    credit_keys = {k for k in balances if k[1].startswith("CREDIT:")} | set(in_blocks)
    for key in sorted(credit_keys):
        cached = balances[key].amount if key in balances else 0
        if key[0] not in source_ids and in_blocks.get(key, 0) != cached:
            report.fail(f"serial blocks of {key} hold {in_blocks.get(key, 0)} t but the balance is {cached} t")
    for a, b in serials.overlaps(serials.Block(x.serial_start, x.serial_end, x.batch_id) for x in live):
        report.fail(f"serials {b.start}..{min(a.end, b.end)} sit in two live blocks")
    for batch in ledger_repo.all_batches(session):
        report.batches_checked += 1
        asset = ledger.credit_asset(batch.id)
        parts = {bucket: 0 for bucket in (ledger.AVAILABLE, ledger.HELD, ledger.RETIRED, ledger.REVOKED)}
        source = 0
        for (account_id, bal_asset, bucket), bal in balances.items():
            if bal_asset != asset:
                continue
            if account_id in source_ids:
                source += bal.amount
            else:
                parts[bucket] += bal.amount
        report.batches.append({"batch": batch.code, "issued_t": batch.quantity_t,
                               **{f"{k}_t": v for k, v in parts.items()}})
        if sum(parts.values()) != batch.quantity_t or source != -batch.quantity_t:
            report.fail(f"batch {batch.code}: issued {batch.quantity_t} t but available+held+retired+revoked = "
                        f"{sum(parts.values())} t (source {source})")
        in_range = [x for x in live if x.batch_id == batch.id]
        if any(x.serial_start < batch.serial_start or x.serial_end > batch.serial_end for x in in_range):
            report.fail(f"batch {batch.code}: a block lies outside the batch's serial range")
    return report

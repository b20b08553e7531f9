"""Retirement (注销, Art. 21): a holder retires only credits it has available, the operations center executes
a request once, and a retired reduction is never used again (so an executed retirement cannot be cancelled).
Every refusal is JX-21."""

from __future__ import annotations

from rules.violations import Violation

CODE = "JX-21"
ARTICLE = "Art. 21"

REQUESTED = "requested"
EXECUTED = "executed"
CANCELLED = "cancelled"


def _v(field: str | None, zh: str, en: str) -> Violation:
    return Violation(CODE, ARTICLE, field, zh, en)


def check_quantity(quantity_t: int, usable_t: int, *, batch_code: str | None = None) -> list[Violation]:
    """A request retires at least one tonne and no more than the account has available (retired, revoked or
    held credits do not count: a retired reduction can never be used again)."""
    where_zh = f"（批次 {batch_code}）" if batch_code else ""
    where_en = f" of batch {batch_code}" if batch_code else ""
    if quantity_t <= 0:
        return [_v("quantity_t", "注销数量须至少为 1 吨。", "At least one tonne must be retired.")]
    if quantity_t > usable_t:
        return [_v("quantity_t",
                   f"可注销的减排量不足{where_zh}：可用 {usable_t} 吨，申请 {quantity_t} 吨；"
                   "已注销、已收回或冻结中的减排量不能再次使用。",
                   f"Not enough credits{where_en} to retire: {usable_t} t available, {quantity_t} t asked; "
                   "retired, revoked or held credits cannot be used again.")]
    return []


def check_execute(status: str) -> list[Violation]:
    """Only a pending request is executed, and only once."""
    if status == EXECUTED:
        return [_v(None, "该注销已执行；已注销的减排量不得再次注销。",
                   "This retirement was already executed; a retired reduction cannot be retired again.")]
    if status != REQUESTED:
        return [_v(None, f"该注销申请已{'撤回' if status == CANCELLED else status}，不能执行。",
                   f"This retirement request is {status} and cannot be executed.")]
    return []


def check_cancel(status: str) -> list[Violation]:
    """Only a pending request is withdrawn: an executed retirement stands for good."""
    if status == EXECUTED:
        return [_v(None, "该注销已执行，已注销的减排量不得恢复使用，不能撤回。",
                   "This retirement was executed: a retired reduction can never be used again, so it cannot be "
                   "withdrawn.")]
    if status != REQUESTED:
        return [_v(None, "该注销申请已撤回。", "This retirement request was already withdrawn.")]
    return []

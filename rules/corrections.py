"""Art. 26 as a procedure: false material is first ordered corrected within a deadline (责令限期改正); the
owner answers with corrected material; the bureau accepts it (the order is closed) or rejects it, and a
rejection or a deadline that passes unanswered disqualifies the owner and takes back (收回) the credits still
unretired, with a public notice (公开通报). Only where the material cannot be corrected, because the reduction
never happened, does the bureau take credits back at once, and the notice says so.

An order's states: ``ordered`` → (owner answers by the deadline) ``responded`` → (bureau) ``accepted`` or
``rejected``; ``ordered`` → (bureau, from the day after the deadline) ``lapsed``; an open order is
``superseded`` when the bureau takes the credits back at once. Every refusal is JX-26.

Deadlines count whole calendar days after the day of the order (as the public notice does, Art. 10/17): an
order of 2026-11-23 with 7 days may be answered up to and including 2026-11-30, and lapses from 2026-12-01.
"""

from __future__ import annotations

from datetime import date, timedelta

from rules.violations import Violation

CODE = "JX-26"
ARTICLE = "Art. 26"

# The bounds of a correction deadline: at least a day to answer, at most about a quarter (a longer deadline
# leaves credits issued on false material in circulation for too long).
MIN_DEADLINE_DAYS = 1
MAX_DEADLINE_DAYS = 90

ORDERED = "ordered"
RESPONDED = "responded"
ACCEPTED = "accepted"
REJECTED = "rejected"
LAPSED = "lapsed"
SUPERSEDED = "superseded"
STATUSES = (ORDERED, RESPONDED, ACCEPTED, REJECTED, LAPSED, SUPERSEDED)
OPEN_STATUSES = (ORDERED, RESPONDED)
# Outcomes that disqualify the owner and take the credits back.
SANCTIONED = (REJECTED, LAPSED)

ACCEPT = "accept"
REJECT = "reject"
LAPSE = "lapse"
DECISIONS = (ACCEPT, REJECT, LAPSE)
_OUTCOME = {ACCEPT: ACCEPTED, REJECT: REJECTED, LAPSE: LAPSED}

STATUS_NAMES: dict[str, tuple[str, str]] = {
    ORDERED: ("待改正", "awaiting correction"),
    RESPONDED: ("已提交改正材料，待市生态环境局决定", "corrected material submitted, awaiting the bureau"),
    ACCEPTED: ("改正已接受，已结案", "correction accepted, closed"),
    REJECTED: ("改正未被接受", "correction rejected"),
    LAPSED: ("逾期未改正", "deadline passed uncorrected"),
    SUPERSEDED: ("材料无法改正，已直接收回", "superseded: taken back at once"),
}


def _v(field: str | None, zh: str, en: str) -> Violation:
    return Violation(CODE, ARTICLE, field, zh, en)


def deadline_of(ordered_on: date, deadline_days: int) -> date:
    """The last day the owner may answer: ``deadline_days`` whole days after the day of the order."""
    return ordered_on + timedelta(days=deadline_days)


def check_order(deadline_days: int, *, open_orders: int) -> list[Violation]:
    """An order gives a deadline inside the bounds, and a batch has at most one open order at a time."""
    problems = []
    if not MIN_DEADLINE_DAYS <= deadline_days <= MAX_DEADLINE_DAYS:
        problems.append(_v(
            "deadline_days",
            f"改正期限须为 {MIN_DEADLINE_DAYS} 至 {MAX_DEADLINE_DAYS} 天，而不是 {deadline_days} 天。",
            f"The correction deadline must be {MIN_DEADLINE_DAYS} to {MAX_DEADLINE_DAYS} days, not "
            f"{deadline_days}.",
        ))
    if open_orders:
        problems.append(_v(
            None, "该批次已有未结案的责令改正，不得重复下达。",
            "This batch already has an open correction order; it must be decided before another is issued.",
        ))
    return problems


def _status_names(status: str) -> tuple[str, str]:
    return STATUS_NAMES.get(status, (status, status))


def check_response(status: str, deadline: date, today: date) -> list[Violation]:
    """The owner answers an order once, up to and including its deadline."""
    if status != ORDERED:
        zh, en = _status_names(status)
        return [_v(None, f"该责令改正当前状态为“{zh}”，不能再提交改正材料。",
                   f"The correction order is {en}; corrected material can no longer be submitted.")]
    if today > deadline:
        return [_v(None, f"改正期限已于 {deadline.isoformat()} 届满，逾期不能再提交改正材料。",
                   f"The correction deadline passed on {deadline.isoformat()}; corrected material can no longer "
                   "be submitted.")]
    return []


def check_decision(status: str, decision: str, deadline: date, today: date, *, notice: str) -> list[Violation]:
    """The bureau accepts or rejects an answer; an unanswered order lapses only after its deadline. A
    rejection or a lapse disqualifies and takes back, so it needs the text of the public notice."""
    problems: list[Violation] = []
    zh, en = _status_names(status)
    if decision not in DECISIONS:
        problems.append(_v("decision", f"未知的决定“{decision}”（可选：{', '.join(DECISIONS)}）。",
                           f"Unknown decision '{decision}' (one of {', '.join(DECISIONS)})."))
        return problems
    if decision in (ACCEPT, REJECT) and status != RESPONDED:
        problems.append(_v("decision", f"该责令改正当前状态为“{zh}”，尚无可接受或驳回的改正材料。",
                           f"The correction order is {en}: there is no corrected material to accept or reject."))
    if decision == LAPSE:
        if status != ORDERED:
            problems.append(_v("decision", f"该责令改正当前状态为“{zh}”，不能认定逾期未改正。",
                               f"The correction order is {en}; it cannot lapse."))
        elif today <= deadline:
            first = (deadline + timedelta(days=1)).isoformat()
            problems.append(_v(
                "decision",
                f"改正期限至 {deadline.isoformat()} 止，{first} 起方可认定逾期未改正。",
                f"The correction deadline runs until {deadline.isoformat()}; the order can lapse from {first}.",
            ))
    if decision in (REJECT, LAPSE) and not notice.strip():
        problems.append(_v("notice", "取消资格并收回减排量须附公开通报。",
                           "Disqualifying the owner and taking the credits back needs the text of the public notice."))
    return problems


def outcome(decision: str) -> str:
    """The order's status after a decision."""
    return _OUTCOME[decision]


def check_take_back(unretired_t: int, asked_t: int | None) -> list[Violation]:
    """A revocation takes back at least one unretired tonne and no more than there are: a batch with nothing
    left to take back gets no second notice."""
    if unretired_t <= 0:
        return [_v("quantity_t", "该批次已无可收回的减排量（已全部注销或收回），不再发布收回通报。",
                   "Nothing of this batch is left to take back (all of it is retired or revoked already); no "
                   "further notice is published.")]
    if asked_t is not None and asked_t > unretired_t:
        return [_v("quantity_t", f"该批次仅有 {unretired_t} 吨未注销，申请收回 {asked_t} 吨。",
                   f"Only {unretired_t} t of the batch are unretired; {asked_t} t asked.")]
    return []


def uncorrectable_notice_line() -> tuple[str, str]:
    """What the notice of an immediate revocation states: why there was no correction order first."""
    return ("经查，相关减排量未真实产生，材料无法改正，依据第二十六条直接收回，不设改正期限。",
            "The reduction never happened, so the material cannot be corrected; the credits are taken back at "
            "once under Art. 26, without a correction deadline.")


def correction_notice_line(order_code: str, ordered_on: date, deadline: date, status: str) -> tuple[str, str]:
    """What the notice of a revocation after a correction order states: the order, its deadline, the outcome."""
    if status == LAPSED:
        return (f"市生态环境局于 {ordered_on.isoformat()} 责令限期改正（{order_code}，期限至 {deadline.isoformat()}），"
                "逾期未改正，依据第二十六条取消其参与碳普惠市场的资格，收回已签发的减排量。",
                f"Ordered to correct on {ordered_on.isoformat()} ({order_code}, deadline {deadline.isoformat()}) "
                "and not corrected in time: disqualified and the issued credits taken back under Art. 26.")
    return (f"市生态环境局于 {ordered_on.isoformat()} 责令限期改正（{order_code}，期限至 {deadline.isoformat()}），"
            "所提交的改正材料未被接受，依据第二十六条取消其参与碳普惠市场的资格，收回已签发的减排量。",
            f"Ordered to correct on {ordered_on.isoformat()} ({order_code}, deadline {deadline.isoformat()}); "
            "the corrected material was rejected: disqualified and the issued credits taken back under Art. 26.")


def with_line(notice: str, line: tuple[str, str]) -> str:
    """The bureau's notice text followed by the standard line in both languages."""
    return f"{notice.strip()}\n{line[0]}\n{line[1]}"

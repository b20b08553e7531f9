"""Art. 26 as a procedure (rules/corrections.py), Art. 21 refusals (rules/retirement.py) and the Art. 13(3)
re-check over imported registrations (rules/eligibility.py): every boundary from both sides."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rules import corrections, retirement
from rules.eligibility import ExternalRegistration, check_other_registrations
from rules.violations import Violation

ORDERED_ON = date(2026, 11, 23)
DEADLINE = corrections.deadline_of(ORDERED_ON, 7)


def codes(problems: list[Violation]) -> list[tuple[str, str | None]]:
    return [(v.code, v.field) for v in problems]


def test_the_deadline_counts_whole_days_after_the_order() -> None:
    assert corrections.deadline_of(ORDERED_ON, 7) == date(2026, 11, 30)


@pytest.mark.parametrize("days,ok", [(0, False), (1, True), (90, True), (91, False), (-1, False)])
def test_deadline_bounds(days: int, ok: bool) -> None:
    problems = corrections.check_order(days, open_orders=0)
    assert (problems == []) is ok
    if not ok:
        assert codes(problems) == [("JX-26", "deadline_days")]


def test_one_open_order_per_batch() -> None:
    assert codes(corrections.check_order(7, open_orders=1)) == [("JX-26", None)]


def test_the_owner_answers_up_to_and_including_the_deadline() -> None:
    assert corrections.check_response(corrections.ORDERED, DEADLINE, DEADLINE) == []
    late = corrections.check_response(corrections.ORDERED, DEADLINE, DEADLINE + timedelta(days=1))
    assert codes(late) == [("JX-26", None)] and "2026-11-30" in late[0].message_en
    assert codes(corrections.check_response(corrections.RESPONDED, DEADLINE, ORDERED_ON)) == [("JX-26", None)]


def test_an_unanswered_order_lapses_only_after_the_deadline() -> None:
    on_deadline = corrections.check_decision(corrections.ORDERED, corrections.LAPSE, DEADLINE, DEADLINE,
                                             notice="通报")
    assert codes(on_deadline) == [("JX-26", "decision")] and "2026-12-01" in on_deadline[0].message_en
    assert corrections.check_decision(corrections.ORDERED, corrections.LAPSE, DEADLINE,
                                      DEADLINE + timedelta(days=1), notice="通报") == []
    # An answered order does not lapse, however late the bureau decides.
    assert codes(corrections.check_decision(corrections.RESPONDED, corrections.LAPSE, DEADLINE,
                                            DEADLINE + timedelta(days=30), notice="通报")) == [("JX-26", "decision")]


@pytest.mark.parametrize("decision", [corrections.ACCEPT, corrections.REJECT])
def test_only_an_answer_is_accepted_or_rejected(decision: str) -> None:
    assert corrections.check_decision(corrections.RESPONDED, decision, DEADLINE, DEADLINE + timedelta(days=9),
                                      notice="通报") == []
    for status in (corrections.ORDERED, corrections.ACCEPTED, corrections.LAPSED, corrections.SUPERSEDED):
        assert codes(corrections.check_decision(status, decision, DEADLINE, ORDERED_ON, notice="通报")) == [
            ("JX-26", "decision")]


def test_a_sanction_needs_its_public_notice_an_acceptance_does_not() -> None:
    assert corrections.check_decision(corrections.RESPONDED, corrections.ACCEPT, DEADLINE, ORDERED_ON,
                                      notice="") == []
    assert codes(corrections.check_decision(corrections.RESPONDED, corrections.REJECT, DEADLINE, ORDERED_ON,
                                            notice=" ")) == [("JX-26", "notice")]
    assert corrections.outcome(corrections.REJECT) == corrections.REJECTED
    assert corrections.outcome(corrections.LAPSE) == corrections.LAPSED
    assert corrections.outcome(corrections.ACCEPT) == corrections.ACCEPTED


@pytest.mark.parametrize("unretired,asked,ok", [(0, None, False), (1, None, True), (5, 5, True), (5, 6, False),
                                                (0, 1, False)])
def test_nothing_left_to_take_back_is_refused(unretired: int, asked: int | None, ok: bool) -> None:
    problems = corrections.check_take_back(unretired, asked)
    assert (problems == []) is ok
    if not ok:
        assert codes(problems) == [("JX-26", "quantity_t")]


def test_the_notice_lines_say_why() -> None:
    zh, en = corrections.uncorrectable_notice_line()
    assert "无法改正" in zh and "never happened" in en
    zh, en = corrections.correction_notice_line("JXC-2026-00001", ORDERED_ON, DEADLINE, corrections.LAPSED)
    assert "JXC-2026-00001" in zh and "逾期未改正" in zh and "2026-11-30" in en
    zh, en = corrections.correction_notice_line("JXC-2026-00001", ORDERED_ON, DEADLINE, corrections.REJECTED)
    assert "未被接受" in zh and "rejected" in en
    assert corrections.with_line(" 通报 ", ("a", "b")) == "通报\na\nb"


# --- Art. 21 ---------------------------------------------------------------------------------------------


def test_retire_no_more_than_is_available() -> None:
    assert retirement.check_quantity(40, 40) == []
    short = retirement.check_quantity(41, 40, batch_code="JXCI-2025-B000001")
    assert codes(short) == [("JX-21", "quantity_t")] and "JXCI-2025-B000001" in short[0].message_en
    assert codes(retirement.check_quantity(0, 40)) == [("JX-21", "quantity_t")]


def test_a_retirement_is_executed_once_and_never_undone() -> None:
    assert retirement.check_execute("requested") == []
    assert codes(retirement.check_execute("executed")) == [("JX-21", None)]
    assert codes(retirement.check_execute("cancelled")) == [("JX-21", None)]
    assert retirement.check_cancel("requested") == []
    assert codes(retirement.check_cancel("executed")) == [("JX-21", None)]
    assert codes(retirement.check_cancel("cancelled")) == [("JX-21", None)]


# --- Art. 13(3) over registrations imported later ------------------------------------------------------


def test_a_registration_elsewhere_is_named_by_mechanism_and_id() -> None:
    registrations = [ExternalRegistration("CCER", "CCER-2024-0042", " 3304810012345678 ", None),
                     ExternalRegistration("VCS", "VCS-9", "OTHER-METER", None)]
    problems = check_other_registrations(["3304810012345678"], None, registrations)
    assert codes(problems) == [("JX-13-3", "asset_identifiers[0]")]
    assert "CCER-2024-0042" in problems[0].message_en and "CCER" in problems[0].message_en
    assert check_other_registrations(["3304810012345679"], None, registrations) == []


def test_an_owner_registration_without_an_asset_counts_by_credit_code() -> None:
    registrations = [ExternalRegistration("GS", "GS-1", None, "91330481MA0000004D")]
    assert codes(check_other_registrations(["X"], "91330481ma0000004d", registrations)) == [("JX-13-3", None)]
    assert check_other_registrations(["X"], "91330481MA0000005E", registrations) == []
    assert check_other_registrations(["X"], None, registrations) == []

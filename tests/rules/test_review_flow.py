"""The Art. 10 / Art. 17 review flow as a pure state machine."""

from __future__ import annotations

from datetime import date

import pytest

from rules.review_flow import (
    FILING_FLOW,
    METHODOLOGY_FLOW,
    TransitionError,
    allowed_actions,
    check_register,
    earliest_registration,
    is_terminal,
    next_state,
    notice_end,
    role_for,
)

HAPPY_WITH_EXPERTS = [
    ("center", "center_approve", "center_approved"),
    ("bureau", "convene_experts", "expert_review"),
    ("expert", "expert_approve", "expert_approved"),
    ("bureau", "bureau_approve", "public_notice"),
    ("bureau", "register", "registered"),
]


@pytest.mark.parametrize("flow", [METHODOLOGY_FLOW, FILING_FLOW])
def test_happy_path_with_experts(flow: object) -> None:
    assert flow in (METHODOLOGY_FLOW, FILING_FLOW)
    state = "submitted"
    for role, action, expected in HAPPY_WITH_EXPERTS:
        state = next_state(flow, state, action, role)  # type: ignore[arg-type]
        assert state == expected


def test_bureau_may_skip_experts() -> None:
    state = next_state(METHODOLOGY_FLOW, "submitted", "center_approve", "center")
    assert next_state(METHODOLOGY_FLOW, state, "bureau_approve", "bureau") == "public_notice"


def test_filing_is_issued_after_registration_methodology_is_not() -> None:
    assert next_state(FILING_FLOW, "registered", "issue", "bureau") == "issued"
    with pytest.raises(TransitionError) as caught:
        next_state(METHODOLOGY_FLOW, "registered", "issue", "bureau")
    assert caught.value.violations[0].code == "FLOW"
    assert caught.value.violations[0].article == "Art. 10"
    assert is_terminal(METHODOLOGY_FLOW, "registered")
    assert not is_terminal(FILING_FLOW, "registered")
    assert is_terminal(FILING_FLOW, "issued")


@pytest.mark.parametrize(
    ("state", "action", "role"),
    [
        ("submitted", "center_reject", "center"),
        ("center_approved", "bureau_reject", "bureau"),
        ("expert_review", "expert_reject", "expert"),
        ("expert_approved", "bureau_reject", "bureau"),
        ("public_notice", "uphold_objection", "bureau"),
    ],
)
def test_rejection_from_every_review_step(state: str, action: str, role: str) -> None:
    for flow in (METHODOLOGY_FLOW, FILING_FLOW):
        assert next_state(flow, state, action, role) == "rejected"


@pytest.mark.parametrize(
    ("state", "action", "wrong_role"),
    [
        ("submitted", "center_approve", "bureau"),
        ("submitted", "center_approve", "expert"),
        ("center_approved", "convene_experts", "center"),
        ("expert_review", "expert_approve", "bureau"),
        ("expert_approved", "bureau_approve", "expert"),
        ("public_notice", "register", "center"),
        ("registered", "issue", "center"),
    ],
)
def test_each_step_only_by_its_role(state: str, action: str, wrong_role: str) -> None:
    with pytest.raises(TransitionError) as caught:
        next_state(FILING_FLOW, state, action, wrong_role)
    (violation,) = caught.value.violations
    assert violation.code == "FLOW" and violation.field == "action"
    assert violation.message_zh and violation.message_en


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("submitted", "bureau_approve"),  # the center reviews first
        ("submitted", "register"),
        ("center_approved", "expert_approve"),  # experts only when convened
        ("expert_review", "bureau_approve"),  # not before the experts decide
        ("public_notice", "bureau_approve"),
        ("rejected", "center_approve"),
        ("issued", "issue"),
        ("no_such_state", "center_approve"),
        ("submitted", "no_such_action"),
    ],
)
def test_actions_out_of_order_are_refused(state: str, action: str) -> None:
    for role in ("center", "expert", "bureau"):
        with pytest.raises(TransitionError):
            next_state(FILING_FLOW, state, action, role)


def test_allowed_actions() -> None:
    assert allowed_actions(METHODOLOGY_FLOW, "submitted", "center") == ["center_approve", "center_reject"]
    assert allowed_actions(METHODOLOGY_FLOW, "submitted", "bureau") == []
    assert allowed_actions(METHODOLOGY_FLOW, "center_approved", "bureau") == [
        "convene_experts", "bureau_approve", "bureau_reject",
    ]
    assert allowed_actions(METHODOLOGY_FLOW, "public_notice", "bureau") == ["register", "uphold_objection"]
    assert allowed_actions(METHODOLOGY_FLOW, "registered", "bureau") == []
    assert allowed_actions(FILING_FLOW, "registered", "bureau") == ["issue"]
    assert allowed_actions(FILING_FLOW, "rejected", "bureau") == []


def test_allowed_actions_agree_with_next_state() -> None:
    for flow in (METHODOLOGY_FLOW, FILING_FLOW):
        for state in flow.states:
            for role in ("center", "expert", "bureau", "owner"):
                allowed = allowed_actions(flow, state, role)
                for action in flow.actions:
                    if action in allowed:
                        next_state(flow, state, action, role)
                    else:
                        with pytest.raises(TransitionError):
                            next_state(flow, state, action, role)


def test_role_for_picks_the_principals_role() -> None:
    assert role_for(FILING_FLOW, "submitted", "center_approve", ["owner", "center"]) == "center"
    with pytest.raises(TransitionError):
        role_for(FILING_FLOW, "submitted", "center_approve", ["owner", "bureau"])
    with pytest.raises(TransitionError):
        role_for(FILING_FLOW, "registered", "register", ["bureau"])


def test_notice_end_and_registration_boundary() -> None:
    approved = date(2024, 1, 1)
    end = notice_end(approved, 7)
    assert end == date(2024, 1, 8)
    assert earliest_registration(end) == date(2024, 1, 9)
    refused = check_register(end, date(2024, 1, 8))  # the last day of the notice
    assert [v.code for v in refused] == ["FLOW"]
    assert "2024-01-09" in refused[0].message_en and "2024-01-09" in refused[0].message_zh
    assert check_register(end, date(2024, 1, 9)) == []  # the day after the notice ends
    assert check_register(end, date(2024, 3, 1)) == []
    assert [v.code for v in check_register(None, date(2024, 3, 1))] == ["FLOW"]


def test_register_waits_for_open_objections() -> None:
    end = date(2024, 1, 8)
    assert check_register(end, date(2024, 1, 9), open_objections=0) == []
    assert len(check_register(end, date(2024, 1, 9), open_objections=1)) == 1
    both = check_register(end, date(2024, 1, 8), open_objections=2, article="Art. 17")
    assert len(both) == 2 and all(v.article == "Art. 17" for v in both)


def test_notice_end_across_month_and_negative_days() -> None:
    assert notice_end(date(2024, 2, 25), 7) == date(2024, 3, 3)
    assert notice_end(date(2024, 2, 25), 0) == date(2024, 2, 25)
    with pytest.raises(ValueError):
        notice_end(date(2024, 2, 25), -1)

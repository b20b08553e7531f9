"""The review flow shared by methodologies (Art. 10) and reduction filings (Art. 17), as a pure state machine.

submitted → (center) center_approved → [bureau convenes experts → expert_review → (expert) expert_approved]
→ (bureau) public_notice → (bureau, after the notice and with no open objection) registered; filings then
→ (bureau) issued. A rejection by the center, the experts or the bureau, or an objection the bureau upholds
during the notice, ends in ``rejected`` (the caller records the reasons).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from rules.violations import Violation

FLOW_CODE = "FLOW"

SUBMITTED = "submitted"
CENTER_APPROVED = "center_approved"
EXPERT_REVIEW = "expert_review"
EXPERT_APPROVED = "expert_approved"
PUBLIC_NOTICE = "public_notice"
REGISTERED = "registered"
ISSUED = "issued"
REJECTED = "rejected"

CENTER = "center"
EXPERT = "expert"
BUREAU = "bureau"
ROLES = (CENTER, EXPERT, BUREAU)

STATE_NAMES: dict[str, tuple[str, str]] = {
    SUBMITTED: ("已提交，待核证中心审核", "submitted, awaiting the certification center"),
    CENTER_APPROVED: ("核证中心审核通过，待市生态环境局决定", "passed the center's review"),
    EXPERT_REVIEW: ("专家委员会评审中", "under expert committee review"),
    EXPERT_APPROVED: ("专家评审通过，待市生态环境局审批", "approved by the experts, awaiting the bureau"),
    PUBLIC_NOTICE: ("公示中", "in public notice"),
    REGISTERED: ("已备案登记", "filed and registered"),
    ISSUED: ("已签发核证减排量", "certified reductions issued"),
    REJECTED: ("已驳回", "rejected"),
}


@dataclass(frozen=True, slots=True)
class Transition:
    """In ``from_state`` the ``role`` may take ``action``, which leads to ``to_state``."""

    from_state: str
    action: str
    role: str
    to_state: str


@dataclass(frozen=True, slots=True)
class Flow:
    """A named review flow: its article, its transitions and its terminal states."""

    name: str
    article: str
    transitions: tuple[Transition, ...]
    terminal_states: frozenset[str]

    @property
    def states(self) -> frozenset[str]:
        """Every state the flow knows."""
        return frozenset(t.from_state for t in self.transitions) | frozenset(
            t.to_state for t in self.transitions
        )

    @property
    def actions(self) -> frozenset[str]:
        """Every action the flow knows."""
        return frozenset(t.action for t in self.transitions)

    def find(self, state: str, action: str) -> Transition | None:
        """The transition for this action in this state, or None."""
        for transition in self.transitions:
            if transition.from_state == state and transition.action == action:
                return transition
        return None


_REVIEW_STEPS: tuple[Transition, ...] = (
    Transition(SUBMITTED, "center_approve", CENTER, CENTER_APPROVED),
    Transition(SUBMITTED, "center_reject", CENTER, REJECTED),
    Transition(CENTER_APPROVED, "convene_experts", BUREAU, EXPERT_REVIEW),
    Transition(CENTER_APPROVED, "bureau_approve", BUREAU, PUBLIC_NOTICE),
    Transition(CENTER_APPROVED, "bureau_reject", BUREAU, REJECTED),
    Transition(EXPERT_REVIEW, "expert_approve", EXPERT, EXPERT_APPROVED),
    Transition(EXPERT_REVIEW, "expert_reject", EXPERT, REJECTED),
    Transition(EXPERT_APPROVED, "bureau_approve", BUREAU, PUBLIC_NOTICE),
    Transition(EXPERT_APPROVED, "bureau_reject", BUREAU, REJECTED),
    Transition(PUBLIC_NOTICE, "register", BUREAU, REGISTERED),
    Transition(PUBLIC_NOTICE, "uphold_objection", BUREAU, REJECTED),
)

METHODOLOGY_FLOW = Flow(
    name="methodology",
    article="Art. 10",
    transitions=_REVIEW_STEPS,
    terminal_states=frozenset({REGISTERED, REJECTED}),
)

FILING_FLOW = Flow(
    name="filing",
    article="Art. 17",
    transitions=(*_REVIEW_STEPS, Transition(REGISTERED, "issue", BUREAU, ISSUED)),
    terminal_states=frozenset({ISSUED, REJECTED}),
)

FLOWS: dict[str, Flow] = {METHODOLOGY_FLOW.name: METHODOLOGY_FLOW, FILING_FLOW.name: FILING_FLOW}


class TransitionError(Exception):
    """An action that is not allowed in this state or for this role; carries the FLOW violations."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(v.message_en for v in violations))
        self.violations = violations


def _state_names(state: str) -> tuple[str, str]:
    return STATE_NAMES.get(state, (state, state))


def _refuse(flow: Flow, state: str, action: str, reason_zh: str, reason_en: str) -> TransitionError:
    zh, en = _state_names(state)
    return TransitionError([Violation(
        FLOW_CODE, flow.article, "action",
        f"当前状态“{zh}”下不能执行“{action}”：{reason_zh}",
        f"Action '{action}' is not allowed while the {flow.name} is {en}: {reason_en}",
    )])


def allowed_actions(flow: Flow, state: str, role: str) -> list[str]:
    """The actions ``role`` may take in ``state``, in the flow's order."""
    return [t.action for t in flow.transitions if t.from_state == state and t.role == role]


def _transition(flow: Flow, state: str, action: str) -> Transition:
    if state not in flow.states:
        raise _refuse(flow, state, action, "未知状态。", "the state is unknown.")
    found = flow.find(state, action)
    if found is None:
        possible = sorted({t.action for t in flow.transitions if t.from_state == state})
        if possible:
            zh, en = f"可执行的操作为 {', '.join(possible)}。", f"possible actions are {', '.join(possible)}."
        else:
            zh, en = "流程已结束。", "the flow has ended."
        raise _refuse(flow, state, action, zh, en)
    return found


def next_state(flow: Flow, state: str, action: str, role: str) -> str:
    """The state after ``role`` takes ``action`` in ``state``; raise ``TransitionError`` when not allowed."""
    transition = _transition(flow, state, action)
    if transition.role != role:
        raise _refuse(flow, state, action, f"该操作只能由 {transition.role} 执行，当前角色为 {role}。",
                      f"only the {transition.role} may take it, not the {role}.")
    return transition.to_state


def role_for(flow: Flow, state: str, action: str, roles: Iterable[str]) -> str:
    """Which of a principal's roles takes ``action`` in ``state``; raise ``TransitionError`` when none may."""
    transition = _transition(flow, state, action)
    held = set(roles)
    if transition.role not in held:
        raise _refuse(flow, state, action, f"该操作只能由 {transition.role} 执行。",
                      f"only the {transition.role} may take it.")
    return transition.role


def is_terminal(flow: Flow, state: str) -> bool:
    """True when nothing more can happen in ``state``."""
    return state in flow.terminal_states


def notice_end(approved_on: date, notice_days: int) -> date:
    """The last day of the public notice (公示): ``notice_days`` full days after the day of approval.

    The notice is published on the day of approval and that partial day is not counted, so objectors get
    ``notice_days`` whole calendar days. Registration is possible from the following day.
    """
    if notice_days < 0:
        raise ValueError("notice_days must not be negative")
    return approved_on + timedelta(days=notice_days)


def earliest_registration(notice_end_on: date) -> date:
    """The first day registration may happen: the day after the notice ends."""
    return notice_end_on + timedelta(days=1)


def check_register(notice_end_on: date | None, today: date, *, open_objections: int = 0,
                   article: str = "Art. 10, Art. 17") -> list[Violation]:
    """Registration only on or after the day after the public notice ends, and only when no objection
    lodged during the notice is still open (Art. 10, Art. 17)."""
    problems: list[Violation] = []
    if notice_end_on is None:
        problems.append(Violation(FLOW_CODE, article, None, "尚未公示，不能登记。",
                                  "There has been no public notice yet, so nothing can be registered."))
    elif today < earliest_registration(notice_end_on):
        first = earliest_registration(notice_end_on).isoformat()
        problems.append(Violation(
            FLOW_CODE, article, None,
            f"公示期至 {notice_end_on.isoformat()} 止，{first} 起方可登记。",
            f"The public notice runs until {notice_end_on.isoformat()}; "
            f"registration is possible from {first}.",
        ))
    if open_objections > 0:
        problems.append(Violation(
            FLOW_CODE, article, None,
            f"尚有 {open_objections} 项公示期异议未处理，须先处理方可登记。",
            f"{open_objections} objection(s) lodged during the public notice are still open; they must be "
            "ruled on before registration.",
        ))
    return problems

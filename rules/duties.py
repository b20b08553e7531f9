"""Separation of duties (职责分离): nobody verifies, reviews, approves, rules on objections to, issues,
orders the correction of or takes back what their own organisation filed, owns or proposed; and no
organisation both owns projects and reviews them.

The measures spell this out for the verifier (Art. 15: independent of the report it checks); the same
reading applies to every step that judges someone's material, so each step refuses under the article of
that step:

| step                                   | code    | article          |
|----------------------------------------|---------|------------------|
| verification                           | JX-15   | Art. 15          |
| methodology review, ruling on objection | JX-10   | Art. 10          |
| filing review, ruling on objection, issuance | JX-17 | Art. 17      |
| correction order, its decision, revocation | JX-26 | Art. 26        |

An organisation holding the owner role and a reviewing role at once is refused when a user is created (or
given roles): with the verifier role under JX-15, with the center, expert or bureau role under JX-17 (their
reviews of filings are what an owner's interest conflicts with; a methodology they propose is caught per step
under JX-10). The decisions are pure: the registry loads which organisations have an interest and which roles
an organisation holds.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from rules.violations import Violation

OWNER_ROLE = "owner"
REVIEWING_ROLES = ("center", "expert", "bureau", "verifier")

VERIFY = "verify"
METHODOLOGY_REVIEW = "methodology_review"
METHODOLOGY_OBJECTION = "methodology_objection"
FILING_REVIEW = "filing_review"
FILING_OBJECTION = "filing_objection"
ISSUE = "issue"
CORRECTION = "correction"
REVOKE = "revoke"


@dataclass(frozen=True, slots=True)
class Step:
    """A step that judges someone's material: its rule code, its article, and what it does in both languages."""

    code: str
    article: str
    doing_zh: str
    doing_en: str
    subject_zh: str
    subject_en: str


STEPS: dict[str, Step] = {
    VERIFY: Step("JX-15", "Art. 15", "核查", "verify", "减排量", "reductions"),
    METHODOLOGY_REVIEW: Step("JX-10", "Art. 10", "审核、评审或审批", "review or approve", "方法学", "a methodology"),
    METHODOLOGY_OBJECTION: Step("JX-10", "Art. 10", "裁决针对", "rule on an objection to", "方法学的异议",
                                "a methodology"),
    FILING_REVIEW: Step("JX-17", "Art. 17", "审核、评审或审批", "review or approve", "减排量备案", "a filing"),
    FILING_OBJECTION: Step("JX-17", "Art. 17", "裁决针对", "rule on an objection to", "减排量备案的异议",
                           "a filing"),
    ISSUE: Step("JX-17", "Art. 17", "签发", "issue", "核证减排量", "certified reductions"),
    CORRECTION: Step("JX-26", "Art. 26", "责令改正或决定改正结果", "order or decide the correction of",
                     "备案材料", "material"),
    REVOKE: Step("JX-26", "Art. 26", "收回", "take back", "核证减排量", "certified reductions"),
}

_ROLE_CONFLICT: dict[str, tuple[str, str]] = {
    "verifier": ("JX-15", "Art. 15"),
    "center": ("JX-17", "Art. 10, Art. 17"),
    "expert": ("JX-17", "Art. 10, Art. 17"),
    "bureau": ("JX-17", "Art. 10, Art. 17"),
}
_ROLE_NAMES: dict[str, tuple[str, str]] = {
    "verifier": ("核查机构", "verifier"),
    "center": ("核证中心", "certification center"),
    "expert": ("专家委员会", "expert committee"),
    "bureau": ("市生态环境局", "environment bureau"),
}


def check_own_interest(step: str, actor_participant_id: int,
                       interested_participant_ids: Collection[int]) -> list[Violation]:
    """Refuse ``step`` when the acting organisation is one of those that filed, own or proposed its subject."""
    if actor_participant_id not in set(interested_participant_ids):
        return []
    s = STEPS[step]
    return [Violation(
        s.code, s.article, None,
        f"职责分离：不得{s.doing_zh}本单位申报、持有或提出的{s.subject_zh}。",
        f"Separation of duties: nobody may {s.doing_en} {s.subject_en} that their own organisation filed, owns "
        "or proposed.",
    )]


def check_role_combination(organisation_roles: Collection[str]) -> list[Violation]:
    """Refuse an organisation that would hold the owner role together with a reviewing role (center,
    expert, bureau, verifier): one violation per reviewing role, in a stable order."""
    roles = set(organisation_roles)
    if OWNER_ROLE not in roles:
        return []
    problems = []
    for role in REVIEWING_ROLES:
        if role not in roles:
            continue
        code, article = _ROLE_CONFLICT[role]
        zh, en = _ROLE_NAMES[role]
        problems.append(Violation(
            code, article, "roles",
            f"职责分离：同一单位不得既是项目业主又担任{zh}（{role}）。",
            f"Separation of duties: one organisation may not be a project owner and the {en} ({role}) at once.",
        ))
    return problems

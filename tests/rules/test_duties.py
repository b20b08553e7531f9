"""Separation of duties (rules/duties.py): nobody judges what their own organisation filed, owns or proposed,
and no organisation is both an owner and a reviewer."""

from __future__ import annotations

import pytest

from rules import duties


@pytest.mark.parametrize("step,code,article", [
    (duties.VERIFY, "JX-15", "Art. 15"),
    (duties.METHODOLOGY_REVIEW, "JX-10", "Art. 10"),
    (duties.METHODOLOGY_OBJECTION, "JX-10", "Art. 10"),
    (duties.FILING_REVIEW, "JX-17", "Art. 17"),
    (duties.FILING_OBJECTION, "JX-17", "Art. 17"),
    (duties.ISSUE, "JX-17", "Art. 17"),
    (duties.CORRECTION, "JX-26", "Art. 26"),
    (duties.REVOKE, "JX-26", "Art. 26"),
])
def test_each_step_refuses_its_own_organisation_under_its_article(step: str, code: str, article: str) -> None:
    refused = duties.check_own_interest(step, 7, {3, 7})
    assert [(v.code, v.article) for v in refused] == [(code, article)]
    assert refused[0].message_zh and refused[0].message_en
    assert "Separation of duties" in refused[0].message_en
    # Another organisation, or nobody with an interest: allowed.
    assert duties.check_own_interest(step, 8, {3, 7}) == []
    assert duties.check_own_interest(step, 7, set()) == []


@pytest.mark.parametrize("reviewing,code", [("center", "JX-17"), ("expert", "JX-17"), ("bureau", "JX-17"),
                                            ("verifier", "JX-15")])
def test_an_owner_may_not_also_review(reviewing: str, code: str) -> None:
    refused = duties.check_role_combination({"owner", reviewing})
    assert [(v.code, v.field) for v in refused] == [(code, "roles")]
    assert reviewing in refused[0].message_en and refused[0].message_zh
    # Either role alone, or with the roles that judge nothing, is fine.
    assert duties.check_role_combination({reviewing}) == []
    assert duties.check_role_combination({"owner", "trader"}) == []
    assert duties.check_role_combination({reviewing, "operator", "admin"}) == []


def test_every_conflicting_role_is_named() -> None:
    refused = duties.check_role_combination(["owner", "trader", "verifier", "center", "bureau", "expert"])
    assert [v.code for v in refused] == ["JX-17", "JX-17", "JX-17", "JX-15"]
    assert [v.message_en.split("(")[-1] for v in refused] == ["center) at once.", "expert) at once.",
                                                             "bureau) at once.", "verifier) at once."]

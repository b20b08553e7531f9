"""Rule sets as data: the Jiaxing trial measures and any successor the bureau registers (no code change).

`register_successor` is the bureau's use case and commits; the other functions are steps and never commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from registry.errors import RuleViolation, StateConflict
from registry.orm import RuleSetRecord
from registry.repositories import rule_sets as repository
from registry.unit_of_work import UnitOfWork
from rules.rule_sets import (
    JIAXING_TRIAL_2023,
    RuleSet,
    RuleSetError,
    check_rule_set,
    rule_set_from_dict,
    rule_set_to_dict,
    select_rule_set,
)
from rules.violations import Violation


def all_rule_sets(uow: UnitOfWork) -> list[RuleSet]:
    return [rule_set_from_dict(r.definition) for r in repository.rule_set_records(uow.session)]


def rule_set_in_force(uow: UnitOfWork, on: date) -> RuleSet:
    """The rule set in force on `on`, or a refusal naming the gap (no rule may be applied from nowhere)."""
    chosen = select_rule_set(all_rule_sets(uow), on)
    if chosen is None:
        raise RuleViolation(
            [
                Violation(
                    code="JX-30",
                    article="Art. 30",
                    field=None,
                    message_zh=f"{on.isoformat()} 没有生效的碳普惠管理规则（试行办法有效期两年），"
                    "请市生态环境局登记后续规则。",
                    message_en=f"No carbon-inclusive rule set is in force on {on.isoformat()} (the trial "
                    "measures ran for two years); the bureau must register a successor.",
                )
            ]
        )
    return chosen


def register_rule_set(uow: UnitOfWork, definition: dict[str, Any]) -> RuleSetRecord:
    """Register a rule set given as data (bureau); it is validated before it is stored."""
    try:
        rule_set = rule_set_from_dict(definition)
    except RuleSetError as exc:
        raise RuleViolation(exc.violations) from exc
    problems = check_rule_set(rule_set)
    if problems:
        raise RuleViolation(problems)
    if repository.rule_set_registered(uow.session, rule_set.code):
        raise StateConflict(f"Rule set {rule_set.code} already exists.", f"规则集 {rule_set.code} 已存在。")
    record = RuleSetRecord(
        code=rule_set.code,
        effective_from=rule_set.effective_from,
        effective_to=rule_set.effective_to,
        definition=rule_set_to_dict(rule_set),
        registered_by=uow.actor.user_id if uow.actor else None,
        registered_at=uow.now(),
    )
    uow.session.add(record)
    uow.session.flush()
    uow.audit("rule_set.registered", "rule_set", rule_set.code, record.definition)
    return record


def register_successor(uow: UnitOfWork, definition: dict[str, Any]) -> dict[str, Any]:
    """The bureau registers a rule set given as data (a successor to the one in force); its stored
    definition."""
    record = register_rule_set(uow, definition)
    uow.commit()
    return record.definition


def ensure_builtin_rule_set(uow: UnitOfWork) -> None:
    """Register the Jiaxing trial measures (嘉碳普惠办〔2023〕3号) if the registry does not have them yet."""
    if not repository.rule_set_registered(uow.session, JIAXING_TRIAL_2023.code):
        register_rule_set(uow, rule_set_to_dict(JIAXING_TRIAL_2023))

"""Domain errors. The API turns each into an application/problem+json answer with a stable code."""

from __future__ import annotations

from collections.abc import Sequence

from rules.violations import Violation


class DomainError(Exception):
    """Base: a refusal the caller can understand and act on."""

    status = 409
    code = "conflict"

    def __init__(self, message_en: str, message_zh: str = "", violations: Sequence[Violation] = ()) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_zh = message_zh or message_en
        self.violations = list(violations)


class RuleViolation(DomainError):
    """One or more Jiaxing rules refuse the request; every violation is listed."""

    code = "rule_violation"

    def __init__(self, violations: Sequence[Violation], message_en: str = "", message_zh: str = "") -> None:
        super().__init__(
            message_en or "The request breaks the Jiaxing carbon-inclusive rules.",
            message_zh or "请求不符合嘉兴市碳普惠管理规则。",
            violations,
        )


class StateConflict(DomainError):
    """The object is not in a state that allows this action, or a concurrent change won."""

    code = "state_conflict"


class Unavailable(DomainError):
    """Nothing was done, for a passing reason (the database is out of reach, a book is changing hands): the
    same request will most likely pass in a moment. Answered 503 with Retry-After."""

    status = 503
    code = "unavailable"
    retry_after_s = 1


class OutcomeUnknown(Unavailable):
    """The command was handed on but no answer came (a timeout, a connection cut during the commit): it may or
    may not have taken effect. A retry with the same client order id or Idempotency-Key tells, and never does
    it twice."""

    code = "outcome_unknown"


class NotFound(DomainError):
    """Absent, or not visible to the caller (the two are indistinguishable on purpose)."""

    status = 404
    code = "not_found"


class Forbidden(DomainError):
    """The caller is known but its role may not do this."""

    status = 403
    code = "forbidden"


class InvalidInput(DomainError):
    """Well-formed but unusable input that pydantic cannot judge (a file type, an unknown code)."""

    status = 422
    code = "invalid_input"

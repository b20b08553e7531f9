"""Pydantic shapes shared by the routers. Pydantic checks shape; rules/ checks meaning."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Header, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictBool,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from registry.orm import ReviewAction
from registry.pagination import Page

ALL_ROLES = ("admin", "owner", "verifier", "center", "expert", "bureau", "operator", "trader", "resident")
# Roles acting for an organisation (a resident acts for no one but themself: no uploads, no methodologies).
ORGANISATION_ROLES = tuple(r for r in ALL_ROLES if r not in ("admin", "resident"))
REVIEWERS = ("center", "expert", "bureau")

Role = Literal["admin", "owner", "verifier", "center", "expert", "bureau", "operator", "trader", "resident"]
ParticipantKind = Literal["enterprise", "institution", "agency", "association", "individual"]
OwnerKind = Literal["individual", "household", "community", "micro", "small", "medium", "large", "institution"]
MethodologyField = Literal[
    "renewable_energy", "energy_efficiency", "transport", "buildings", "forestry_agriculture_sinks",
    "low_carbon_products", "waste", "pollution_carbon_co_reduction", "other",
]

# The one rule for text the API takes in (JSON fields, query, path, header and form values): no NUL and no
# other control character (C0, DEL, C1), and no lone surrogate half, which no UTF-8 column can hold. Prose
# (a reason, a description, a CSV file) may keep tabs and line breaks; a name, a code or a one-line value may
# not. PostgreSQL refuses NUL in text outright and SQLite would store it, so the check is made at the door,
# where the answer is a 422 naming the field, never a 500 or a different result per backend.
_REFUSED = {
    False: re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]"),
    True: re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]"),  # tab, LF and CR kept
}


@dataclass(frozen=True)
class TextRule:
    """The rule on one text input: put it in the field's Annotated metadata (ShortText, LongText, OneLine,
    NoControl). `multiline` keeps tab, line feed and carriage return. The OpenAPI document shows it as
    `x-text: single-line | multi-line`, and tests/api/test_input_hygiene.py checks that every string the
    API accepts carries it."""

    multiline: bool

    def allows(self, value: str) -> bool:
        """Whether `value` passes (for text that is looked up rather than stored, such as a file path)."""
        return _REFUSED[self.multiline].search(value) is None

    def check(self, value: Any) -> Any:
        """`value` unchanged, or a validation error naming the first refused character and its position."""
        if isinstance(value, str):
            found = _REFUSED[self.multiline].search(value)
            if found is not None:
                raise PydanticCustomError(
                    "control_character",
                    "control character U+{code} at position {position} is not allowed"
                    + ("" if self.multiline else " (one line only: no tab or line break)"),
                    {"code": f"{ord(found.group()):04X}", "position": found.start()})
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["x-text"] = "multi-line" if self.multiline else "single-line"
        return json_schema


OneLine = TextRule(multiline=False)
NoControl = TextRule(multiline=True)


def checked_text(value: str, loc: tuple[str, ...], rule: TextRule = OneLine) -> str:
    """Text that reaches a route outside a pydantic field (an upload's file name and media type) under the
    same rule, refused with the same 422 naming `loc`."""
    try:
        return str(rule.check(value))
    except PydanticCustomError as exc:
        raise RequestValidationError([{"type": exc.type, "loc": loc, "msg": exc.message(), "input": value}]) from None
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), NoControl]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]{0,39}$"), OneLine]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$"), OneLine]
CreditCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$"), OneLine]
CountyCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$"), OneLine]
IndustryCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$"), OneLine]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$"), OneLine]
# Decimal quantities travel as strings so no JSON float ever carries carbon or an emission factor.
DecimalString = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$"), OneLine]
# Dates are bounded so that a year 9999 typo is a clear 422 rather than a surprise later.
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2100, 12, 31)
BoundedDate = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
BoundedPathDate = Annotated[date, Path(ge=EARLIEST_DAY, le=LATEST_DAY)]
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2100, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def _bounded_instant(value: datetime) -> datetime:
    """An instant is judged by its UTC time, which is what the database stores: 9999-12-31T23:59:59-14:00 is
    year 10000 in UTC, which PostgreSQL stores but Python cannot read back, and SQLite cannot store at all."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST_INSTANT <= utc <= LATEST_INSTANT:
        raise ValueError(f"the instant must lie between {EARLIEST_INSTANT.isoformat()} and "
                         f"{LATEST_INSTANT.isoformat()} in UTC")
    return value


# Every instant a request gives (an expiry, an auction's end) has a time zone and a range both backends store
# and read back; how far ahead an expiry may lie is the exchange's horizon (CARBONX_MAX_HORIZON_DAYS).
BoundedInstant = Annotated[AwareDatetime, AfterValidator(_bounded_instant)]

# Ids in paths and queries are bounded so that a 40-digit id is a 422 on every backend, never an overflow.
PathId = Annotated[int, Path(ge=1, le=2**31 - 1)]
QueryId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]

IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64,
                                                    pattern=r"^[A-Za-z0-9_\-.:]{1,64}$"), OneLine]

T = TypeVar("T")


class Strict(BaseModel):
    """Unknown fields are an error, so a misspelt field is never silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


def page_out(page: Page[Any], convert: Callable[[Any], T]) -> PageOut[T]:
    """A registry page as the API answers it, each item converted."""
    return PageOut(items=[convert(item) for item in page.items], total=page.total, offset=page.offset,
                   limit=page.limit)


class ViolationOut(BaseModel):
    code: str
    article: str
    field: str | None
    message_zh: str
    message_en: str


class ReviewIn(Strict):
    action: Identifier
    comment: LongText = ""


class ReviewActionOut(BaseModel):
    action: str
    from_state: str
    to_state: str
    actor_role: str
    comment: str
    at: str

    @classmethod
    def of(cls, action: ReviewAction) -> ReviewActionOut:
        return cls(action=action.action, from_state=action.from_state, to_state=action.to_state,
                   actor_role=action.actor_role, comment=action.comment, at=action.at.isoformat())


class ObjectionIn(Strict):
    objector_name: ShortText
    objector_contact: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200), OneLine]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=4000), NoControl]


class RulingIn(Strict):
    uphold: StrictBool  # "yes" is not an answer to whether an objection is upheld
    ruling: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000), NoControl]


def page_params(
    offset: int = Query(0, ge=0, le=1_000_000), limit: int = Query(50, ge=1, le=200)
) -> tuple[int, int]:
    """Offset and limit of a list request, bounded."""
    return offset, limit

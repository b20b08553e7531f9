"""Pydantic shapes shared by the routers. Pydantic checks shape; rules/ checks meaning."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Header, Path, Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from registry.orm import ReviewAction
from registry.pagination import Page

ALL_ROLES = ("admin", "owner", "verifier", "center", "expert", "bureau", "operator", "trader")
REVIEWERS = ("center", "expert", "bureau")

Role = Literal["admin", "owner", "verifier", "center", "expert", "bureau", "operator", "trader"]
ParticipantKind = Literal["enterprise", "institution", "agency", "association", "individual"]
OwnerKind = Literal["individual", "household", "community", "micro", "small", "medium", "large", "institution"]
MethodologyField = Literal[
    "renewable_energy", "energy_efficiency", "transport", "buildings", "forestry_agriculture_sinks",
    "low_carbon_products", "waste", "pollution_carbon_co_reduction", "other",
]

def _no_control_characters(value: str) -> str:
    """Tabs and line breaks are text; other control characters (NUL above all) are not."""
    if any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        raise ValueError("control characters are not allowed")
    return value


NoControl = AfterValidator(_no_control_characters)
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoControl]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000), NoControl]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]{0,39}$")]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
CreditCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$")]
CountyCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
IndustryCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# Decimal quantities travel as strings so no JSON float ever carries carbon or an emission factor.
DecimalString = Annotated[str, StringConstraints(pattern=r"^-?[0-9]{1,15}(\.[0-9]{1,10})?$")]
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
                                                    pattern=r"^[A-Za-z0-9_\-.:]{1,64}$")]

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
    objector_contact: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=4000)]


class ObjectionOut(BaseModel):
    id: int
    subject_type: str
    subject_id: int
    status: str
    text: str
    lodged_at: str
    ruling: str | None


class RulingIn(Strict):
    uphold: StrictBool  # "yes" is not an answer to whether an objection is upheld
    ruling: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=2000)]


def page_params(
    offset: int = Query(0, ge=0, le=1_000_000), limit: int = Query(50, ge=1, le=200)
) -> tuple[int, int]:
    """Offset and limit of a list request, bounded."""
    return offset, limit

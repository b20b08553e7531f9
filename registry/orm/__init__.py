"""Table mappings (SQLAlchemy 2, typed), one module per area. The schema itself is made only by the Alembic
migrations; a test compares the two so they never drift apart.

Importing the package imports every module, so `Base.metadata` holds every table (Alembic's env compares it
with the migrations) and `from registry.orm import X` reaches any mapped class or constant. The modules:

    base           the declarative base, naming convention, shared column types
    people         participants, users and roles, sign-in guards (failed logins, revoked tokens)
    parameters     rule sets, key parameters and their versions (Art. 11)
    reviews        review states, review actions, objections to public notices
    methodologies  methodologies and their versions
    documents      stored documents and who may use them
    projects       projects, their assets and documents, external registrations
    audit          the hash-chained audit log
    filings        filings, verification, issuance batches and the serial counter (Art. 14–17)
    ledger         accounts, journal entries, postings, balances, serial blocks
    retirements    retirements and the serial ranges they retire (Art. 21)
    supervision    revocations, correction orders (Art. 26), violation reports (Art. 27)
    exchange       instruments, market closures, cash movements, orders, trades, engine states, book owners
    idempotency    idempotency keys
    points         residents' accounts, reduction scenarios, behaviour records, points, rewards
    events         emission factors and releases, events, inventories, offsets

An area module imports only base and the modules whose constants it uses (reviews, methodologies): the
relationships and foreign keys name their targets by string, resolved through the shared metadata."""

from registry.orm.audit import (
    AuditEntry,
)
from registry.orm.base import (
    NAMING,
    Base,
    DecimalText,
    JSONType,
    UTCDateTime,
)
from registry.orm.documents import (
    Document,
    DocumentGrant,
)
from registry.orm.events import (
    ASSESSMENT_KINDS,
    EVENT_OFFSET_KINDS,
    EVENT_STATUSES,
    EVENT_TYPES,
    FACTOR_RELEASE_STATUSES,
    EmissionFactor,
    Event,
    EventInventory,
    EventOffset,
    FactorRelease,
)
from registry.orm.exchange import (
    CASH_MOVEMENT_KINDS,
    INSTRUMENT_STATUSES,
    ORDER_KINDS,
    ORDER_SIDES,
    ORDER_STATUSES,
    BookOwner,
    CashMovement,
    EngineState,
    Instrument,
    MarketClosure,
    Order,
    Trade,
)
from registry.orm.filings import (
    FILING_STATUSES,
    Batch,
    Counter,
    Filing,
    FilingAsset,
    FilingDocument,
)
from registry.orm.idempotency import (
    IdempotencyKey,
)
from registry.orm.ledger import (
    ACCOUNT_KINDS,
    BUCKETS,
    Account,
    Balance,
    JournalEntry,
    Posting,
    SerialBlock,
)
from registry.orm.methodologies import (
    METHODOLOGY_FIELDS,
    Methodology,
    MethodologyVersion,
)
from registry.orm.parameters import (
    PARAMETER_VERSION_STATUSES,
    Parameter,
    ParameterVersion,
    RuleSetRecord,
)
from registry.orm.people import (
    PARTICIPANT_KINDS,
    PARTICIPANT_STATUSES,
    ROLES,
    TRADING_STATUSES,
    Participant,
    RevokedToken,
    SignInFailure,
    User,
    UserRole,
)
from registry.orm.points import (
    POINTS_BUCKETS,
    POINTS_ENTRY_KINDS,
    RECORD_OUTCOMES,
    RESIDENT_ACCOUNT_STATUSES,
    SCENARIO_STATUSES,
    BehaviourRecord,
    BehaviourRecordRef,
    DeviceSighting,
    PointsBalance,
    PointsEntry,
    PointsPosting,
    Redemption,
    ReductionScenario,
    ResidentAccount,
    ResidentConsent,
    ResidentTotal,
    RewardOffer,
    ScenarioFiling,
)
from registry.orm.projects import (
    OWNER_KINDS,
    PROJECT_STATUSES,
    ExternalRegistration,
    Project,
    ProjectAsset,
    ProjectDocument,
)
from registry.orm.retirements import (
    RETIREMENT_PURPOSES,
    RETIREMENT_STATUSES,
    Retirement,
    RetirementBlock,
)
from registry.orm.reviews import (
    OBJECTION_STATUSES,
    REVIEW_STATES,
    Objection,
    ReviewAction,
)
from registry.orm.supervision import (
    CORRECTION_STATUSES,
    REPORT_STATUSES,
    CorrectionOrder,
    Revocation,
    ViolationReport,
)

__all__ = [
    "ACCOUNT_KINDS",
    "ASSESSMENT_KINDS",
    "BUCKETS",
    "CASH_MOVEMENT_KINDS",
    "CORRECTION_STATUSES",
    "EVENT_OFFSET_KINDS",
    "EVENT_STATUSES",
    "EVENT_TYPES",
    "FACTOR_RELEASE_STATUSES",
    "FILING_STATUSES",
    "INSTRUMENT_STATUSES",
    "METHODOLOGY_FIELDS",
    "NAMING",
    "OBJECTION_STATUSES",
    "ORDER_KINDS",
    "ORDER_SIDES",
    "ORDER_STATUSES",
    "OWNER_KINDS",
    "PARAMETER_VERSION_STATUSES",
    "PARTICIPANT_KINDS",
    "PARTICIPANT_STATUSES",
    "POINTS_BUCKETS",
    "POINTS_ENTRY_KINDS",
    "PROJECT_STATUSES",
    "RECORD_OUTCOMES",
    "REPORT_STATUSES",
    "RESIDENT_ACCOUNT_STATUSES",
    "RETIREMENT_PURPOSES",
    "RETIREMENT_STATUSES",
    "REVIEW_STATES",
    "ROLES",
    "SCENARIO_STATUSES",
    "TRADING_STATUSES",
    "Account",
    "AuditEntry",
    "Balance",
    "Base",
    "Batch",
    "BehaviourRecord",
    "BehaviourRecordRef",
    "BookOwner",
    "CashMovement",
    "CorrectionOrder",
    "Counter",
    "DecimalText",
    "DeviceSighting",
    "Document",
    "DocumentGrant",
    "EmissionFactor",
    "EngineState",
    "Event",
    "EventInventory",
    "EventOffset",
    "ExternalRegistration",
    "FactorRelease",
    "Filing",
    "FilingAsset",
    "FilingDocument",
    "IdempotencyKey",
    "Instrument",
    "JSONType",
    "JournalEntry",
    "MarketClosure",
    "Methodology",
    "MethodologyVersion",
    "Objection",
    "Order",
    "Parameter",
    "ParameterVersion",
    "Participant",
    "PointsBalance",
    "PointsEntry",
    "PointsPosting",
    "Posting",
    "Project",
    "ProjectAsset",
    "ProjectDocument",
    "Redemption",
    "ReductionScenario",
    "ResidentAccount",
    "ResidentConsent",
    "ResidentTotal",
    "Retirement",
    "RetirementBlock",
    "ReviewAction",
    "Revocation",
    "RevokedToken",
    "RewardOffer",
    "RuleSetRecord",
    "ScenarioFiling",
    "SerialBlock",
    "SignInFailure",
    "Trade",
    "UTCDateTime",
    "User",
    "UserRole",
    "ViolationReport",
]

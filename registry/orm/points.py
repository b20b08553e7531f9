"""Residents' carbon accounts and green-behaviour points (个人碳账户 / 碳积分), through reduction scenarios
(减排场景) run by operators (Art. 4, 12–13, 22, 28). The pure rules are rules/points.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.orm.base import Base, _in

SCENARIO_STATUSES = ("active", "suspended")
RESIDENT_ACCOUNT_STATUSES = ("open", "closed")
RECORD_OUTCOMES = ("accepted", "capped", "refused", "held")
POINTS_BUCKETS = ("available", "redeemed", "donated", "expired")
POINTS_ENTRY_KINDS = ("earned", "redeemed", "donated", "expired")


class ReductionScenario(Base):
    """A reduction scenario: a registered project of its operator, bound to a per-behaviour formula taken
    from a methodology version (with the parameter versions it used) and to the limits residents earn under."""

    __tablename__ = "reduction_scenarios"
    __table_args__ = (
        CheckConstraint(_in("status", SCENARIO_STATUSES), name="status"),
        CheckConstraint("max_grams_per_record > 0 AND daily_grams > 0 AND yearly_points > 0 AND late_days >= 0 "
                        "AND points_per_kg > 0 AND duplicate_window_s >= 0 AND max_accounts_per_device > 0",
                        name="limits"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    operator_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), index=True)
    methodology_version_id: Mapped[int] = mapped_column(ForeignKey("methodology_versions.id"))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    behaviour: Mapped[str] = mapped_column(String(40))
    formula: Mapped[dict[str, Any]]
    max_grams_per_record: Mapped[int] = mapped_column(BigInteger)
    daily_grams: Mapped[int] = mapped_column(BigInteger)
    yearly_points: Mapped[int] = mapped_column(BigInteger)
    late_days: Mapped[int] = mapped_column(Integer)
    points_per_kg: Mapped[int] = mapped_column(Integer)
    duplicate_window_s: Mapped[int] = mapped_column(Integer)
    max_accounts_per_device: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]


class ResidentAccount(Base):
    """A resident's personal carbon account (个人碳账户). `reference` is what the resident gives an operator;
    a closed account keeps its ledger under a pseudonym and loses its user and name."""

    __tablename__ = "resident_accounts"
    __table_args__ = (CheckConstraint(_in("status", RESIDENT_ACCOUNT_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class ResidentConsent(Base):
    """A resident's consent to one scenario, from granted until revoked; a new grant after a revocation is a
    new row, so what was counted under the earlier one keeps its ground."""

    __tablename__ = "resident_consents"
    __table_args__ = (
        CheckConstraint("revoked_at IS NULL OR revoked_at >= granted_at", name="period"),
        Index("ix_resident_consents_account_scenario", "account_id", "scenario_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"))
    scenario_id: Mapped[int] = mapped_column(ForeignKey("reduction_scenarios.id"))
    granted_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class BehaviourRecord(Base):
    """One behaviour record as judged at ingest (append-only). Partitioned by `started_at` month on
    PostgreSQL (migration 0030): old months are detached and archived whole. The primary key includes the
    partition key, as PostgreSQL requires; `behaviour_record_refs` holds the operator's record id unique."""

    __tablename__ = "behaviour_records"
    __table_args__ = (
        CheckConstraint(_in("outcome", RECORD_OUTCOMES), name="outcome"),
        CheckConstraint("grams >= 0 AND points >= 0", name="amounts"),
        Index("ix_behaviour_records_account", "account_id", "started_at"),
        Index("ix_behaviour_records_scenario", "scenario_id", "started_at"),
        {"postgresql_partition_by": "RANGE (started_at)"},
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=False)
    started_at: Mapped[datetime] = mapped_column(primary_key=True)
    ended_at: Mapped[datetime]
    scenario_id: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    record_ref: Mapped[str] = mapped_column(String(64))
    activity: Mapped[dict[str, Any]]
    device_hash: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(10))
    code: Mapped[str | None] = mapped_column(String(20))
    grams: Mapped[int] = mapped_column(BigInteger)
    points: Mapped[int] = mapped_column(BigInteger)


class BehaviourRecordRef(Base):
    """An operator's record id, once: a re-posted record is answered from its first judgement and creates
    nothing (append-only)."""

    __tablename__ = "behaviour_record_refs"

    operator_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"), primary_key=True)
    record_ref: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime]


class ResidentTotal(Base):
    """What a resident has counted in a scenario per Jiaxing day ('YYYY-MM-DD', grams) and per year ('YYYY',
    points): the truth of the caps. An ingest locks these rows (in key order) before it judges, so two
    batches for one resident at once never exceed a cap."""

    __tablename__ = "resident_totals"
    __table_args__ = (CheckConstraint("grams >= 0 AND points >= 0", name="amounts"),)

    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("reduction_scenarios.id"), primary_key=True)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)
    grams: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)


class DeviceSighting(Base):
    """A device hash seen with an account on a Jiaxing day in a scenario (append-only)."""

    __tablename__ = "device_sightings"

    scenario_id: Mapped[int] = mapped_column(ForeignKey("reduction_scenarios.id"), primary_key=True)
    device_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), primary_key=True)


class ScenarioFiling(Base):
    """A month of a scenario aggregated into one draft filing; unique per (scenario, month), and a record's
    scenario and month never change, so a record enters one filing only."""

    __tablename__ = "scenario_filings"
    __table_args__ = (UniqueConstraint("scenario_id", "month"), CheckConstraint("grams >= 0", name="grams"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("reduction_scenarios.id"))
    month: Mapped[str] = mapped_column(String(7))
    filing_id: Mapped[int] = mapped_column(ForeignKey("filings.id"), unique=True)
    record_count: Mapped[int] = mapped_column(BigInteger)
    grams: Mapped[int] = mapped_column(BigInteger)
    records_sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"))
    created_at: Mapped[datetime]


class PointsEntry(Base):
    """One movement of points (append-only), its postings summing to zero."""

    __tablename__ = "points_entries"
    __table_args__ = (CheckConstraint(_in("kind", POINTS_ENTRY_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    memo: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class PointsPosting(Base):
    """A leg of a points entry (append-only): on a resident's bucket of one earning year, or on a
    scenario's issuing side (`account_id` None), which goes negative as residents are credited."""

    __tablename__ = "points_postings"
    __table_args__ = (
        CheckConstraint(_in("bucket", (*POINTS_BUCKETS, "issued")), name="bucket"),
        CheckConstraint("(account_id IS NULL) = (bucket = 'issued')", name="side"),
        Index("ix_points_postings_account", "account_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entries.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("resident_accounts.id"))
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("reduction_scenarios.id"))
    bucket: Mapped[str] = mapped_column(String(12))
    earned_year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)


class PointsBalance(Base):
    """A resident's points per bucket and earning year: the sum of its postings, cached and locked to spend."""

    __tablename__ = "points_balances"
    __table_args__ = (
        CheckConstraint(_in("bucket", POINTS_BUCKETS), name="bucket"),
        CheckConstraint("amount >= 0", name="amount"),
    )

    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), primary_key=True)
    bucket: Mapped[str] = mapped_column(String(12), primary_key=True)
    earned_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)


class RewardOffer(Base):
    """An offer on the reward shelf (权益兑换) from an operator or the bureau; its stock never goes below 0."""

    __tablename__ = "reward_offers"
    __table_args__ = (CheckConstraint("stock >= 0 AND points_cost > 0", name="stock"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider_participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id"))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    points_cost: Mapped[int] = mapped_column(BigInteger)
    stock: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Redemption(Base):
    """A resident's redemption of one offer (append-only)."""

    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("reward_offers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("resident_accounts.id"), index=True)
    points: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[int] = mapped_column(ForeignKey("points_entries.id"))
    created_at: Mapped[datetime]

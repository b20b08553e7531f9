"""Residents' carbon accounts and points (个人碳账户 / 碳积分): accounts and consents, the ingest of an
operator's behaviour records (judged by rules/points.py), the points ledger (earned, redeemed, donated,
expired; never transferred between residents), the ledger check, a resident's export and closing.

The caps are exact under concurrency: an ingest takes the residents' locks (any scenario's batch: JX-13-3 looks
across scenarios) and makes and locks their day and year totals rows, in key order, before it reads anything
else, so a second batch for the same resident waits and then judges over what the first counted. Redis is never
asked: the database is the truth of every cap."""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import ReductionScenario, ResidentAccount, ResidentConsent
from registry.principals import Principal
from registry.repositories import points as repo
from registry.unit_of_work import UnitOfWork
from rules import points as rules
from rules.violations import Violation

MAX_BATCH = 1000


def violation(code: str, field: str | None = None) -> Violation:
    article, zh, en = rules.MESSAGES[code]
    return Violation(code, article, field, zh, en)


# ---------------------------------------------------------------------------------------------------------
# Accounts and consents

def _not_found() -> NotFound:
    return NotFound("You have no open carbon account; open one first.", "您尚未开立个人碳账户。")


def my_account(uow: UnitOfWork, principal: Principal, *, for_update: bool = False) -> ResidentAccount:
    """The caller's open account (404 without one)."""
    account = repo.account_of_user(uow.session, principal.user_id, for_update=for_update)
    if account is None or account.status != "open":
        raise _not_found()
    return account


def open_account(uow: UnitOfWork, principal: Principal, display_name: str) -> ResidentAccount:
    """Open the caller's personal carbon account (the existing one when it has one)."""
    account = repo.account_of_user(uow.session, principal.user_id)
    if account is not None:
        return account
    account = ResidentAccount(reference=f"JXR-{secrets.token_hex(6).upper()}", user_id=principal.user_id,
                              display_name=display_name, status="open", created_at=uow.now())
    uow.session.add(account)
    uow.session.flush()
    uow.audit("resident.account_opened", "resident_account", account.id, {"reference": account.reference})
    uow.commit()
    return account


def _active_scenario(uow: UnitOfWork, scenario_id: int) -> ReductionScenario:
    found = repo.scenario(uow.session, scenario_id)
    if found is None:
        raise NotFound(f"Scenario {scenario_id} not found.", f"未找到减排场景 {scenario_id}。")
    return found


def grant_consent(uow: UnitOfWork, principal: Principal, scenario_id: int) -> ResidentConsent:
    """The resident consents to the scenario counting their behaviour from now on."""
    account = my_account(uow, principal, for_update=True)
    _active_scenario(uow, scenario_id)
    consent = repo.open_consent(uow.session, account.id, scenario_id)
    if consent is None:
        consent = ResidentConsent(account_id=account.id, scenario_id=scenario_id, granted_at=uow.now())
        uow.session.add(consent)
        uow.session.flush()
        uow.audit("resident.consent_granted", "resident_account", account.id, {"scenario_id": scenario_id})
    uow.commit()
    return consent


def revoke_consent(uow: UnitOfWork, principal: Principal, scenario_id: int) -> ResidentConsent:
    """The resident revokes the consent: nothing after now is counted; what was counted before stays."""
    account = my_account(uow, principal, for_update=True)
    consent = repo.open_consent(uow.session, account.id, scenario_id, for_update=True)
    if consent is None:
        raise NotFound("No consent in force for that scenario.", "该场景没有有效的授权。")
    consent.revoked_at = uow.now()
    uow.audit("resident.consent_revoked", "resident_account", account.id, {"scenario_id": scenario_id})
    uow.commit()
    return consent


def consents(uow: UnitOfWork, account_id: int) -> list[ResidentConsent]:
    return repo.consents_of(uow.session, account_id)


def my_records(uow: UnitOfWork, principal: Principal, limit: int, before_id: int | None) -> list[Any]:
    """The caller's own records, newest first."""
    return repo.records_of_account(uow.session, my_account(uow, principal).id, limit=limit, before_id=before_id)


def scenario_records(uow: UnitOfWork, scenario_id: int, limit: int, before_id: int | None) -> list[Any]:
    """A scenario's records, newest first (for its operator: see operated_scenario)."""
    return repo.records_of_scenario(uow.session, scenario_id, limit=limit, before_id=before_id)


# ---------------------------------------------------------------------------------------------------------
# Ingest

@dataclass(frozen=True, slots=True)
class IncomingRecord:
    record_ref: str
    account_ref: str
    started_at: datetime
    ended_at: datetime
    activity: dict[str, int]
    device_hash: str | None


@dataclass(frozen=True, slots=True)
class RecordAnswer:
    record_ref: str
    outcome: str
    code: str | None
    grams: int
    points: int
    replayed: bool


def terms_of(scenario: ReductionScenario) -> rules.Terms:
    formula = scenario.formula
    return rules.Terms(
        activity_key=formula["activity_key"], baseline_g_per_km=int(formula["baseline_g_per_km"]),
        mode_g_per_km=int(formula["mode_g_per_km"]), max_grams_per_record=scenario.max_grams_per_record,
        daily_grams=scenario.daily_grams, yearly_points=scenario.yearly_points, late_days=scenario.late_days,
        points_per_kg=scenario.points_per_kg, duplicate_window_s=scenario.duplicate_window_s,
        max_accounts_per_device=scenario.max_accounts_per_device)


def operated_scenario(uow: UnitOfWork, principal: Principal, scenario_id: int) -> ReductionScenario:
    """A scenario the caller's organisation operates (404 for any other: its records are not the caller's)."""
    found = repo.scenario(uow.session, scenario_id)
    if found is None or found.operator_participant_id != principal.participant_id:
        raise NotFound(f"Scenario {scenario_id} not found.", f"未找到减排场景 {scenario_id}。")
    return found


def ingest(uow: UnitOfWork, principal: Principal, scenario_id: int,
           incoming: list[IncomingRecord]) -> list[RecordAnswer]:
    """Judge and record a batch of the operator's behaviour records, credit the residents' points, commit.
    A record id seen before is answered from its first judgement and creates nothing."""
    scenario = operated_scenario(uow, principal, scenario_id)
    if scenario.status != "active":
        raise StateConflict("The scenario is suspended.", "该减排场景已暂停。")
    if len({r.record_ref for r in incoming}) != len(incoming):
        raise RuleViolation([Violation("PTS-BATCH", "Art. 14", "records", "同一批次内记录编号重复。",
                                       "A record id appears twice in the batch.")])
    terms = terms_of(scenario)
    session = uow.session
    # Keys for the records and postings in one round trip.
    uow.cache.keys.block = max(uow.cache.keys.block, 2 * len(incoming))
    received = uow.now()
    accounts = repo.open_account_ids(session, {r.account_ref for r in incoming})
    # Lock first: the totals rows of every (account, day) and (account, year) the batch may count against.
    keys = set()
    for record in incoming:
        account = accounts.get(record.account_ref)
        if account is not None:
            day = rules.jiaxing_day(record.started_at)
            keys.update({(account, day.isoformat()), (account, str(day.year))})
    repo.lock_residents(session, {account for account, _ in keys})
    totals = repo.locked_totals(session, scenario.id, keys)
    known = repo.known_refs(session, scenario.operator_participant_id, [r.record_ref for r in incoming])
    replayed = repo.records_by_key(session, list(known.values()))
    fresh = [r for r in incoming if r.record_ref not in known]
    behaviours = [rules.Behaviour(r.record_ref, accounts.get(r.account_ref), r.started_at, r.ended_at,
                                  r.activity, r.device_hash) for r in fresh]
    facts = _facts(uow, scenario, behaviours, totals)
    answers: dict[str, RecordAnswer] = {}
    day_changes: dict[tuple[int, str], tuple[int, int]] = defaultdict(lambda: (0, 0))
    earned: dict[tuple[int, int], int] = defaultdict(int)
    for behaviour in behaviours:
        judged = rules.judge(terms, behaviour, facts, received)
        record_id = uow.sql.next_id("behaviour_records")
        uow.sql.append("behaviour_records", {
            "id": record_id, "started_at": behaviour.started_at, "ended_at": behaviour.ended_at,
            "scenario_id": scenario.id, "account_id": behaviour.account_id, "record_ref": behaviour.record_ref,
            "activity": dict(behaviour.activity), "device_hash": behaviour.device_hash, "received_at": received,
            "outcome": judged.outcome, "code": judged.code, "grams": judged.grams, "points": judged.points})
        uow.sql.append("behaviour_record_refs", {
            "operator_participant_id": scenario.operator_participant_id, "record_ref": behaviour.record_ref,
            "record_id": record_id, "started_at": behaviour.started_at})
        if judged.outcome in rules.COUNTED and behaviour.account_id is not None:
            day = rules.jiaxing_day(behaviour.started_at)
            for period, points in ((day.isoformat(), 0), (str(day.year), judged.points)):
                grams, pts = day_changes[(behaviour.account_id, period)]
                day_changes[(behaviour.account_id, period)] = (grams + judged.grams, pts + points)
            if judged.points:
                earned[(behaviour.account_id, day.year)] += judged.points
        answers[behaviour.record_ref] = RecordAnswer(behaviour.record_ref, judged.outcome, judged.code,
                                                     judged.grams, judged.points, False)
    repo.add_device_sightings(session, scenario.id, facts.seen_devices)
    repo.add_to_totals(session, scenario.id, dict(day_changes))
    if earned:
        _post(uow, "earned", f"scenario {scenario.code}", [
            *((account, "available", year, amount) for (account, year), amount in earned.items()),
            *((None, "issued", year, -amount) for year, amount in _by_year(earned).items())],
            scenario_id=scenario.id)
    for ref, (record_id, _) in known.items():
        first = replayed[record_id]
        answers[ref] = RecordAnswer(ref, first.outcome, first.code, first.grams, first.points, True)
    counts: dict[str, int] = defaultdict(int)
    for answer in answers.values():
        counts["replayed" if answer.replayed else answer.outcome] += 1
    uow.audit("points.records_ingested", "reduction_scenario", scenario.id, dict(counts))
    uow.commit()
    return [answers[r.record_ref] for r in incoming]


def _by_year(earned: dict[tuple[int, int], int]) -> dict[int, int]:
    years: dict[int, int] = defaultdict(int)
    for (_, year), amount in earned.items():
        years[year] += amount
    return years


def _facts(uow: UnitOfWork, scenario: ReductionScenario, behaviours: list[rules.Behaviour],
           totals: dict[tuple[int, str], tuple[int, int]]) -> rules.BatchFacts:
    """What the rules need to judge the batch, read after the totals were locked."""
    session = uow.session
    account_ids = {b.account_id for b in behaviours if b.account_id is not None}
    facts = rules.BatchFacts(
        consents=repo.consent_periods(session, scenario.id, account_ids),
        day_grams={(a, datetime.fromisoformat(p).date()): g for (a, p), (g, _) in totals.items() if len(p) == 10},
        year_points={(a, int(p)): pts for (a, p), (_, pts) in totals.items() if len(p) == 4},
        other_legs={}, own_starts={}, device_accounts={}, filed_months=repo.filed_months(session, scenario.id))
    if not behaviours or not account_ids:
        return facts
    earliest = min(b.started_at for b in behaviours)
    latest = max(max(b.ended_at, b.started_at) for b in behaviours)
    # A trip lasts under a day: legs that began a day before the batch's earliest may still overlap it.
    for account, start, end in repo.counted_legs(session, account_ids, earliest - timedelta(days=1), latest,
                                                 scenario_id=scenario.id, same_scenario=False):
        facts.other_legs.setdefault(account, []).append((start, end))
    window = timedelta(seconds=scenario.duplicate_window_s)
    for account, start, _ in repo.counted_legs(session, account_ids, earliest - window, latest + window,
                                               scenario_id=scenario.id, same_scenario=True):
        facts.own_starts.setdefault(account, []).append(start)
    devices = {b.device_hash for b in behaviours if b.device_hash}
    days = {rules.jiaxing_day(b.started_at) for b in behaviours}
    facts.device_accounts = repo.device_accounts(session, scenario.id, devices, days)
    return facts


# ---------------------------------------------------------------------------------------------------------
# The points ledger

def _post(uow: UnitOfWork, kind: str, memo: str, legs: list[tuple[int | None, str, int, int]],
          scenario_id: int | None = None) -> int:
    """Write one entry with its legs (account or None for a scenario's issuing side, bucket, earned year,
    amount) and add the residents' legs to their balances; the legs must sum to zero."""
    if sum(leg[3] for leg in legs) != 0:
        raise AssertionError(f"unbalanced points entry: {legs}")
    entry_id = uow.sql.next_id("points_entries")
    uow.sql.append("points_entries", {"id": entry_id, "kind": kind, "memo": memo[:200], "created_at": uow.now()})
    for account, bucket, year, amount in legs:
        uow.sql.append("points_postings", {
            "id": uow.sql.next_id("points_postings"), "entry_id": entry_id, "account_id": account,
            "scenario_id": scenario_id if account is None else None, "bucket": bucket, "earned_year": year,
            "amount": amount})
    repo.add_to_balances(uow.session, {(a, b, y): amount for a, b, y, amount in legs if a is not None})
    return entry_id


def balances(uow: UnitOfWork, account_id: int) -> dict[str, int]:
    """A resident's points per bucket (all earning years)."""
    summed = dict.fromkeys(("available", "redeemed", "donated", "expired"), 0)
    for row in repo.balances_of(uow.session, account_id):
        summed[row.bucket] += row.amount
    return summed


def spend(uow: UnitOfWork, account_id: int, points: int, bucket: str, kind: str, memo: str) -> int:
    """Move `points` of the resident's available points (oldest earning year first) to `bucket`; the entry's
    id. The balances are locked first, so two spends of one resident never both take the same points."""
    rows = [r for r in repo.balances_of(uow.session, account_id, for_update=True) if r.bucket == "available"]
    if sum(r.amount for r in rows) < points:
        raise RuleViolation([violation(rules.SHORT, "points")])
    legs: list[tuple[int | None, str, int, int]] = []
    left = points
    for row in sorted(rows, key=lambda r: r.earned_year):
        take = min(left, row.amount)
        if take:
            legs += [(account_id, "available", row.earned_year, -take), (account_id, bucket, row.earned_year, take)]
            left -= take
    return _post(uow, kind, memo, legs)


def donate(uow: UnitOfWork, principal: Principal, cause: str, points: int) -> dict[str, int]:
    """The resident donates points to a listed cause."""
    if cause not in rules.DONATION_CAUSES:
        raise NotFound(f"No listed cause {cause!r}.", "未列入的公益项目。")
    account = my_account(uow, principal, for_update=True)
    spend(uow, account.id, points, "donated", "donated", f"cause {cause}")
    uow.audit("points.donated", "resident_account", account.id, {"cause": cause, "points": points})
    uow.commit()
    return balances(uow, account.id)


def refuse_transfer() -> NoReturn:
    """Points never move from one resident to another (Anhui plan: no unauthorised transfer)."""
    raise RuleViolation([violation(rules.NO_TRANSFER)])


def expire(uow: UnitOfWork) -> int:
    """Move every available point earned before last year to expired (points live to the end of the year after
    the one they were earned in); the number of points expired."""
    today = uow.today()
    total = 0
    by_account: dict[int, list[tuple[int | None, str, int, int]]] = defaultdict(list)
    for account, year, amount in repo.available_by_year(uow.session, before_year=today.year - 1):
        if rules.expired_years(today, [year]):
            by_account[account] += [(account, "available", year, -amount), (account, "expired", year, amount)]
            total += amount
    for legs in by_account.values():
        _post(uow, "expired", "end of the following year", legs)
    uow.audit("points.expired", "points", today.isoformat(), {"points": total, "accounts": len(by_account)})
    uow.commit()
    return total


@dataclass(frozen=True, slots=True)
class LedgerCheck:
    credited: int
    buckets: dict[str, int]
    cached: dict[str, int]
    unbalanced_entries: int

    @property
    def ok(self) -> bool:
        return (self.unbalanced_entries == 0 and self.credited == sum(self.buckets.values())
                and all(self.cached.get(b, 0) == v for b, v in self.buckets.items())
                and all(self.buckets.get(b, 0) == v for b, v in self.cached.items()))


def check_ledger(uow: UnitOfWork) -> LedgerCheck:
    """credited = available + redeemed + donated + expired, every entry balanced, the cached balances equal
    to the postings' sums."""
    credited, buckets, unbalanced = repo.posted_sums(uow.session)
    full = dict.fromkeys(("available", "redeemed", "donated", "expired"), 0) | buckets
    cached = dict.fromkeys(full, 0) | repo.cached_buckets(uow.session)
    return LedgerCheck(credited, full, cached, unbalanced)


# ---------------------------------------------------------------------------------------------------------
# Privacy: export and closing

def export(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    """Everything the registry holds about the caller as a resident (Quzhou draft, Art. 41–43)."""
    account = my_account(uow, principal)
    records = repo.records_of_account(uow.session, account.id, limit=100_000)
    return {
        "account": {"reference": account.reference, "display_name": account.display_name,
                    "created_at": account.created_at.isoformat()},
        "consents": [{"scenario_id": c.scenario_id, "granted_at": c.granted_at.isoformat(),
                      "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None}
                     for c in repo.consents_of(uow.session, account.id)],
        "balances": balances(uow, account.id),
        "records": [{"scenario_id": r.scenario_id, "record_ref": r.record_ref, "started_at": r.started_at.isoformat(),
                     "ended_at": r.ended_at.isoformat(), "activity": r.activity, "outcome": r.outcome,
                     "code": r.code, "grams": r.grams, "points": r.points} for r in records],
        "redemptions": [{"offer_id": r.offer_id, "points": r.points, "at": r.created_at.isoformat()}
                        for r in repo.redemptions_of(uow.session, account.id)],
    }


def close(uow: UnitOfWork, principal: Principal) -> str:
    """Close the caller's account: consents revoked, the name and the link to the user removed, the reference
    replaced by a pseudonym. The ledger keeps its postings (it must balance) under the pseudonym."""
    account = my_account(uow, principal, for_update=True)
    now = uow.now()
    for consent in repo.consents_of(uow.session, account.id):
        if consent.revoked_at is None:
            consent.revoked_at = now
    pseudonym = "X-" + hashlib.sha256(f"{account.id}:{account.reference}".encode()).hexdigest()[:24]
    account.reference, account.display_name, account.user_id = pseudonym, "已注销", None
    account.status, account.closed_at = "closed", now
    uow.audit("resident.account_closed", "resident_account", account.id, {"pseudonym": pseudonym})
    uow.commit()
    return pseudonym

"""The emission-factor catalogue (排放因子库, Art. 11): the bureau proposes a numbered release of factor
versions, it goes through public notice (objections as for any parameter), then it is published; a release's
factors never change. Calculations pick from the published factors by the rule in rules/emission_factors.py
and cite code@version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from registry.errors import NotFound, RuleViolation, StateConflict
from registry.orm import EmissionFactor, FactorRelease, Objection
from registry.repositories import emission_factors as repo
from registry.services import reviews
from registry.unit_of_work import UnitOfWork
from rules import emission_factors as rules
from rules.violations import Violation


@dataclass(frozen=True)
class FactorDraft:
    """One factor version as the bureau types it in."""

    code: str
    activity: str
    sector: str
    unit: str
    name_zh: str
    name_en: str
    region: str
    data_year: int
    value_kg: Decimal
    gases: dict[str, str]
    gwp_basis: str
    effective_from: date
    effective_to: date | None
    publisher: str
    dataset: str
    document_number: str | None
    link: str | None
    uncertainty_pct: Decimal | None
    quality_flags: tuple[str, ...]
    demo: bool


def _checked(drafts: list[FactorDraft]) -> None:
    problems: list[Violation] = []
    seen: set[str] = set()
    for i, d in enumerate(drafts):
        for v in rules.check_factor(d.value_kg, d.gwp_basis, d.effective_from, d.effective_to, d.data_year,
                                    d.uncertainty_pct):
            problems.append(Violation(v.code, v.article, f"factors[{i}].{v.field}", v.message_zh, v.message_en))
        if d.code in seen:
            problems.append(Violation(rules.CODE, rules.ARTICLE, f"factors[{i}].code",
                                      f"同一版本中因子 {d.code} 重复。", f"Factor {d.code} appears twice."))
        seen.add(d.code)
    if not drafts:
        problems.append(Violation(rules.CODE, rules.ARTICLE, "factors", "版本中至少须有一个因子。",
                                  "A release holds at least one factor."))
    if problems:
        raise RuleViolation(problems)


def propose_release(uow: UnitOfWork, *, title: str, note: str, drafts: list[FactorDraft],
                    notice_days: int | None) -> tuple[FactorRelease, list[EmissionFactor]]:
    """A new release: each factor becomes the next version of its code (superseding the previous one). With
    notice_days it goes to public notice; without, it records values already published by their source."""
    _checked(drafts)
    highest = repo.highest_versions(uow.session, [d.code for d in drafts])
    previous = repo.latest_versions(uow.session, [d.code for d in drafts])
    release = FactorRelease(
        number=repo.last_release_number(uow.session) + 1, title=title, note=note,
        status="public_notice" if notice_days else "published",
        notice_end=uow.today() + timedelta(days=notice_days) if notice_days else None,
        created_by=uow.actor.user_id if uow.actor else None, created_at=uow.now(),
        published_at=None if notice_days else uow.now())
    uow.session.add(release)
    uow.session.flush()
    factors = []
    for d in drafts:
        before = previous.get(d.code)
        factor = EmissionFactor(
            release_id=release.id, code=d.code, version=highest.get(d.code, 0) + 1, activity=d.activity,
            sector=d.sector, unit=d.unit, name_zh=d.name_zh, name_en=d.name_en, region=d.region,
            data_year=d.data_year, value_kg=d.value_kg, gases=dict(d.gases), gwp_basis=d.gwp_basis,
            effective_from=d.effective_from, effective_to=d.effective_to, publisher=d.publisher,
            dataset=d.dataset, document_number=d.document_number, link=d.link, uncertainty_pct=d.uncertainty_pct,
            quality_flags=list(d.quality_flags), demo=d.demo, supersedes_id=before.id if before else None,
            created_at=uow.now())
        uow.session.add(factor)
        factors.append(factor)
    uow.session.flush()
    uow.audit("factor_release.proposed", "factor_release", release.id,
              {"number": release.number, "status": release.status, "notice_end": release.notice_end,
               "factors": [f"{f.code}@{f.version}" for f in factors]})
    uow.commit()
    return release, factors


def release(uow: UnitOfWork, number: int, *, for_update: bool = False, public: bool = True) -> FactorRelease:
    """A release by number; the public does not see a rejected one."""
    found = repo.release(uow.session, number, for_update=for_update)
    if found is None or (public and found.status == "rejected"):
        raise NotFound(f"Factor release {number} not found.", f"未找到因子库版本 {number}。")
    return found


def publish_release(uow: UnitOfWork, number: int) -> FactorRelease:
    """Publish after the notice ended with no open objection (bureau, Art. 11)."""
    found = release(uow, number, for_update=True, public=False)
    if found.status != "public_notice":
        raise StateConflict(f"Factor release {number} is {found.status}, not in public notice.",
                            f"因子库版本 {number} 状态为 {found.status}，不在公示期。")
    assert found.notice_end is not None
    if uow.today() <= found.notice_end:
        raise RuleViolation([Violation(rules.CODE, rules.ARTICLE, None,
                                       f"公示期至 {found.notice_end} 结束，之后方可发布。",
                                       f"The public notice runs until {found.notice_end}; publish after it.")])
    if repo.open_objections(uow.session, found.id):
        raise StateConflict("Open objections must be ruled on first.", "存在未处理的异议，须先处理。")
    found.status = "published"
    found.published_at = uow.now()
    uow.audit("factor_release.published", "factor_release", found.id, {"number": number})
    uow.commit()
    return found


def object_to_release(uow: UnitOfWork, number: int, *, objector_name: str, objector_contact: str,
                      text: str) -> Objection:
    """Anyone objects to a release during its public notice; the bureau rules (an upheld one rejects it)."""
    found = release(uow, number, for_update=True)
    objection = reviews.lodge_objection(uow, "factor_release", found.id, found.status, found.notice_end,
                                        objector_name=objector_name, objector_contact=objector_contact, text=text)
    uow.commit()
    return objection


def reject_on_objection(uow: UnitOfWork, release_id: int, objection_id: int, ruling: str) -> None:
    """An upheld objection rejects a release still in notice (called by the objection ruling)."""
    found = repo.release_by_id(uow.session, release_id, for_update=True)
    if found is not None and found.status == "public_notice":
        found.status = "rejected"
        uow.audit("factor_release.rejected", "factor_release", found.id,
                  {"objection_id": objection_id, "ruling": ruling})


def releases(uow: UnitOfWork, *, include_rejected: bool = False) -> list[FactorRelease]:
    """Releases newest first."""
    return repo.releases(uow.session, include_rejected=include_rejected)


def factors_of(uow: UnitOfWork, found: FactorRelease) -> list[EmissionFactor]:
    """The factor versions a release brought."""
    return repo.factors_of(uow.session, found.id)


def rule_factor(row: EmissionFactor, release_number: int) -> rules.Factor:
    """A stored factor as the pure selection rule sees it."""
    return rules.Factor(row.code, row.version, row.activity, row.unit, row.region, row.data_year, row.value_kg,
                        row.effective_from, row.effective_to, release_number, citation(row, release_number),
                        row.demo)


def citation(row: EmissionFactor, release_number: int) -> str:
    """The citation string of a factor version."""
    return rules.citation(code=row.code, version=row.version, release_number=release_number,
                          publisher=row.publisher, dataset=row.dataset, document_number=row.document_number,
                          link=row.link, data_year=row.data_year, demo=row.demo)


def pool(uow: UnitOfWork) -> list[rules.Factor]:
    """Every published factor version, for a calculation to pick from."""
    return [rule_factor(row, number) for row, number in repo.published_factors(uow.session)]


def browse(uow: UnitOfWork, *, activity: str | None, region: str | None,
           on: date | None) -> list[tuple[EmissionFactor, int]]:
    """Published factor versions, filtered (in force on `on` when given)."""
    rows = repo.published_factors(uow.session)
    return [(row, n) for row, n in rows
            if (activity is None or row.activity == activity) and (region is None or row.region == region)
            and (on is None or rule_factor(row, n).in_force_on(on))]


def select(uow: UnitOfWork, activity: str, region: str, on: date) -> tuple[rules.Selection, EmissionFactor]:
    """The factor a calculation would use, with its trace and its row; JX-11 when none is in force."""
    rows = repo.published_factors(uow.session)
    chosen = rules.select_factor([rule_factor(row, n) for row, n in rows], activity, region, on)
    if isinstance(chosen, Violation):
        raise RuleViolation([chosen])
    row = next(r for r, _ in rows if (r.code, r.version) == (chosen.factor.code, chosen.factor.version))
    return chosen, row

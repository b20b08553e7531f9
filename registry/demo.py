"""Demo data for the embedded first run: participants of every role, two registered methodologies with
their published parameters, and registered projects. Loading twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from registry import demo_emission_factors, demo_methodologies
from registry.clock import FixedClock, business_date
from registry.context import Registry
from registry.orm import Methodology, Participant, RuleSetRecord, User
from registry.principals import Principal
from registry.services import (
    cash,
    documents,
    emission_factors,
    events,
    filings,
    instruments,
    issuance,
    ledger_accounts,
    methodologies,
    parameters,
    participants,
    projects,
    retirements,
    transfers,
)
from registry.services.rule_sets import ensure_builtin_rule_set, register_rule_set
from registry.unit_of_work import UnitOfWork
from rules import event_inventory as event_rules
from rules.rule_sets import JIAXING_TRIAL_2023, rule_set_to_dict

# username, organisation, roles, password (demo only; printed by `make run`)
DEMO_USERS: list[tuple[str, str, list[str], str]] = [
    ("admin", "嘉兴碳普惠平台管理", ["admin"], "admin-demo-pass"),
    ("bureau", "嘉兴市生态环境局", ["bureau"], "bureau-demo-pass"),
    ("center", "嘉兴市碳普惠核证中心", ["center"], "center-demo-pass"),
    ("expert", "嘉兴市碳普惠专家委员会", ["expert"], "expert-demo-pass"),
    ("operator", "嘉兴市碳普惠交易运营管理中心", ["operator"], "operator-demo-pass"),
    ("verifier", "浙江某某认证有限公司（演示）", ["verifier"], "verifier-demo-pass"),
    ("owner", "海宁某某纺织有限公司（演示）", ["owner", "trader"], "owner-demo-pass"),
    ("household", "王小明", ["owner", "trader"], "household-demo-pass"),
    ("buyer", "嘉兴某某会展有限公司（演示）", ["trader"], "buyer-demo-pass"),
]

_KINDS = {
    "admin": ("agency", None),
    "bureau": ("agency", "11330400002568432X"),
    "center": ("institution", "12330400MB0000001A"),
    "expert": ("association", None),
    "operator": ("enterprise", "91330400MA0000002B"),
    "verifier": ("enterprise", "91330000MA0000003C"),
    "owner": ("enterprise", "91330481MA0000004D"),
    "household": ("individual", None),
    "buyer": ("enterprise", "91330402MA0000005E"),
}

# The trial measures ran for two years from 2023-11-08. So that the demo can file today, it registers a
# continuation with the same content, clearly marked as a demo and not an official text.
DEMO_CONTINUATION = {
    **rule_set_to_dict(JIAXING_TRIAL_2023),
    "code": "JX-DEMO-CONTINUATION",
    "title_zh": "演示用：试行办法期满后沿用同一规则（非官方文本）",
    "title_en": "Demo only: the trial rules carried on after they expired (not an official text)",
    "effective_from": "2025-11-08",
    "effective_to": None,
}


REVIEW_WALK = (
    ("center", "center_approve", "技术审核通过 / technical review passed"),
    ("bureau", "convene_experts", "组织专家评审 / expert review convened"),
    ("expert", "expert_approve", "评审通过 / approved by the expert committee"),
    ("bureau", "bureau_approve", "同意公示 / approved for public notice"),
)


@contextmanager
def _acting(registry: Registry, clock: FixedClock, username: str | None) -> Iterator[UnitOfWork]:
    """A unit of work on the demo's own clock, acting as a demo user, committed on success."""
    with UnitOfWork(registry.session_factory, clock, None) as uow:
        if username is not None:
            uow.actor = _principal(uow, username)
        yield uow
        uow.commit()


def _demo_projects(pv_version: int, nev_version: int) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("owner", {
            "methodology_version_id": pv_version, "title": "海宁厂房屋顶分布式光伏（演示）",
            "description": "Rooftop PV on a small textile mill, self-use with surplus to the grid.",
            "county_code": "330481", "address": "海宁市经编园区（演示）", "industry_code": "1713",
            "owner_kind": "small", "crediting_start": date(2023, 1, 1), "crediting_end": date(2032, 12, 31),
            "legal_reduction_obligation": False, "declared_other_mechanisms": [],
            "asset_identifiers": ["3304810012345678"], "documents": [],
        }),
        ("household", {
            "methodology_version_id": pv_version, "title": "南湖区家庭屋顶光伏（演示）",
            "description": "A household rooftop PV system.", "county_code": "330402",
            "address": "南湖区某小区（演示）", "industry_code": "4416", "owner_kind": "household",
            "crediting_start": date(2022, 6, 1), "crediting_end": date(2031, 5, 31),
            "legal_reduction_obligation": False, "declared_other_mechanisms": [],
            "asset_identifiers": ["3304020087654321"], "documents": [],
        }),
        ("household", {
            "methodology_version_id": nev_version, "title": "家庭纯电动汽车出行（演示）",
            "description": "A family battery-electric car replacing a petrol car.", "county_code": "330402",
            "address": "", "industry_code": "8090", "owner_kind": "household",
            "crediting_start": date(2024, 1, 1), "crediting_end": date(2028, 12, 31),
            "legal_reduction_obligation": False, "declared_other_mechanisms": [],
            "asset_identifiers": ["浙F·D12345"], "documents": [],
        }),
    ]


def _principal(uow: UnitOfWork, username: str) -> Principal:
    user = uow.session.scalar(select(User).where(User.username == username))
    assert user is not None
    found = participants.load_principal(uow, user.id)
    assert found is not None
    return found


def load_demo(registry: Registry) -> str:
    """Load everything, walking the real review flows with a clock that starts 40 days ago."""
    with registry.uow() as uow:
        if uow.session.scalar(select(User.id).where(User.username == "bureau")):
            return "demo data already loaded"
    start = registry.clock.now() - timedelta(days=40)
    clock = FixedClock(start)

    def acting(username: str | None) -> AbstractContextManager[UnitOfWork]:
        return _acting(registry, clock, username)

    with acting(None) as uow:
        ensure_builtin_rule_set(uow)
        if not uow.session.scalar(
            select(RuleSetRecord.id).where(RuleSetRecord.code == DEMO_CONTINUATION["code"])
        ):
            register_rule_set(uow, DEMO_CONTINUATION)
        for username, org_name, roles, password in DEMO_USERS:
            kind, credit_code = _KINDS[username]
            org = participants.create_participant(uow, name=org_name, kind=kind, credit_code=credit_code)
            participants.create_user(uow, participant_id=org.id, username=username, password=password,
                                     display_name=org_name, roles=roles)
        for spec in demo_methodologies.PARAMETERS:
            parameters.create_parameter(uow, code=spec["code"], name_zh=spec["name_zh"],
                                        name_en=spec["name_en"], unit=spec["unit"])
            for v in spec["versions"]:
                parameters.add_version(
                    uow, code=spec["code"], value=Decimal(v["value"]), source=v["source"],
                    effective_from=date.fromisoformat(v["effective_from"]),
                    effective_to=date.fromisoformat(v["effective_to"]) if v.get("effective_to") else None,
                    notice_days=None,
                )

    with acting("bureau") as uow:
        # Recorded as published: a demo set, every factor flagged demo (registry/demo_emission_factors.py).
        emission_factors.propose_release(uow, title=demo_emission_factors.DEMO_RELEASE_TITLE,
                                         note=demo_emission_factors.DEMO_RELEASE_NOTE,
                                         drafts=demo_emission_factors.demo_drafts(), notice_days=None)

    version_ids = []
    for spec in demo_methodologies.METHODOLOGIES:
        definition = {k: spec[k] for k in ("asset_identifier_kind", "inclusive_owner_kinds", "inputs",
                                           "parameters", "calculation")}
        definition |= {"description_zh": spec.get("description_zh", ""),
                       "description_en": spec.get("description_en", "")}
        # Proposed by the third-party certification company: the bureau reviews and approves methodologies,
        # so it may not propose them too (separation of duties, rules/duties.py).
        with acting("verifier") as uow:
            assert uow.actor is not None
            version = methodologies.submit(uow, uow.actor, title_zh=spec["title_zh"], title_en=spec["title_en"],
                                           field=spec["field"], definition=definition)
        version_ids.append(version.id)
        for actor, action, comment in REVIEW_WALK:
            with acting(actor) as uow:
                assert uow.actor is not None
                methodologies.review(uow, uow.actor, version.id, action, comment)
    clock.advance(timedelta(days=10))
    for version_id in version_ids:
        with acting("bureau") as uow:
            assert uow.actor is not None
            methodologies.review(uow, uow.actor, version_id, "register", "公示期满无异议，予以登记 / registered")

    project_ids = []
    for owner, data in _demo_projects(version_ids[0], version_ids[1]):
        with acting(owner) as uow:
            assert uow.actor is not None
            project = projects.create_draft(uow, uow.actor, data)
        with acting(owner) as uow:
            assert uow.actor is not None
            projects.submit(uow, uow.actor, project.id)
        project_ids.append(project.id)
    issued = _issue_demo_credits(registry, clock, acting, project_ids[0])
    _open_demo_market(acting)
    statement = _walk_demo_event(acting, clock)
    with registry.uow() as check:
        count = len(list(check.session.scalars(select(Methodology.id))))
        orgs = len(list(check.session.scalars(select(Participant.id))))
    return (f"demo data loaded: {orgs} participants, {count} methodologies, {len(project_ids)} projects, "
            f"{issued} t issued, instrument JXCI-2025 open, event neutrality statement {statement}")


def _issue_demo_credits(registry: Registry, clock: FixedClock,
                        acting: Callable[[str | None], AbstractContextManager[UnitOfWork]], project_id: int) -> int:
    """The mill's first half of 2025 filed, verified, reviewed, noticed and issued, by the real flow."""
    def document(who: str, text: str) -> str:
        with acting(who) as uow:
            assert uow.actor is not None
            doc, _ = documents.upload(uow, registry.documents, uow.actor, filename=f"{text}.pdf",
                                      media_type="application/pdf", data=b"%PDF-1.4\n% demo " + text.encode(),
                                      max_bytes=1_000_000)
            return doc.sha256

    report = document("owner", "accounting-report-2025")
    with acting("owner") as uow:
        assert uow.actor is not None
        filing = filings.create(uow, uow.actor, project_id=project_id, monitoring_start=date(2025, 1, 1),
                                monitoring_end=date(2025, 6, 30), inputs={"net_generation_mwh": Decimal("930.2")},
                                report_sha256=report, report_preparer_participant_id=uow.actor.participant_id)
    with acting("verifier") as uow:
        verifier_id = participants.find_user_by_username(uow, "verifier").participant_id  # type: ignore[union-attr]
    with acting("owner") as uow:
        assert uow.actor is not None
        filings.commission(uow, uow.actor, filing.id, verifier_id)
    statement = document("verifier", "verification-statement-2025")
    with acting("verifier") as uow:
        assert uow.actor is not None
        filings.verify(uow, uow.actor, filing.id, verified_tco2e=Decimal("525.3"), statement_sha256=statement,
                       reason="扣除厂区自用电量后的保守核证值 / conservative after own consumption")
    attachments = [{"kind": kind, "sha256": document("owner", kind)}
                   for kind in ("application_letter", "application_form", "supporting_evidence")]
    with acting("owner") as uow:
        assert uow.actor is not None
        filings.apply(uow, uow.actor, filing.id, attachments)
    for actor, action in (("center", "center_approve"), ("bureau", "bureau_approve")):
        with acting(actor) as uow:
            assert uow.actor is not None
            filings.review(uow, uow.actor, filing.id, action, "同意 / approved")
    clock.advance(timedelta(days=8))
    with acting("bureau") as uow:
        assert uow.actor is not None
        filings.review(uow, uow.actor, filing.id, "register", "公示期满无异议 / no objection")
    with acting("bureau") as uow:
        assert uow.actor is not None
        return issuance.issue(uow, uow.actor, filing.id, "签发 / issued").quantity_t


def _open_demo_market(acting: Callable[[str | None], AbstractContextManager[UnitOfWork]]) -> None:
    """The 2025 vintage listed, the traders admitted, the buyer with ¥500,000 at the bank."""
    with acting("operator") as uow:
        assert uow.actor is not None
        for username in ("owner", "household", "buyer"):
            user = participants.find_user_by_username(uow, username)
            assert user is not None
            instruments.set_trading_status(uow, user.participant_id, "admitted", "演示准入 / demo admission")
        instruments.define(uow, code="JXCI-2025", name_zh="2025年度嘉兴碳普惠核证减排量",
                           name_en="Jiaxing carbon-inclusive credits, 2025 vintage", vintage=2025,
                           methodology_field=None, config={"reference_price_fen": 6000, "price_band_bp": 1000})
        buyer = participants.find_user_by_username(uow, "buyer")
        assert buyer is not None
        cash.record(uow, uow.actor, participant_id=buyer.participant_id, kind="deposit", amount_fen=50_000_000,
                    bank_reference="DEMO-DEPOSIT-0001")


# The issue's fixture event: 500 attendees × 300 km of high-speed rail (round trip), 400 room-nights, 1,500
# meals, 20 MWh; with the demo factors 32,859,150 g, so 33 t to offset.
DEMO_EVENT_ACTIVITIES = (
    ("attendee_travel", "rail_high_speed", Decimal(300 * 500 * 2), "500 人 × 300 km × 往返 / round trip"),
    ("accommodation", "accommodation_room_night", Decimal(400), ""),
    ("catering", "catering_meal", Decimal(1500), ""),
    ("purchased_electricity", "electricity_grid", Decimal(20_000), "20 MWh"),
)
DEMO_EVENT_EXCLUSIONS = {
    "venue_fuel": "场馆全电气化，无燃料燃烧 / an all-electric venue", "purchased_heat": "未使用供热 / no heating",
    "service_vehicles": "接驳使用公共交通 / public transport shuttles", "materials": "物料全部复用 / reused materials",
    "waste": "场馆统一处理并计入其自身清单 / in the venue's own inventory",
}


def _walk_demo_event(acting: Callable[[str | None], AbstractContextManager[UnitOfWork]], clock: FixedClock) -> str:
    """The buyer (an events company) registers a forum held a week ago, records its inventory, buys the 33 t it
    needs from the mill, retires them naming the event, and declares it neutral."""
    with acting("buyer") as uow:
        assert uow.actor is not None
        buyer = uow.actor
        account = ledger_accounts.main_account(uow, buyer.participant_id).code
    today = business_date(clock)
    with acting("buyer") as uow:
        event = events.create(uow, buyer, events.EventDraft(
            name="南湖数字经济论坛（演示）/ Nanhu digital economy forum (demo)", event_type="forum",
            venue="南湖国际会展中心（演示）", venue_county="330402", starts_on=today - timedelta(days=9),
            ends_on=today - timedelta(days=7), attendees=500,
            reduction_measures="无纸化会务、公共交通接驳、场馆绿电 / paperless, shuttles, green power at the venue"))
    with acting("buyer") as uow:
        activities = [event_rules.Activity(*row) for row in DEMO_EVENT_ACTIVITIES]
        inventory = events.record_inventory(uow, buyer, event.id, activities, DEMO_EVENT_EXCLUSIONS, None)
    # Exactly what it needs, so the buyer's own journey (tests/e2e) starts with no credits of its own.
    with acting("owner") as uow:
        assert uow.actor is not None
        transfers.transfer(uow, uow.actor, from_account_id=None, to_account_code=account,
                           quantity_t=inventory.total_t, batch_id=None, memo="协议转让（演示）/ negotiated sale (demo)")
    with acting("buyer") as uow:
        retirement = retirements.request(
            uow, buyer, account_id=None, quantity_t=inventory.total_t, batch_id=None, purpose="event_neutrality",
            beneficiary="南湖数字经济论坛组委会（演示）", auto_execute=False,
            details={"event_name": event.name, "event_start": event.starts_on.isoformat(),
                     "event_end": event.ends_on.isoformat(), "event_place": event.venue,
                     "event_emissions_tco2e": str(inventory.total_t), "event_id": event.id})
    with acting("operator") as uow:
        retirements.execute(uow, retirements.get(uow, retirement.id, for_update=True))
    with acting("buyer") as uow:
        declared = events.assess(uow, buyer, event.id, "组织方自我声明（演示）/ the organiser's declaration (demo)")
    return declared.statement_code or ""

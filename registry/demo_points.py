"""Demo data of residents' points: a metro and a shared-bike scenario, each run by its operator on a registered
project, three residents who consent to both, a month of their trips judged through the real ingest, and two
offers on the reward shelf. Loaded by `python -m api demo-data` after `load_demo` (apart from it, so that the
many tests that load the registry's demo do not pay for a month of trips); loading twice changes nothing."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from registry.clock import FixedClock
from registry.context import Registry
from registry.orm import MethodologyVersion, Project
from registry.principals import Principal
from registry.services import participants, points, rewards, scenarios
from registry.unit_of_work import UnitOfWork
from rules.points import JIAXING

# username, organisation, roles, password (demo only)
POINTS_USERS: list[tuple[str, str, str, list[str], str]] = [
    ("metro", "嘉兴城市轨道交通（演示）", "enterprise", ["owner"], "metro-demo-pass"),
    ("bike", "嘉兴公共自行车（演示）", "enterprise", ["owner"], "bike-demo-pass"),
    ("resident1", "李华", "individual", ["resident"], "resident1-demo-pass"),
    ("resident2", "张敏", "individual", ["resident"], "resident2-demo-pass"),
    ("resident3", "陈晨", "individual", ["resident"], "resident3-demo-pass"),
]
# operator → (code, titles, behaviour, baseline and mode g/km, typical trip in metres)
SCENARIOS = {
    "metro": ("JX-METRO-DEMO", "轨道交通绿色出行（演示）", "Metro rides (demo)", "metro", 160, 30, 9000),
    "bike": ("JX-BIKE-DEMO", "共享单车绿色出行（演示）", "Shared-bike rides (demo)", "shared_bike", 160, 0, 2500),
}


def _project(uow: UnitOfWork, owner: Principal, title: str) -> int:
    """A registered transport project of the operator (written directly: demo data, marked as such)."""
    version = uow.session.scalar(select(MethodologyVersion).where(MethodologyVersion.status == "registered")
                                 .order_by(MethodologyVersion.id.desc()))
    assert version is not None
    project = Project(code=None, owner_participant_id=owner.participant_id, methodology_version_id=version.id,
                      title=title, description="Demo reduction scenario.", county_code="330402", address="",
                      industry_code="5411", owner_kind="large", crediting_start=date(2025, 1, 1),
                      crediting_end=date(2030, 12, 31), legal_reduction_obligation=False,
                      declared_other_mechanisms=[], status="registered", created_at=uow.now(),
                      registered_at=uow.now())
    uow.session.add(project)
    uow.session.flush()
    return project.id


def load_points_demo(registry: Registry, days: int = 30, seed: int = 18) -> str:
    """Operators, residents, scenarios, consents, a month of trips and the reward shelf (once; the demo of
    registry.demo first, for its registered methodology versions)."""
    with registry.uow() as uow:
        if participants.find_user_by_username(uow, POINTS_USERS[0][0]) is not None:
            return "points demo already loaded"
    clock = FixedClock(registry.clock.now() - timedelta(days=days + 2))
    people: dict[str, Principal] = {}
    with UnitOfWork(registry.session_factory, clock, None) as uow:
        for username, name, kind, roles, password in POINTS_USERS:
            org = participants.create_participant(uow, name=name, kind=kind, credit_code=None)
            participants.create_user(uow, participant_id=org.id, username=username, password=password,
                                     display_name=name, roles=roles)
        uow.commit()
        for username, *_ in POINTS_USERS:
            user = participants.find_user_by_username(uow, username)
            assert user is not None
            found = participants.load_principal(uow, user.id)
            assert found is not None
            people[username] = found
    ids = {}
    for operator, (code, zh, en, behaviour, baseline, mode, _) in SCENARIOS.items():
        with UnitOfWork(registry.session_factory, clock, people[operator]) as uow:
            project_id = _project(uow, people[operator], zh)
            terms = scenarios.ScenarioTerms(
                code=code, title_zh=zh, title_en=en, behaviour=behaviour, activity_key="distance_m",
                baseline_g_per_km=baseline, mode_g_per_km=mode, parameter_versions={}, max_grams_per_record=3000,
                daily_grams=3000, yearly_points=50_000, late_days=7, points_per_kg=10, duplicate_window_s=300,
                max_accounts_per_device=2)
            ids[operator] = scenarios.register(uow, people[operator], project_id, terms).id
    references = {}
    for resident in ("resident1", "resident2", "resident3"):
        with UnitOfWork(registry.session_factory, clock, people[resident]) as uow:
            references[resident] = points.open_account(uow, people[resident], people[resident].username).reference
        for scenario_id in ids.values():
            with UnitOfWork(registry.session_factory, clock, people[resident]) as uow:
                points.grant_consent(uow, people[resident], scenario_id)
    clock.advance(timedelta(days=1))  # the trips begin the day after the consents
    rng = random.Random(seed)
    counted = 0
    for day in range(days):
        clock.advance(timedelta(days=1))
        when = clock.now().astimezone(JIAXING).date()
        for operator, (_, _, _, _, _, _, metres) in SCENARIOS.items():
            batch = []
            for n, (resident, reference) in enumerate(references.items()):
                hour = 8 if operator == "metro" else 18  # the morning metro, the evening bike: never one trip
                start = datetime.combine(when, time(hour, 5 * n), JIAXING) - timedelta(days=1)
                batch.append(points.IncomingRecord(
                    f"{operator}-{day}-{resident}", reference, start, start + timedelta(minutes=25),
                    {"distance_m": rng.randrange(metres // 2, metres * 2)}, None))
            with UnitOfWork(registry.session_factory, clock, people[operator]) as uow:
                answers = points.ingest(uow, people[operator], ids[operator], batch)
            counted += sum(1 for a in answers if a.outcome in ("accepted", "capped"))
    with UnitOfWork(registry.session_factory, clock, people["metro"]) as uow:
        rewards.add_offer(uow, people["metro"], title_zh="轨道交通单程票", title_en="A single metro ride",
                          points_cost=20, stock=500)
    with UnitOfWork(registry.session_factory, clock, people["bike"]) as uow:
        rewards.add_offer(uow, people["bike"], title_zh="共享单车月卡", title_en="A month of shared bikes",
                          points_cost=60, stock=100)
    return f"2 scenarios, {len(references)} residents, {counted} trips counted over {days} days"

"""The pure rules of residents' points: each outcome code at its boundary, in Jiaxing days, rounded down."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from rules import points as rules

TERMS = rules.Terms(activity_key="distance_m", baseline_g_per_km=100, mode_g_per_km=25, max_grams_per_record=1000,
                    daily_grams=300, yearly_points=10_000, late_days=7, points_per_kg=10, duplicate_window_s=60,
                    max_accounts_per_device=2)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Jiaxing


def facts(**changes: object) -> rules.BatchFacts:
    base = rules.BatchFacts(consents={1: [(NOW - timedelta(days=30), None)], 2: [(NOW - timedelta(days=30), None)],
                                      3: [(NOW - timedelta(days=30), None)]},
                            day_grams={}, year_points={}, other_legs={}, own_starts={}, device_accounts={},
                            filed_months=set())
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def trip(at: datetime, metres: int = 2000, account: int | None = 1, device: str | None = None,
         minutes: int = 20) -> rules.Behaviour:
    return rules.Behaviour(f"r{at.timestamp()}-{account}", account, at, at + timedelta(minutes=minutes),
                           {"distance_m": metres}, device)


def test_grams_round_down() -> None:
    assert rules.grams_of(TERMS, {"distance_m": 1999}) == 149  # 75 × 1.999 = 149.925
    assert rules.grams_of(TERMS, {}) is None
    assert rules.points_of(TERMS, 149) == 1
    assert rules.tonnes_of(2_345_678) == 2


def test_daily_cap_150_150_150_then_midnight_in_jiaxing_resets() -> None:
    known = facts()
    start = NOW - timedelta(hours=5)  # 05:00 Jiaxing
    results = [rules.judge(TERMS, trip(start + timedelta(hours=i)), known, NOW) for i in range(3)]
    assert [(r.outcome, r.grams) for r in results] == [("accepted", 150), ("accepted", 150), ("capped", 0)]
    assert results[2].code == rules.DAILY_CAP
    # 23:59 of the day before in Jiaxing is 15:59 UTC: another day, its own cap.
    evening = datetime(2026, 11, 22, 15, 59, tzinfo=UTC)
    assert rules.judge(TERMS, trip(evening, minutes=1), known, NOW).grams == 150
    # 16:00 UTC is midnight in Jiaxing: the day of the three above.
    midnight = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert rules.jiaxing_day(midnight) == date(2026, 11, 23)
    assert rules.judge(TERMS, trip(midnight, minutes=1), known, NOW).outcome == "capped"


def test_consent_before_and_after_revocation() -> None:
    granted, revoked = NOW - timedelta(days=3), NOW - timedelta(days=1)
    known = facts(consents={1: [(granted, revoked)]})
    assert rules.judge(TERMS, trip(granted - timedelta(minutes=1)), known, NOW).code == rules.CONSENT
    assert rules.judge(TERMS, trip(granted + timedelta(hours=1)), known, NOW).outcome == "accepted"
    assert rules.judge(TERMS, trip(revoked), known, NOW).code == rules.CONSENT
    assert rules.judge(TERMS, trip(NOW, account=None), known, NOW).code == rules.CONSENT


def test_late_window_is_seven_days() -> None:
    assert rules.judge(TERMS, trip(NOW - timedelta(days=8)), facts(), NOW).code == rules.LATE
    assert rules.judge(TERMS, trip(NOW - timedelta(days=7)), facts(), NOW).outcome == "accepted"
    assert rules.judge(TERMS, trip(NOW + timedelta(minutes=6)), facts(), NOW).code == rules.FUTURE


def test_the_same_trip_in_two_scenarios_is_jx_13_3() -> None:
    start = NOW - timedelta(hours=2)
    known = facts(other_legs={1: [(start + timedelta(minutes=10), start + timedelta(minutes=40))]})
    assert rules.judge(TERMS, trip(start), known, NOW).code == rules.OVERLAP
    # A leg that ends as the other begins is another trip.
    assert rules.judge(TERMS, trip(start - timedelta(minutes=10), minutes=20), known, NOW).outcome == "accepted"


def test_duplicate_per_record_max_yearly_cap_device_and_filed_month() -> None:
    known = facts()
    assert rules.judge(TERMS, trip(NOW - timedelta(hours=3)), known, NOW).outcome == "accepted"
    assert rules.judge(TERMS, trip(NOW - timedelta(hours=3) + timedelta(seconds=59)), known, NOW).code == \
        rules.DUPLICATE
    big = rules.judge(TERMS, trip(NOW - timedelta(days=2), metres=20_000), facts(), NOW)
    assert (big.outcome, big.code, big.grams) == ("capped", rules.DAILY_CAP, 300)
    loose = replace(TERMS, daily_grams=10_000, yearly_points=7)
    capped = rules.judge(loose, trip(NOW - timedelta(days=2), metres=20_000), facts(), NOW)
    assert (capped.outcome, capped.code, capped.grams, capped.points) == ("capped", rules.YEARLY_CAP, 1000, 7)
    assert rules.judge(replace(TERMS, daily_grams=10_000), trip(NOW - timedelta(days=2), metres=20_000), facts(),
                       NOW).code == rules.RECORD_MAX
    shared = facts()
    assert rules.judge(TERMS, trip(NOW - timedelta(hours=4), account=1, device="d" * 16), shared, NOW).outcome == \
        "accepted"
    assert rules.judge(TERMS, trip(NOW - timedelta(hours=3), account=2, device="d" * 16), shared, NOW).outcome == \
        "accepted"
    held = rules.judge(TERMS, trip(NOW - timedelta(hours=2), account=3, device="d" * 16), shared, NOW)
    assert (held.outcome, held.code) == ("held", rules.DEVICE)
    assert rules.judge(TERMS, trip(NOW - timedelta(hours=1)), facts(filed_months={"2026-11"}), NOW).code == \
        rules.FILED
    no_distance = rules.Behaviour("r-x", 1, NOW - timedelta(hours=1), NOW, {"minutes": 20}, None)
    assert rules.judge(TERMS, no_distance, facts(), NOW).code == rules.ACTIVITY
    backwards = rules.Behaviour("r-y", 1, NOW - timedelta(hours=1), NOW - timedelta(hours=2), {"distance_m": 9}, None)
    assert rules.judge(TERMS, backwards, facts(), NOW).code == rules.PERIOD


def test_points_expire_after_the_end_of_the_following_year() -> None:
    assert rules.expired_years(date(2027, 12, 31), [2026]) == []
    assert rules.expired_years(date(2028, 1, 1), [2026, 2027]) == [2026]
    assert all(code in rules.MESSAGES for code in (rules.CONSENT, rules.OVERLAP, rules.NO_TRANSFER))

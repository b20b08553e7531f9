"""The audit chain's hashing and verification, without a database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from registry.audit import GENESIS_HASH, ChainLink, entry_hash, verify_chain

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build(payloads: list[dict[str, int]]) -> list[ChainLink]:
    links, prev = [], GENESIS_HASH
    for seq, payload in enumerate(payloads, start=1):
        at = T0 + timedelta(seconds=seq)
        digest = entry_hash(seq=seq, occurred_at=at, actor_user_id=1, action="a", subject_type="s",
                            subject_id=str(seq), payload=payload, prev_hash=prev)
        links.append(ChainLink(seq, at, 1, "a", "s", str(seq), payload, prev, digest))
        prev = digest
    return links


def test_an_intact_chain_verifies() -> None:
    report = verify_chain(build([{"x": i} for i in range(5)]))
    assert report.ok and report.entries_checked == 5 and report.first_broken_seq is None


def test_an_empty_chain_verifies() -> None:
    assert verify_chain([]).ok


@given(st.lists(st.integers(), min_size=1, max_size=20), st.data())
def test_any_edit_names_the_edited_entry(values: list[int], data: st.DataObject) -> None:
    links = build([{"x": v} for v in values])
    index = data.draw(st.integers(0, len(links) - 1))
    links[index] = replace(links[index], payload={"x": values[index] + 1})
    report = verify_chain(links)
    assert not report.ok and report.first_broken_seq == index + 1


def test_a_deleted_entry_is_found() -> None:
    links = build([{"x": i} for i in range(4)])
    del links[1]
    report = verify_chain(links)
    assert not report.ok and report.first_broken_seq == 3


def test_a_rehashed_edit_still_breaks_the_next_link() -> None:
    links = build([{"x": i} for i in range(3)])
    first = links[0]
    forged_hash = entry_hash(seq=1, occurred_at=first.occurred_at, actor_user_id=1, action="a",
                             subject_type="s", subject_id="1", payload={"x": 99}, prev_hash=GENESIS_HASH)
    links[0] = replace(first, payload={"x": 99}, entry_hash=forged_hash)
    report = verify_chain(links)
    assert report.first_broken_seq == 2

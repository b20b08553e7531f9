"""Serial numbers and serial blocks, as pure functions. Every issued tonne has one registry-wide serial
number; a block is a contiguous inclusive range of them within one batch."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

REGISTRY_PREFIX = "JXCI"  # Jiaxing carbon-inclusive
_SERIAL_LABEL = re.compile(r"^JXCI-([0-9]{4})-B([0-9]{6,})-([0-9]{10,15})$")
_BARE_SERIAL = re.compile(r"^[0-9]{1,15}$")


@dataclass(frozen=True, slots=True, order=True)
class Block:
    start: int
    end: int
    batch_id: int

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a block ends before it starts")

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1


def batch_code(vintage: int, batch_id: int) -> str:
    """`JXCI-2025-B000012`: the registry, the vintage (year the reductions were made) and the batch."""
    return f"{REGISTRY_PREFIX}-{vintage:04d}-B{batch_id:06d}"


def serial_label(vintage: int, batch_id: int, serial: int) -> str:
    return f"{batch_code(vintage, batch_id)}-{serial:010d}"


def block_label(vintage: int, batch_id: int, start: int, end: int) -> str:
    """A stable, human-readable name for a serial range: batch code, first and last serial."""
    return f"{batch_code(vintage, batch_id)}-{start:010d}-{end:010d}"


@dataclass(frozen=True, slots=True)
class SerialQuery:
    """A serial number asked for, with the vintage and batch its label claims (None for a bare number)."""

    serial: int
    vintage: int | None = None
    batch_id: int | None = None


def parse_serial(text: str) -> SerialQuery | None:
    """A serial number from its label or as a bare (ASCII) number; None when it is neither."""
    text = text.strip().upper()
    if _BARE_SERIAL.match(text):
        return SerialQuery(int(text))
    match = _SERIAL_LABEL.match(text)
    if not match:
        return None
    return SerialQuery(int(match.group(3)), int(match.group(1)), int(match.group(2)))


def total(blocks: Iterable[Block]) -> int:
    return sum(b.quantity for b in blocks)


def take_lowest(blocks: Sequence[Block], quantity: int) -> tuple[list[Block], list[Block]]:
    """Split `quantity` tonnes off the lowest serials: (taken, remainders of split blocks).
    Blocks not touched appear in neither list. Raises ValueError when there is not enough."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    taken: list[Block] = []
    rest: list[Block] = []
    need = quantity
    for block in sorted(blocks):
        if need == 0:
            break
        if block.quantity <= need:
            taken.append(block)
            need -= block.quantity
        else:
            taken.append(Block(block.start, block.start + need - 1, block.batch_id))
            rest.append(Block(block.start + need, block.end, block.batch_id))
            need = 0
    if need:
        raise ValueError(f"only {quantity - need} of {quantity} available")
    return taken, rest


def take_ranges(blocks: Sequence[Block], wanted: Sequence[Block]) -> tuple[list[Block], list[Block]]:
    """Take exactly the `wanted` ranges out of `blocks`: (the blocks touched, the pieces left over).
    Raises ValueError when a wanted range is not fully inside one of the blocks."""
    touched: list[Block] = []
    leftovers: list[Block] = []
    remaining = sorted(wanted)
    for block in sorted(blocks):
        inside = [w for w in remaining if w.batch_id == block.batch_id and block.start <= w.start
                  and w.end <= block.end]
        if not inside:
            continue
        touched.append(block)
        cursor = block.start
        for w in inside:
            if w.start > cursor:
                leftovers.append(Block(cursor, w.start - 1, block.batch_id))
            cursor = w.end + 1
        if cursor <= block.end:
            leftovers.append(Block(cursor, block.end, block.batch_id))
        remaining = [w for w in remaining if w not in inside]
    if remaining:
        raise ValueError(f"ranges not held: {remaining}")
    return touched, leftovers


def overlaps(blocks: Iterable[Block]) -> list[tuple[Block, Block]]:
    """Pairs of blocks sharing a serial (there must be none among live blocks)."""
    ordered = sorted(blocks)
    return [(a, b) for a, b in itertools.pairwise(ordered) if b.start <= a.end]


def contiguous_runs(blocks: Iterable[Block]) -> list[list[Block]]:
    """The blocks in maximal runs whose serials follow on without a gap within one batch, each in serial
    order (a block alone is a run of one). Raises ValueError when two of them share a serial."""
    runs: list[list[Block]] = []
    for block in sorted(blocks):
        last = runs[-1][-1] if runs else None
        if last is not None and block.start <= last.end:
            raise ValueError(f"blocks overlap: {last} and {block}")
        if last is not None and last.batch_id == block.batch_id and block.start == last.end + 1:
            runs[-1].append(block)
        else:
            runs.append([block])
    return runs


def merge_into(held: Iterable[Block], arriving: Iterable[Block]) -> tuple[list[Block], list[Block]]:
    """Blocks arriving in a holding among the blocks it holds (all of one account, bucket and resale date):
    (the held blocks to end, the blocks to make) so that its blocks are then exactly its maximal runs. An
    arriving block that follows on from none is made as it is; a held one that follows on from none stays;
    every run of more than one block becomes one block made anew (append-only: the pieces are ended)."""
    held = list(held)
    kept = set(held)
    ended: list[Block] = []
    made: list[Block] = []
    for run in contiguous_runs([*held, *arriving]):
        if len(run) == 1:
            if run[0] not in kept:
                made.append(run[0])
            continue
        ended.extend(b for b in run if b in kept)
        made.append(Block(run[0].start, run[-1].end, run[0].batch_id))
    return ended, made

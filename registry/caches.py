"""What a transaction knows without asking the database again, and what an instrument's writer keeps from one
of its transactions to the next.

Every unit of work has a `TransactionCache` (an empty one unless its caller gives one): the balance rows it
holds locked, the live serial blocks it has read or made, the balance changes and blocks waiting to be written
(registry.services.balances, registry.services.serial_blocks), and answers that cannot change during it (an
instrument's batches, orders by key, idempotency records: registry.services.trading,
registry.services.idempotency). A batch of movements then reads each row once and never needs a flush to see
its own changes.

An instrument's writer owns a `WriterCache` for as long as it serves its book and makes each transaction's
cache from it (`WriterCache.for_transaction`): it lends the transaction what outlives it (account ids by code,
its book's open orders and the blocks they hold, keys taken from the sequences) and sets the writer's way of
writing balances (`TransactionCache.defer_balances`). After a failed transaction the writer forgets what it
kept (`WriterCache.forget`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from registry.statements import Keys

if TYPE_CHECKING:
    from registry.services.balances import LockedBalance
    from registry.services.serial_blocks import LiveBlock

WRITER_ID_BLOCK = 512  # keys a writer takes from a sequence at a time: a batch writes a hundred postings or more


@dataclass(slots=True, eq=False)
class TransactionCache:
    """One transaction's rows and answers kept outside the ORM (see the module's docstring)."""

    # Answers that cannot change during this transaction (an instrument's batches, an order by its client
    # id, the orders it wrote or read by id), so that a batch of commands reads each of them once.
    memo: dict[Any, Any] = field(default_factory=dict)
    # Balance rows this transaction holds locked (SELECT … FOR UPDATE): locked once, they stay current.
    locked: dict[tuple[int, str, str], LockedBalance] = field(default_factory=dict)
    # Balance rows known not to exist unless they are in `locked` (see balances.lock_accounts).
    balances_known: set[tuple[int, str, str]] = field(default_factory=set)
    # The live serial blocks per (account, bucket, batch) this transaction has locked and read, kept current
    # by every movement it makes, so a batch of movements reads each holding once.
    live_blocks: dict[tuple[int, str, int], list[LiveBlock]] = field(default_factory=dict)
    # Which of them it has read: all (None), or those free of the resale lock on the date given.
    blocks_loaded: dict[tuple[int, str, int], date | None] = field(default_factory=dict)
    # With `defer_balances` (an instrument's writer), a posting reads and locks only the balances it takes
    # from freely (available, say); credits, and spending of what a hold set aside, go to `unread_changes`
    # per (account, asset, bucket) as (amount, may_go_negative) and are added to their rows with the locked
    # rows' changes (balances._write_balances), without reading them: none of them can take a balance below
    # zero (a hold is spent only as far as the order that made it holds), and the rows' check constraint
    # still refuses one that would. A row read later in the transaction takes its pending change with it.
    defer_balances: bool = False
    unread_changes: dict[tuple[int, str, str], tuple[int, bool]] = field(default_factory=dict)
    # Serial blocks made or ended since they were last written, and the keys of all it ended.
    blocks_to_write: list[LiveBlock] = field(default_factory=list)
    blocks_ended: set[int] = field(default_factory=set)
    # Lent by a long-lived caller (see WriterCache), else this transaction's own:
    # ids that never change once committed (an account's id by its code);
    known_ids: dict[Any, int] = field(default_factory=dict)
    # rows no one else changes, kept from the caller's earlier transactions (an instrument's writer: its open
    # orders and the blocks an open sell holds), taken back into the session instead of read again;
    kept: dict[Any, Any] = field(default_factory=dict)
    # keys taken from the sequences and not used yet.
    keys: Keys = field(default_factory=Keys)


class WriterCache:
    """What an instrument's writer keeps from one transaction to the next (see the module's docstring)."""

    def __init__(self, id_block: int = WRITER_ID_BLOCK) -> None:
        self.known_ids: dict[Any, int] = {}  # account ids by code
        self.kept: dict[Any, Any] = {}  # the book's open orders (trading.keep_open_orders)
        # A key the sequence handed out stays unused for good even if a transaction rolls back: never forgotten.
        self.keys = Keys(id_block)

    def for_transaction(self) -> TransactionCache:
        """The cache of one of the writer's transactions: it reads only the balances it takes from freely."""
        return TransactionCache(defer_balances=True, known_ids=self.known_ids, kept=self.kept, keys=self.keys)

    def forget(self) -> None:
        """After a failed transaction: an id learnt there may belong to a row that was rolled back, and a kept
        order may no longer be what the database holds."""
        self.known_ids.clear()
        self.kept.clear()

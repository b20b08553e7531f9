"""CSV exports: every public list, and a participant's own holdings, orders and fills, as one CSV each.

One writer for all of them: UTF-8 with a byte order mark (so Excel opens Chinese text correctly), a header row,
instants as ISO 8601 in Asia/Shanghai, fen and tonnes as integers in columns named for their unit (`price_fen`,
`quantity_t`), and every text cell that a spreadsheet would run as a formula (= + - @, tab, carriage return)
prefixed with a quote. Rows come from the same service calls and the same shapes as the JSON lists, with the
same viewer, page after page in short transactions, so a long export holds no transaction open while it
streams. A row inserted while an export runs may shift offset pages by one row (the lists are newest first);
orders, fills and trades page by id and cannot.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.answers.filings import filing_out
from api.answers.methodologies import version_out as methodology_version_out
from api.answers.orders import order_view
from api.answers.parameters import version_out as parameter_version_out
from api.answers.projects import project_out
from api.answers.retirements import retirement_out
from registry import serials
from registry.clock import SHANGHAI
from registry.context import Registry
from registry.orm import Batch
from registry.pagination import MAX_PAGE_SIZE, Page
from registry.principals import Principal
from registry.services import disclosure, holdings, instruments, ledger_accounts, trade_records
from registry.services import filings as filing_service
from registry.services import methodologies as methodology_service
from registry.services import parameters as parameter_service
from registry.services import projects as project_service
from registry.services import retirements as retirement_service

Row = dict[str, Any]
Pages = Iterator[list[Row]]
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
INSTANT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T")


@dataclass(frozen=True)
class Viewer:
    """Who exports, against which registry: the same viewer the JSON list would see."""

    registry: Registry
    base_url: str
    principal: Principal | None = None

    def me(self) -> Principal:
        assert self.principal is not None, "own exports are routed only to logged-in callers"
        return self.principal


def cell(value: Any) -> str:
    """One value as a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(SHANGHAI).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(cell(item) for item in value)
    if isinstance(value, dict):
        return _guard(json.dumps(value, ensure_ascii=False, sort_keys=True))
    text = str(value)
    if INSTANT.match(text):
        try:
            return cell(datetime.fromisoformat(text))
        except ValueError:
            pass
    return _guard(text)


def _guard(text: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula (CSV injection); a number is no formula.
    if text.startswith(FORMULA_START) and not NUMBER.match(text):
        return "'" + text
    return text


def csv_chunks(columns: tuple[str, ...], pages: Iterable[list[Row]]) -> Iterator[bytes]:
    """The CSV text, BOM and header first, one chunk per page."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(columns)
    for page in pages:
        writer.writerows([cell(row.get(column)) for column in columns] for row in page)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


def _offset_pages(viewer: Viewer, fetch: Callable[[Any, int, int], tuple[Page[Any], Callable[[Any], Row]]]) -> Pages:
    """Every page of an offset-paginated list, each read in its own unit of work."""
    offset = 0
    while True:
        with viewer.registry.uow(viewer.principal) as uow:
            page, shape = fetch(uow, offset, MAX_PAGE_SIZE)
            rows = [shape(item) for item in page.items]
        yield rows  # outside the unit of work: no transaction waits on a slow download
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def _dump(model: BaseModel) -> Row:
    return model.model_dump()


def methodologies(viewer: Viewer, *, status: str | None = None, field: str | None = None) -> Pages:
    return _offset_pages(viewer, lambda uow, offset, limit: (
        methodology_service.list_versions(uow, viewer.principal, status=status, field=field, offset=offset,
                                          limit=limit),
        lambda pair: _dump(methodology_version_out(pair[1], pair[0]))))


def parameters(viewer: Viewer) -> Pages:
    """One row per published or noticed version of every parameter (their history, as GET /parameters)."""
    with viewer.registry.uow(viewer.principal) as uow:
        rows = [{"name_zh": p.name_zh, "name_en": p.name_en, "unit": p.unit} | _dump(parameter_version_out(v))
                for p in parameter_service.list_parameters(uow)
                for v in parameter_service.history(uow, p.code, include_unpublished=False)]
    yield rows


def projects(viewer: Viewer, *, county_code: str | None = None, status: str | None = None) -> Pages:
    return _offset_pages(viewer, lambda uow, offset, limit: (
        project_service.list_projects(uow, viewer.principal, mine=False, county_code=county_code, status=status,
                                      offset=offset, limit=limit),
        lambda project: _dump(project_out(uow, project, viewer.principal))))


def filings(viewer: Viewer, *, status: str | None = None, project_id: int | None = None) -> Pages:
    return _offset_pages(viewer, lambda uow, offset, limit: (
        filing_service.list_filings(uow, viewer.principal, mine=False, status=status, project_id=project_id,
                                    offset=offset, limit=limit),
        lambda filing: _dump(filing_out(uow, filing, viewer.principal))))


def _batch_row(uow: Any, batch: Batch) -> Row:
    context = disclosure.batch_context(uow, batch)
    start, end = context.pop("monitoring_period")
    return context | {"monitoring_start": start, "monitoring_end": end}


def issuances(viewer: Viewer, *, project_id: int | None = None) -> Pages:
    return _offset_pages(viewer, lambda uow, offset, limit: (
        disclosure.issuances(uow, offset, limit, project_id), lambda batch: _batch_row(uow, batch)))


def retirements(viewer: Viewer, *, purpose: str | None = None) -> Pages:
    return _offset_pages(viewer, lambda uow, offset, limit: (
        retirement_service.list_retirements(uow, viewer.principal, status=None, mine=False, purpose=purpose,
                                            offset=offset, limit=limit),
        lambda r: retirement_out(uow, r, viewer.base_url)))


def revocations(viewer: Viewer) -> Pages:
    def row(uow: Any, revocation: Any) -> Row:
        batch = disclosure.batch_of(uow, revocation.batch_id)
        return _batch_row(uow, batch) | {"revocation_id": revocation.id, "revoked_quantity_t": revocation.quantity_t,
                                         "reason": revocation.reason, "notice": revocation.notice,
                                         "revoked_at": revocation.created_at}
    return _offset_pages(viewer, lambda uow, offset, limit: (
        disclosure.revocations(uow, offset, limit), lambda r: row(uow, r)))


def _id_pages(viewer: Viewer, fetch: Callable[[Any, int | None], list[Row]]) -> Pages:
    """Every page of a newest-first list paged by id (`fetch(uow, before_id)`)."""
    before: int | None = None
    while True:
        with viewer.registry.uow(viewer.principal) as uow:
            rows = fetch(uow, before)
        if rows:
            yield rows
        if len(rows) < MAX_PAGE_SIZE:
            return
        before = int(rows[-1]["id"])


def trades(viewer: Viewer, *, instrument: str) -> Pages:
    """An instrument's trades, without counterparties (as GET /market/{code}/trades)."""
    with viewer.registry.uow() as uow:
        instrument_id = instruments.get(uow, instrument).id  # an unknown code is a 404 before anything streams
    return _id_pages(viewer, lambda uow, before: [
        {"id": t.id, "instrument": instrument, "trading_day": t.trading_day, "price_fen": t.price_fen,
         "quantity_t": t.quantity_t, "aggressor": t.aggressor, "mode": t.mode, "at": t.created_at}
        for t in trade_records.recent_trades(uow, instrument_id, MAX_PAGE_SIZE, before)])


def market_summary(viewer: Viewer, *, day: date | None = None) -> Pages:
    """The day's summary (Art. 24), one row per instrument."""
    with viewer.registry.uow() as uow:
        summary = trade_records.daily_summary(uow, (day or uow.today()).isoformat())
    yield [{"trading_day": summary["trading_day"], "instrument": row["instrument"], "name_zh": row["name_zh"],
            "name_en": row["name_en"]} | (row["bar"] or {"volume_t": 0, "turnover_fen": 0, "trades": 0})
           for row in summary["instruments"]]


def my_holdings(viewer: Viewer) -> Pages:
    """The live serial blocks in all of the caller's accounts."""
    with viewer.registry.uow(viewer.principal) as uow:
        accounts = {a.id: a.code for a in ledger_accounts.accounts_of(uow, viewer.me().participant_id)}
        blocks = holdings.holdings(uow, list(accounts))
        vintages = disclosure.vintages_of(uow, {b.batch_id for b in blocks})
        rows = [{"account_code": accounts[b.account_id],
                 "block": serials.block_label(vintages[b.batch_id], b.batch_id, b.serial_start, b.serial_end),
                 "batch_id": b.batch_id, "vintage": vintages[b.batch_id], "serial_start": b.serial_start,
                 "serial_end": b.serial_end, "quantity_t": b.serial_end - b.serial_start + 1, "bucket": b.bucket}
                for b in blocks]
    yield rows


def my_orders(viewer: Viewer, *, status: str | None = None) -> Pages:
    return _id_pages(viewer, lambda uow, before: [
        order_view(o) for o in trade_records.orders_of(uow, viewer.me().participant_id, status, MAX_PAGE_SIZE, before)])


def my_fills(viewer: Viewer) -> Pages:
    return _id_pages(viewer, lambda uow, before: [
        {"id": t.id, "order_id": t.buy_order_id if side == "buy" else t.sell_order_id, "side": side,
         "price_fen": t.price_fen, "quantity_t": t.quantity_t, "fee_fen": t.fee_fen if side == "buy" else 0,
         "trading_day": t.trading_day, "at": t.created_at}
        for t, side in trade_records.fills_of(uow, viewer.me().participant_id, MAX_PAGE_SIZE, before)])


@dataclass(frozen=True)
class Export:
    columns: tuple[str, ...]
    pages: Callable[..., Pages]


EXPORTS: dict[str, Export] = {
    "methodologies": Export(("code", "title_zh", "title_en", "field", "version", "status", "submitted_at",
                             "notice_start", "notice_end", "registered_at", "rejection_reason"), methodologies),
    "parameters": Export(("parameter_code", "name_zh", "name_en", "unit", "version", "value", "source",
                          "effective_from", "effective_to", "status", "notice_end"), parameters),
    "projects": Export(("code", "title", "status", "owner_name", "owner_kind", "county_code", "address",
                        "industry_code", "crediting_start", "crediting_end", "declared_other_mechanisms",
                        "rule_set_code", "registered_at"), projects),
    "filings": Export(("code", "project_id", "status", "monitoring_start", "monitoring_end", "calculated_tco2e",
                       "verified_tco2e", "application_date", "notice_end"), filings),
    "issuances": Export(("batch_code", "vintage", "quantity_t", "revoked_t", "serial_block", "issued_at",
                         "project_code", "project_title", "county_code", "filing_code", "monitoring_start",
                         "monitoring_end", "methodology_code", "methodology_version", "methodology_title_zh"),
                        issuances),
    "retirements": Export(("code", "status", "quantity_t", "beneficiary", "purpose", "details", "requested_at",
                           "executed_at", "serial_blocks", "revoked_batches", "verification_url"), retirements),
    "revocations": Export(("revocation_id", "revoked_quantity_t", "reason", "notice", "revoked_at", "batch_code",
                           "serial_block", "project_code", "project_title", "methodology_code"), revocations),
    "trades": Export(("id", "instrument", "trading_day", "at", "price_fen", "quantity_t", "aggressor", "mode"),
                     trades),
    "market-summary": Export(("trading_day", "instrument", "name_zh", "name_en", "open_fen", "high_fen",
                              "low_fen", "close_fen", "volume_t", "turnover_fen", "trades"), market_summary),
    "holdings": Export(("account_code", "block", "batch_id", "vintage", "serial_start", "serial_end", "quantity_t",
                        "bucket"), my_holdings),
    "orders": Export(("id", "client_order_id", "side", "order_type", "tif", "price_fen", "quantity_t", "filled_t",
                      "remaining_t", "status", "reason", "cash_held_fen", "created_at", "updated_at"), my_orders),
    "fills": Export(("id", "order_id", "side", "trading_day", "at", "price_fen", "quantity_t", "fee_fen"),
                    my_fills),
}
# What anyone may export, so also the CLI (`python -m api export NAME`).
PUBLIC_EXPORTS = ("methodologies", "parameters", "projects", "filings", "issuances", "retirements", "revocations",
                  "trades", "market-summary")


def csv_response(name: str, viewer: Viewer, **filters: Any) -> StreamingResponse:
    """The export as a streamed download. Its first page is read before the answer starts, so a bad filter
    (an unknown instrument) is still a problem document rather than a broken download."""
    export = EXPORTS[name]
    pages = export.pages(viewer, **filters)
    first = next(pages, [])
    return StreamingResponse(csv_chunks(export.columns, _prepend(first, pages)), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f"attachment; filename={name}.csv"})


def _prepend(first: list[Row], rest: Pages) -> Pages:
    yield first
    yield from rest

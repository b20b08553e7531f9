"""CSV downloads (see api.exports): each public list, and your own holdings, orders and fills. Each route has
the access rule and the filters of the JSON list it exports, and streams all of its pages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

# The module, not its names: api.exports imports the routers whose shapes it reuses.
from api import exports
from api.deps import PUBLIC, Services, allow, get_services
from api.routers.market import InstrumentCode
from api.schemas import BoundedDate, CountyCode, MethodologyField, OneLine, QueryId
from registry.principals import Principal

router = APIRouter(prefix="/exports", tags=["exports (CSV)"])

CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "UTF-8 CSV with a byte order mark and a header row."}}
Status = Annotated[str | None, Query(max_length=20), OneLine]


def _viewer(services: Services, principal: Principal | None) -> exports.Viewer:
    return exports.Viewer(services.registry, services.settings.public_base_url, principal)


@router.get("/methodologies.csv", response_class=StreamingResponse, responses=CSV)
def export_methodologies(status: Status = None, field: MethodologyField | None = None,
                         viewer: Principal | None = Depends(PUBLIC),
                         services: Services = Depends(get_services)) -> StreamingResponse:
    """The methodology versions GET /methodologies lists."""
    return exports.csv_response("methodologies", _viewer(services, viewer), status=status, field=field)


@router.get("/parameters.csv", response_class=StreamingResponse, responses=CSV)
def export_parameters(viewer: Principal | None = Depends(PUBLIC),
                      services: Services = Depends(get_services)) -> StreamingResponse:
    """Every parameter version in notice or published: the history GET /parameters shows."""
    return exports.csv_response("parameters", _viewer(services, viewer))


@router.get("/projects.csv", response_class=StreamingResponse, responses=CSV)
def export_projects(county_code: CountyCode | None = None, status: Status = None,
                    viewer: Principal | None = Depends(PUBLIC),
                    services: Services = Depends(get_services)) -> StreamingResponse:
    """The projects GET /projects lists."""
    return exports.csv_response("projects", _viewer(services, viewer), county_code=county_code, status=status)


@router.get("/filings.csv", response_class=StreamingResponse, responses=CSV)
def export_filings(status: Status = None, project_id: QueryId = None, viewer: Principal | None = Depends(PUBLIC),
                   services: Services = Depends(get_services)) -> StreamingResponse:
    """The filings GET /filings lists (status=public_notice: those in public notice)."""
    return exports.csv_response("filings", _viewer(services, viewer), status=status, project_id=project_id)


@router.get("/issuances.csv", response_class=StreamingResponse, responses=CSV)
def export_issuances(project_id: QueryId = None, viewer: Principal | None = Depends(PUBLIC),
                     services: Services = Depends(get_services)) -> StreamingResponse:
    """Every issuance with its serial block, project and methodology (Art. 24)."""
    return exports.csv_response("issuances", _viewer(services, viewer), project_id=project_id)


@router.get("/retirements.csv", response_class=StreamingResponse, responses=CSV)
def export_retirements(purpose: Literal["event_neutrality", "pilot_unit", "ecological_restoration", "voluntary"]
                       | None = None, viewer: Principal | None = Depends(PUBLIC),
                       services: Services = Depends(get_services)) -> StreamingResponse:
    """The retirements GET /retirements lists (the public: executed ones)."""
    return exports.csv_response("retirements", _viewer(services, viewer), purpose=purpose)


@router.get("/revocations.csv", response_class=StreamingResponse, responses=CSV)
def export_revocations(viewer: Principal | None = Depends(PUBLIC),
                       services: Services = Depends(get_services)) -> StreamingResponse:
    """Revocations with their public notices (Art. 26)."""
    return exports.csv_response("revocations", _viewer(services, viewer))


@router.get("/trades.csv", response_class=StreamingResponse, responses=CSV)
def export_trades(instrument: InstrumentCode, viewer: Principal | None = Depends(PUBLIC),
                  services: Services = Depends(get_services)) -> StreamingResponse:
    """Every trade of an instrument, without counterparties."""
    return exports.csv_response("trades", _viewer(services, viewer), instrument=instrument)


@router.get("/market-summary.csv", response_class=StreamingResponse, responses=CSV)
def export_market_summary(day: BoundedDate | None = None, viewer: Principal | None = Depends(PUBLIC),
                          services: Services = Depends(get_services)) -> StreamingResponse:
    """The day's trading summary (Art. 24), one row per instrument; today without `day`."""
    return exports.csv_response("market-summary", _viewer(services, viewer), day=day)


@router.get("/holdings.csv", response_class=StreamingResponse, responses=CSV)
def export_holdings(principal: Principal = Depends(allow("owner", "trader")),
                    services: Services = Depends(get_services)) -> StreamingResponse:
    """Your live serial blocks in all your accounts."""
    return exports.csv_response("holdings", _viewer(services, principal))


@router.get("/orders.csv", response_class=StreamingResponse, responses=CSV)
def export_orders(status: Literal["open", "filled", "cancelled", "expired", "rejected"] | None = None,
                  principal: Principal = Depends(allow("trader")),
                  services: Services = Depends(get_services)) -> StreamingResponse:
    """All your orders, newest first."""
    return exports.csv_response("orders", _viewer(services, principal), status=status)


@router.get("/fills.csv", response_class=StreamingResponse, responses=CSV)
def export_fills(principal: Principal = Depends(allow("trader")),
                 services: Services = Depends(get_services)) -> StreamingResponse:
    """All your trades with your side and fee, newest first."""
    return exports.csv_response("fills", _viewer(services, principal))

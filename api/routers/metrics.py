"""GET /metrics: the Prometheus metrics of this process (api.metrics), for the operations staff and the scraper."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from api.deps import Access, bearer, services_of
from registry.principals import Principal

router = APIRouter(tags=["operations"])


class MetricsAccess(Access):
    """An admin's or operator's login, or the static scrape token CARBONX_METRICS_TOKEN (Prometheus sends a
    fixed bearer token; logins expire within the hour). Never anonymous: the figures show trading activity."""

    async def __call__(self, request: Request,
                       credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal | None:
        token = services_of(request).settings.metrics_token
        if token is not None and credentials is not None and hmac.compare_digest(
                credentials.credentials.encode(), token.get_secret_value().encode()):
            return None
        return await super().__call__(request, credentials)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}})
def metrics(_: Principal | None = Depends(MetricsAccess("admin", "operator"))) -> Response:
    """HTTP requests and latency by route, exchange commands, trades, settlement and commit times, writer batch
    sizes, and the process's own figures. Also with `Authorization: Bearer <CARBONX_METRICS_TOKEN>`."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

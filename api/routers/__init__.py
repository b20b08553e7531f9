"""HTTP routers, one module per area."""

from api.routers import (
    admin,
    auth,
    documents,
    exports,
    filings,
    ledger,
    listings,
    market,
    methodologies,
    objections,
    orders,
    parameters,
    projects,
    reference,
    reports,
    retirements,
)

ROUTERS = [
    auth.router,
    methodologies.router,
    parameters.router,
    objections.router,
    projects.router,
    filings.router,
    ledger.router,
    retirements.router,
    reports.router,
    market.router,
    orders.router,
    listings.router,
    documents.router,
    reference.router,
    admin.router,
    exports.router,
]

"""HTTP routers, one module per area."""

from api.routers import admin, auth, documents, methodologies, objections, parameters, projects, reference

ROUTERS = [
    auth.router,
    methodologies.router,
    parameters.router,
    objections.router,
    projects.router,
    documents.router,
    reference.router,
    admin.router,
]

"""The API's documentation page, /docs: Swagger UI served by the API itself.

FastAPI's own page loads Swagger UI from a CDN: it fails on a machine without internet and runs a floating
version, without integrity, on the API's origin (where a bearer token is typed in). Here the files come from
an installed package (fastapi-offline ships Swagger UI's dist files), the page's own start-up script is a file
too, and the page is served under a Content-Security-Policy that allows only this origin's scripts and styles.
ReDoc stays off: it needs inline styles and blob: workers.
"""

from __future__ import annotations

import hashlib
import html
import json
from functools import lru_cache
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import Response

from api import problems

DOCS_URL = "/docs"
ASSETS_URL = "/docs/assets"
# The files of the package that the page uses, with their content types; nothing else is served.
ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=len(ASSET_TYPES))
def asset(name: str) -> bytes:
    """One of Swagger UI's files from the installed package (read once: it does not change while we run)."""
    return (files("fastapi_offline") / "static" / name).read_bytes()


def page(title: str) -> str:
    """The HTML of the page: no inline script or style, every file from this origin."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · API</title>
<link rel="icon" type="image/png" href="{ASSETS_URL}/favicon.png">
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="{DOCS_URL}/start.js"></script>
</body>
</html>
"""


def start_script(openapi_url: str) -> str:
    """Starts Swagger UI on the app's OpenAPI document; no validator badge (it would call an outside host)."""
    options = {"url": openapi_url, "dom_id": "#swagger-ui", "layout": "BaseLayout", "deepLinking": True,
               "showExtensions": True, "validatorUrl": None}
    return (f"window.ui = SwaggerUIBundle(Object.assign({json.dumps(options)}, {{presets: "
            "[SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]}));\n")


def _answer(request: Request, data: bytes, media_type: str) -> Response:
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


def install(app: FastAPI) -> None:
    """Serve /docs and its files. Create the app with docs_url=None and redoc_url=None so that FastAPI's own
    CDN pages are not there. Like the portal, these routes read nothing from the registry and are left out of
    the OpenAPI document."""
    openapi_url = app.openapi_url or "/openapi.json"
    html_page = page(app.title).encode()
    script = start_script(openapi_url).encode()
    for name in ASSET_TYPES:
        asset(name)  # a missing package fails at start, not on the first visit

    @app.get(DOCS_URL, include_in_schema=False)
    def docs(request: Request) -> Response:
        return _answer(request, html_page, "text/html; charset=utf-8")

    @app.get(f"{DOCS_URL}/start.js", include_in_schema=False)
    def docs_start(request: Request) -> Response:
        return _answer(request, script, "text/javascript; charset=utf-8")

    @app.get(ASSETS_URL + "/{name}", include_in_schema=False)
    def docs_asset(name: str, request: Request) -> Response:
        if name not in ASSET_TYPES:
            return problems.problem(404, "not_found", "No such documentation file.", "没有此文档文件。",
                                    request=request, headers=SECURITY_HEADERS)
        return _answer(request, asset(name), ASSET_TYPES[name])

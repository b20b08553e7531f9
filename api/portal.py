"""The web portal: the single-page app in `api/web/`, served at /portal/ by the API itself.

The portal is plain ES modules with no build step and no asset from the internet; it talks only to the JSON
API, so every rule and access check stays in one place. Its answers carry a strict Content-Security-Policy
(no inline script or style, no plug-ins, no framing), explicit content types and revalidation by ETag.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from api import problems
from api.schemas import OneLine

WEB_ROOT = Path(__file__).parent / "web"
PREFIX = "/portal"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Only these kinds are served: anything else in the directory (an editor's backup file) stays private.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def resolve(relative: str, root: Path = WEB_ROOT) -> Path | None:
    """The file a portal path names, or None when it is outside the web root, hidden or of an unserved kind."""
    if not relative:
        relative = "index.html"
    parts = relative.split("/")
    # A control character (NUL above all, which the file system calls refuse with an exception) names no file.
    if not OneLine.allows(relative) or any(part in ("", ".", "..") or part.startswith(".") or "\\" in part
                                           for part in parts):
        return None
    try:
        path = (root / relative).resolve()
        if not path.is_relative_to(root.resolve()) or not path.is_file() or path.suffix not in CONTENT_TYPES:
            return None
    except OSError:  # a name too long for the file system, say: no such file either
        return None
    return path


def serve(request: Request, relative: str) -> Response:
    path = resolve(relative)
    if path is None:
        return problems.problem(404, "not_found", f"No portal file {relative!r}.", f"门户中没有文件 {relative!r}。",
                                request=request, headers=SECURITY_HEADERS)
    data = path.read_bytes()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    # no-cache means "revalidate every time": a deployment is seen at once, an unchanged file costs a 304.
    headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": "no-cache"}
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=CONTENT_TYPES[path.suffix], headers=headers)


def install(app: FastAPI) -> None:
    """Serve the portal at /portal/ and send visitors of / there. These routes are not API routes: they
    carry no Access rule, read nothing from the registry and are left out of the OpenAPI document."""

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    @app.get(PREFIX, include_in_schema=False)
    def portal_without_slash() -> RedirectResponse:
        # Relative module paths in index.html resolve against /portal/, not against /.
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    @app.get(PREFIX + "/{relative:path}", include_in_schema=False)
    def portal_file(relative: str, request: Request) -> Response:
        return serve(request, relative)

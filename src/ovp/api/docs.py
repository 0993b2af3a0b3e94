"""The API docs page: Swagger UI rendering ovp's own OpenAPI document, from files shipped in the package.

GET /docs is a small HTML page; its script and style sheets come from GET /docs/static/{name}, and it
reads the document from GET /v2/openapi.json, so the page works with no internet access. The files
that can be served are listed once, at import, from the static folder: a request names one of them or
gets a 404, and no part of its path ever reaches the file system.
"""

from __future__ import annotations

import hashlib
import html
from functools import cache
from pathlib import Path

from ovp.api.documents import openapi_document
from ovp.api.http import Request, Response
from ovp.api.routing import Route
from ovp.domain.errors import NotFound

STATIC_DIR = Path(__file__).with_name("static")
HTML = "text/html; charset=utf-8"
MEDIA_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}

# The page is fetched again on every visit (it is small, and names the assets' current versions);
# an asset's URL carries a digest of its content, so a browser may keep it for good.
PAGE_CACHE_CONTROL = "no-cache"
ASSET_CACHE_CONTROL = "public, max-age=31536000, immutable"

# Only this server, and data: URLs for Swagger UI's inline images and the empty favicon; Swagger UI
# sets style attributes, hence 'unsafe-inline' for styles (scripts get no such leave).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


def _listing(directory: Path) -> dict[str, Path]:
    """Every file of a served media type under `directory`, by its bare name (which must be unique)."""
    files: dict[str, Path] = {}
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.suffix not in MEDIA_TYPES:
            continue
        if path.name in files:
            raise RuntimeError(f"two static files are named {path.name}: {files[path.name]} and {path}")
        files[path.name] = path
    return files


STATIC_FILES: dict[str, Path] = _listing(STATIC_DIR)


@cache
def _content(name: str) -> bytes:
    return STATIC_FILES[name].read_bytes()


def _asset_url(name: str) -> str:
    """The asset's URL relative to /docs, with a digest of its content to tell its versions apart."""
    digest = hashlib.sha256(_content(name)).hexdigest()[:16]
    return html.escape(f"docs/static/{name}?v={digest}")


@cache
def _page() -> bytes:
    title = html.escape(f"{openapi_document()['info']['title']} — API docs")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{_asset_url("swagger-ui.css")}">
</head>
<body>
<div id="swagger-ui"></div>
<noscript>This page needs JavaScript; the OpenAPI document is <a href="v2/openapi.json">here</a>.</noscript>
<script src="{_asset_url("swagger-ui-bundle.js")}"></script>
<script src="{_asset_url("ovp-docs.js")}"></script>
</body>
</html>
""".encode()


async def page(_request: Request) -> Response:
    headers = {
        "cache-control": PAGE_CACHE_CONTROL,
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
    }
    return Response(200, _page(), headers, HTML)


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    path = STATIC_FILES.get(name)
    if path is None:
        raise NotFound()
    headers = {"cache-control": ASSET_CACHE_CONTROL, "x-content-type-options": "nosniff"}
    return Response(200, _content(name), headers, MEDIA_TYPES[path.suffix])


async def to_docs(_request: Request) -> Response:
    """/ and /docs/ lead to the docs page."""
    return Response(302, b"", {"location": "/docs", "cache-control": PAGE_CACHE_CONTROL}, HTML)


routes = [
    Route.at("/", {"GET": to_docs}, public=True, in_api=False),
    Route.at("/docs/", {"GET": to_docs}, public=True, in_api=False),
    Route.at("/docs", {"GET": page}, public=True, in_api=False),
    Route.at("/docs/static/{name}", {"GET": static}, public=True, in_api=False),
]

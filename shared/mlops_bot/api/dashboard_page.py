"""`GET /dashboard`: the live dashboard page, plain HTML/JS/CSS with no build step.

The page holds no data of its own: it asks for an API key (or access token), keeps it in the
tab's sessionStorage, reads `/api/v1/issues`, `/api/v1/repositories`, `/api/v1/analytics` and,
for operators, `/api/cluster/status` with it, and listens on the dashboard WebSocket. It is
public for that reason; a strict Content-Security-Policy (no inline script, no third party)
keeps whatever an incident's text contains from running as code, and the script only ever sets
`textContent`.
"""

from __future__ import annotations

import html
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from mlops_bot.dashboard.settings import DashboardSettings, get_dashboard_settings
from mlops_bot.errors import NotFound

router = APIRouter(tags=["dashboard"])
STATIC = Path(__file__).resolve().parent / "static"
ASSETS = {"dashboard.js": "text/javascript; charset=utf-8", "dashboard.css": "text/css; charset=utf-8"}
WEBSOCKET_PLACEHOLDER = "{{websocket_url}}"


@lru_cache(maxsize=8)
def _asset(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def _settings() -> DashboardSettings:
    return get_dashboard_settings()


def _security_headers(request: Request, websocket_url: str) -> dict[str, str]:
    host = request.headers.get("host") or request.url.netloc
    sockets = [f"ws://{host}", f"wss://{host}"]
    if websocket_url:
        parts = urlsplit(websocket_url)
        sockets.append(f"{parts.scheme}://{parts.netloc}")
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {' '.join(sockets)}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # an ?api_key= in the address must not leak onwards
        "Cache-Control": "no-store",
    }


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, settings: Annotated[DashboardSettings, Depends(_settings)]) -> HTMLResponse:
    websocket_url = settings.dashboard_websocket_url
    page = _asset("dashboard.html").replace(WEBSOCKET_PLACEHOLDER, html.escape(websocket_url, quote=True))
    return HTMLResponse(page, headers=_security_headers(request, websocket_url))


@router.get("/dashboard/{asset}", include_in_schema=False)
def dashboard_asset(asset: str) -> Response:
    if asset not in ASSETS:
        raise NotFound("Not found", f"No dashboard asset '{asset}'")
    return Response(
        _asset(asset),
        media_type=ASSETS[asset],
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )

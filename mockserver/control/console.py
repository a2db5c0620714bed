"""The console page at `/__mock/console`: a hand-written HTML/CSS/JS page (no build step,
no CDN) that shows the sandbox at work — requests, runs, webhook deliveries, the clock,
tenants and credits, client grades — using only the control API, so everything it shows is
scriptable too.

The page and its two assets are served without the control token (a browser cannot send a
header on navigation); the page asks for the token once when the API answers 401 and keeps
it in the tab's sessionStorage, sending it as `X-Mock-Control-Token`.
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .http import PAGE_HEADERS

CONSOLE_PATH = "/console"
ASSETS = {
    "console.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
HEADERS = PAGE_HEADERS


def _asset(name: str) -> Response:
    text = resources.files("mockserver").joinpath("static", name).read_bytes()
    return Response(text, media_type=ASSETS[name], headers=HEADERS)


def routes(prefix: str) -> list[Route]:
    """The page and its assets under ``prefix`` (the control API's), not token-guarded."""

    async def page(request: Request) -> Response:
        return _asset("console.html")

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in ASSETS or name == "console.html":
            return Response("not found", status_code=404, media_type="text/plain")
        return _asset(name)

    return [Route(prefix + CONSOLE_PATH, page, methods=["GET"]),
            Route(prefix + CONSOLE_PATH + "/{name}", asset, methods=["GET"])]

"""The bench's floor: a bare Starlette app that returns bytes captured from the mock.

`http_bench.py` fetches each benchmarked endpoint from the running mock once, writes the
status, headers and body to a JSON file, and starts this app on it. Every request then gets
exactly those bytes from a plain `Route` → `Response`, with no auth, no validation and no
state — what uvicorn + Starlette cost on their own. It runs under the same uvicorn
settings as `zenhire-mock serve` by default (auto loop/http = uvloop/httptools, log level
info, no access log).

Usage: python bench/bare_app.py --port 18081 --responses captured.json
"""

from __future__ import annotations

import argparse
import base64
import json
import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SKIPPED_HEADERS = {"content-length", "date", "server", "content-type"}


def captured_route(path: str, captured: dict) -> Route:
    """A GET route that answers with one captured response, byte for byte."""
    body = base64.b64decode(captured["body_b64"])
    status = captured["status"]
    media_type = captured["headers"].get("content-type")
    headers = {k: v for k, v in captured["headers"].items() if k.lower() not in SKIPPED_HEADERS}

    async def endpoint(request: Request) -> Response:
        return Response(body, status_code=status, headers=headers, media_type=media_type)

    return Route(path, endpoint, methods=["GET"])


def build_app(responses: dict[str, dict]) -> Starlette:
    return Starlette(routes=[captured_route(path, captured) for path, captured in responses.items()])


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--responses", required=True, help="JSON file written by http_bench.py")
    args = parser.parse_args(argv)
    with open(args.responses, encoding="utf-8") as fh:
        app = build_app(json.load(fh))
    # The same uvicorn call `zenhire-mock serve` makes with its default settings.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Control routes for client grading: `GET /__mock/grades?client=ID` (the grade report) and
`PUT /__mock/grades/probes` (switch receiver probes on or off for a client)."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .grading import UnknownClient, grade
from .grading.probes import set_probes
from .pipeline import dumps


def grade_routes(platform) -> list[Route]:
    """The routes (paths relative to /__mock); also hooks the receiver probes onto the engine."""

    def problem(message: str) -> Response:
        body = {"error": {"code": "INVALID_INPUT", "message": message, "timestamp": platform.clock.iso()}}
        return Response(dumps(body), status_code=400, media_type="application/json")

    async def grades(request: Request) -> Response:
        client = request.query_params.get("client")
        if not client:
            return problem("client is required: GET /__mock/grades?client=ID")
        try:
            report = grade(platform, client)
        except UnknownClient:
            return problem(f"no client {client!r}")
        return Response(dumps(report.to_dict()), media_type="application/json")

    async def probes(request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            return problem("the body must be a JSON object")
        client = body.get("client")
        if not isinstance(client, str) or client not in platform.registry.clients:
            return problem(f"no client {client!r}")
        if not isinstance(body.get("enabled"), bool):
            return problem("enabled must be true or false")
        set_probes(platform, client, body["enabled"])
        return Response(dumps({"client": client, "receiverProbes": body["enabled"]}), media_type="application/json")

    return [Route("/grades", grades, methods=["GET"]), Route("/grades/probes", probes, methods=["PUT"])]

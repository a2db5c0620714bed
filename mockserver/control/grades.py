"""Control routes for client grading: `GET /__mock/grades?client=ID` (the grade report) and
`PUT /__mock/grades/probes` (switch receiver probes on or off for a client)."""

from __future__ import annotations

from starlette.routing import Route

from ..grading import UnknownClient, grade
from ..grading.probes import set_probes
from .http import bad_input, guard, json_response, read_object


def routes(platform) -> list[Route]:
    """`/grades` and `/grades/probes` (paths relative to /__mock)."""

    async def grades(request):
        client = request.query_params.get("client")
        if not client:
            raise bad_input("client is required: GET /__mock/grades?client=ID")
        try:
            report = grade(platform, client)
        except UnknownClient:
            raise bad_input(f"no client {client!r}") from None
        return json_response(200, report.to_dict())

    async def probes(request):
        body = await read_object(request)
        client = body.get("client")
        if not isinstance(client, str) or client not in platform.registry.clients:
            raise bad_input(f"no client {client!r}")
        if not isinstance(body.get("enabled"), bool):
            raise bad_input("enabled must be true or false")
        set_probes(platform, client, body["enabled"])
        return json_response(200, {"client": client, "receiverProbes": body["enabled"]})

    wrap = guard(platform)
    return [Route("/grades", wrap(grades), methods=["GET"]), Route("/grades/probes", wrap(probes), methods=["PUT"])]

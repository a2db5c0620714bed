"""One webhook delivery through the control API: read it (`GET /__mock/webhooks/deliveries/{id}`)
and resend it (`POST /__mock/webhooks/deliveries/{id}/resend`).

A resend is one new attempt made now — the same bytes, signed anew with the client's
current secret and a fresh `t=` — recorded in the delivery's attempt list with
`resend: true` (the engine's `resend`). It leaves a pending retry schedule alone; a
successful resend marks the delivery delivered. The console's "Resend" button calls it.
"""

from __future__ import annotations

from starlette.routing import Route


def routes(platform) -> list[Route]:
    from .control import _error, _json

    def missing(delivery_id: str):
        return _error(platform, 404, "NOT_FOUND", f"no webhook delivery {delivery_id!r}")

    async def delivery(request):
        delivery_id = request.path_params["delivery_id"]
        record = platform.webhooks.delivery(delivery_id) if platform.webhooks is not None else None
        return missing(delivery_id) if record is None else _json(200, record)

    async def resend(request):
        delivery_id = request.path_params["delivery_id"]
        if platform.webhooks is None or platform.webhooks.delivery(delivery_id) is None:
            return missing(delivery_id)
        try:
            record = await platform.webhooks.resend(delivery_id)
        except RuntimeError as exc:
            return _error(platform, 409, "CONFLICT", str(exc))
        return _json(200, record)

    return [Route("/webhooks/deliveries/{delivery_id}", delivery, methods=["GET"]),
            Route("/webhooks/deliveries/{delivery_id}/resend", resend, methods=["POST"])]

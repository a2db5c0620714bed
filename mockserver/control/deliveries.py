"""The webhook delivery log through the control API: list it (`GET /__mock/webhooks/deliveries`,
optionally for one client), read one delivery (`GET /__mock/webhooks/deliveries/{id}`) and
resend it (`POST /__mock/webhooks/deliveries/{id}/resend`).

A resend is one new attempt made now — the same bytes, signed anew with the client's
current secret and a fresh `t=` — recorded in the delivery's attempt list with
`resend: true` (the engine's `resend`). It leaves a pending retry schedule alone; a
successful resend marks the delivery delivered. The console's "Resend" button calls it.
"""

from __future__ import annotations

from starlette.routing import Route

from .http import ControlError, guard, json_response, not_found


def routes(platform) -> list[Route]:
    def missing(delivery_id: str):
        raise not_found(f"no webhook delivery {delivery_id!r}")

    async def deliveries(request):
        if platform.webhooks is None:
            return json_response(200, {"deliveries": []})
        return json_response(200, {"deliveries": platform.webhooks.deliveries(request.query_params.get("client"))})

    async def delivery(request):
        delivery_id = request.path_params["delivery_id"]
        record = platform.webhooks.delivery(delivery_id) if platform.webhooks is not None else None
        return missing(delivery_id) if record is None else json_response(200, record)

    async def resend(request):
        delivery_id = request.path_params["delivery_id"]
        if platform.webhooks is None or platform.webhooks.delivery(delivery_id) is None:
            return missing(delivery_id)
        try:
            record = await platform.webhooks.resend(delivery_id)
        except RuntimeError as exc:
            raise ControlError(409, "CONFLICT", str(exc)) from None
        return json_response(200, record)

    wrap = guard(platform)
    return [Route("/webhooks/deliveries", wrap(deliveries), methods=["GET"]),
            Route("/webhooks/deliveries/{delivery_id}", wrap(delivery), methods=["GET"]),
            Route("/webhooks/deliveries/{delivery_id}/resend", wrap(resend), methods=["POST"])]

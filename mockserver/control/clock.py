"""The virtual clock through the control API: read it, advance it, set it. A move passes
through every webhook attempt due on the way (each made at its own virtual time), persists
the new now (`--state`) and wakes the scheduler."""

from __future__ import annotations

from starlette.routing import Route

from ..clock import parse_iso
from .http import bad_input, guard, json_response, number, read_object


def routes(platform) -> list[Route]:
    clock, scheduler = platform.clock, platform.scheduler

    async def move_to(target: float, *, already_passed_ok: bool = False):
        if target < clock.now():
            if not already_passed_ok:
                raise bad_input("the clock only moves forward")
            target = clock.now()  # a running clock got there on its own meanwhile
        delivered = await scheduler.advance_to(target)
        platform.save_clock()
        scheduler.poke()
        return json_response(200, dict(clock.describe(), webhookAttempts=delivered))

    async def get_clock(request):
        return json_response(200, clock.describe())

    async def advance(request):
        seconds = number(await read_object(request), "seconds", default=0.0)
        if seconds < 0:
            raise bad_input("the clock only moves forward")
        return await move_to(clock.now() + seconds, already_passed_ok=True)

    async def set_clock(request):
        body = await read_object(request)
        value = body.get("time")
        if isinstance(value, str):
            try:
                target = parse_iso(value)
            except ValueError:
                raise bad_input(f"time must be an ISO 8601 date-time or epoch seconds, not {value!r}") from None
        else:
            target = number(body, "time")
        return await move_to(target)

    wrap = guard(platform)
    return [Route("/clock", wrap(get_clock), methods=["GET"]),
            Route("/clock/advance", wrap(advance), methods=["POST"]),
            Route("/clock/set", wrap(set_clock), methods=["POST"])]

"""HTTP for the Interview candidate side, outside the API contract:

- control-API actions (mounted under ``/__mock`` by the app, switched off by ``--no-control``):
  ``POST /interview/candidate/{open|consent|start|finish|drop}`` with ``{"token": "…"}`` and
  ``POST /interview/sessions/{session_id}/reinvite`` (the console's re-invite, INTV-9);
- the mock's candidate web page (``candidate_routes``): ``GET /candidate/`` and its assets,
  and the same five actions as ``POST /candidate/api/{action}`` — so a developer who starts
  the mock with ``--candidate-base-url http://127.0.0.1:8080/candidate`` can open a candidate
  link and click through consent and the interview.

The token always travels in a JSON body, never in a path or query string: the request
journal records paths, and nothing here logs a body (INTV-3). Errors use the control API's
envelope ``{"error": {code, message, timestamp}}``; a cap refusal carries ``Retry-After``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mockserver.control.http import PAGE_HEADERS, error_response, json_response
from mockserver.modules.interview import lifecycle as lc
from mockserver.modules.interview.candidate import REFUSAL_STATUS, candidate_view
from mockserver.modules.interview.plan import PlanError
from mockserver.modules.interview.sessions import ACTIONS, CapReached, SessionBook, SessionNotFound
from mockserver.platform.outage import MESSAGE as STORE_DOWN_MESSAGE, RETRY_AFTER_SECONDS as STORE_RETRY_AFTER
from mockserver.store.base import StoreUnavailable

CANDIDATE_PAGE_PATH = "/candidate/"
MAX_TOKEN_LENGTH = 200
_ASSETS = {
    "candidate.js": "text/javascript; charset=utf-8",
    "candidate.css": "text/css; charset=utf-8",
}
_PAGE_HEADERS = PAGE_HEADERS


def book_of(platform) -> SessionBook:
    """The platform's one ``SessionBook`` (made on first use)."""
    return platform.module_state["interview"]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return json_response(status, body, {"Cache-Control": "no-store", **(headers or {})})


def _error(platform, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return error_response(platform, status, code, message, {"Cache-Control": "no-store", **(headers or {})})


async def _object_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ValueError("the body must be JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def _token_of(body: dict[str, Any]) -> str:
    token = body.get("token")
    if not isinstance(token, str) or not 1 <= len(token) <= MAX_TOKEN_LENGTH:
        raise ValueError("token (the text after '#t=' in the candidate link) is required")
    return token


def _refusal(platform, refused: lc.InterviewRefused) -> Response:
    headers = None
    if isinstance(refused, CapReached):
        headers = {"Retry-After": str(platform.clock.advertise(max(refused.retry_after, 1.0)))}
    return _error(platform, REFUSAL_STATUS.get(refused.reason, 409), refused.reason, refused.message, headers)


async def _candidate_action(platform, request: Request) -> Response:
    action = request.path_params["action"]
    if action not in ACTIONS:
        return _error(platform, 404, "NOT_FOUND", f"unknown candidate action {action!r}; one of {', '.join(ACTIONS)}")
    try:
        body = await _object_body(request)
        token = _token_of(body)
        keep = body.get("keep_recording", False)
        if not isinstance(keep, bool):
            raise ValueError("keep_recording must be true or false")
    except ValueError as exc:
        return _error(platform, 400, "INVALID_INPUT", str(exc))
    book = book_of(platform)
    now = platform.clock.now()
    try:
        session = book.candidate(action, token, now, keep_recording=keep)
    except lc.InterviewRefused as refused:
        return _refusal(platform, refused)
    return _json(200, candidate_view(session, now, book.budget(session.client_id)))


def control_routes(platform) -> list[Route]:
    """Candidate actions and the console re-invite, relative to ``/__mock``."""

    async def candidate_action(request: Request) -> Response:
        return await _candidate_action(platform, request)

    async def reinvite(request: Request) -> Response:
        body = await _object_body(request)
        plan_spec = body.get("candidate")
        now = platform.clock.now()
        try:
            session, link = book_of(platform).reinvite(request.path_params["session_id"], now, plan_spec)
        except SessionNotFound:
            return _error(platform, 404, "NOT_FOUND", "No session with this id.")
        except PlanError as exc:
            return _error(platform, 400, "INVALID_INPUT", str(exc))
        except lc.InterviewRefused as refused:
            return _refusal(platform, refused)
        return _json(200, {"candidate_link": link, "expires_in": session.expires_in,
                           "expires_at": platform.clock.iso(session.expires_at),
                           "invite_count": session.invite_count, "id": session.id, "status": session.status})

    return [
        Route("/interview/candidate/{action}", candidate_action, methods=["POST"]),
        Route("/interview/sessions/{session_id}/reinvite", reinvite, methods=["POST"]),
    ]


def _asset(name: str) -> bytes:
    return resources.files("mockserver").joinpath("static", name).read_bytes()


def candidate_routes(platform) -> list[Route]:
    """The candidate web page (absolute paths; the app mounts them beside the API)."""
    page = _asset("candidate.html")
    assets = {name: _asset(name) for name in _ASSETS}

    async def index(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)

    async def to_index(request: Request) -> Response:
        return RedirectResponse(CANDIDATE_PAGE_PATH, status_code=308)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in assets:
            return _error(platform, 404, "NOT_FOUND", "No such file.")
        return Response(assets[name], media_type=_ASSETS[name], headers=_PAGE_HEADERS)

    async def action(request: Request) -> Response:
        try:  # the candidate's page is public (no control guard): a shared store is synced here
            platform.sync()
            response = await _candidate_action(platform, request)
        except StoreUnavailable as exc:
            platform.outage.failed(exc)
            return _error(platform, 503, "INTERNAL_ERROR", STORE_DOWN_MESSAGE,
                          {"Retry-After": str(STORE_RETRY_AFTER)})
        platform.outage.succeeded()
        return response

    return [
        Route("/candidate", to_index, methods=["GET"]),
        Route(CANDIDATE_PAGE_PATH, index, methods=["GET"]),
        Route("/candidate/api/{action}", action, methods=["POST"]),
        Route("/candidate/{name}", asset, methods=["GET"]),
    ]

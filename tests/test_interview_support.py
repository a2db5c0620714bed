"""Helpers shared by the Interview HTTP test modules (this module holds no tests): make
personas and sessions through the API and drive the candidate through the control API."""

from __future__ import annotations

from typing import Any

from conftest import FULL, Api
from tests.support.candidate_links import token_from_link

PERSONAS = "/api/v1/interview/personas"
SESSIONS = "/api/v1/interview/sessions"


def make_persona(api: Api, key: str = FULL, role_name: str = "Backend Engineer", language: str = "en",
                 **extra: Any) -> dict:
    r = api.call("POST", PERSONAS, key=key, json={"role_name": role_name, "language": language, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def make_session(api: Api, persona_id: str, key: str = FULL, consent_mode: str = "integrator",
                 scenario: str | None = None, **body: Any) -> dict:
    headers = {"X-Mock-Scenario": scenario} if scenario else {}
    r = api.call("POST", f"{PERSONAS}/{persona_id}/sessions", key=key, headers=headers,
                 json={"consent_mode": consent_mode, **body})
    assert r.status_code == 201, r.text
    return r.json()


def token_of(created: dict) -> str:
    return token_from_link(created["candidate_link"])


def act(api: Api, action: str, token: str, **extra: Any):
    """A candidate action through the control API (token in the JSON body)."""
    return api.post(f"/__mock/interview/candidate/{action}", json={"token": token, **extra})


def act_ok(api: Api, action: str, token: str, **extra: Any) -> dict:
    r = act(api, action, token, **extra)
    assert r.status_code == 200, r.text
    return r.json()


def get_session(api: Api, session_id: str, key: str = FULL) -> dict:
    r = api.call("GET", f"{SESSIONS}/{session_id}", key=key)
    assert r.status_code == 200, r.text
    return r.json()


def run_interview(api: Api, seconds: float, *, key: str = FULL, role_name: str = "Backend Engineer",
                  language: str = "en", **body: Any) -> dict:
    """A session whose candidate goes live at once and finishes ``seconds`` later."""
    persona = make_persona(api, key=key, role_name=role_name, language=language)
    created = make_session(api, persona["id"], key=key, **body)
    act_ok(api, "start", token_of(created))
    api.advance(seconds)
    act_ok(api, "finish", token_of(created))
    return created

"""Interview personas and sessions through HTTP: personas (INTV-1, A10), session creation and
its pre-checks (INTV-2, INTV-6, CRED-5, META-1/2, HOOK-1, AUTH-7), the token shown once
(INTV-3), session reads (INTV-10) and the session list (INTV-8, LIST-1, LIST-3)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from conftest import CAP2, LOW, NO_PERMS, PROJECT_ALPHA, SECOND
from mockserver.modules.interview.sessions import SESSION_KIND, TOKEN_KIND
from mockserver.modules.interview.tokens import hash_token
from test_interview_support import (
    PERSONAS, SESSIONS, act_ok, get_session, make_persona, make_session, token_of,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# -- personas (INTV-1) -----------------------------------------------------------------------
def test_persona_without_system_prompt_gets_one_generated_for_its_role_and_language(api):
    persona = make_persona(api, role_name="Ingeniera de datos", language="es")
    assert UUID.match(persona["id"])
    assert persona["system_prompt_source"] == "generated"
    assert "Ingeniera de datos" in persona["system_prompt"]
    assert "en español" in persona["system_prompt"]
    assert persona["base_prompt_override"] is None
    fetched = api.call("GET", f"{PERSONAS}/{persona['id']}").json()
    assert fetched == persona


def test_persona_with_a_system_prompt_keeps_it_verbatim_with_the_base_prompt_override(api):
    prompt = "  You are a strict technical interviewer.\nAsk about SQL only.  "
    persona = make_persona(api, system_prompt=prompt, base_prompt_override="Pause 2 s between turns.")
    assert persona["system_prompt"] == prompt
    assert persona["system_prompt_source"] == "custom"
    assert persona["base_prompt_override"] == "Pause 2 s between turns."


@pytest.mark.parametrize("body,field", [
    ({"language": "en"}, "role_name"),
    ({"role_name": "Engineer"}, "language"),
    ({"role_name": "Engineer", "language": "xx"}, "language"),
    ({"role_name": "   ", "language": "en"}, "role_name"),
])
def test_persona_needs_a_role_name_and_a_supported_language(api, body, field):
    r = api.call("POST", PERSONAS, json=body)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "INVALID_INPUT"
    assert field in r.json()["error"]["details"]["fields"]


def test_personas_list_newest_first_in_cursor_pages_without_prompt_text(api):
    made = [make_persona(api, role_name=f"Role {n}")["id"] for n in range(5)]
    first = api.call("GET", PERSONAS, params={"limit": 2}).json()
    assert [row["id"] for row in first["personas"]] == made[::-1][:2]
    assert first["has_more"] is True
    assert all("system_prompt" not in row for row in first["personas"])
    make_persona(api, role_name="Arrives between pages")
    second = api.call("GET", PERSONAS, params={"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.call("GET", PERSONAS, params={"limit": 2, "cursor": second["next_cursor"]}).json()
    seen = [row["id"] for page in (first, second, third) for row in page["personas"]]
    assert seen == made[::-1]
    assert third["has_more"] is False and third["next_cursor"] is None


def test_another_clients_persona_is_403_forbidden_and_an_unknown_one_404(api):
    persona = make_persona(api)
    r = api.call("GET", f"{PERSONAS}/{persona['id']}", key=SECOND)
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    assert persona["id"] not in [p["id"] for p in api.call("GET", PERSONAS, key=SECOND).json()["personas"]]
    r = api.call("POST", f"{PERSONAS}/{persona['id']}/sessions", key=SECOND, json={"consent_mode": "explicit"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "FORBIDDEN"
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api.call("GET", f"{PERSONAS}/{unknown}").json()["error"]["code"] == "NOT_FOUND"
    assert api.call("GET", f"{PERSONAS}/not-a-uuid").status_code == 404


def test_interview_calls_need_the_interview_permission(api):
    r = api.call("GET", PERSONAS, key=NO_PERMS)
    assert r.status_code == 403 and r.json()["error"]["code"] == "MISSING_PERMISSION"
    r = api.call("GET", SESSIONS, key=NO_PERMS)
    assert r.status_code == 403 and r.json()["error"]["code"] == "MISSING_PERMISSION"


# -- session creation (INTV-2, INTV-6, CRED-5) -----------------------------------------------
def test_session_returns_a_candidate_link_with_the_token_in_the_fragment_and_a_7_day_ttl(api):
    persona = make_persona(api)
    created = make_session(api, persona["id"], consent_mode="explicit", candidate_ref="ats-42")
    link = urlsplit(created["candidate_link"])
    assert (link.scheme, link.netloc, link.path, link.query) == ("https", "interview.zenhire.ai", "/", "")
    assert re.fullmatch(r"t=[A-Za-z0-9_-]{43}", link.fragment)
    assert created["expires_in"] == 604800
    assert created["status"] == "initiated" and created["consent_mode"] == "explicit"
    assert created["persona_id"] == persona["id"] and created["candidate_ref"] == "ats-42"
    assert UUID.match(created["id"]) and "session_id" not in created
    text = api.call("POST", f"{PERSONAS}/{persona['id']}/sessions", json={"consent_mode": "integrator"}).text
    assert text.endswith(',"status":"initiated"}') and '"id":"' in text  # JSON-1: id/status last


def test_a_client_may_shorten_the_link_ttl_but_not_extend_it(api):
    persona = make_persona(api)
    created = make_session(api, persona["id"], expires_in=3600)
    assert created["expires_in"] == 3600
    for bad in (59, 604801):
        r = api.call("POST", f"{PERSONAS}/{persona['id']}/sessions",
                     json={"consent_mode": "integrator", "expires_in": bad})
        assert r.status_code == 400 and "expires_in" in r.json()["error"]["details"]["fields"]


def test_session_needs_a_known_consent_mode(api):
    persona = make_persona(api)
    for body in ({}, {"consent_mode": "implicit"}):
        r = api.call("POST", f"{PERSONAS}/{persona['id']}/sessions", json=body)
        assert r.status_code == 400 and "consent_mode" in r.json()["error"]["details"]["fields"]


def test_session_inherits_the_keys_project_and_has_no_project_field(api):
    persona = make_persona(api, key=PROJECT_ALPHA)
    created = make_session(api, persona["id"], key=PROJECT_ALPHA)
    assert created["project"] == "alpha"
    r = api.call("POST", f"{PERSONAS}/{persona['id']}/sessions", key=PROJECT_ALPHA,
                 json={"consent_mode": "integrator", "project": "beta"})
    # no project field: one sent is an undeclared field, ignored (tests/test_unknown_fields.py)
    assert r.status_code == 201 and r.json()["project"] == "alpha"


def test_session_below_the_minimum_credit_balance_is_402_with_the_gap(api):
    persona = make_persona(api, key=LOW)
    r = api.call("POST", f"{PERSONAS}/{persona['id']}/sessions", key=LOW, json={"consent_mode": "integrator"})
    assert r.status_code == 402
    error = r.json()["error"]
    assert error["code"] == "INSUFFICIENT_CREDITS"
    assert error["details"] == {"required": 15, "available": 2, "shortfall": 13}
    assert api.post("/__mock/clients/lowfunds/credits", json={"delta": 13}).status_code == 200
    assert make_session(api, persona["id"], key=LOW)["status"] == "initiated"
    assert api.call("GET", "/api/v1/credits", key=LOW).json()["creditBalance"] == 15  # nothing charged


def test_minting_links_is_unbounded_by_the_live_interview_cap(api):
    persona = make_persona(api, key=CAP2)
    made = [make_session(api, persona["id"], key=CAP2) for _ in range(12)]
    assert len({created["id"] for created in made}) == 12


def test_session_echoes_metadata_and_tags_and_validates_them(api):
    persona = make_persona(api)
    created = make_session(api, persona["id"], metadata={"candidateId": "c-1", "round": 2, "remote": True},
                           tags=["batch-1", "backend"])
    assert created["metadata"] == {"candidateId": "c-1", "round": 2, "remote": True}
    assert created["tags"] == ["batch-1", "backend"]
    assert get_session(api, created["id"])["metadata"] == created["metadata"]
    plain = make_session(api, persona["id"])
    assert (plain["metadata"], plain["tags"]) == ({}, [])
    for body in ({"metadata": {"k" * 41: "v"}}, {"tags": ["dup", "dup"]}, {"tags": ["x" * 41]},
                 {"metadata": {f"k{n}": "v" * 400 for n in range(30)}}):
        r = api.call("POST", f"{PERSONAS}/{persona['id']}/sessions", json={"consent_mode": "integrator", **body})
        assert r.status_code == 400, body
        assert r.json()["error"]["code"] == "INVALID_INPUT"


@pytest.mark.parametrize("url,code", [
    ("http://hooks.example.com/interview", "INSECURE_WEBHOOK_URL"),
    ("https://127.0.0.1/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://10.1.2.3/hook", "PRIVATE_WEBHOOK_URL"),
])
def test_session_webhook_url_must_be_https_and_public(api, url, code):
    persona = make_persona(api)
    r = api.call("POST", f"{PERSONAS}/{persona['id']}/sessions", json={"consent_mode": "integrator", "webhook_url": url})
    assert r.status_code == 400 and r.json()["error"]["code"] == code


# -- reading sessions (INTV-10, AUTH-6) ------------------------------------------------------
def test_session_read_is_tenant_scoped_and_advises_retry_after_until_terminal(api):
    persona = make_persona(api)
    created = make_session(api, persona["id"])
    r = api.call("GET", f"{SESSIONS}/{created['id']}")
    assert r.status_code == 200 and r.headers["Retry-After"] == "10"
    body = r.json()
    assert body["status"] == "initiated" and body["has_recording"] is False
    assert "candidate_link" not in body and "token" not in json.dumps(body)
    assert api.call("GET", f"{SESSIONS}/{created['id']}", key=SECOND).status_code == 404
    assert api.call("GET", f"{SESSIONS}/not-a-uuid").status_code == 404
    act_ok(api, "start", token_of(created))
    act_ok(api, "drop", token_of(created))
    r = api.call("GET", f"{SESSIONS}/{created['id']}")
    assert r.json()["status"] == "failed" and r.json()["error_code"] == "CANDIDATE_DROPPED"
    assert "Retry-After" not in r.headers


# -- the token is shown once (INTV-3) --------------------------------------------------------
def test_the_token_never_appears_again_in_responses_the_journal_the_store_or_callbacks(tmp_path):
    from conftest import Api, make_app
    state = str(tmp_path / "state.sqlite")
    with Api(make_app(state=state)) as api:
        persona = make_persona(api)
        created = make_session(api, persona["id"], consent_mode="explicit", candidate_ref="ref-1",
                               webhook_url="https://hooks.example.com/interview")
        token = token_of(created)
        texts = []
        for action in ("open", "consent", "start"):
            texts.append(json.dumps(act_ok(api, action, token)))
        api.advance(300)
        texts.append(json.dumps(act_ok(api, "finish", token)))
        api.advance(1)
        for path in (f"{SESSIONS}/{created['id']}", SESSIONS, f"{SESSIONS}/{created['id']}/transcript"):
            texts.append(api.call("GET", path).text)
        texts.append(api.call("GET", f"{SESSIONS}/{created['id']}/recording").content.decode("latin-1"))
        texts.append(api.get("/__mock/journal", params={"limit": 1000}).text)
        texts.append(api.get("/__mock/webhooks/deliveries").text)
        stored = list(api.platform.store.scan(SESSION_KIND)) + list(api.platform.store.scan(TOKEN_KIND))
        texts.append(json.dumps(stored))
        assert api.platform.store.get(TOKEN_KIND, hash_token(token)) is not None
    texts.append(open(state, "rb").read().decode("latin-1"))
    assert all(token not in text for text in texts)
    assert any("ref-1" in text for text in texts)  # the check can see what is there


# -- the session list (INTV-8) ----------------------------------------------------------------
def test_sessions_list_filters_by_project_tags_metadata_and_status_as_of_now(api):
    persona = make_persona(api)
    alpha = make_session(api, persona["id"], key=PROJECT_ALPHA, tags=["a", "b"], metadata={"round": 2})
    plain = make_session(api, persona["id"], tags=["a"], metadata={"round": 1})
    live = make_session(api, persona["id"], metadata={"flag": True})
    act_ok(api, "start", token_of(live))

    def ids(**params):
        r = api.call("GET", SESSIONS, params=params)
        assert r.status_code == 200, r.text
        return [row["id"] for row in r.json()["sessions"]]

    assert ids() == [live["id"], plain["id"], alpha["id"]]
    assert ids(project="alpha") == [alpha["id"]]
    assert ids(project="none") == [live["id"], plain["id"]]
    assert ids(tags="a,b") == [alpha["id"]]
    assert ids(tags="a") == [plain["id"], alpha["id"]]
    assert ids(metadata_key="round", metadata_value="2") == [alpha["id"]]
    assert ids(metadata_key="flag", metadata_value="true") == [live["id"]]
    assert ids(metadata_key="flag") == [live["id"]]
    assert ids(metadata_value="2") == ids()  # a value alone (no key) filters nothing
    assert ids(status="in_progress") == [live["id"]]
    api.advance(2700)  # the live interview passes its budget: it now lists as failed
    assert ids(status="failed") == [live["id"]]
    assert ids(status="in_progress") == []
    row = api.call("GET", SESSIONS, params={"status": "failed"}).json()["sessions"][0]
    assert row["error_code"] == "SESSION_TIMEOUT" and "candidate_link" not in row
    assert api.call("GET", SESSIONS, key=SECOND).json()["sessions"] == []


def test_sessions_list_pages_never_repeat_or_skip_while_sessions_arrive(api):
    persona = make_persona(api)
    made = [make_session(api, persona["id"])["id"] for _ in range(7)]
    seen, cursor = [], None
    for round_number in range(10):
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = api.call("GET", SESSIONS, params=params).json()
        seen += [row["id"] for row in page["sessions"]]
        make_session(api, persona["id"])  # new arrivals go before the first page
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == made[::-1]


def test_sessions_list_refuses_bad_filters(api):
    for params in ({"status": "live"}, {"limit": 0}, {"limit": 101}, {"cursor": "garbage!"}):
        r = api.call("GET", SESSIONS, params=params)
        assert r.status_code == 400, params
        assert r.json()["error"]["code"] == "INVALID_INPUT"

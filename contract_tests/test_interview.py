"""Interview behaviour over HTTP: personas (INTV-1, A10), session creation and its pre-checks
(INTV-2, INTV-6, CRED-5, META-1, AUTH-7, HOOK-1), the token shown once (INTV-3), link expiry
(INTV-4), session reads (INTV-10, META-2, META-4, JSON-1), the session list (INTV-8, LIST-1,
LIST-3), tenancy (AUTH-6), and — where a candidate can be played — the lifecycle (INTV-4,
INTV-5), the live-interview cap (INTV-6), recordings and transcripts (INTV-7) and the console
re-invite (INTV-9); with the mock's delivery log, the signed completion callback (HOOK-3,
HOOK-4, A4) and its retries (HOOK-5, A3).

A session only moves when its candidate does, and the candidate side lives in the candidate's
browser: no API call can act as the candidate. The mock offers one through its control API
(``POST /__mock/interview/candidate/{open|consent|start|finish|drop}`` with the token in a JSON
body, and the console's ``POST /__mock/interview/sessions/{id}/reinvite``). Those tests run only
when that capability is detected and skip with the reason otherwise. Requests the contract
refuses run in every profile; anything that creates a persona or a session asks `credit_guard`
first, so the `safe` profile writes nothing.
"""

from __future__ import annotations

import array
import io
import json
import re
import secrets
import time
import wave
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator

from contract_tests.catalog import covers
from contract_tests.checks import Observed, assert_error, assert_no_problems, compact_json_problems, parse_timestamp
from contract_tests.contract import schema_problems
from contract_tests.receiver import WebhookReceiver, verify_signature
from contract_tests.target import CONTROL_PREFIX

PERSONAS = "/api/v1/interview/personas"
SESSIONS = "/api/v1/interview/sessions"
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DOCS_LINK_PREFIX = "https://interview.zenhire.ai/"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
SEVEN_DAYS = 604800
DEFAULT_CAP = 8  # maxConcurrentRequests by default (Rate limits & concurrency)
MAX_PAGES = 20
INTERVIEW_SECONDS = 90
CALLBACK_ROUNDS = 4
RETRY_WINDOW_SECONDS = 12  # covers the documented waits (about 1 s, then 4 s) with jitter
RETRY_GAPS = ((0.5, 2.5), (2.5, 6.5))  # the waits as seen through one-second clock steps
WEBHOOK_OPERATION = "interviewCompletedWebhook"
UNRESOLVABLE_HOOK = "https://hooks.contract-suite.invalid/interview"  # .invalid never resolves (RFC 6761)
OPERATIONS = {
    "create_persona": "createInterviewPersona",
    "list_personas": "listInterviewPersonas",
    "get_persona": "getInterviewPersona",
    "create_session": "createInterviewSession",
    "list_sessions": "listInterviewSessions",
    "get_session": "getInterviewSession",
    "recording": "getInterviewRecording",
    "transcript": "getInterviewTranscript",
}


# --------------------------------------------------------------------------- the candidate (mock only)

class Candidate:
    """Plays the candidate (and the console) through the mock's control API. The token always
    travels in the JSON body, never in a URL."""

    def __init__(self, control) -> None:
        self.control = control

    def act(self, action: str, token: str, **extra):
        return self.control.http.post(f"{CONTROL_PREFIX}/interview/candidate/{action}",
                                      json={"token": token, **extra}, headers=self.control.headers)

    def ok(self, action: str, token: str, **extra) -> dict:
        resp = self.act(action, token, **extra)
        assert resp.status_code == 200, f"candidate {action}: {resp.status_code} {resp.text[:300]}"
        return resp.json()

    def refused(self, action: str, token: str, status: int, code: str) -> dict:
        resp = self.act(action, token)
        assert resp.status_code == status, \
            f"candidate {action}: expected {status}, got {resp.status_code} {resp.text[:300]}"
        assert resp.json()["error"]["code"] == code, resp.text[:300]
        return resp.json()["error"]

    def reinvite(self, session_id: str, **body):
        return self.control.http.post(f"{CONTROL_PREFIX}/interview/sessions/{session_id}/reinvite",
                                      json=body, headers=self.control.headers)


@pytest.fixture(scope="module")
def candidate(control) -> Candidate:
    """The mock's candidate actions, detected by asking one with an empty body (a 400
    INVALID_INPUT proves the route exists); skips on any other target."""
    modules = control.capabilities.get("modules")
    if modules is not None and "interview" not in modules:
        pytest.skip("the target's control API does not simulate the Interview module")
    probe = control.http.post(f"{CONTROL_PREFIX}/interview/candidate/open", json={}, headers=control.headers)
    is_json = probe.headers.get("content-type", "").startswith("application/json")
    if probe.status_code != 400 or not is_json or probe.json().get("error", {}).get("code") != "INVALID_INPUT":
        pytest.skip("the candidate side runs in the candidate's browser; this target's control API has no "
                    f"/interview/candidate actions to play one (probe answered {probe.status_code})")
    return Candidate(control)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def ops(operation) -> dict:
    """The eight Interview operations of the target's contract (skips when one is missing)."""
    return {short: operation(op_id) for short, op_id in OPERATIONS.items()}


@pytest.fixture(scope="module")
def module_credits(target):
    """The credit guard, for module-scoped fixtures (``credit_guard`` is per test)."""
    return target.credits


@pytest.fixture(scope="module")
def persona(api, ops, module_credits) -> dict:
    """A persona of the primary tenant: created here when the profile allows writes, else the
    newest one the tenant already has (the safe profile only reads)."""
    if module_credits.permits():
        return create_persona(api, ops, role_name="Contract Suite Engineer", language="en")
    resp = api.get(PERSONAS, params={"limit": 1})
    assert resp.status_code == 200, resp.text[:300]
    rows = resp.json()["personas"]
    if not rows:
        pytest.skip("the safe profile creates no persona and the tenant has none to reuse")
    return rows[0]


@pytest.fixture(scope="module")
def interview_tenant(api, provision, module_credits):
    """A throwaway tenant holding only the `interview` permission (control API): its key and client."""
    module_credits.allow("an Interview tenant's personas and sessions")
    tenant = provision.tenant("interview", permissions=["interview"], credits=1000)
    return tenant, api.with_key(tenant.key)


@pytest.fixture(scope="module")
def tenant_persona(interview_tenant, ops) -> dict:
    return create_persona(interview_tenant[1], ops, role_name="Ingeniera de datos", language="es")


@pytest.fixture(scope="module")
def finished_interview(interview_tenant, tenant_persona, ops, candidate, time_machine) -> dict:
    """One `integrator` session whose candidate goes live at once and finishes 90 s later."""
    client = interview_tenant[1]
    made = created(create_session(client, tenant_persona["id"], consent_mode="integrator", candidate_ref="ct-ref-7",
                                  metadata={"suite": "contract"}, tags=["ct-finished"]), ops)
    token = token_of(made)
    candidate.ok("start", token)
    time_machine.pass_time(INTERVIEW_SECONDS, "a live interview to run")
    candidate.ok("finish", token)
    return {"created": made, "token": token, "session": read_session(client, ops, made["id"])}


# --------------------------------------------------------------------------- helpers

def create_persona(api, ops, **body) -> dict:
    resp = api.post(PERSONAS, json=body)
    assert resp.status_code == 201, f"persona creation: {resp.status_code} {resp.text[:300]}"
    persona = resp.json()
    assert_no_problems(schema_problems(ops["create_persona"], 201, persona))
    return persona


def create_session(api, persona_id: str, **body):
    return api.post(f"{PERSONAS}/{persona_id}/sessions", json=body)


def created(resp, ops) -> dict:
    assert resp.status_code == 201, f"session creation: {resp.status_code} {resp.text[:300]}"
    body = resp.json()
    assert_no_problems(schema_problems(ops["create_session"], 201, body))
    assert_no_problems(compact_json_problems(Observed.from_httpx(resp)))
    return body


def read_session(api, ops, session_id: str) -> dict:
    resp = api.get(f"{SESSIONS}/{session_id}")
    assert resp.status_code == 200, f"session read: {resp.status_code} {resp.text[:300]}"
    body = resp.json()
    assert_no_problems(schema_problems(ops["get_session"], 200, body))
    if body["status"] in ("initiated", "in_progress"):
        retry = resp.headers.get("Retry-After", "")
        assert retry.isdigit() and int(retry) >= 1, f"a {body['status']} session read carries Retry-After: {retry!r}"
    return body


def token_of(session: dict) -> str:
    return session["candidate_link"].split("#t=", 1)[1]


def list_ids(api, ops, **params) -> list[str]:
    """Every session id the list returns for these filters, across cursor pages (bounded)."""
    ids, cursor = [], None
    for _ in range(MAX_PAGES):
        query = dict(params, limit=100, **({"cursor": cursor} if cursor else {}))
        resp = api.get(SESSIONS, params=query)
        assert resp.status_code == 200, f"{query}: {resp.status_code} {resp.text[:300]}"
        page = resp.json()
        assert_no_problems(schema_problems(ops["list_sessions"], 200, page))
        ids += [row["id"] for row in page["sessions"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return ids
    pytest.fail(f"the session list for {params} did not end within {MAX_PAGES} pages")


def rows_by_id(api, **params) -> dict[str, dict]:
    resp = api.get(SESSIONS, params=dict(params, limit=100))
    assert resp.status_code == 200, resp.text[:300]
    return {row["id"]: row for row in resp.json()["sessions"]}


def refused_field(resp, op, field: str) -> dict:
    """A 400 INVALID_INPUT whose details.fields names ``field`` (or a path inside it)."""
    err = assert_error(resp, 400, "INVALID_INPUT", op)
    fields = (err.get("details") or {}).get("fields") or {}
    assert any(name == field or name.startswith((field + ".", field + "[")) for name in fields), \
        f"details.fields does not name {field}: {err}"
    return err


def unique_tag(label: str) -> str:
    return f"ct-{label}-{secrets.token_hex(4)}"


def webhook_problems(contract, body) -> list[str]:
    """Problems of a callback body against the contract's Interview webhook schema."""
    for hook in (contract.spec.get("webhooks") or {}).values():
        post = hook.get("post") or {}
        if post.get("operationId") == WEBHOOK_OPERATION:
            media = contract.resolve(post["requestBody"])["content"]["application/json"]
            validator = Draft202012Validator(dict(media["schema"], components=contract.components),
                                             format_checker=Draft202012Validator.FORMAT_CHECKER)
            return [e.message for e in validator.iter_errors(body)][:5]
    return [f"the contract documents no {WEBHOOK_OPERATION}"]


# --------------------------------------------------------------------------- personas (INTV-1, A10)

@covers("INTV-1", "META-4")
def test_a_persona_without_a_system_prompt_gets_one_generated_for_its_role(api, ops, credit_guard):
    credit_guard.allow("creating an Interview persona")
    made = create_persona(api, ops, role_name="Site Reliability Engineer", language="en")
    assert UUID.match(made["id"]) and not {"persona_id", "personaId"} & set(made), made
    assert made["system_prompt_source"] == "generated" and made["base_prompt_override"] is None, made
    assert made["system_prompt"].strip(), "a generated system prompt is never empty"
    assert "Site Reliability Engineer" in made["system_prompt"], "the template is filled in for the persona's role"
    fetched = api.get(f"{PERSONAS}/{made['id']}")
    assert fetched.status_code == 200, fetched.text[:300]
    assert_no_problems(schema_problems(ops["get_persona"], 200, fetched.json()))
    assert fetched.json() == made


@covers("INTV-1")
def test_a_supplied_system_prompt_is_stored_verbatim(api, ops, credit_guard):
    credit_guard.allow("creating an Interview persona")
    prompt = "  Eres un entrevistador técnico.\nPregunta solo por SQL.  "
    made = create_persona(api, ops, role_name="Ingeniero de backend", language="es", system_prompt=prompt,
                          base_prompt_override="Pause two seconds between turns.")
    fetched = api.get(f"{PERSONAS}/{made['id']}").json()
    assert fetched["system_prompt"] == prompt, "the custom prompt comes back byte for byte"
    assert fetched["system_prompt_source"] == "custom"
    assert fetched["base_prompt_override"] == "Pause two seconds between turns."


@covers("INTV-1", "ERR-4")
@pytest.mark.parametrize("body, field", [
    ({"language": "en"}, "role_name"),
    ({"role_name": "Engineer"}, "language"),
    ({"role_name": "Engineer", "language": "xx"}, "language"),
    ({"role_name": "   ", "language": "en"}, "role_name"),
], ids=["no-role", "no-language", "unknown-language", "blank-role"])
def test_a_persona_needs_a_role_name_and_a_supported_language(api, ops, body, field):
    refused_field(api.post(PERSONAS, json=body), ops["create_persona"], field)


@covers("INTV-1", "LIST-3", "LIST-4")
def test_personas_list_newest_first_in_cursor_pages_without_prompt_text(api, ops, provision, credit_guard):
    credit_guard.allow("creating Interview personas")
    client = api.with_key(provision.tenant("personas", permissions=["interview"]).key)
    made = [create_persona(client, ops, role_name=f"Role {n}", language="en")["id"] for n in range(5)]
    seen, cursor = [], None
    for _ in range(MAX_PAGES):
        resp = client.get(PERSONAS, params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.text[:300]
        page = resp.json()
        assert_no_problems(schema_problems(ops["list_personas"], 200, page))
        assert all("system_prompt" not in row for row in page["personas"]), "list rows carry no prompt text"
        seen += [row["id"] for row in page["personas"]]
        create_persona(client, ops, role_name="Arrives between pages", language="en")
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == made[::-1], "pages are newest first and never repeat or skip while personas arrive"
    assert page["next_cursor"] is None


@covers("AUTH-6", "A10")
def test_another_clients_persona_is_forbidden_and_never_listed(api, second_api, ops, persona):
    assert_error(second_api.get(f"{PERSONAS}/{persona['id']}"), 403, "FORBIDDEN", ops["get_persona"])
    resp = create_session(second_api, persona["id"], consent_mode="integrator")
    assert_error(resp, 403, "FORBIDDEN", ops["create_session"])
    cursor = None
    for _ in range(MAX_PAGES):
        page = second_api.get(PERSONAS, params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
        assert persona["id"] not in [row["id"] for row in page["personas"]], "another client lists the persona"
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break


@covers("INTV-2", "AUTH-6")
def test_a_session_on_an_unknown_persona_is_404(api, ops):
    resp = create_session(api, "00000000-0000-4000-8000-000000000000", consent_mode="integrator")
    assert_error(resp, 404, "NOT_FOUND", ops["create_session"])


# --------------------------------------------------------------------------- creating sessions (INTV-2, META-1)

@covers("INTV-2", "META-2", "META-4", "JSON-1")
def test_a_session_mints_a_candidate_link_with_the_token_in_the_fragment(api, ops, persona, credit_guard):
    credit_guard.allow("creating an Interview session")
    made = created(create_session(api, persona["id"], consent_mode="explicit", candidate_ref="ats-cand-8812"), ops)
    link = urlsplit(made["candidate_link"])
    assert link.query == "" and link.fragment.startswith("t=") and len(token_of(made)) >= 20, made["candidate_link"]
    if link.hostname not in LOOPBACK_HOSTS:  # the mock's own candidate page may be a loopback http:// link
        assert made["candidate_link"].startswith(DOCS_LINK_PREFIX + "#t="), made["candidate_link"]
    assert made["status"] == "initiated" and made["expires_in"] == SEVEN_DAYS, made
    assert made["consent_mode"] == "explicit" and made["candidate_ref"] == "ats-cand-8812"
    assert made["persona_id"] == persona["id"] and UUID.match(made["id"]) and "session_id" not in made
    assert (made["metadata"], made["tags"]) == ({}, []), "no correlation fields → {} and []"
    assert parse_timestamp(made["expires_at"]) - parse_timestamp(made["created_at"]) == pytest.approx(SEVEN_DAYS, abs=1)


@covers("INTV-2", "INTV-4")
def test_a_client_may_shorten_the_link_ttl_but_not_beyond_seven_days(api, ops, persona, credit_guard):
    for bad in (59, SEVEN_DAYS + 1):
        refused_field(create_session(api, persona["id"], consent_mode="integrator", expires_in=bad),
                      ops["create_session"], "expires_in")
    credit_guard.allow("creating an Interview session")
    made = created(create_session(api, persona["id"], consent_mode="integrator", expires_in=3600), ops)
    assert made["expires_in"] == 3600
    assert parse_timestamp(made["expires_at"]) - parse_timestamp(made["created_at"]) == pytest.approx(3600, abs=1)


@covers("INTV-2", "ERR-4")
@pytest.mark.parametrize("body", [{}, {"consent_mode": "implicit"}], ids=["missing", "unknown"])
def test_consent_mode_is_required_and_must_be_explicit_or_integrator(api, ops, persona, body):
    refused_field(create_session(api, persona["id"], **body), ops["create_session"], "consent_mode")


@covers("AUTH-7", "INTV-2")
def test_a_session_body_has_no_project_field(api, ops, persona, credit_guard):
    """The project comes from the key alone (AUTH-7). A `project` in the body is an unknown
    field, treated as the target's contract says: refused naming it where the body is closed,
    else ignored — the session does not take that project."""
    op = ops["create_session"]
    if not op.admits_unknown_fields("application/json"):
        refused_field(create_session(api, persona["id"], consent_mode="integrator", project="ct-beta"), op, "project")
        return
    credit_guard.allow("creating an Interview session")
    made = created(create_session(api, persona["id"], consent_mode="integrator", project="ct-beta"), ops)
    assert made.get("project") != "ct-beta", f"the body chose the project: {made}"
    assert read_session(api, ops, made["id"]).get("project") != "ct-beta"


@covers("META-1", "ERR-4")
@pytest.mark.parametrize("body, field", [
    ({"metadata": {f"k{i}": i for i in range(51)}}, "metadata"),
    ({"metadata": {"k" * 41: "v"}}, "metadata"),
    ({"metadata": {"note": "v" * 501}}, "metadata"),
    ({"metadata": {f"key{i:02d}": "v" * 480 for i in range(17)}}, "metadata"),  # over 8 KB in total
    ({"metadata": {"nested": {"a": 1}}}, "metadata"),
    ({"metadata": "round=2"}, "metadata"),
    ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
    ({"tags": ["x" * 41]}, "tags"),
    ({"tags": [""]}, "tags"),
    ({"tags": ["dup", "dup"]}, "tags"),
], ids=["51-keys", "long-key", "long-value", "over-8kb", "nested-value", "not-an-object",
        "21-tags", "long-tag", "empty-tag", "duplicate-tags"])
def test_correlation_fields_beyond_the_limits_are_invalid_input(api, ops, persona, body, field):
    refused_field(create_session(api, persona["id"], consent_mode="integrator", **body), ops["create_session"], field)


@covers("HOOK-1")
@pytest.mark.parametrize("url, code", [
    ("http://hooks.example.com/interview", "INSECURE_WEBHOOK_URL"),
    ("ftp://hooks.example.com/interview", "INSECURE_WEBHOOK_URL"),
    ("https://10.1.2.3/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://172.16.0.1/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://192.168.0.5/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://169.254.169.254/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://[fd00::1]/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://127.0.0.1/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://[::1]/hook", "PRIVATE_WEBHOOK_URL"),
], ids=["http", "ftp", "10/8", "172.16/12", "192.168/16", "169.254/16", "ipv6-ula", "loopback", "ipv6-loopback"])
def test_a_callback_url_must_be_https_and_public(api, ops, persona, target, url, code):
    if urlsplit(url).hostname in LOOPBACK_HOSTS and (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("the target admits loopback receivers (the mock's --allow-local-webhooks)")
    resp = create_session(api, persona["id"], consent_mode="integrator", webhook_url=url)
    assert_error(resp, 400, code, ops["create_session"])


@covers("META-1", "META-2", "LIST-4")
def test_metadata_and_tags_are_echoed_on_create_read_and_list(api, ops, persona, credit_guard):
    credit_guard.allow("creating an Interview session")
    tag = unique_tag("echo")
    metadata = {"candidateId": "cand-42", "round": 2, "remote": True}
    made = created(create_session(api, persona["id"], consent_mode="integrator", metadata=metadata,
                                  tags=[tag, "backend"]), ops)
    assert (made["metadata"], made["tags"]) == (metadata, [tag, "backend"])
    session = read_session(api, ops, made["id"])
    assert (session["metadata"], session["tags"]) == (metadata, [tag, "backend"])
    row = rows_by_id(api, tags=tag)[made["id"]]
    assert (row["metadata"], row["tags"]) == (metadata, [tag, "backend"])
    assert "candidate_link" not in row and "opened_at" not in row, "list rows are compact"


@covers("INTV-3")
def test_the_raw_token_is_returned_only_at_creation(api, ops, persona, target, credit_guard):
    credit_guard.allow("creating an Interview session")
    tag = unique_tag("token")
    made = created(create_session(api, persona["id"], consent_mode="explicit", tags=[tag]), ops)
    token = token_of(made)
    texts = [api.get(f"{SESSIONS}/{made['id']}").text, api.get(SESSIONS, params={"tags": tag}).text,
             api.get(f"{PERSONAS}/{persona['id']}").text, api.get(f"{SESSIONS}/{made['id']}/transcript").text]
    if target.control is not None:  # "never logs": the request journal neither
        texts.append(json.dumps(target.control.journal(limit=1000)))
    leaked = [i for i, text in enumerate(texts) if token in text or "candidate_link" in text]
    assert not leaked, f"the token or the link came back in responses {leaked}"


@covers("INTV-6")
def test_minting_links_is_never_refused_for_concurrency(api, ops, persona, credit_guard):
    credit_guard.allow(f"creating {DEFAULT_CAP + 1} Interview sessions")
    ids = {created(create_session(api, persona["id"], consent_mode="integrator"), ops)["id"]
           for _ in range(DEFAULT_CAP + 1)}
    assert len(ids) == DEFAULT_CAP + 1


@covers("CRED-5", "CRED-1")
def test_a_session_below_the_minimum_balance_is_402_with_the_gap_and_nothing_is_charged(api, ops, provision, control,
                                                                                      credit_guard):
    credit_guard.allow("creating an Interview session")
    tenant = provision.tenant("interview-poor", permissions=["interview"], credits=0)
    client = api.with_key(tenant.key)
    persona = create_persona(client, ops, role_name="Backend Engineer", language="en")
    err = assert_error(create_session(client, persona["id"], consent_mode="integrator"), 402,
                       "INSUFFICIENT_CREDITS", ops["create_session"])
    required = err["details"]["required"]
    assert err["details"]["available"] == 0 and err["details"]["shortfall"] == required >= 1, err
    if required > 1:
        control.set_credits(tenant.client_id, balance=required - 1)
        err = assert_error(create_session(client, persona["id"], consent_mode="integrator"), 402,
                           "INSUFFICIENT_CREDITS", ops["create_session"])
        assert (err["details"]["available"], err["details"]["shortfall"]) == (required - 1, 1), err
    control.set_credits(tenant.client_id, balance=required)
    created(create_session(client, persona["id"], consent_mode="integrator"), ops)
    account = client.get("/api/v1/credits").json()
    assert (account["creditBalance"], account.get("heldCredits", 0)) == (required, 0), \
        f"creating a session only checks the balance: {account}"


# --------------------------------------------------------------------------- reading and listing (INTV-8/10, LIST)

@covers("INTV-10", "INTV-5", "META-2", "POLL-3")
def test_a_new_session_reads_initiated_without_a_result(api, ops, persona, credit_guard):
    credit_guard.allow("creating an Interview session")
    made = created(create_session(api, persona["id"], consent_mode="integrator", metadata={"round": 1}), ops)
    session = read_session(api, ops, made["id"])
    assert session["status"] == "initiated" and session["metadata"] == {"round": 1} and session["tags"] == []
    assert (session["has_recording"], session["has_transcript"], session["opened_at"]) == (False, False, None)
    assert "error_code" not in session and session["expires_at"] == made["expires_at"]
    for kind in ("recording", "transcript"):
        err = assert_error(api.get(f"{SESSIONS}/{made['id']}/{kind}"), 409, "RESULT_NOT_READY", ops[kind])
        assert err["details"]["status"] == "initiated", err


@covers("INTV-8", "LIST-1", "LIST-4")
def test_sessions_list_filters_by_tags_metadata_and_status_newest_first(api, ops, persona, credit_guard):
    credit_guard.allow("creating three Interview sessions")
    tag = unique_tag("list")

    def make(**body):
        return created(create_session(api, persona["id"], consent_mode="integrator", **body), ops)["id"]

    first = make(tags=[tag, "a"], metadata={"round": 2})
    second = make(tags=[tag], metadata={"round": 1})
    third = make(tags=[tag], metadata={"flag": True})
    assert list_ids(api, ops, tags=tag) == [third, second, first], "newest first"
    assert list_ids(api, ops, tags=f"{tag},a") == [first], "tags match contains-all"
    assert list_ids(api, ops, tags=tag, metadata_key="round", metadata_value="2") == [first]
    assert list_ids(api, ops, tags=tag, metadata_key="flag", metadata_value="true") == [third]
    assert list_ids(api, ops, tags=tag, metadata_value="2") == [third, second, first], "a value needs its key"
    assert list_ids(api, ops, tags=tag, status="initiated") == [third, second, first]
    assert list_ids(api, ops, tags=tag, status="completed") == []


@covers("INTV-8", "LIST-1")
@pytest.mark.parametrize("params, field", [
    ({"status": "live"}, "status"), ({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
    ({"cursor": "not-a-cursor!"}, "cursor"),
], ids=["status", "limit-0", "limit-101", "cursor"])
def test_sessions_list_refuses_bad_filters(api, ops, params, field):
    refused_field(api.get(SESSIONS, params=params), ops["list_sessions"], field)


@covers("LIST-3", "INTV-8")
def test_session_pages_never_repeat_or_skip_while_sessions_arrive(api, ops, persona, credit_guard):
    credit_guard.allow("creating Interview sessions")
    tag = unique_tag("pages")

    def make() -> str:
        return created(create_session(api, persona["id"], consent_mode="integrator", tags=[tag]), ops)["id"]

    made = [make() for _ in range(5)]
    seen, cursor = [], None
    for _ in range(MAX_PAGES):
        resp = api.get(SESSIONS, params={"tags": tag, "limit": 2, **({"cursor": cursor} if cursor else {})})
        assert resp.status_code == 200, resp.text[:300]
        page = resp.json()
        seen += [row["id"] for row in page["sessions"]]
        make()  # a new arrival belongs before the first page, never in a later one
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == made[::-1]


@covers("AUTH-7", "LIST-1")
def test_sessions_inherit_the_keys_project_and_filter_by_it(api, ops, provision, credit_guard):
    credit_guard.allow("creating Interview sessions")
    tenant = provision.tenant("interview-project", permissions=["interview"])
    project_key = provision.key_on(tenant.client_id, project="ct-alpha")
    plain_client, project_client = api.with_key(tenant.key), api.with_key(project_key)
    persona = create_persona(plain_client, ops, role_name="Backend Engineer", language="en")
    plain = created(create_session(plain_client, persona["id"], consent_mode="integrator"), ops)
    in_project = created(create_session(project_client, persona["id"], consent_mode="integrator"), ops)
    assert (plain["project"], in_project["project"]) == (None, "ct-alpha")
    assert read_session(plain_client, ops, in_project["id"])["project"] == "ct-alpha"
    assert list_ids(plain_client, ops, project="ct-alpha") == [in_project["id"]]
    assert list_ids(plain_client, ops, project="none") == [plain["id"]]


@covers("AUTH-6", "POLL-5")
def test_another_tenant_cannot_see_a_session_or_its_result(api, second_api, ops, persona, credit_guard):
    credit_guard.allow("creating an Interview session")
    tag = unique_tag("tenancy")
    made = created(create_session(api, persona["id"], consent_mode="integrator", tags=[tag]), ops)
    for suffix, op in (("", "get_session"), ("/recording", "recording"), ("/transcript", "transcript")):
        assert_error(second_api.get(f"{SESSIONS}/{made['id']}{suffix}"), 404, "NOT_FOUND", ops[op])
    assert list_ids(second_api, ops, tags=tag) == []


@covers("INTV-4", "INTV-5", "INTV-10", "LIST-1")
def test_an_unused_link_expires_after_expires_in_and_the_session_fails_link_expired(api, ops, persona, credit_guard,
                                                                                    time_machine):
    credit_guard.allow("creating an Interview session")
    tag = unique_tag("expiry")
    made = created(create_session(api, persona["id"], consent_mode="integrator", expires_in=60, tags=[tag]), ops)
    time_machine.pass_time(60, "an unused candidate link to expire (expires_in 60)")
    assert list_ids(api, ops, tags=tag, status="failed") == [made["id"]], "listed as failed as of the request"
    session = read_session(api, ops, made["id"])
    assert (session["status"], session["error_code"]) == ("failed", "LINK_EXPIRED"), session
    assert session["started_at"] is None, "the interview never started"
    assert parse_timestamp(session["failed_at"]) >= parse_timestamp(made["expires_at"]) - 0.001
    assert (session["has_recording"], session["duration_seconds"]) == (False, None)
    assert_error(api.get(f"{SESSIONS}/{made['id']}/recording"), 409, "NO_RESULT", ops["recording"])


# --------------------------------------------------------------------------- the candidate's side (mock only)

@covers("INTV-5", "INTV-4", "INTV-10", "POLL-3")
def test_an_explicit_session_goes_live_only_after_consent_and_completes(interview_tenant, tenant_persona, ops,
                                                                       candidate, time_machine):
    client = interview_tenant[1]
    made = created(create_session(client, tenant_persona["id"], consent_mode="explicit"), ops)
    token = token_of(made)
    candidate.ok("open", token)
    candidate.refused("start", token, 409, "CONSENT_REQUIRED")
    waiting = read_session(client, ops, made["id"])
    assert waiting["status"] == "initiated" and waiting["opened_at"] and waiting["consent_given_at"] is None
    candidate.ok("consent", token)
    watch = time_machine.stopwatch()
    candidate.ok("start", token)
    live = read_session(client, ops, made["id"])
    assert live["status"] == "in_progress" and live["consent_given_at"] and live["max_duration_seconds"] >= 1, live
    err = assert_error(client.get(f"{SESSIONS}/{made['id']}/transcript"), 409, "RESULT_NOT_READY", ops["transcript"])
    assert err["details"]["status"] == "in_progress"
    time_machine.pass_time(30, "a live interview to run")
    candidate.ok("open", token)  # a reload while live changes nothing
    candidate.ok("start", token)  # nor does a reconnect
    assert read_session(client, ops, made["id"])["started_at"] == live["started_at"]
    time_machine.pass_time(INTERVIEW_SECONDS - 30, "a live interview to run")
    candidate.ok("finish", token)
    done = read_session(client, ops, made["id"])
    assert done["status"] == "completed" and done["has_recording"] and done["has_transcript"], done
    assert done["duration_seconds"] == pytest.approx(
        parse_timestamp(done["completed_at"]) - parse_timestamp(done["started_at"]), abs=0.002)
    assert_lasted(done["duration_seconds"], INTERVIEW_SECONDS, watch)
    for action in ("open", "start"):  # once terminal the link starts nothing
        candidate.refused(action, token, 409, "SESSION_ENDED")
    assert read_session(client, ops, made["id"])["status"] == "completed"


@covers("INTV-7")
def test_the_recording_is_a_playable_wav_of_the_sessions_length(interview_tenant, finished_interview, ops):
    session = finished_interview["session"]
    resp = interview_tenant[1].get(f"{SESSIONS}/{session['id']}/recording")
    assert resp.status_code == 200, resp.text[:300]
    assert resp.headers["content-type"].split(";")[0] == "audio/wav"
    assert int(resp.headers["content-length"]) == len(resp.content)
    with wave.open(io.BytesIO(resp.content)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2), "mono 16-bit PCM"
        seconds = audio.getnframes() / audio.getframerate()
        samples = array.array("h", audio.readframes(audio.getnframes()))
    assert seconds == pytest.approx(session["duration_seconds"], abs=0.05)
    assert any(samples), "the recording is not silence"


@covers("INTV-7", "META-4")
def test_the_transcript_is_json_turns_in_the_personas_language(interview_tenant, tenant_persona, finished_interview,
                                                               ops):
    session = finished_interview["session"]
    resp = interview_tenant[1].get(f"{SESSIONS}/{session['id']}/transcript")
    assert resp.status_code == 200, resp.text[:300]
    transcript = resp.json()
    assert_no_problems(schema_problems(ops["transcript"], 200, transcript))
    assert transcript["id"] == session["id"] and "session_id" not in transcript
    assert transcript["language"] == tenant_persona["language"]
    assert transcript["duration_seconds"] == pytest.approx(session["duration_seconds"], abs=0.05)
    turns = transcript["turns"]
    assert {turn["speaker"] for turn in turns} == {"interviewer", "candidate"}, turns[:3]
    assert [turn["start"] for turn in turns] == sorted(turn["start"] for turn in turns)
    assert all(0 <= turn["start"] < turn["end"] <= transcript["duration_seconds"] + 0.05 for turn in turns)


@covers("INTV-3", "INTV-5", "META-2")
def test_a_finished_session_keeps_its_fields_and_never_shows_the_token_again(interview_tenant, finished_interview,
                                                                            control):
    client = interview_tenant[1]
    session, token = finished_interview["session"], finished_interview["token"]
    assert session["status"] == "completed" and session["consent_given_at"] is None, "integrator mode has no gate"
    assert (session["candidate_ref"], session["metadata"], session["tags"]) == (
        "ct-ref-7", {"suite": "contract"}, ["ct-finished"])
    texts = [client.get(f"{SESSIONS}/{session['id']}").text, client.get(SESSIONS).text,
             client.get(f"{SESSIONS}/{session['id']}/transcript").text,
             client.get(f"{SESSIONS}/{session['id']}/recording").content.decode("latin-1"),
             json.dumps(control.journal(limit=1000)), json.dumps(control.deliveries())]
    leaked = [i for i, text in enumerate(texts) if token in text]
    assert not leaked, f"the token came back after creation (texts {leaked})"


@covers("INTV-5", "INTV-6", "INTV-7", "INTV-10", "LIST-1")
def test_a_live_interview_past_its_budget_fails_session_timeout_and_frees_its_slot(api, ops, provision, candidate,
                                                                                  credit_guard, time_machine):
    credit_guard.allow("creating Interview sessions")
    client = api.with_key(provision.tenant("interview-cap1", permissions=["interview"], maxConcurrentRequests=1).key)
    persona = create_persona(client, ops, role_name="Backend Engineer", language="en")
    first, second = (created(create_session(client, persona["id"], consent_mode="integrator"), ops) for _ in range(2))
    watch = time_machine.stopwatch()  # started before the first interview went live
    candidate.ok("start", token_of(first))
    candidate.ok("open", token_of(second))  # opening a link holds no slot
    refused = candidate.act("start", token_of(second))
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "CONCURRENCY_LIMIT", refused.text[:300]
    assert int(refused.headers["Retry-After"]) >= 1
    assert read_session(client, ops, second["id"])["status"] == "initiated"
    budget = read_session(client, ops, first["id"])["max_duration_seconds"]
    margin = boundary_margin(time_machine)
    time_machine.pass_time(budget - margin, "a live interview to near its time budget")
    status = read_session(client, ops, first["id"])["status"]
    assert status == "in_progress" or watch.elapsed() >= budget, \
        f"{status} before the {budget} s budget was up ({watch.elapsed():.1f} s at most of the target's time)"
    time_machine.pass_time(margin + 1, "a live interview to pass its time budget")
    timed_out = read_session(client, ops, first["id"])
    assert (timed_out["status"], timed_out["error_code"]) == ("failed", "SESSION_TIMEOUT"), timed_out
    assert (timed_out["has_recording"], timed_out["has_transcript"]) == (False, False), "a timeout leaves no result"
    assert timed_out["duration_seconds"] is None
    assert_error(client.get(f"{SESSIONS}/{first['id']}/recording"), 409, "NO_RESULT", ops["recording"])
    row = rows_by_id(client, status="failed")[first["id"]]
    assert row["error_code"] == "SESSION_TIMEOUT", "the list reports the status as of the request"
    assert candidate.ok("start", token_of(second))["status"] == "in_progress", "the timed-out slot is free again"
    candidate.ok("drop", token_of(second))


@covers("INTV-9", "INTV-4", "INTV-7", "INTV-10")
def test_a_session_that_ended_without_a_result_is_reinvited_with_a_fresh_link(interview_tenant, tenant_persona, ops,
                                                                             candidate, time_machine):
    client = interview_tenant[1]
    made = created(create_session(client, tenant_persona["id"], consent_mode="integrator", candidate_ref="ats-9",
                                  metadata={"round": 3}, tags=["ct-reinvite"], expires_in=7200), ops)
    old_token = token_of(made)
    candidate.ok("start", old_token)
    candidate.ok("drop", old_token)
    dropped = read_session(client, ops, made["id"])
    assert (dropped["status"], dropped["error_code"]) == ("failed", "CANDIDATE_DROPPED")
    assert dropped["has_recording"] is False, "a plain drop leaves no result"
    candidate.refused("start", old_token, 409, "SESSION_ENDED")
    resp = candidate.reinvite(made["id"])
    assert resp.status_code == 200, resp.text[:300]
    again = resp.json()
    assert (again["id"], again["status"]) == (made["id"], "initiated")
    new_token = token_of(again)
    assert new_token != old_token
    session = read_session(client, ops, made["id"])
    assert session["status"] == "initiated" and "error_code" not in session, "the failure reason is cleared"
    for name in ("persona_id", "candidate_ref", "project", "tags", "metadata", "consent_mode"):
        assert session[name] == made[name], f"{name} is kept by the re-invite"
    assert session["expires_at"] == again["expires_at"] and session["opened_at"] is None
    candidate.refused("open", old_token, 404, "INVALID_TOKEN")
    candidate.ok("start", new_token)
    time_machine.pass_time(30, "a re-invited interview to run")
    candidate.ok("finish", new_token)
    assert read_session(client, ops, made["id"])["status"] == "completed"
    refused = candidate.reinvite(made["id"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "NOT_REINVITABLE", refused.text[:300]


@covers("INTV-9", "INTV-7")
def test_a_failed_session_with_a_partial_result_keeps_it_and_cannot_be_reinvited(interview_tenant, tenant_persona,
                                                                                 ops, candidate, time_machine):
    client = interview_tenant[1]
    made = created(create_session(client, tenant_persona["id"], consent_mode="integrator"), ops)
    watch = time_machine.stopwatch()
    candidate.ok("start", token_of(made))
    time_machine.pass_time(40, "a live interview to run before the candidate leaves")
    candidate.ok("drop", token_of(made), keep_recording=True)
    session = read_session(client, ops, made["id"])
    assert (session["status"], session["error_code"], session["has_recording"]) == ("failed", "CANDIDATE_DROPPED", True)
    assert_lasted(session["duration_seconds"], 40, watch)
    resp = client.get(f"{SESSIONS}/{made['id']}/recording")
    assert resp.status_code == 200 and resp.headers["content-type"].split(";")[0] == "audio/wav", resp.text[:200]
    refused = candidate.reinvite(made["id"])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "NOT_REINVITABLE", refused.text[:300]


@covers("INTV-4")
def test_an_expired_link_cannot_start_an_interview(interview_tenant, tenant_persona, ops, candidate, time_machine):
    client = interview_tenant[1]
    watch = time_machine.stopwatch()  # started before the link was made
    made = created(create_session(client, tenant_persona["id"], consent_mode="integrator", expires_in=60), ops)
    time_machine.pass_time(59, "a candidate link to near its expiry")
    opened = candidate.act("open", token_of(made))
    if watch.elapsed() < 60:  # the target's time at the open was certainly before the expiry
        assert opened.status_code == 200 and opened.json()["status"] == "initiated", opened.text[:300]
    else:  # a fast-running clock may have crossed the expiry on its own: either answer is right
        assert opened.status_code == 200 or (opened.status_code, opened.json()["error"]["code"]) == (
            410, "LINK_EXPIRED"), opened.text[:300]
    time_machine.pass_time(1, "a candidate link to expire")
    candidate.refused("start", token_of(made), 410, "LINK_EXPIRED")
    assert read_session(client, ops, made["id"])["error_code"] == "LINK_EXPIRED"


# --------------------------------------------------------------------------- the completion callback (HOOK-*)

@pytest.fixture(scope="module")
def delivery_log(target, control, ops):
    """The mock's webhook delivery log; skips when the target keeps none or the contract gives
    sessions no callback URL (A4)."""
    if not (target.capabilities or {}).get("webhookLog"):
        pytest.skip("the target exposes no webhook delivery log")
    if "webhook_url" not in json.dumps(ops["create_session"].request_schema("application/json") or {}):
        pytest.skip("the contract gives Interview sessions no webhook_url (A4)")
    return control


def hooked_tenant(api, ops, provision, label: str):
    tenant = provision.tenant(label, permissions=["interview"])
    client = api.with_key(tenant.key)
    return tenant, client, create_persona(client, ops, role_name="Backend Engineer", language="en")


def expire_with_callback(client, ops, persona_id: str, url: str, time_machine, **body) -> dict:
    """A session whose link expires unused 60 s after creation, so its end is called back."""
    resp = create_session(client, persona_id, consent_mode="integrator", webhook_url=url, expires_in=60, **body)
    if url == UNRESOLVABLE_HOOK and resp.status_code == 400:
        pytest.skip(f"the target refuses a callback host that does not resolve ({resp.text[:120]})")
    made = created(resp, ops)
    time_machine.pass_time(60, "an unused candidate link to expire and be called back")
    return made


def callback_attempts(log, client_id: str, session_id: str) -> tuple[list[dict], list[dict]]:
    """(delivery records, their attempts) of one session's callbacks."""
    records = [d for d in log.deliveries(client_id) if d.get("run_id") == session_id]
    return records, [a for d in records for a in d.get("attempts", [])]


def let_retries_fall_due(time_machine) -> None:
    for _ in range(RETRY_WINDOW_SECONDS):
        time_machine.pass_time(1, "callback retries to fall due")


def boundary_margin(time_machine) -> float:
    """How far before a deadline a test looks (target seconds): 1 s, or more on a clock that
    runs on its own fast enough to cross that in the half second a few requests may take."""
    return max(1.0, time_machine.drift(0.5))


def assert_lasted(duration: float, passed: float, watch) -> None:
    """A duration the target reports covers the ``passed`` seconds the test let pass, and no
    more than the target time the ``watch`` saw (both sides read from the target's clock)."""
    assert passed - 0.002 <= duration <= watch.elapsed() + 0.002, \
        f"duration {duration} s: {passed} s were passed, at most {watch.elapsed():.3f} s of the target's time elapsed"


def assert_documented_waits(attempts: list[dict], slack: float = 0.0) -> None:
    """The waits between attempts (their logged target times) are about 1 s then 4 s: never
    sooner, and later by at most ``slack`` — the target time that passes on its own (a scaled
    clock) while the attempts are made and the clock is stepped."""
    times = [parse_timestamp(a["at"]) for a in attempts]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert all(low <= gap <= high + slack for gap, (low, high) in zip(gaps, RETRY_GAPS)), \
        f"waits between attempts {gaps} are not about 1 s then 4 s (slack {slack:.1f} s of a running clock)"


@covers("HOOK-3", "HOOK-4", "HOOK-8", "A4", "INTV-5")
def test_the_end_of_a_session_is_called_back_signed_with_x_interview_signature(api, ops, target, provision,
                                                                              delivery_log, contract, credit_guard,
                                                                              time_machine):
    credit_guard.allow("creating an Interview session")
    tenant, client, persona = hooked_tenant(api, ops, provision, "interview-hook")
    secret = "whsec_" + secrets.token_hex(16)
    delivery_log.set_webhook_secret(tenant.client_id, secret)
    local = bool((target.capabilities or {}).get("allowLocalWebhooks"))
    with WebhookReceiver() as receiver:
        made = expire_with_callback(client, ops, persona["id"], receiver.url if local else UNRESOLVABLE_HOOK,
                                    time_machine, candidate_ref="ct-hook")
        for _ in range(CALLBACK_ROUNDS):
            records, attempts = callback_attempts(delivery_log, tenant.client_id, made["id"])
            if attempts:
                break
            time_machine.pass_time(1, "the callback to be attempted")
        assert len(records) == 1, f"one callback per session end, found {len(records)}"
        assert attempts, "the callback was never attempted"
        received = receiver.wait_for(1, timeout=5) if local else []
    headers = {k.lower(): v for k, v in attempts[0]["request_headers"].items()}
    body = received[0].body if received else attempts[0]["body"].encode("utf-8")
    if received:
        assert received[0].body == attempts[0]["body"].encode("utf-8"), "the log shows the exact bytes sent"
        assert received[0].header("X-Interview-Signature") == headers["x-interview-signature"]
    assert headers["content-type"].split(";")[0] == "application/json"
    assert headers["x-interview-request-id"] == f"api_{made['id']}"
    signature = headers["x-interview-signature"]
    assert re.fullmatch(r"t=[0-9]+,v1=[0-9a-f]{64}", signature), signature
    assert signature.split(",")[0] == f"t={headers['x-interview-signature-timestamp']}"
    # HOOK-8: against a receiver's real clock (at arrival, or now when only the log was read)
    assert_no_problems(verify_signature(signature, body, secret, now=received[0].at if received else time.time()))
    event = json.loads(body)
    assert_no_problems(webhook_problems(contract, event))
    assert json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8") == body, \
        "the body is compact JSON"
    assert (event["event"], event["error_code"], event["id"], event["candidate_ref"]) == (
        "interview.session.failed", "LINK_EXPIRED", made["id"], "ct-hook")
    assert token_of(made) not in body.decode("utf-8")


@covers("HOOK-5", "A3")
@pytest.mark.parametrize("statuses, expected", [
    ((503, 503, 503), 3), ((500, 200), 2), ((429, 200), 2), ((400,), 1),
], ids=["5xx-exhausted", "5xx-then-ok", "429-then-ok", "4xx-permanent"])
def test_callbacks_are_retried_on_5xx_and_429_at_most_three_times(api, ops, target, provision, delivery_log,
                                                                 credit_guard, time_machine, statuses, expected):
    if not (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("programmed receiver answers need a target that calls local receivers")
    credit_guard.allow("creating an Interview session")
    tenant, client, persona = hooked_tenant(api, ops, provision, "interview-retry")
    with WebhookReceiver(statuses=statuses) as receiver:
        started = time.monotonic()
        made = expire_with_callback(client, ops, persona["id"], receiver.url, time_machine)
        let_retries_fall_due(time_machine)
        received = receiver.wait_for(expected, timeout=5)
        took = time.monotonic() - started
    _, attempts = callback_attempts(delivery_log, tenant.client_id, made["id"])
    assert len(received) == len(attempts) == expected, \
        f"receiver answers {statuses}: {len(received)} received, {len(attempts)} logged, {expected} expected"
    assert len({r.body for r in received}) == 1, "every attempt carries the same body"
    assert_documented_waits(attempts, slack=time_machine.drift(took))


@covers("HOOK-5", "A3")
def test_a_callback_that_cannot_connect_is_tried_three_times(api, ops, provision, delivery_log, credit_guard,
                                                            time_machine):
    credit_guard.allow("creating an Interview session")
    tenant, client, persona = hooked_tenant(api, ops, provision, "interview-unreachable")
    started = time.monotonic()
    made = expire_with_callback(client, ops, persona["id"], UNRESOLVABLE_HOOK, time_machine)
    let_retries_fall_due(time_machine)
    _, attempts = callback_attempts(delivery_log, tenant.client_id, made["id"])
    assert len(attempts) == 3, f"a network error is retried, 3 attempts in all: {len(attempts)} made"
    assert_documented_waits(attempts, slack=time_machine.drift(time.monotonic() - started))

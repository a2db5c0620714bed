"""Creating Interview sessions over HTTP (INTV-2, INTV-3, INTV-6, CRED-5, META-1, AUTH-7,
HOOK-1): the candidate link with the token in its fragment, shown once, its TTL, consent mode,
correlation fields, callback URL admission, minting never refused for concurrency, and the
minimum balance. Shared helpers: ``interview_helpers``.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import assert_error, parse_timestamp
from contract_tests.interview_helpers import (PERSONAS, SESSIONS, UUID, create_persona, create_session, created,
                                              read_session, refused_field, rows_by_id, token_of, unique_tag)
from contract_tests.interview_helpers import module_credits, ops, persona  # noqa: F401  (fixtures)

DOCS_LINK_PREFIX = "https://interview.zenhire.ai/"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
SEVEN_DAYS = 604800
DEFAULT_CAP = 8  # maxConcurrentRequests by default (Rate limits & concurrency)


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

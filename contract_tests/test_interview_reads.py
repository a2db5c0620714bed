"""Reading and listing Interview sessions over HTTP (INTV-4, INTV-8, INTV-10, LIST-1, LIST-3,
META-2, AUTH-6, AUTH-7): a new session reads initiated, the list's filters and cursor pages,
projects, tenancy, and an unused link expiring. Shared helpers: ``interview_helpers``.
"""

from __future__ import annotations

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import assert_error, assert_no_problems, parse_timestamp
from contract_tests.contract import schema_problems
from contract_tests.interview_helpers import (MAX_PAGES, SESSIONS, create_persona, create_session, created,
                                              read_session, refused_field, unique_tag)
from contract_tests.interview_helpers import module_credits, ops, persona  # noqa: F401  (fixtures)


# --------------------------------------------------------------------------- helpers

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

"""The control endpoints the console (#17) reads, without a browser: the paged journal and
one entry's masked detail, run timelines with credits and throttled polls, Interview sessions
among the runs (their steps on the virtual clock, the API's status, callbacks queued, never the
token), what a clock move made due, one webhook delivery and its resend, a client's ledger, and
the page itself —
each with its bad input (400 envelope) and unknown ids (404). Time moves only through the
manual clock.
"""

from __future__ import annotations

import time

import pytest

from conftest import CAP2, FULL, SECOND, Api, make_app
from mockserver.platform.registry import DEFAULT_WEBHOOK_SECRET
from mockserver.webhooks import verify_signature
from test_cvdeepmatch_submit import accepted_id
from test_cvdeepmatch_submit import submit as submit_match
from test_cvdeepmatch_webhooks import FAST, hook_app
from cvds_contract_helpers import SEARCH_SECONDS, candidate, ingest, run_path, search
from test_interview_support import SESSIONS, act_ok, make_persona, make_session, token_of
from mockserver.modules.interview.tokens import hash_token
from tests.support.webhook_receiver import WebhookReceiver, status
from tests.test_speech_support import advance_to, audio, poll, run_doc, submitted

ACME_SECRET = "whsec_acme_mock_signing_secret_0001"


def assert_envelope(response, status_code: int, code: str) -> None:
    assert response.status_code == status_code, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["timestamp"]


# -- the journal: pages, filters, one entry --------------------------------------------------

def test_journal_pages_walk_every_entry_newest_first_without_repeats_while_requests_arrive(api):
    for _ in range(25):
        api.call("GET", "/api/v1/credits")
    first = api.get("/__mock/journal", params={"limit": 10}).json()
    assert first["total"] == 25 and len(first["entries"]) == 10 and first["nextCursor"]
    api.call("GET", "/api/v1/credits")  # a newer request must not shift the older pages
    seen = [e["seq"] for e in first["entries"]]
    cursor = first["nextCursor"]
    while cursor:
        page = api.get("/__mock/journal", params={"limit": 10, "cursor": cursor}).json()
        seen += [e["seq"] for e in page["entries"]]
        cursor = page["nextCursor"]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 25
    assert seen[-1] == min(seen) and seen[0] - seen[-1] == 24


def test_journal_filters_by_module_status_class_and_a_part_of_the_path(api):
    api.call("GET", "/api/v1/credits")
    api.call("GET", "/api/v1/speech/analyze/req_0000000000000_nope")
    api.call("GET", "/api/v1/credits", key=None)
    speech = api.get("/__mock/journal", params={"module": "speech"}).json()["entries"]
    assert [e["status"] for e in speech] == [404]
    client_errors = api.get("/__mock/journal", params={"status": "4xx"}).json()["entries"]
    assert sorted(e["status"] for e in client_errors) == [401, 404]
    assert [e["path"] for e in api.get("/__mock/journal", params={"pathContains": "nope"}).json()["entries"]] \
        == ["/api/v1/speech/analyze/req_0000000000000_nope"]
    assert api.get("/__mock/journal", params={"status": "200", "client": "acme"}).json()["total"] == 1


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "ten"}, {"cursor": "abc"}, {"status": "oops"},
                                    {"cursor": "-3"}])
def test_bad_journal_paging_input_is_a_400_envelope(api, params):
    assert_envelope(api.get("/__mock/journal", params=params), 400, "INVALID_INPUT")


def test_the_journal_holds_20000_entries_and_pages_reach_the_oldest(api):
    journal = api.platform.journal
    api.call("GET", "/api/v1/credits")
    model = api.get("/__mock/journal/" + api.get("/__mock/journal").json()["entries"][0]["requestId"]).json()
    for n in range(20_000):
        journal.record(dict(model, seq=journal.next_seq(), requestId=f"req_fill_{n}"))
    first = api.get("/__mock/journal", params={"limit": 1000}).json()
    assert first["total"] == 20_000 and first["entries"][0]["requestId"] == "req_fill_19999"
    cursor, pages = first["nextCursor"], 1
    while cursor:
        page = api.get("/__mock/journal", params={"limit": 1000, "cursor": cursor}).json()
        pages, cursor = pages + 1, page["nextCursor"]
    assert pages == 20 and page["entries"][-1]["requestId"] == "req_fill_0"


def test_a_journal_entry_opens_to_masked_headers_body_excerpts_and_the_run_it_created(api):
    run_id = submitted(api, externalId="cand-7")["id"]
    entries = api.get("/__mock/journal", params={"operation": "submitSpeechAnalysis"}).json()["entries"]
    assert entries[0]["runId"] == run_id and "requestHeaders" not in entries[0]
    entry = api.get(f"/__mock/journal/{entries[0]['requestId']}").json()
    assert entry["requestHeaders"]["x-api-key"] == "zh_api[masked]" and FULL not in str(entry)
    assert '"externalId":"cand-7"' in entry["requestBody"]
    assert f"<file interview.flac, {len(audio())} bytes>" in entry["requestBody"]
    assert f'"id":"{run_id}"' in entry["responseBody"]
    poll(api, run_id)
    read = api.get("/__mock/journal", params={"runId": run_id}).json()["entries"]
    assert [e["operation"] for e in read] == ["getSpeechAnalysis", "submitSpeechAnalysis"]


def test_a_candidate_token_is_masked_in_the_journal_entry_of_the_session_that_returned_it(api):
    created = make_session(api, make_persona(api)["id"])
    token = token_of(created)
    request_id = api.get("/__mock/journal", params={"operation": "createInterviewSession"}).json()["entries"][0]["requestId"]
    entry = api.get(f"/__mock/journal/{request_id}")
    assert token not in entry.text and "#t=[masked]" in entry.json()["responseBody"]
    assert entry.json()["runId"] == created["id"]


def test_an_unknown_request_id_is_404(api):
    assert_envelope(api.get("/__mock/journal/req_0000000000000_none"), 404, "NOT_FOUND")


# -- runs --------------------------------------------------------------------------------------

def run_view(api, run_id: str) -> dict:
    response = api.get(f"/__mock/runs/{run_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_a_queued_speech_run_shows_its_timeline_credits_and_throttled_polls(api):
    ids = [submitted(api, key=CAP2, data=audio("flac", 200.0, n))["id"] for n in range(3)]
    queued = ids[2]
    assert poll(api, queued, key=CAP2).status_code == 200
    assert poll(api, queued, key=CAP2).status_code == 429  # within 10 s: throttled
    doc = run_doc(api, queued)
    view = run_view(api, queued)
    assert [p["state"] for p in view["timeline"]] == ["accepted", "queued", "processing", "success"]
    assert [p["epoch"] for p in view["timeline"]] == [doc["created_at"], doc["created_at"], doc["start_at"], doc["finish_at"]]
    assert view["status"] == "queued" and view["client"] == "acme"
    assert view["credits"]["held"] == doc["cost"] and view["credits"]["charged"] == 0
    assert view["credits"]["pendingSettlement"]["action"] == "charge"
    assert view["polls"]["received"] == 2 and view["polls"]["throttled"] == 1
    assert [p["throttled"] for p in view["polls"]["entries"]] == [False, True]
    advance_to(api, doc["finish_at"])
    done = run_view(api, queued)
    assert done["status"] == "success" and all(p["reached"] for p in done["timeline"])
    assert done["credits"]["charged"] == doc["cost"] and done["credits"]["pendingSettlement"] is None


def test_runs_list_both_modules_newest_first_and_filter_by_module_and_client(api):
    speech_id = submitted(api)["id"]
    api.advance(1)
    match_id = accepted_id(submit_match(api))
    submitted(api, key=SECOND)
    both = api.get("/__mock/runs", params={"client": "acme"}).json()["runs"]
    assert [r["id"] for r in both] == [match_id, speech_id]
    match = api.get("/__mock/runs", params={"module": "cvdeepmatch"}).json()["runs"]
    assert [r["id"] for r in match] == [match_id]
    assert [p["state"] for p in match[0]["timeline"]] == ["accepted", "processing", match[0]["outcome"]]
    assert match[0]["credits"]["held"] == 3


def test_a_cv_deepsearch_run_shows_pending_then_its_ending_with_throttled_polls(api):
    assert ingest(api, [candidate("c1")]).status_code == 200
    run_id = search(api).json()["id"]
    assert api.call("GET", run_path(run_id)).status_code == 200
    assert api.call("GET", run_path(run_id)).status_code == 429
    view = run_view(api, run_id)
    assert [p["state"] for p in view["timeline"]] == ["accepted", "pending", "completed"]
    assert view["status"] == "pending" and view["module"] == "cvdeepsearch"
    assert (view["polls"]["received"], view["polls"]["throttled"]) == (2, 1)
    api.advance(SEARCH_SECONDS)
    assert api.call("GET", run_path(run_id)).json()["status"] == "completed"
    done = api.get("/__mock/runs", params={"module": "cvdeepsearch"}).json()["runs"]
    assert [(r["id"], r["status"]) for r in done] == [(run_id, "completed")]


def test_a_cv_deepsearch_run_planned_to_fail_names_its_error(api):
    ingest(api, [candidate("embed-fail-1")])
    run_id = search(api).json()["id"]
    view = run_view(api, run_id)
    assert view["outcome"] == "failed" and view["error"] == "CORPUS_EMPTY"


# -- Interview sessions among the runs ---------------------------------------------------------

HOOK = "https://hooks.example.com/interview"


def api_session(api, session_id: str) -> dict:
    response = api.call("GET", f"{SESSIONS}/{session_id}")
    assert response.status_code == 200, response.text
    return response.json()


def test_an_interview_session_shows_each_candidate_step_at_its_virtual_time_and_the_callback_queued(api):
    created = make_session(api, make_persona(api)["id"], consent_mode="explicit", candidate_ref="ats-9",
                           tags=["console"], webhook_url=HOOK)
    token = token_of(created)
    fresh = run_view(api, created["id"])
    assert (fresh["module"], fresh["client"], fresh["status"], fresh["outcome"]) == ("interview", "acme", "initiated", None)
    assert fresh["createdAt"] == created["created_at"] and fresh["endedAt"] is None
    initiated, deadline = fresh["timeline"]
    assert (initiated["state"], initiated["at"], initiated["reached"]) == ("initiated", created["created_at"], True)
    assert (deadline["state"], deadline["error"], deadline["at"], deadline["reached"]) == \
        ("failed", "LINK_EXPIRED", created["expires_at"], False)
    create_request = api.get("/__mock/journal", params={"operation": "createInterviewSession"}).json()["entries"][0]
    assert fresh["submitRequestIds"] == [create_request["requestId"]]
    assert (fresh["externalId"], fresh["tags"], fresh["callbacks"]) == ("ats-9", ["console"], [])
    for action in ("open", "consent", "start"):
        api.advance(10)
        act_ok(api, action, token)
    live = run_view(api, created["id"])
    assert [p["state"] for p in live["timeline"]] == ["initiated", "opened", "consented", "in_progress", "failed"]
    assert (live["status"], live["timeline"][-1]["error"], live["timeline"][-1]["reached"]) == \
        ("in_progress", "SESSION_TIMEOUT", False)
    api.advance(90)
    act_ok(api, "finish", token)
    read = api_session(api, created["id"])
    done = run_view(api, created["id"])
    assert [(p["state"], p["at"]) for p in done["timeline"]] == [
        ("initiated", read["created_at"]), ("opened", read["opened_at"]), ("consented", read["consent_given_at"]),
        ("in_progress", read["started_at"]), ("completed", read["completed_at"])]
    assert [p["epoch"] - done["timeline"][0]["epoch"] for p in done["timeline"]] == [0, 10, 20, 30, 120]
    assert all(p["reached"] for p in done["timeline"])
    assert (done["status"], done["outcome"], done["endedAt"]) == ("completed", "completed", read["completed_at"])
    assert done["session"]["hasRecording"] and done["session"]["durationSeconds"] == 90
    assert done["polls"]["received"] == 1
    [callback] = done["callbacks"]
    delivery = api.get("/__mock/webhooks/deliveries").json()["deliveries"][0]
    assert (callback["deliveryId"], callback["queuedAt"]) == (delivery["id"], read["completed_at"])
    listed = api.get("/__mock/runs", params={"module": "interview"}).json()["runs"]
    assert listed == [done]
    for text in (str(done), str(listed), api.get("/__mock/runs").text):
        assert token not in text and hash_token(token) not in text


def test_a_sessions_status_is_the_apis_at_the_current_virtual_time_without_any_api_read(api):
    persona = make_persona(api)
    unused = make_session(api, persona["id"], expires_in=600)
    live = make_session(api, persona["id"])
    act_ok(api, "start", token_of(live))
    api.advance(2700)
    views = {r["id"]: r for r in api.get("/__mock/runs", params={"module": "interview", "client": "acme"}).json()["runs"]}
    assert [views[s["id"]]["error"] for s in (unused, live)] == ["LINK_EXPIRED", "SESSION_TIMEOUT"]
    for session in (unused, live):
        view, read = views[session["id"]], api_session(api, session["id"])
        assert view["status"] == read["status"] == "failed" and view["error"] == read["error_code"]
        assert view["endedAt"] == read["failed_at"] == view["timeline"][-1]["at"] and view["timeline"][-1]["reached"]
    assert views[unused["id"]]["endedAt"] == unused["expires_at"]


def test_runs_list_every_module_with_sessions_newest_first_and_filter_by_client(api):
    speech_id = submitted(api)["id"]
    api.advance(1)
    session_id = make_session(api, make_persona(api)["id"])["id"]
    api.advance(1)
    match_id = accepted_id(submit_match(api))
    other = make_session(api, make_persona(api, key=SECOND)["id"], key=SECOND)["id"]
    everything = api.get("/__mock/runs").json()
    assert everything["modules"] == ["speech", "cvdeepmatch", "cvdeepsearch", "interview"]
    assert [r["id"] for r in everything["runs"]] == [other, match_id, session_id, speech_id]
    acme = api.get("/__mock/runs", params={"client": "acme"}).json()["runs"]
    assert [(r["id"], r["module"]) for r in acme] == [(match_id, "cvdeepmatch"), (session_id, "interview"),
                                                      (speech_id, "speech")]
    assert [r["id"] for r in api.get("/__mock/runs", params={"limit": "2"}).json()["runs"]] == [other, match_id]


def test_a_reinvited_session_shows_the_reinvite_and_its_new_link_deadline(api):
    created = make_session(api, make_persona(api)["id"], expires_in=600)
    api.advance(600)
    assert run_view(api, created["id"])["status"] == "failed"
    api.advance(30)
    again = api.post(f"/__mock/interview/sessions/{created['id']}/reinvite", json={})
    assert again.status_code == 200, again.text
    view = run_view(api, created["id"])
    assert [p["state"] for p in view["timeline"]] == ["initiated", "reinvited", "failed"]
    reinvited, deadline = view["timeline"][1:]
    assert reinvited["epoch"] - view["timeline"][0]["epoch"] == 630 and reinvited["reached"]
    assert deadline["epoch"] - reinvited["epoch"] == 600 and not deadline["reached"]
    assert (view["status"], view["error"], view["session"]["invites"]) == ("initiated", None, 2)


def test_clock_changes_name_the_session_steps_reached_between_two_instants(api):
    created = make_session(api, make_persona(api)["id"], expires_in=600)
    before = api.platform.clock.now()
    moved = api.advance(600)
    changes = api.get("/__mock/clock/changes", params={"since": before, "until": moved["epoch"]}).json()
    assert [(c["runId"], c["module"], c["state"], c["at"]) for c in changes["runStates"]] == \
        [(created["id"], "interview", "failed", created["expires_at"])]
    assert api.get("/__mock/clock/changes", params={"since": moved["epoch"]}).json()["runStates"] == []


@pytest.mark.parametrize("params", [{"module": "fax"}, {"limit": "0"}, {"limit": "x"}])
def test_bad_runs_queries_are_400(api, params):
    assert_envelope(api.get("/__mock/runs", params=params), 400, "INVALID_INPUT")


def test_unknown_runs_and_clients_are_404(api):
    assert_envelope(api.get("/__mock/runs/req_0000000000000_none"), 404, "NOT_FOUND")
    assert_envelope(api.get("/__mock/runs", params={"client": "nobody"}), 404, "NOT_FOUND")


# -- what a clock move made due ----------------------------------------------------------------

def test_clock_changes_name_the_run_states_reached_between_two_instants(api):
    run_id = submitted(api)["id"]
    doc = run_doc(api, run_id)
    before = api.platform.clock.now()
    moved = api.advance(doc["finish_at"] - before)
    changes = api.get("/__mock/clock/changes", params={"since": before, "until": moved["epoch"]}).json()
    assert [(c["runId"], c["state"]) for c in changes["runStates"]] == [(run_id, "success")]
    later = api.get("/__mock/clock/changes", params={"since": moved["epoch"]}).json()
    assert later["runStates"] == []


@pytest.mark.parametrize("params", [{}, {"since": "yesterday"}, {"since": "100", "until": "50"}])
def test_bad_clock_change_windows_are_400(api, params):
    assert_envelope(api.get("/__mock/clock/changes", params=params), 400, "INVALID_INPUT")


# -- webhook deliveries and resend -------------------------------------------------------------

def test_a_resend_is_a_new_attempt_signed_anew_and_recorded_as_a_resend():
    with WebhookReceiver() as receiver, Api(hook_app()) as hooks:
        run_id = accepted_id(submit_match(hooks, webhook_url=receiver.url, headers=FAST))
        moved = hooks.advance(5)
        assert moved["webhookAttempts"] == 1
        changes = hooks.get("/__mock/clock/changes", params={"since": moved["epoch"] - 5}).json()
        assert [(a["runId"], a["n"]) for a in changes["webhookAttempts"]] == [(run_id, 1)]
        delivery_id = hooks.get("/__mock/webhooks/deliveries").json()["deliveries"][0]["id"]
        hooks.advance(120)
        hooks.put("/__mock/clients/acme/webhook-secret", json={"secret": ACME_SECRET})
        response = hooks.post(f"/__mock/webhooks/deliveries/{delivery_id}/resend")
        assert response.status_code == 200, response.text
        record = hooks.get(f"/__mock/webhooks/deliveries/{delivery_id}").json()
        assert record == response.json()
        first, again = record["attempts"]
        assert again["n"] == 2 and again["resend"] is True and again["outcome"] == "delivered"
        assert "resend" not in first and record["state"] == "delivered"
        assert len(receiver.requests) == 2 and receiver.requests[0].body == receiver.requests[1].body
        header = receiver.requests[1].header("X-CVDM-Signature")
        stamp = int(receiver.requests[1].header("X-CVDM-Signature-Timestamp"))
        # Signed anew: t= is the resend's own real time (HOOK-8), and it verifies with the docs' rule.
        assert header == again["request_headers"]["X-CVDM-Signature"] and header.startswith(f"t={stamp},")
        assert again["signature_timestamp"] == stamp >= first["signature_timestamp"]
        assert abs(stamp - time.time()) < 60
        assert verify_signature(header, receiver.requests[1].body, ACME_SECRET)
        assert not verify_signature(header, receiver.requests[1].body, DEFAULT_WEBHOOK_SECRET, now=stamp)


def test_resending_a_failed_delivery_that_now_succeeds_marks_it_delivered():
    with WebhookReceiver([status(400)]) as receiver, Api(hook_app()) as hooks:
        accepted_id(submit_match(hooks, webhook_url=receiver.url, headers=FAST))
        hooks.advance(5)
        failed = hooks.get("/__mock/webhooks/deliveries").json()["deliveries"][0]
        assert failed["state"] == "failed"
        receiver.program(status(200))
        record = hooks.post(f"/__mock/webhooks/deliveries/{failed['id']}/resend").json()
        assert record["state"] == "delivered" and [a["status"] for a in record["attempts"]] == [400, 200]
        receiver.program(status(500))
        again = hooks.post(f"/__mock/webhooks/deliveries/{failed['id']}/resend").json()
        assert again["attempts"][-1]["outcome"] == "failed" and again["state"] == "delivered"
        assert again["next_attempt_at"] is None  # a failed resend schedules no retry


def test_unknown_deliveries_are_404(api):
    assert_envelope(api.get("/__mock/webhooks/deliveries/whd_none"), 404, "NOT_FOUND")
    assert_envelope(api.post("/__mock/webhooks/deliveries/whd_none/resend"), 404, "NOT_FOUND")


# -- tenants: the ledger -------------------------------------------------------------------------

def test_a_clients_ledger_pages_every_transaction_newest_first(api):
    for delta in (1, 2, 3, 4, 5):
        api.post("/__mock/clients/acme/credits", json={"delta": delta})
    first = api.get("/__mock/clients/acme/ledger", params={"limit": 3}).json()
    assert first["account"]["creditBalance"] == 100015
    assert [t["amount"] for t in first["transactions"]] == [5, 4, 3]
    rest = api.get("/__mock/clients/acme/ledger", params={"limit": 3, "cursor": first["nextCursor"]}).json()
    assert [t["amount"] for t in rest["transactions"]] == [2, 1] and rest["nextCursor"] is None


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "many"}, {"cursor": "x"}])
def test_bad_ledger_paging_is_400(api, params):
    assert_envelope(api.get("/__mock/clients/acme/ledger", params=params), 400, "INVALID_INPUT")


def test_an_unknown_clients_ledger_is_404(api):
    assert_envelope(api.get("/__mock/clients/nobody/ledger"), 404, "NOT_FOUND")


# -- the page and the control token ------------------------------------------------------------

def test_the_console_page_is_served_without_the_token_and_its_data_needs_it():
    with Api(make_app(control_token="s3cret")) as guarded:
        page = guarded.get("/__mock/console")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "/__mock/console/console.js" in page.text and "Content-Security-Policy" in page.headers
        assert guarded.get("/__mock/console/console.js").status_code == 200
        assert guarded.get("/__mock/console/console.css").headers["content-type"].startswith("text/css")
        assert guarded.get("/__mock/console/secrets.txt").status_code == 404
        assert_envelope(guarded.get("/__mock/runs"), 401, "CONTROL_TOKEN_REQUIRED")
        assert_envelope(guarded.get("/__mock/journal"), 401, "CONTROL_TOKEN_REQUIRED")
        assert guarded.get("/__mock/runs", headers={"X-Mock-Control-Token": "s3cret"}).status_code == 200

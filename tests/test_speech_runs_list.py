"""`GET /api/v1/speech/runs`: the shared filter language, Speech's own filters, newest-first
cursor pages and CV DeepMatch rows (LIST-1, LIST-2, LIST-4, AUTH-6, AUTH-7, META-2).
"""

from __future__ import annotations

import json

import pytest

from mockserver.clock import iso
from tests.conftest import FULL, PROJECT_ALPHA, SECOND
from tests.test_speech_support import RUNS, advance_to, assert_error, audio, run_doc, submitted


def listing(api, key: str = FULL, **params) -> dict:
    r = api.call("GET", RUNS, key=key, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def ids(page: dict) -> list[str]:
    return [row["id"] for row in page["runs"]]


def put_cvdm_summary(api, run_id: str, *, client: str = "acme", created_at: float, finish_at: float,
                     outcome: str = "finished", project: str | None = None, tags=(), metadata=None) -> None:
    """A CV DeepMatch run's `api_run` summary, exactly as docs/api-runs.md defines it."""
    api.platform.store.put("api_run", run_id, {
        "id": run_id, "serviceType": "cv_deepmatch", "externalId": None, "project": project,
        "metadata": metadata or {}, "tags": list(tags), "createdAt": iso(created_at),
        "created_at": created_at, "finish_at": finish_at, "outcome": outcome,
    }, owner=client)


# --------------------------------------------------------------------------- order and paging

def test_runs_are_listed_newest_first_20_by_default(api):
    made = [submitted(api, data=audio("flac", 200.0, i))["id"] for i in range(23)]
    page = listing(api)
    assert ids(page) == made[::-1][:20]
    assert page["pagination"]["limit"] == 20 and page["pagination"]["hasMore"] is True
    rest = listing(api, cursor=page["pagination"]["nextCursor"])
    assert ids(rest) == made[::-1][20:]
    assert rest["pagination"] == {"limit": 20, "hasMore": False, "nextCursor": None}


def test_pages_never_repeat_or_skip_a_run_while_new_runs_arrive(api):
    made = [submitted(api, data=audio("flac", 200.0, i))["id"] for i in range(12)]
    seen: list[str] = []
    cursor = None
    for round_number in range(10):  # bounded: 12 runs in pages of 5
        page = listing(api, limit=5, **({"cursor": cursor} if cursor else {}))
        seen += ids(page)
        submitted(api, data=audio("flac", 200.0, 100 + round_number))  # arrives mid-paging
        cursor = page["pagination"]["nextCursor"]
        if not page["pagination"]["hasMore"]:
            break
    assert seen == made[::-1]


def test_an_exact_last_page_reports_no_more(api):
    for i in range(4):
        submitted(api, data=audio("flac", 200.0, i))
    page = listing(api, limit=4)
    assert len(page["runs"]) == 4 and page["pagination"]["hasMore"] is False


def test_rows_are_compact_summaries(api):
    run_id = submitted(api, externalId="cand-1", metadata='{"round": 2}', tags="a,b")["id"]
    advance_to(api, run_doc(api, run_id)["finish_at"])
    row = listing(api)["runs"][0]
    assert row == {"id": run_id, "serviceType": "speech", "status": "success", "externalId": "cand-1",
                   "metadata": {"round": 2}, "tags": ["a", "b"], "project": None, "language": "en",
                   "durationSeconds": 200.0, "createdAt": row["createdAt"], "completedAt": row["completedAt"]}
    assert row["completedAt"] == iso(run_doc(api, run_id)["finish_at"])


def test_another_clients_runs_are_never_listed(api):
    submitted(api)
    assert listing(api, key=SECOND)["runs"] == []


# --------------------------------------------------------------------------- LIST-1: shared filters

def test_status_filter_uses_the_status_at_the_moment_of_listing(api):
    done = submitted(api, scenario="speech-fast")["id"]
    failed = submitted(api, scenario="speech-failed-TRANSCRIPTION_FAILED")["id"]
    slow = submitted(api, scenario="speech-slow")["id"]
    api.advance(20)
    assert ids(listing(api, status="success")) == [done]
    assert set(ids(listing(api, status="processing"))) == {failed, slow}
    advance_to(api, run_doc(api, failed)["finish_at"])
    assert ids(listing(api, status="failed")) == [failed]
    assert ids(listing(api, status="queued")) == []


def test_queued_runs_are_listed_as_queued(api):
    from tests.conftest import CAP2
    queued = [submitted(api, key=CAP2)["id"] for _ in range(3)][-1]
    assert ids(listing(api, status="queued")) == [queued]


def test_tags_filter_is_contains_all(api):
    both = submitted(api, tags="backend,q2")["id"]
    one = submitted(api, tags="backend")["id"]
    assert ids(listing(api, tags="backend,q2")) == [both]
    assert ids(listing(api, tags="backend")) == [one, both]
    assert ids(listing(api, tags="frontend")) == []


def test_metadata_filter_matches_key_and_value_exactly_as_text(api):
    two = submitted(api, metadata=json.dumps({"round": 2, "remote": True, "team": "core"}))["id"]
    three = submitted(api, metadata=json.dumps({"round": 3}))["id"]
    submitted(api)
    assert ids(listing(api, metadata_key="round")) == [three, two]
    assert ids(listing(api, metadata_key="round", metadata_value="2")) == [two]
    assert ids(listing(api, metadata_key="remote", metadata_value="true")) == [two]
    assert ids(listing(api, metadata_key="team", metadata_value="Core")) == []


def test_project_filter_with_none_for_runs_without_a_project(api):
    alpha = submitted(api, key=PROJECT_ALPHA)["id"]
    plain = submitted(api)["id"]
    assert ids(listing(api, project="alpha")) == [alpha]
    assert ids(listing(api, project="none")) == [plain]
    assert listing(api, project="alpha")["runs"][0]["project"] == "alpha"
    assert ids(listing(api, project="beta")) == []


# --------------------------------------------------------------------------- LIST-2: Speech's filters

def test_external_id_filter_is_exact_and_finds_every_run_with_it(api):
    first = submitted(api, externalId="candidate-abc-123")["id"]
    submitted(api, externalId="candidate-abc-1234")
    again = submitted(api, externalId="candidate-abc-123")["id"]
    assert ids(listing(api, externalId="candidate-abc-123", limit=100)) == [again, first]


def test_created_after_is_inclusive_and_created_before_exclusive(api):
    early = submitted(api)["id"]
    api.advance(3600)
    middle = submitted(api)["id"]
    api.advance(3600)
    late = submitted(api)["id"]
    middle_at = iso(run_doc(api, middle)["created_at"])
    assert ids(listing(api, createdAfter=middle_at)) == [late, middle]
    assert ids(listing(api, createdBefore=middle_at)) == [early]
    assert ids(listing(api, createdAfter=middle_at, createdBefore=iso(run_doc(api, late)["created_at"]))) == [middle]


def test_a_bare_date_means_midnight_utc(api):
    run_id = submitted(api)["id"]
    day = iso(run_doc(api, run_id)["created_at"])[:10]
    assert ids(listing(api, createdAfter=day)) == [run_id]
    assert ids(listing(api, createdBefore=day)) == []


def test_filters_combine_with_and(api):
    target = submitted(api, externalId="x", tags="t", metadata='{"k": "v"}')["id"]
    submitted(api, externalId="x", tags="t")
    submitted(api, externalId="y", tags="t", metadata='{"k": "v"}')
    assert ids(listing(api, externalId="x", tags="t", metadata_key="k", metadata_value="v",
                       serviceType="speech", status="processing")) == [target]


@pytest.mark.parametrize("params, code, field", [
    ({"status": "completed"}, "INVALID_STATUS", "status"),
    ({"status": "SUCCESS"}, "INVALID_STATUS", "status"),
    ({"serviceType": "interview"}, "INVALID_SERVICE_TYPE", "serviceType"),
    ({"createdAfter": "yesterday"}, "INVALID_DATE", "createdAfter"),
    ({"createdBefore": "2026-13-01"}, "INVALID_DATE", "createdBefore"),
    ({"createdAfter": "2026-02-30"}, "INVALID_DATE", "createdAfter"),
    ({"createdAfter": "2026-04-19T00:00:00"}, "INVALID_DATE", "createdAfter"),
    ({"cursor": "not-a-cursor"}, "INVALID_PARAMETERS", "cursor"),
    ({"limit": "0"}, "INVALID_PARAMETERS", "limit"),
    ({"limit": "101"}, "INVALID_PARAMETERS", "limit"),
])
def test_invalid_filter_values_are_refused_with_their_code(api, params, code, field):
    r = api.call("GET", RUNS, params=params)
    error = assert_error(r, 400, code)
    assert field in error["details"]["fields"]


# --------------------------------------------------------------------------- CV DeepMatch rows

def test_cv_deepmatch_summaries_are_listed_with_speech_runs(api):
    now = api.platform.clock.now()
    speech = submitted(api)["id"]
    cvdm = "550e8400-e29b-41d4-a716-446655440000"
    put_cvdm_summary(api, cvdm, created_at=now, finish_at=now + 90, tags=["q2"])
    page = listing(api)
    assert ids(page) == [cvdm, speech]
    row = page["runs"][0]
    assert row == {"id": cvdm, "serviceType": "cv_deepmatch", "status": "processing", "externalId": None,
                   "metadata": {}, "tags": ["q2"], "project": None, "createdAt": iso(now), "completedAt": None}
    assert ids(listing(api, serviceType="speech")) == [speech]
    assert ids(listing(api, serviceType="cv_deepmatch")) == [cvdm]
    api.advance(90)
    assert ids(listing(api, status="finished")) == [cvdm]
    assert listing(api, serviceType="cv_deepmatch")["runs"][0]["completedAt"] == iso(now + 90)


def test_a_real_cv_deepmatch_submit_appears_in_the_runs_list(api):
    if "submitCvDeepMatch" not in api.platform.handlers:
        pytest.skip("the CV DeepMatch module is not in this build")
    from mockserver.modules.cvdeepmatch.config import DOCS_MINIMAL_CONFIG
    from tests.support.pdf_fixtures import make_cv_pdf
    pdf = make_cv_pdf("Jane Doe", ["Node.js"], 5, ["Engineer at Acme, 2019 - 2024"])
    r = api.call("POST", "/api/v1/cvdeepmatch/submit", files={"cv_file": ("cv.pdf", pdf, "application/pdf")},
                 data={"position_id": "eng-1", "job_description": "Backend engineer.",
                       "config": json.dumps(DOCS_MINIMAL_CONFIG), "tags": '["cv"]'})
    assert r.status_code == 202, r.text
    rows = listing(api, serviceType="cv_deepmatch")["runs"]
    assert [row["id"] for row in rows] == [r.json()["id"]]
    assert rows[0]["status"] == "processing" and rows[0]["externalId"] is None

"""What the CV DeepSearch behaviour files (``test_cvdeepsearch_*.py``) share: per-session
names, ingest items and position configs, building and reading ingests, candidate reads,
searches and run polls (waiting as the docs advise), the operation fixtures and a ranked
corpus of three embedded candidates.

Requests the contract refuses (400s, 413) and reads run in every profile. Requests that write
to a corpus or start a search ask `credit_guard` first, so the `safe` profile changes nothing
on the target. Every corpus, position and idempotency key carries a per-session random part
(``SESSION``, one per suite run whichever files run), so runs never meet earlier data on a
long-lived target. Outcomes only a mock can be asked for (`X-Mock-Scenario`: a failed
embedding, a 502 at start) need the control API and skip without it; time passes through
`time_machine` (the mock's clock, or a bounded real wait).
"""

from __future__ import annotations

import itertools
import secrets

import pytest

from contract_tests.checks import Observed, assert_no_problems, compact_json_problems
from contract_tests.contract import schema_problems
from contract_tests.waiting import until

CANDIDATES = "/api/v1/cvds/candidates"
SEARCH = "/api/v1/cvds/search"
RUNS = "/api/v1/cvds/runs"
SCENARIO_HEADER = "X-Mock-Scenario"
TERMINAL = ("completed", "failed")
RUN_BUDGET_SECONDS = 600  # ten minutes of the target's time for a search run
MAX_PAGES = 20
SESSION = secrets.token_hex(3)
_SERIAL = itertools.count(1)
SKILLS = ("Go", "SQL", "Kubernetes")


# --------------------------------------------------------------------------- names and bodies

def unique(label: str) -> str:
    """A corpus / position / key name no earlier run used: `ct<session><n>-<label>` (≤ 28 chars)."""
    return f"ct{SESSION}{next(_SERIAL):03d}-{label}"[:28]


def cv(external_id: str, *skills: str, **fields) -> dict:
    """One ingest item whose parsed CV lists `skills`."""
    return dict({"external_id": external_id,
                 "parsed_cv": {"name": f"Candidate {external_id}", "skills": list(skills or ("Go",)),
                               "experience": []}}, **fields)


def position(*skills: str) -> dict:
    """A position config (the CV DeepMatch requirements shape) requiring `skills` equally."""
    return {"name": "Backend Engineer", "requirements": {"skills": {"importance": 5, "skills_config": {
        "hard_skills": [{"name": skill, "importance": 5} for skill in skills],
        "requirements": {"minimal_qualifications": True, "preferable_qualifications": True}}}}}


# --------------------------------------------------------------------------- requests

def ingest(api, candidates: list[dict], corpus_id: str | None = None, headers: dict | None = None):
    body: dict = {"candidates": candidates}
    if corpus_id is not None:
        body["corpus_id"] = corpus_id
    return api.post(CANDIDATES, json=body, headers=headers or {})


def ingested(resp, op) -> dict:
    assert resp.status_code == 200, f"expected 200, got {resp.status_code}: {resp.text[:300]}"
    body = resp.json()
    assert_no_problems(schema_problems(op, 200, body))
    return body


def list_corpus(api, corpus_id: str, **params):
    return api.get(CANDIDATES, params=dict(params, corpus_id=corpus_id))


def listed_ids(api, corpus_id: str, **params) -> list[str]:
    resp = list_corpus(api, corpus_id, limit=200, **params)
    assert resp.status_code == 200, resp.text[:300]
    return [row["external_id"] for row in resp.json()["candidates"]]


def candidate(api, external_id: str, corpus_id: str | None):
    params = {} if corpus_id is None else {"corpus_id": corpus_id}
    return api.get(f"{CANDIDATES}/{external_id}", params=params)


def search(api, corpus_id: str | None, *, metadata: dict | None = None, headers: dict | None = None, **fields):
    body = {"position_id": fields.pop("position_id", None) or unique("role"),
            "position_metadata": position(*SKILLS) if metadata is None else metadata}
    if corpus_id is not None:
        body["corpus_id"] = corpus_id
    body.update(fields)
    return api.post(SEARCH, json=body, headers=headers or {})


def triggered(resp, op) -> dict:
    assert resp.status_code == 200, f"expected 200, got {resp.status_code}: {resp.text[:300]}"
    body = resp.json()
    assert_no_problems(schema_problems(op, 200, body))
    assert_no_problems(compact_json_problems(Observed.from_httpx(resp)))
    return body


def poll(api, run_id: str):
    return api.get(f"{RUNS}/{run_id}")


def wait_until_terminal(api, run_id: str, time_machine, op) -> dict:
    """Poll as the docs advise (at most one poll per 10 s, honouring Retry-After) until the
    run is `completed` or `failed`."""
    for _ in until(time_machine, RUN_BUDGET_SECONDS, f"a terminal status of run {run_id}"):
        resp = poll(api, run_id)
        if resp.status_code == 429:
            time_machine.wait_advertised(int(resp.headers["Retry-After"]), "the poll interval of a search run")
            continue
        assert resp.status_code == 200, resp.text[:300]
        body = resp.json()
        assert_no_problems(schema_problems(op, 200, body))
        if body["status"] in TERMINAL:
            return body
        assert body["status"] == "pending", body
        assert resp.headers.get("Retry-After"), "a pending run's poll carries Retry-After (POLL-3)"
        # never sooner than Retry-After (client seconds), nor than the documented 10 s (target time)
        time_machine.wait_advertised(int(resp.headers["Retry-After"]), "a search run to finish", at_least=10)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def ingest_op(operation):
    return operation("ingestCvdsCandidates")


@pytest.fixture(scope="module")
def list_op(operation):
    return operation("listCvdsCandidates")


@pytest.fixture(scope="module")
def candidate_op(operation):
    return operation("getCvdsCandidate")


@pytest.fixture(scope="module")
def search_op(operation):
    return operation("submitCvdsSearch")


@pytest.fixture(scope="module")
def run_op(operation):
    return operation("getCvdsRun")


@pytest.fixture(scope="module")
def results_op(operation):
    return operation("getCvdsRunResults")


@pytest.fixture(scope="module")
def module_credit_guard(target):
    return target.credits


@pytest.fixture(scope="module")
def ranked_corpus(api, ingest_op, module_credit_guard):
    """A corpus of three embedded candidates knowing all, one and none of SKILLS."""
    module_credit_guard.allow("a CV DeepSearch ingest (writes candidates to a corpus)")
    corpus_id = unique("ranked")
    body = ingested(ingest(api, [cv("all-three", *SKILLS), cv("just-go", "Go"), cv("none", "Cobol")],
                           corpus_id), ingest_op)
    assert [row["embedding_status"] for row in body["results"]] == ["embedded"] * 3, body
    return corpus_id

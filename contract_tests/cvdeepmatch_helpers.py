"""What the CV DeepMatch behaviour files (``test_cvdeepmatch_*.py``) share: the docs' submit
form and config, building and reading submits, polls and the requests list, following a match
to its end as the integration guide advises, and the ``ops`` / ``scenarios`` fixtures.

Requests the contract refuses before charging (400s, the 402) and reads run in every
profile; submits that start a match ask `credit_guard` first (3 credits each), so the `safe`
profile spends nothing. Throwaway tenants (exact ledgers, projects, secrets, low limits) and
outcomes only a mock can be asked for (`X-Mock-Scenario`) need the control API and skip
without it. Time passes through `time_machine`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache

import pytest

from contract_tests.checks import Observed, assert_error, assert_no_problems, compact_json_problems, pii_problems
from contract_tests.contract import Operation, schema_problems
from contract_tests.strategies import pdf_bytes
from contract_tests.waiting import until

SUBMIT = "/api/v1/cvdeepmatch/submit"
REQUESTS = "/api/v1/cvdeepmatch/requests"
SCENARIO_HEADER = "X-Mock-Scenario"
TERMINAL = ("finished", "failed")
DOCS_BACKOFF = (10, 15, 30, 60)  # "Recommended backoff" of the integration guide; 60 s from poll 4 on
WATCHDOG_SECONDS = 600
FOLLOW_BUDGET_SECONDS = 2 * WATCHDOG_SECONDS  # a match never stays processing past 10 minutes (CVDM-6)
UNRESOLVABLE_HOOK = "https://ct-hooks.invalid/cvdeepmatch/callback"  # RFC 6761: never resolves
JOB_DESCRIPTION = "Senior backend engineer with 5+ years of Node.js, TypeScript and PostgreSQL."

# The config of the integration guide's curl example (optional structures left out).
DOCS_CONFIG = {
    "name": "Senior Backend Engineer",
    "requirements": {
        "workExperience": {
            "from": 5, "to": 10, "importance": 5,
            "relevant_industries": ["SaaS", "Fintech"],
            "industries_config": [{"name": "SaaS", "importance": 5}, {"name": "Fintech", "importance": 4}],
        },
        "skills": {
            "importance": 5,
            "skills_config": {
                "hard_skills": [{"name": "Node.js", "importance": 5}, {"name": "TypeScript", "importance": 4},
                                {"name": "PostgreSQL", "importance": 4}],
                "soft_skills": [{"name": "Communication", "importance": 4}],
                "minimal_qualifications": [{"name": "5+ years backend", "importance": 5}],
                "preferable_qualifications": [],
                "requirements": {"minimal_qualifications": True, "preferable_qualifications": True},
            },
        },
    },
}
FULL_EDUCATION = {
    "is_enabled": False, "importance": 2,
    "academic": {"importance": 2, "degree_level": "Bachelor", "study_status": "Both",
                 "fields_of_study": ["Computer Science"]},
    "non_academic": {"importance": 1, "certifications": []},
}
DELETE = object()


# --------------------------------------------------------------------------- building requests

@lru_cache(maxsize=None)
def cv_pdf() -> bytes:
    """A text PDF naming the docs config's skills, inside its 5–10 years."""
    return pdf_bytes(("Jane Example", "jane.example@example.com", "Senior Backend Engineer",
                      "Experience: 7 years Node.js, TypeScript, PostgreSQL", "Acme Payments, 2018 - 2025",
                      "Industries: SaaS, Fintech", "Education: Bachelor Computer Science",
                      "Languages: English, Spanish", "Communication"))


def edited(config: dict, *edits: tuple[tuple, object]) -> dict:
    """A deep copy of ``config`` with each ``(path, value)`` set (``DELETE`` removes the key)."""
    out = copy.deepcopy(config)
    for path, value in edits:
        node = out
        for step in path[:-1]:
            node = node[step]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = copy.deepcopy(value)
    return out


def with_education(config: dict = DOCS_CONFIG, **academic) -> dict:
    education = copy.deepcopy(FULL_EDUCATION)
    education["academic"].update(academic)
    return edited(config, (("requirements", "education"), education))


def submit(api, *, cv: bytes | None | bool = None, filename: str = "candidate-cv.pdf",
           mime: str = "application/pdf", headers: dict | None = None, params: dict | None = None, **fields):
    """POST a submit with the docs' fields; ``fields`` override them (None leaves one out; a
    dict ``config`` is sent as JSON text); ``cv=False`` sends no file."""
    form = {"position_id": "eng-backend-2026", "job_description": JOB_DESCRIPTION, "config": DOCS_CONFIG}
    form.update(fields)
    if isinstance(form["config"], dict):
        form["config"] = json.dumps(form["config"])
    parts = []
    if cv is not False:
        parts.append(("cv_file", (filename, cv_pdf() if cv is None else cv, mime)))
    parts += [(name, (None, str(value).encode("utf-8"))) for name, value in form.items() if value is not None]
    return api.post(SUBMIT, files=parts, headers=headers or {}, params=params)


def poll(api, match_id: str):
    return api.get(f"/api/v1/cvdeepmatch/{match_id}")


# --------------------------------------------------------------------------- reading responses

@dataclass(frozen=True)
class Ops:
    submit: Operation
    poll: Operation
    list: Operation


def accepted(resp, ops: Ops) -> dict:
    assert resp.status_code == 202, f"expected 202, got {resp.status_code}: {resp.text[:400]}"
    body = resp.json()
    assert_no_problems(schema_problems(ops.submit, 202, body))
    assert_no_problems(compact_json_problems(Observed.from_httpx(resp)))
    return body


def read_poll(resp, ops: Ops) -> dict:
    assert resp.status_code == 200, f"expected 200, got {resp.status_code}: {resp.text[:400]}"
    body = resp.json()
    obs = Observed.from_httpx(resp)
    assert_no_problems(schema_problems(ops.poll, 200, body) + compact_json_problems(obs)
                       + pii_problems(obs, ops.poll, tokens=None))
    return body


def follow(api, match_id: str, time_machine, ops: Ops) -> dict:
    """Poll as the integration guide advises (10 s, 15 s, 30 s, then every 60 s, never sooner
    than Retry-After) until the match is terminal; returns the terminal body."""
    number = 0
    for _ in until(time_machine, FOLLOW_BUDGET_SECONDS, f"a terminal status of match {match_id}"):
        resp = poll(api, match_id)
        if resp.status_code == 429:
            time_machine.wait_advertised(int(resp.headers["Retry-After"]), "the 10 s poll window of a match")
            continue
        body = read_poll(resp, ops)
        if body["status"] in TERMINAL:
            return body
        retry_after = resp.headers.get("Retry-After")
        assert retry_after and int(retry_after) >= 1, "a processing poll carries Retry-After (POLL-3)"
        # Retry-After is in the client's seconds (CLOCK-2); the guide's backoff is platform time
        backoff = DOCS_BACKOFF[min(number, len(DOCS_BACKOFF) - 1)]
        number += 1
        time_machine.wait_advertised(int(retry_after), "a CV DeepMatch match to finish (typically 1–3 minutes)",
                                     at_least=backoff)


def invalid_fields(resp, op) -> dict[str, list[str]]:
    """Assert a 400 INVALID_INPUT with details.fields; returns the fields."""
    err = assert_error(resp, 400, "INVALID_INPUT", op)
    fields = (err.get("details") or {}).get("fields")
    assert isinstance(fields, dict) and fields, f"INVALID_INPUT without details.fields: {err}"
    return fields


def names_field(fields: dict, name: str) -> bool:
    """Some field path is ``name`` or lies under it (``name.x``, ``name[0]``)."""
    return any(key == name or key.startswith(name + ".") or key.startswith(name + "[") for key in fields)


def credits_of(api) -> dict:
    resp = api.get("/api/v1/credits")
    assert resp.status_code == 200, resp.text
    return resp.json()


def listed(api, ops: Ops, **params) -> dict:
    resp = api.get(REQUESTS, params=params)
    assert resp.status_code == 200, f"{params}: {resp.status_code} {resp.text[:300]}"
    body = resp.json()
    obs = Observed.from_httpx(resp)
    assert_no_problems(schema_problems(ops.list, 200, body) + compact_json_problems(obs)
                       + pii_problems(obs, ops.list, tokens=None))
    return body


def listed_ids(api, ops: Ops, **params) -> list[str]:
    return [row["id"] for row in listed(api, ops, **dict({"limit": 100}, **params))["requests"]]


def deliveries_of(control, client_id: str, match_id: str) -> list[dict]:
    return [d for d in control.deliveries(client_id) if d.get("run_id") == match_id]


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def ops(operation) -> Ops:
    return Ops(operation("submitCvDeepMatch"), operation("getCvDeepMatch"), operation("listCvDeepMatchRequests"))


@pytest.fixture(scope="module")
def scenarios(target):
    """Outcomes asked for with X-Mock-Scenario exist only on the mock (detected by its control API)."""
    if target.control is None:
        pytest.skip("X-Mock-Scenario outcomes exist only on zenhire-mock (the target has no control API)")
    return lambda name: {SCENARIO_HEADER: name}


def cvdm_tenant(provision, label: str, credits: int = 100, **fields):
    return provision.tenant(label, permissions=["cvdeepmatch"], credits=credits, **fields)

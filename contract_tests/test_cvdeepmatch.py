"""CV DeepMatch behaviour over HTTP: the submit form and its PDF gate (CVDM-1..3), the
position config rules (CFG-1..9, CFG-11), correlation fields (META-1, META-2), the match on
the clock (CVDM-4, CVDM-6), polling (POLL-1..6), credits (CRED-4), idempotency (IDEM-1,
IDEM-3, IDEM-4), the submit rate limit (CVDM-7), the requests list (CVDM-5, LIST-1, LIST-3,
LIST-4) and the signed completion callback (HOOK-1, HOOK-3..6, HOOK-8).

Requests the contract refuses before charging (400s, the 402) and reads run in every
profile; submits that start a match ask `credit_guard` first (3 credits each), so the `safe`
profile spends nothing. Throwaway tenants (exact ledgers, projects, secrets, low limits) and
outcomes only a mock can be asked for (`X-Mock-Scenario`) need the control API and skip
without it. Callbacks are read from the mock's delivery log, or caught by a receiver on
127.0.0.1 when the target admits local receivers. Time passes through `time_machine`.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import (Observed, assert_error, assert_no_problems, compact_json_problems,
                                   parse_timestamp, pii_problems)
from contract_tests.contract import Contract, Operation, schema_problems
from contract_tests.receiver import WebhookReceiver, verify_signature
from contract_tests.strategies import pdf_bytes
from contract_tests.waiting import until

SUBMIT = "/api/v1/cvdeepmatch/submit"
REQUESTS = "/api/v1/cvdeepmatch/requests"
SCENARIO_HEADER = "X-Mock-Scenario"
TERMINAL = ("finished", "failed")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SIGNATURE = re.compile(r"^t=([0-9]+),v1=([0-9a-f]{64})$")
DOCS_BACKOFF = (10, 15, 30, 60)  # "Recommended backoff" of the integration guide; 60 s from poll 4 on
WATCHDOG_SECONDS = 600
FOLLOW_BUDGET_SECONDS = 2 * WATCHDOG_SECONDS  # a match never stays processing past 10 minutes (CVDM-6)
MATCH_COST = 3
FIVE_MIB = 5 * 1024 * 1024
UNRESOLVABLE_HOOK = "https://ct-hooks.invalid/cvdeepmatch/callback"  # RFC 6761: never resolves
JOB_DESCRIPTION = "Senior backend engineer with 5+ years of Node.js, TypeScript and PostgreSQL."
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

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
LANGUAGES = {"importance": 3, "required_languages": ["English"], "prefered_languages": ["Spanish"],
             "target_countries": ["United Kingdom"]}
WE = ("requirements", "workExperience")
SC = ("requirements", "skills", "skills_config")
DELETE = object()


# --------------------------------------------------------------------------- building requests

@lru_cache(maxsize=None)
def cv_pdf() -> bytes:
    """A text PDF naming the docs config's skills, inside its 5–10 years."""
    return pdf_bytes(("Jane Example", "jane.example@example.com", "Senior Backend Engineer",
                      "Experience: 7 years Node.js, TypeScript, PostgreSQL", "Acme Payments, 2018 - 2025",
                      "Industries: SaaS, Fintech", "Education: Bachelor Computer Science",
                      "Languages: English, Spanish", "Communication"))


def padded_pdf(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes: a valid file followed by comment padding after %%EOF."""
    head = cv_pdf()
    return head + b"%" + b"0" * (size - len(head) - 2) + b"\n"


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


def with_languages(config: dict = DOCS_CONFIG, **fields) -> dict:
    return edited(config, (("requirements", "skills", "language_skills_config"), dict(LANGUAGES, **fields)))


def skill_items(prefix: str, count: int) -> list[dict]:
    return [{"name": f"{prefix} {n}", "importance": 3} for n in range(1, count + 1)]


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


def fresh_key(label: str) -> str:
    return f"ct-{label}-{secrets.token_hex(6)}"


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


def _strip_indexes(path: str) -> str:
    return re.sub(r"\[[0-9]+\]", "", path)


def names_field(fields: dict, name: str) -> bool:
    """Some field path is ``name`` or lies under it (``name.x``, ``name[0]``)."""
    return any(key == name or key.startswith(name + ".") or key.startswith(name + "[") for key in fields)


def names_config_path(fields: dict, *paths: str) -> bool:
    """Some field path is ``config.<path>`` or lies under it (list indexes ignored)."""
    wanted = ["config." + _strip_indexes(p) for p in paths]
    keys = [_strip_indexes(k) for k in fields]
    return any(k == w or k.startswith(w + ".") for k in keys for w in wanted)


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


def webhook_body_problems(contract: Contract, body) -> list[str]:
    """Problems of a callback body against the contract's cvdeepmatchCompleted webhook schema."""
    from jsonschema import Draft202012Validator
    webhook = (contract.spec.get("webhooks") or {}).get("cvdeepmatchCompleted", {}).get("post")
    if webhook is None:
        return []
    schema = webhook["requestBody"]["content"]["application/json"]["schema"]
    validator = Draft202012Validator(dict(schema, components=contract.components))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in validator.iter_errors(body)][:5]


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


@pytest.fixture(scope="module")
def matched(api, ops, target, time_machine):
    """One poll-only match with correlation fields, polled right after submit, polled again at
    once, then followed to its end (shared by the read tests)."""
    target.credits.allow("a CV DeepMatch submit (3 credits)")
    metadata = {"candidateId": "ct-cand-42", "round": 2, "remote": True}
    tags = ["ct-cvdm", f"ct-run-{secrets.token_hex(4)}"]
    resp = submit(api, position_id="ct-cvdm-main", metadata=json.dumps(metadata), tags=json.dumps(tags))
    body = accepted(resp, ops)
    watch = time_machine.stopwatch()
    first = poll(api, body["id"])
    second = poll(api, body["id"])
    between = watch.elapsed()  # target time, at most, between the two polls
    reopened = None
    if second.status_code == 429:
        time_machine.wait_advertised(int(second.headers["Retry-After"]), "the poll window to reopen")
        reopened = poll(api, body["id"])
    result = follow(api, body["id"], time_machine, ops)
    return {"submit": body, "submit_text": resp.text, "first": first, "second": second, "between": between,
            "reopened": reopened,
            "result": result, "metadata": metadata, "tags": tags}


@pytest.fixture()
def local_receivers(target):
    """Starts receivers on 127.0.0.1 answering a programme of statuses; skips unless the target
    admits local receivers (the mock's --allow-local-webhooks)."""
    if not (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("the target does not deliver to local receivers; the delivery-log tests cover callbacks")
    started: list[WebhookReceiver] = []

    def start(*statuses: int) -> WebhookReceiver:
        receiver = WebhookReceiver(statuses=statuses or (200,))
        receiver.__enter__()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.__exit__(None, None, None)


def signing_tenant(provision, control, label: str):
    """A tenant whose webhook signing secret the suite knows."""
    tenant = cvdm_tenant(provision, label)
    secret = "whsec_ct" + secrets.token_hex(16)
    control.set_webhook_secret(tenant.client_id, secret)
    return tenant, secret


# --------------------------------------------------------------------------- the form (refused before charging)

@covers("CVDM-1", "ERR-4")
@pytest.mark.parametrize("missing", ["cv_file", "position_id", "job_description", "config"])
def test_each_required_part_left_out_is_invalid_input_naming_it(api, ops, missing):
    resp = submit(api, cv=False) if missing == "cv_file" else submit(api, **{missing: None})
    fields = invalid_fields(resp, ops.submit)
    assert names_field(fields, missing), f"details.fields does not name {missing}: {fields}"


@covers("CVDM-1", "A11")
def test_there_is_no_external_id_field(api, ops, credit_guard):
    """A11: CV DeepMatch has no externalId. Sent anyway it is an unknown field, treated as the
    target's contract says: refused naming it where the form is closed (``additionalProperties:
    false``), else ignored — accepted, and never echoed."""
    form = ops.submit.request_schema("multipart/form-data") or {}
    assert "externalId" not in form.get("properties", {})
    if not ops.submit.admits_unknown_fields("multipart/form-data"):
        fields = invalid_fields(submit(api, externalId="ct-ext-1"), ops.submit)
        assert names_field(fields, "externalId"), fields
        return
    credit_guard.allow("a CV DeepMatch submit whose unknown field is ignored (3 credits)")
    body = accepted(submit(api, externalId="ct-ext-1"), ops)
    assert "externalId" not in body and "ct-ext-1" not in json.dumps(body), body


@covers("CVDM-2")
@pytest.mark.parametrize("filename, mime, content", [
    ("candidate-cv.docx", DOCX_MIME, b"PK\x03\x04" + bytes(64)),
    ("candidate-cv.txt", "text/plain", b"Jane Example, Senior Backend Engineer"),
    ("candidate-cv.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(32)),
], ids=["docx", "text", "png"])
def test_a_cv_that_is_not_a_pdf_is_invalid_input_at_cv_file(api, ops, filename, mime, content):
    fields = invalid_fields(submit(api, cv=content, filename=filename, mime=mime), ops.submit)
    assert names_field(fields, "cv_file"), fields


def submit_with_raw_cv_part(api, cv_headers: list[str]):
    """A submit whose ``cv_file`` part carries exactly ``cv_headers`` after its
    Content-Disposition (HTTP clients add a Content-Type guessed from the file name, so a part
    without one is written by hand); the other fields are the docs' example."""
    boundary = "ct-" + secrets.token_hex(12)
    fields = {"position_id": "eng-backend-2026", "job_description": JOB_DESCRIPTION, "config": json.dumps(DOCS_CONFIG)}
    chunks = [f'--{boundary}\r\nContent-Disposition: form-data; name="cv_file"; filename="candidate-cv.pdf"\r\n'
              .encode() + "".join(f"{h}\r\n" for h in cv_headers).encode() + b"\r\n" + cv_pdf() + b"\r\n"]
    chunks += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
               for name, value in fields.items()]
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return api.post(SUBMIT, content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


@covers("CVDM-2")
@pytest.mark.parametrize("part_headers", [["Content-Type: application/octet-stream"], []],
                         ids=["octet-stream", "no-content-type"])
def test_a_pdf_part_not_typed_application_pdf_is_invalid_input_at_cv_file(api, ops, part_headers):
    """The docs' gate is "application/pdf MIME + .pdf extension": real PDF bytes named .pdf
    but sent as application/octet-stream, or with no Content-Type, are refused (CVDM-2)."""
    fields = invalid_fields(submit_with_raw_cv_part(api, part_headers), ops.submit)
    assert names_field(fields, "cv_file"), fields


@covers("CVDM-2")
@pytest.mark.parametrize("content", [b"<html>not a pdf</html>", b"PK\x03\x04" + bytes(64), b"%PDF1.4 no dash"],
                         ids=["html", "zip", "no-dash"])
def test_pdf_name_and_type_with_other_bytes_is_invalid_file_content(api, ops, content):
    assert_error(submit(api, cv=content), 400, "INVALID_FILE_CONTENT", ops.submit)


@covers("CVDM-2")
def test_a_cv_over_five_megabytes_is_invalid_input_at_cv_file(api, ops):
    fields = invalid_fields(submit(api, cv=padded_pdf(FIVE_MIB + 1)), ops.submit)
    assert names_field(fields, "cv_file"), fields


@covers("CVDM-3")
@pytest.mark.parametrize("position_id", ["", "x" * 29, "eng backend", "eng/backend-2026", "pos#1", "pósição"],
                         ids=["empty", "29-chars", "space", "slash", "hash", "non-ascii"])
def test_a_position_id_outside_1_to_28_of_the_charset_is_invalid_input_at_position_id(api, ops, position_id):
    fields = invalid_fields(submit(api, position_id=position_id), ops.submit)
    assert names_field(fields, "position_id"), fields


@covers("CVDM-1", "CFG-9")
@pytest.mark.parametrize("config", ["{not json", "[]", '"Senior Backend Engineer"'], ids=["not-json", "array", "string"])
def test_a_config_that_is_not_a_json_object_is_invalid_input_at_config(api, ops, config):
    fields = invalid_fields(submit(api, config=config), ops.submit)
    assert names_field(fields, "config"), fields


# --------------------------------------------------------------------------- the position config

CONFIG_VIOLATIONS = [
    # CFG-1: required structure
    ("CFG-1", "no-name", edited(DOCS_CONFIG, (("name",), DELETE)), ("name",)),
    ("CFG-1", "no-workExperience", edited(DOCS_CONFIG, (WE, DELETE)), ("requirements.workExperience",)),
    ("CFG-1", "no-from", edited(DOCS_CONFIG, (WE + ("from",), DELETE)), ("requirements.workExperience.from",)),
    ("CFG-1", "no-to", edited(DOCS_CONFIG, (WE + ("to",), DELETE)), ("requirements.workExperience.to",)),
    ("CFG-1", "no-experience-importance", edited(DOCS_CONFIG, (WE + ("importance",), DELETE)),
     ("requirements.workExperience.importance",)),
    ("CFG-1", "no-industries-config", edited(DOCS_CONFIG, (WE + ("industries_config",), DELETE)),
     ("requirements.workExperience.industries_config",)),
    ("CFG-1", "no-skills-importance", edited(DOCS_CONFIG, (("requirements", "skills", "importance"), DELETE)),
     ("requirements.skills.importance",)),
    ("CFG-1", "no-skills-config", edited(DOCS_CONFIG, (SC, DELETE)), ("requirements.skills.skills_config",)),
    ("CFG-1", "no-toggles", edited(DOCS_CONFIG, (SC + ("requirements",), DELETE)),
     ("requirements.skills.skills_config.requirements",)),
    ("CFG-1", "no-minimal-toggle", edited(DOCS_CONFIG, (SC + ("requirements", "minimal_qualifications"), DELETE)),
     ("requirements.skills.skills_config.requirements.minimal_qualifications",)),
    ("CFG-1", "toggle-not-boolean", edited(DOCS_CONFIG, (SC + ("requirements", "preferable_qualifications"), "yes")),
     ("requirements.skills.skills_config.requirements.preferable_qualifications",)),
    # CFG-2: every importance an integer 1–5
    ("CFG-2", "importance-0", edited(DOCS_CONFIG, (WE + ("importance",), 0)), ("requirements.workExperience.importance",)),
    ("CFG-2", "importance-negative", edited(DOCS_CONFIG, (("requirements", "skills", "importance"), -1)),
     ("requirements.skills.importance",)),
    ("CFG-2", "importance-6", edited(DOCS_CONFIG, (SC + ("hard_skills", 0, "importance"), 6)),
     ("requirements.skills.skills_config.hard_skills[0].importance",)),
    ("CFG-2", "importance-fraction", edited(DOCS_CONFIG, (WE + ("industries_config", 1, "importance"), 4.5)),
     ("requirements.workExperience.industries_config[1].importance",)),
    ("CFG-2", "importance-7-in-education", edited(with_education(), (("requirements", "education", "importance"), 7)),
     ("requirements.education.importance",)),
    ("CFG-2", "importance-0-in-languages", with_languages(importance=0),
     ("requirements.skills.language_skills_config.importance",)),
    ("CFG-2", "time-importance-6", edited(DOCS_CONFIG, (WE + ("time_importance",), 6)),
     ("requirements.workExperience.time_importance",)),
    # CFG-3: from ≤ to, integer years
    ("CFG-3", "from-above-to", edited(DOCS_CONFIG, (WE + ("from",), 11)),
     ("requirements.workExperience.from", "requirements.workExperience.to")),
    ("CFG-3", "fractional-years", edited(DOCS_CONFIG, (WE + ("from",), 2.5)), ("requirements.workExperience.from",)),
    # CFG-4: 1–3 industries mirrored one-for-one
    ("CFG-4", "no-industries", edited(DOCS_CONFIG, (WE + ("relevant_industries",), []), (WE + ("industries_config",), [])),
     ("requirements.workExperience.relevant_industries",)),
    ("CFG-4", "four-industries", edited(DOCS_CONFIG, (WE + ("relevant_industries",), ["A", "B", "C", "D"]),
                                        (WE + ("industries_config",), [{"name": n, "importance": 3} for n in "ABCD"])),
     ("requirements.workExperience.relevant_industries", "requirements.workExperience.industries_config")),
    ("CFG-4", "count-mismatch", edited(DOCS_CONFIG, (WE + ("industries_config",), [{"name": "SaaS", "importance": 5}])),
     ("requirements.workExperience.industries_config",)),
    ("CFG-4", "names-do-not-mirror", edited(DOCS_CONFIG, (WE + ("industries_config", 1, "name"), "Retail")),
     ("requirements.workExperience.industries_config",)),
    # CFG-5: cardinality caps
    ("CFG-5", "six-hard-skills", edited(DOCS_CONFIG, (SC + ("hard_skills",), skill_items("Tool", 6))),
     ("requirements.skills.skills_config.hard_skills",)),
    ("CFG-5", "six-soft-skills", edited(DOCS_CONFIG, (SC + ("soft_skills",), skill_items("Trait", 6))),
     ("requirements.skills.skills_config.soft_skills",)),
    ("CFG-5", "four-minimal", edited(DOCS_CONFIG, (SC + ("minimal_qualifications",), skill_items("Essential", 4))),
     ("requirements.skills.skills_config.minimal_qualifications",)),
    ("CFG-5", "four-preferable", edited(DOCS_CONFIG, (SC + ("preferable_qualifications",), skill_items("Plus", 4))),
     ("requirements.skills.skills_config.preferable_qualifications",)),
    # CFG-6: study_status, case-sensitive
    ("CFG-6", "graduated", with_education(study_status="Graduated"), ("requirements.education.academic.study_status",)),
    ("CFG-6", "lower-case", with_education(study_status="graduate"), ("requirements.education.academic.study_status",)),
    # CFG-7: plain language names
    ("CFG-7", "parentheses", with_languages(required_languages=["English (B2+)"]),
     ("requirements.skills.language_skills_config.required_languages",)),
    ("CFG-7", "brackets", with_languages(required_languages=["English [C1]"]),
     ("requirements.skills.language_skills_config.required_languages",)),
    ("CFG-7", "slash-in-prefered", with_languages(prefered_languages=["Spanish/Catalan"]),
     ("requirements.skills.language_skills_config.prefered_languages",)),
    # CFG-11: name non-empty; a sent education block is complete
    ("CFG-11", "empty-name", edited(DOCS_CONFIG, (("name",), "")), ("name",)),
    ("CFG-11", "name-not-a-string", edited(DOCS_CONFIG, (("name",), 42)), ("name",)),
    ("CFG-11", "partial-education", edited(DOCS_CONFIG, (("requirements", "education"), {"is_enabled": False})),
     ("requirements.education",)),
]


@pytest.mark.parametrize("rule, config, paths", [
    pytest.param(rule, config, paths, id=f"{rule}-{label}",
                 marks=covers(rule, "CFG-9", *(("A2",) if rule == "CFG-2" else ())))
    for rule, label, config, paths in CONFIG_VIOLATIONS])
def test_a_config_breaking_a_rule_is_invalid_input_at_its_path(api, ops, rule, config, paths):
    fields = invalid_fields(submit(api, config=config), ops.submit)
    assert names_config_path(fields, *paths), f"{rule}: details.fields names none of config.{paths}: {fields}"


@covers("CFG-9", "CFG-3", "CFG-2", "CFG-6", "CFG-7")
def test_every_config_violation_is_reported_at_once(api, ops):
    config = edited(with_languages(with_education(study_status="Graduated"), required_languages=["English (B2+)"]),
                    (WE + ("from",), 11), (SC + ("hard_skills", 0, "importance"), 6))
    fields = invalid_fields(submit(api, config=config), ops.submit)
    for path in (("requirements.workExperience.from", "requirements.workExperience.to"),
                 ("requirements.skills.skills_config.hard_skills[0].importance",),
                 ("requirements.education.academic.study_status",),
                 ("requirements.skills.language_skills_config.required_languages",)):
        assert names_config_path(fields, *path), f"config.{path[0]} is not among the reported fields: {fields}"


# --------------------------------------------------------------------------- correlation fields

@covers("META-1", "ERR-4")
@pytest.mark.parametrize("name, value", [
    ("metadata", "{not json"),
    ("metadata", json.dumps(["a", "b"])),
    ("metadata", json.dumps({f"k{i}": i for i in range(51)})),
    ("metadata", json.dumps({"k" * 41: "v"})),
    ("metadata", json.dumps({"note": "v" * 501})),
    ("metadata", json.dumps({"nested": {"a": 1}})),
    ("metadata", json.dumps({f"key{i:02d}": "v" * 480 for i in range(17)})),  # over 8 KB in total
    ("tags", json.dumps([f"t{i}" for i in range(21)])),
    ("tags", json.dumps(["x" * 41])),
    ("tags", json.dumps([""])),
], ids=["metadata-not-json", "metadata-array", "51-keys", "key-41-chars", "value-501-chars", "nested-value",
        "over-8-kb", "21-tags", "tag-41-chars", "empty-tag"])
def test_correlation_fields_beyond_the_limits_are_invalid_input(api, ops, name, value):
    fields = invalid_fields(submit(api, **{name: value}), ops.submit)
    assert names_field(fields, name), f"details.fields does not name {name}: {fields}"


# --------------------------------------------------------------------------- webhook URL admission

LOOPBACK_HOOKS = ("https://127.0.0.1/hook", "https://localhost/hook", "https://[::1]/hook")


@covers("HOOK-1")
@pytest.mark.parametrize("url", ["http://93.184.215.14/cvdeepmatch/callback", "http://hooks.example.com/cvdeepmatch"],
                         ids=["http-address", "http-name"])
def test_a_plain_http_webhook_url_is_insecure_webhook_url(api, ops, url):
    assert_error(submit(api, webhook_url=url), 400, "INSECURE_WEBHOOK_URL", ops.submit)


@covers("HOOK-1")
@pytest.mark.parametrize("url", ["https://10.1.2.3/hook", "https://172.16.0.1/hook", "https://192.168.1.10/hook",
                                 "https://169.254.169.254/latest", "https://[fe80::1]/hook", *LOOPBACK_HOOKS])
def test_a_webhook_url_on_a_private_loopback_or_link_local_address_is_private_webhook_url(api, ops, target, url):
    if url in LOOPBACK_HOOKS and (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("the target admits loopback receivers on purpose (the mock's --allow-local-webhooks)")
    assert_error(submit(api, webhook_url=url), 400, "PRIVATE_WEBHOOK_URL", ops.submit)


# --------------------------------------------------------------------------- accepted submits (spend credits)

@covers("CVDM-1", "META-4", "JSON-1")
def test_a_submit_is_202_with_a_uuid_id_processing_a_message_and_an_estimate(matched):
    body, text = matched["submit"], matched["submit_text"]
    assert UUID.match(body["id"]) and body["status"] == "processing", body
    assert body["message"].strip() and body["estimated_time"].strip(), body
    assert not {"request_id", "external_request_id", "requestId"} & set(body), body
    assert re.match(r'.*"id":"([^"]*)".*', text).group(1) == body["id"]
    assert re.match(r'.*"status":"([^"]*)".*', text).group(1) == "processing"


@covers("CVDM-1")
@pytest.mark.parametrize("where", ["form", "query"])
def test_the_retired_source_parameter_is_accepted_and_ignored(api, ops, credit_guard, where):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    resp = submit(api, source="testing") if where == "form" else submit(api, params={"source": "testing"})
    accepted(resp, ops)


@covers("CVDM-2")
def test_a_cv_of_five_million_bytes_is_accepted(api, ops, credit_guard):
    """5 000 000 bytes is within "5 MB" whichever way a megabyte is counted."""
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    accepted(submit(api, cv=padded_pdf(5_000_000)), ops)


EDGE_CONFIGS = [
    ("CVDM-3", "position-id-28-chars", DOCS_CONFIG, "Ab9._-" * 4 + "Zz0_"),
    ("CFG-2", "importance-1-and-5", edited(DOCS_CONFIG, (WE + ("importance",), 1), (SC + ("hard_skills", 0, "importance"), 5)),
     None),
    ("CFG-3", "from-equals-to", edited(DOCS_CONFIG, (WE + ("from",), 10)), None),
    ("CFG-4", "three-industries", edited(DOCS_CONFIG, (WE + ("relevant_industries",), ["SaaS", "Fintech", "Retail"]),
                                         (WE + ("industries_config",), [{"name": n, "importance": 3} for n in
                                                                        ("SaaS", "Fintech", "Retail")])), None),
    ("CFG-5", "at-every-cap", edited(DOCS_CONFIG, (SC + ("hard_skills",), skill_items("Tool", 5)),
                                     (SC + ("soft_skills",), skill_items("Trait", 5)),
                                     (SC + ("minimal_qualifications",), skill_items("Essential", 3)),
                                     (SC + ("preferable_qualifications",), skill_items("Plus", 3))), None),
    ("CFG-6", "full-education-off", with_education(study_status="Graduate"), None),
    ("CFG-11", "position-name-alias", edited(DOCS_CONFIG, (("name",), DELETE), (("position_name",), "Backend Engineer")),
     None),
    ("CFG-11", "preferred-two-rs-and-misplaced-language",
     edited(with_languages(), (("requirements", "skills", "language_skills_config", "preferred_languages"), ["French"]),
            (SC + ("hard_skills",), [{"name": "English", "importance": 3}])), None),
]


@pytest.mark.parametrize("rule, config, position_id", [
    pytest.param(rule, config, position_id, id=f"{rule}-{label}", marks=covers(rule))
    for rule, label, config, position_id in EDGE_CONFIGS])
def test_a_config_on_the_documented_edges_is_accepted(api, ops, credit_guard, rule, config, position_id):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    accepted(submit(api, config=config, **({"position_id": position_id} if position_id else {})), ops)


# --------------------------------------------------------------------------- the match on the clock

@covers("POLL-6", "POLL-3", "META-2")
def test_the_first_poll_may_come_right_after_submit(matched, ops):
    body = read_poll(matched["first"], ops)
    if body["status"] in TERMINAL:
        pytest.skip(f"the match was already {body['status']} at its first poll (a fast-running clock: "
                    f"{matched['between']:.0f} s of the target's time around two polls)")
    assert body["id"] == matched["submit"]["id"] and body["status"] == "processing", body
    assert int(matched["first"].headers.get("Retry-After", "0")) >= 1, "a processing poll carries Retry-After"
    assert "cv2jd_result" not in body and "cv_parser_result" not in body
    assert body["metadata"] == matched["metadata"] and body["tags"] == matched["tags"]


@covers("POLL-1", "CLOCK-2", "ERR-3")
def test_a_second_poll_within_ten_seconds_is_429_rate_limited_until_retry_after(matched, ops):
    if matched["second"].status_code != 429 and matched["between"] >= 10:
        pytest.skip(f"{matched['between']:.1f} s of the target's time passed between two back-to-back polls "
                    "(a fast-running clock): the 10 s window cannot be observed")
    err = assert_error(matched["second"], 429, "RATE_LIMITED", ops.poll)
    assert 1 <= err["retryAfterSeconds"] <= 10, err
    assert matched["second"].headers["Retry-After"] == str(err["retryAfterSeconds"])
    reopened = matched["reopened"]
    assert reopened is not None and reopened.status_code == 200, "the poll after Retry-After must be answered"


@covers("CVDM-4", "CVDM-6", "META-2", "META-4", "JSON-1")
def test_a_match_finishes_with_scores_and_the_parsed_cv_within_ten_minutes(matched):
    result = matched["result"]
    assert result["id"] == matched["submit"]["id"] and result["status"] == "finished", result
    scores = result["cv2jd_result"]
    assert 0 <= scores["overall_score"] <= 1
    assert set(scores["breakdown"]) == {"workExperience", "skills"}, "no education score without an education block"
    assert all(0 <= value <= 1 for value in scores["breakdown"].values()), scores
    assert isinstance(result["cv_parser_result"], dict) and result["cv_parser_result"]
    took = parse_timestamp(result["finished_at"]) - parse_timestamp(result["created_at"])
    assert 0 < took <= WATCHDOG_SECONDS, f"the match took {took:.0f} s"
    assert result["metadata"] == matched["metadata"] and result["tags"] == matched["tags"]
    assert not {"request_id", "external_request_id", "requestId"} & set(result)


@covers("CFG-8")
def test_the_poll_shows_the_config_with_omitted_structures_auto_filled(matched):
    config = matched["result"]["config"]
    requirements = config["requirements"]
    assert config["name"] == DOCS_CONFIG["name"]
    experience = requirements["workExperience"]
    for name, value in DOCS_CONFIG["requirements"]["workExperience"].items():
        assert experience[name] == value, f"the submitted workExperience.{name} was changed"
    assert {"time_importance", "transferable_skills", "minimum_job_experience_duration",
            "threshold_for_one_exp_relevance", "relevant_roles", "relevant_companies"} <= set(experience), experience
    languages = requirements["skills"]["language_skills_config"]
    assert isinstance(languages["required_languages"], list) and isinstance(languages["prefered_languages"], list)
    education = requirements["education"]
    assert education["is_enabled"] is False, "an omitted education block is filled disabled"
    assert {"importance", "academic", "non_academic"} <= set(education), education


@covers("POLL-2")
def test_a_terminal_match_is_re_fetched_freely(api, ops, matched):
    for _ in range(3):
        body = read_poll(poll(api, matched["result"]["id"]), ops)
        assert body["status"] == matched["result"]["status"]


@covers("POLL-4")
def test_a_match_id_never_expires(api, ops, matched, time_machine):
    time_machine.pass_time(30 * 3600, "a day and more after the match")
    body = read_poll(poll(api, matched["result"]["id"]), ops)
    assert body["cv2jd_result"] == matched["result"]["cv2jd_result"]


@covers("POLL-5")
@pytest.mark.parametrize("match_id", [str(uuid.uuid4()), "not-a-match-id"], ids=["unknown-uuid", "malformed"])
def test_an_id_that_is_not_a_match_of_yours_is_404_request_not_found(api, ops, match_id):
    assert_error(poll(api, match_id), 404, "REQUEST_NOT_FOUND", ops.poll)


@covers("POLL-5", "AUTH-6")
def test_another_tenant_cannot_see_the_match(second_api, ops, matched):
    assert_error(poll(second_api, matched["result"]["id"]), 404, "REQUEST_NOT_FOUND", ops.poll)
    assert matched["result"]["id"] not in listed_ids(second_api, ops)


@covers("LIST-4", "CVDM-5", "META-2")
def test_the_list_row_is_a_compact_summary_of_the_match(api, ops, matched):
    rows = listed(api, ops, tags=matched["tags"][1])["requests"]
    assert [row["id"] for row in rows] == [matched["result"]["id"]], rows
    row = rows[0]
    assert not {"cv_parser_result", "cv2jd_result", "config", "webhook_url"} & set(row), row
    assert row["status"] == "finished" and row["overall_score"] == matched["result"]["cv2jd_result"]["overall_score"]
    assert row["metadata"] == matched["metadata"] and row["tags"] == matched["tags"]


@covers("META-2")
def test_a_match_without_correlation_fields_echoes_empty_ones(api, ops, credit_guard):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    body = read_poll(poll(api, accepted(submit(api), ops)["id"]), ops)
    assert body["metadata"] == {} and body["tags"] == [], body


@covers("CVDM-4")
def test_education_is_scored_only_when_the_config_enables_it(api, ops, credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    config = edited(with_education(), (("requirements", "education", "is_enabled"), True))
    result = follow(api, accepted(submit(api, config=config), ops)["id"], time_machine, ops)
    assert result["status"] == "finished", result
    assert set(result["cv2jd_result"]["breakdown"]) == {"workExperience", "skills", "education"}, result


@covers("CVDM-4", "CRED-4", "HOOK-6")
def test_a_failed_match_carries_an_error_costs_nothing_and_sends_no_callback(api, ops, provision, control, scenarios,
                                                                         credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits, released when it fails)")
    tenant = cvdm_tenant(provision, "cvdm-failed", credits=10)
    client = api.with_key(tenant.key)
    match = accepted(submit(client, webhook_url=UNRESOLVABLE_HOOK, headers=scenarios("cvdm-matching-failed")), ops)
    result = follow(client, match["id"], time_machine, ops)
    if result["status"] != "failed":
        pytest.skip("the target does not inject the cvdm-matching-failed scenario")
    assert result["error"]["code"] and result["error"]["message"], result
    assert "cv2jd_result" not in result and "cv_parser_result" not in result
    time_machine.pass_time(60, "any callback to be attempted")
    after = credits_of(client)
    assert (after["creditBalance"], after["heldCredits"]) == (10, 0), after
    assert deliveries_of(control, tenant.client_id, match["id"]) == [], "a failed match sends no callback"


@covers("CVDM-6")
def test_a_stuck_match_is_failed_by_the_ten_minute_watchdog(api, ops, scenarios, credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits, released when it fails)")
    match = accepted(submit(api, headers=scenarios("cvdm-stuck")), ops)
    result = follow(api, match["id"], time_machine, ops)
    took = parse_timestamp(result["finished_at"]) - parse_timestamp(result["created_at"])
    if result["status"] == "finished":
        pytest.skip("the target does not inject the cvdm-stuck scenario")
    assert result["status"] == "failed" and took <= WATCHDOG_SECONDS + 1, (took, result)
    assert result["error"]["code"] == "STUCK_TIMEOUT", result


# --------------------------------------------------------------------------- credits

@covers("CRED-4", "CRED-1")
def test_a_match_costs_three_credits_deducted_when_it_finishes(api, ops, provision, credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-ledger", credits=10).key)
    match = accepted(submit(client), ops)
    during = credits_of(client)
    assert during["creditBalance"] == 10, f"charged before the match finished: {during}"
    assert during["availableCredits"] == 10 - MATCH_COST, f"the in-flight match is not held: {during}"
    result = follow(client, match["id"], time_machine, ops)
    assert result["status"] == "finished", result
    after = credits_of(client)
    assert (after["creditBalance"], after["heldCredits"], after["availableCredits"]) == (7, 0, 7), after


@covers("CRED-4")
def test_a_balance_below_three_credits_is_402_with_the_gap(api, ops, provision):
    client = api.with_key(cvdm_tenant(provision, "cvdm-poor", credits=2).key)
    err = assert_error(submit(client), 402, "INSUFFICIENT_CREDITS", ops.submit)
    assert_no_problems(schema_problems(ops.submit, 402, {"error": err}))
    assert err["details"] == {"required": 3, "available": 2, "shortfall": 1}, err


@covers("CRED-4")
def test_credits_held_by_a_match_in_flight_count_against_the_next_submit(api, ops, provision, credit_guard):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-held", credits=5).key)
    accepted(submit(client), ops)
    err = assert_error(submit(client), 402, "INSUFFICIENT_CREDITS", ops.submit)
    assert err["details"]["available"] == 2 and err["details"]["shortfall"] == 1, err


# --------------------------------------------------------------------------- idempotency

@covers("IDEM-1", "CRED-4")
def test_a_repeated_idempotency_key_replays_the_original_match_with_200(api, ops, provision, credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-idem", credits=10).key)
    key = fresh_key("idem")
    original = accepted(submit(client, idempotency_key=key), ops)
    replay = submit(client, idempotency_key=key)
    assert replay.status_code == 200, replay.text
    body = replay.json()
    assert_no_problems(schema_problems(ops.submit, 200, body))
    assert body["id"] == original["id"] and body["idempotent_replay"] is True, body
    assert credits_of(client)["availableCredits"] == 10 - MATCH_COST, "a replay must hold nothing more"
    follow(client, original["id"], time_machine, ops)
    again = submit(client, idempotency_key=key)
    assert again.status_code == 200 and again.json()["id"] == original["id"], again.text
    assert listed_ids(client, ops) == [original["id"]], "a replay starts no second match"
    assert credits_of(client)["creditBalance"] == 10 - MATCH_COST, "a replay is not charged again"


@covers("IDEM-1")
def test_an_idempotency_key_starts_a_new_match_after_24_hours(api, ops, credit_guard, time_machine):
    credit_guard.allow("two CV DeepMatch submits (6 credits)")
    key = fresh_key("idem24")
    original = accepted(submit(api, idempotency_key=key), ops)
    time_machine.pass_time(24 * 3600 + 60, "the 24 h idempotency window to close")
    later = accepted(submit(api, idempotency_key=key), ops)
    assert later["id"] != original["id"]


@covers("IDEM-3")
def test_concurrent_submits_with_one_key_create_exactly_one_match(api, ops, provision, credit_guard):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-race", credits=30).key)
    key = fresh_key("race")
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: submit(client, idempotency_key=key), range(6)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 5 + [202], f"statuses {statuses}: exactly one submit may start the match"
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1, ids
    assert listed_ids(client, ops) == list(ids)
    assert credits_of(client)["availableCredits"] == 30 - MATCH_COST


@covers("IDEM-4")
def test_a_502_start_failure_is_retry_safe_with_the_same_key(api, ops, provision, scenarios, credit_guard):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-flaky", credits=10).key)
    key = fresh_key("flaky")
    first = submit(client, idempotency_key=key, headers=scenarios("cvdm-step-functions-flaky"))
    if first.status_code != 502:
        pytest.skip(f"the target does not inject the cvdm-step-functions-flaky scenario (answered {first.status_code})")
    assert_error(first, 502, "STEP_FUNCTIONS_FAILED", ops.submit)
    assert credits_of(client)["availableCredits"] == 10, "a start failure holds nothing"
    retry = accepted(submit(client, idempotency_key=key, headers=scenarios("cvdm-step-functions-flaky")), ops)
    assert listed_ids(client, ops) == [retry["id"]]


# --------------------------------------------------------------------------- submit rate limit

@covers("CVDM-7", "A6", "ERR-3")
def test_submits_over_the_per_minute_limit_are_429_rate_limit_exceeded(api, ops, provision):
    client = api.with_key(cvdm_tenant(provision, "cvdm-rate", key_fields={"rateLimitPerMinute": 2}).key)
    statuses = [submit(client, position_id="not valid!").status_code for _ in range(2)]
    assert statuses == [400, 400], statuses
    err = assert_error(submit(client, position_id="not valid!"), 429, "RATE_LIMIT_EXCEEDED", ops.submit)
    assert 1 <= err["retryAfterSeconds"] <= 60, err


# --------------------------------------------------------------------------- the requests list

@covers("CVDM-5", "LIST-1")
@pytest.mark.parametrize("params, names", [
    ({"status": "completed"}, ("status",)), ({"limit": "0"}, ("limit",)), ({"limit": "101"}, ("limit",)),
    ({"metadata_value": "x"}, ("metadata_key", "metadata_value"))],
    ids=["bad-status", "limit-0", "limit-101", "value-without-key"])
def test_bad_list_parameters_are_invalid_input_naming_them(api, ops, params, names):
    fields = invalid_fields(api.get(REQUESTS, params=params), ops.list)
    assert any(names_field(fields, name) for name in names), fields


@covers("LIST-3")
def test_a_malformed_cursor_is_invalid_input(api, ops):
    fields = invalid_fields(api.get(REQUESTS, params={"cursor": "not-a-cursor"}), ops.list)
    assert names_field(fields, "cursor"), fields


@covers("LIST-1", "CVDM-5", "AUTH-7", "META-2")
def test_the_list_filters_by_project_tags_metadata_and_status(api, ops, provision, credit_guard, time_machine):
    credit_guard.allow("three CV DeepMatch submits (9 credits)")
    tenant = cvdm_tenant(provision, "cvdm-filters")
    client = api.with_key(tenant.key)
    in_project = api.with_key(provision.key_on(tenant.client_id, project="ct-gamma"))
    a = accepted(submit(in_project, tags=json.dumps(["ct-a", "shared"]), metadata=json.dumps({"batch": "one"})), ops)["id"]
    time_machine.pass_time(1, "distinct creation times")
    b = accepted(submit(client, tags=json.dumps(["shared"]), metadata=json.dumps({"batch": "two"})), ops)["id"]
    time_machine.pass_time(1, "distinct creation times")
    c = accepted(submit(client, tags=json.dumps(["ct-a", "shared"]), metadata=json.dumps({"batch": "one", "n": 3})), ops)["id"]
    expectations = [
        ({}, [c, b, a]),
        ({"project": "ct-gamma"}, [a]),
        ({"project": "none"}, [c, b]),
        ({"tags": "ct-a,shared"}, [c, a]),
        ({"tags": "shared"}, [c, b, a]),
        ({"tags": "ct-a,absent"}, []),
        ({"metadata_key": "batch", "metadata_value": "two"}, [b]),
        ({"metadata_key": "n", "metadata_value": "3"}, [c]),
    ]
    for params, expected in expectations:
        assert listed_ids(client, ops, **params) == expected, f"{params}"
    # The status filter, stated so a match finishing meanwhile (a fast-running clock) is no
    # false failure: each row has the status asked for, newest first, and the lists asked in
    # lifecycle order together hold every match.
    seen: set[str] = set()
    for status in ("processing", "finished", "failed"):
        rows = listed(client, ops, status=status)["requests"]
        assert all(row["status"] == status for row in rows), (status, rows)
        ids = [row["id"] for row in rows]
        assert ids == [i for i in (c, b, a) if i in ids], f"status={status}: {ids} is not newest first"
        seen.update(ids)
    assert {a, b, c} <= seen, "a match is missing from every status list"
    rows = {row["id"]: row for row in listed(client, ops)["requests"]}
    assert rows[a]["project"] == "ct-gamma" and rows[b]["project"] is None, rows
    assert rows[c]["metadata"] == {"batch": "one", "n": 3} and rows[c]["tags"] == ["ct-a", "shared"]
    time_machine.pass_time(WATCHDOG_SECONDS + 60, "every match to end")
    assert listed_ids(client, ops, status="processing") == []
    assert listed_ids(client, ops, status="finished") == [c, b, a]


@covers("LIST-3", "LIST-1", "CVDM-5")
def test_cursor_pages_are_newest_first_and_never_repeat_or_skip_while_matches_arrive(api, ops, provision,
                                                                                    credit_guard, time_machine):
    credit_guard.allow("four CV DeepMatch submits (12 credits)")
    client = api.with_key(cvdm_tenant(provision, "cvdm-pages").key)
    made = []
    for _ in range(3):
        made.append(accepted(submit(client), ops)["id"])
        time_machine.pass_time(1, "distinct creation times")
    first = listed(client, ops, limit=1)
    assert [r["id"] for r in first["requests"]] == [made[2]] and first["has_more"] and first["next_cursor"], first
    arrived = accepted(submit(client), ops)["id"]
    seen, cursor = [made[2]], first["next_cursor"]
    for _ in range(5):
        page = listed(client, ops, limit=1, cursor=cursor)
        seen += [r["id"] for r in page["requests"]]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            assert cursor is None, page
            break
    assert seen == [made[2], made[1], made[0]], f"pages repeated or skipped a row: {seen}"
    assert listed_ids(client, ops, limit=2) == [arrived, made[2]]


# --------------------------------------------------------------------------- the completion callback (delivery log)

@pytest.fixture(scope="module")
def logged_delivery(api, ops, target, provision, control, time_machine):
    """A finished match whose webhook_url never resolves, every attempt read from the delivery log.
    After the finish the clock moves in 0.25 s steps, so the log's attempt times show the backoff."""
    target.credits.allow("a CV DeepMatch submit (3 credits)")
    tenant, secret = signing_tenant(provision, control, "cvdm-hooklog")
    client = api.with_key(tenant.key)
    real_start, started = time.time(), time.monotonic()
    match = accepted(submit(client, webhook_url=UNRESOLVABLE_HOOK), ops)
    result = follow(client, match["id"], time_machine, ops)
    assert result["status"] == "finished", result
    records: list[dict] = []
    for _ in range(160):  # bounded: 40 virtual seconds
        records = deliveries_of(control, tenant.client_id, match["id"])
        if records and len(records[0]["attempts"]) >= 3:
            break
        time_machine.pass_time(0.25, "the callback's retries")
    slack = time_machine.drift(time.monotonic() - started)  # target time that ran on its own meanwhile
    time_machine.pass_time(60, "any further attempt")
    final = deliveries_of(control, tenant.client_id, match["id"])
    return {"tenant": tenant, "secret": secret, "result": result, "records": records, "final": final,
            "real_window": (real_start, time.time()), "slack": slack}


@covers("HOOK-3", "HOOK-6")
def test_the_callback_is_one_post_with_the_documented_headers_and_body(logged_delivery, ops):
    records, result = logged_delivery["final"], logged_delivery["result"]
    assert len(records) == 1, f"one callback per successful match, got {len(records)}"
    attempt = records[0]["attempts"][0]
    headers = {k.lower(): v for k, v in attempt["request_headers"].items()}
    assert headers["content-type"].split(";")[0] == "application/json"
    assert headers["x-cvdm-request-id"] == f"api_{result['id']}"
    signature = SIGNATURE.match(headers["x-cvdm-signature"])
    assert signature, headers["x-cvdm-signature"]
    assert headers["x-cvdm-signature-timestamp"] == signature.group(1)
    body = json.loads(attempt["body"])
    assert_no_problems(webhook_body_problems(ops.submit.contract, body))
    assert body["external_request_id"] == result["id"] and body["status"] == "finished"
    assert re.match(r"^app_[A-Za-z0-9]+$", body["application_id"]), body
    assert body["cv2jd_result"] == result["cv2jd_result"]
    assert "cv_parser_result" not in attempt["body"]
    for value in (result["cv_parser_result"].get("email"), result["cv_parser_result"].get("name")):
        assert not value or value not in attempt["body"], "PII of the parsed CV in the callback"


@covers("HOOK-4", "HOOK-8")
def test_every_attempt_is_signed_at_its_own_time_over_the_exact_compact_body(logged_delivery):
    attempts = logged_delivery["final"][0]["attempts"]
    earliest, latest = logged_delivery["real_window"]
    stamps = []
    for attempt in attempts:
        body = attempt["body"].encode("utf-8")
        assert_no_problems(compact_json_problems(Observed(200, {"content-type": "application/json"}, body)))
        header = attempt["request_headers"]["X-CVDM-Signature"]
        # HOOK-8: checked as the docs' verifier does, against a receiver's REAL clock
        assert_no_problems(verify_signature(header, body, logged_delivery["secret"], now=latest))
        t = int(SIGNATURE.match(header).group(1))
        assert int(earliest) - 1 <= t <= latest + 1, \
            f"t={t} is not the real time of an attempt made between {earliest:.0f} and {latest:.0f} (HOOK-8)"
        if attempt.get("signed_at"):  # a log that records the real signing time shows the same t
            assert t == int(parse_timestamp(attempt["signed_at"])), (t, attempt["signed_at"])
        stamps.append(t)
    # Each attempt is signed at its own real time (checked above); the retries' waits are target
    # time, so on a manual clock they may all fall within one real second: stamps only never go back.
    assert stamps == sorted(stamps), f"retries are re-signed at their own time: {stamps}"


@covers("HOOK-5", "A3")
def test_network_errors_are_retried_three_times_after_about_1_then_4_seconds(logged_delivery):
    record = logged_delivery["final"][0]
    attempts = record["attempts"]
    assert len(attempts) == 3, f"{len(attempts)} attempts: up to 3 (1 initial + 2 retries)"
    assert all(a["status"] is None for a in attempts), "the host never resolves: no HTTP status"
    assert [a["outcome"] for a in attempts] == ["retry", "retry", "exhausted"] and record["state"] == "failed"
    times = [parse_timestamp(a["at"]) for a in attempts]
    waits = [b - a for a, b in zip(times, times[1:])]
    slack = logged_delivery["slack"]  # later, never sooner, by what a running clock adds on its own
    assert 0.75 <= waits[0] <= 1.5 + slack and 3.0 <= waits[1] <= 5.25 + slack, \
        f"waits {waits}: about 1 s, then 4 s (A3; slack {slack:.1f} s of a running clock)"


@covers("HOOK-4")
def test_a_rotated_secret_signs_the_next_callback(api, ops, provision, control, credit_guard, time_machine):
    credit_guard.allow("two CV DeepMatch submits (6 credits)")
    tenant, old = signing_tenant(provision, control, "cvdm-rotate")
    client = api.with_key(tenant.key)

    def first_attempt(secret_now: str) -> dict:
        match = accepted(submit(client, webhook_url=UNRESOLVABLE_HOOK), ops)
        follow(client, match["id"], time_machine, ops)
        for _ in range(8):  # bounded
            records = deliveries_of(control, tenant.client_id, match["id"])
            if records and records[0]["attempts"]:
                return records[0]["attempts"][0]
            time_machine.pass_time(0.25, "the first attempt")
        pytest.fail(f"no callback attempt for {match['id']} (signed with {secret_now[:10]}…)")

    before = first_attempt(old)
    new = "whsec_ct" + secrets.token_hex(16)
    control.set_webhook_secret(tenant.client_id, new)
    after = first_attempt(new)
    for attempt, good, bad in ((before, old, new), (after, new, old)):
        body, header = attempt["body"].encode("utf-8"), attempt["request_headers"]["X-CVDM-Signature"]
        now = time.time()  # a receiver's real clock (HOOK-8)
        assert_no_problems(verify_signature(header, body, good, now=now))
        assert verify_signature(header, body, bad, now=now) != [], "signed with the secret of another moment"


# --------------------------------------------------------------------------- the completion callback (a real receiver)

@covers("HOOK-3", "HOOK-4", "HOOK-6", "HOOK-8")
def test_a_local_receiver_gets_one_signed_callback_it_can_verify(api, ops, provision, control, webhook_receiver,
                                                                credit_guard, time_machine):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    tenant, secret = signing_tenant(provision, control, "cvdm-receiver")
    client = api.with_key(tenant.key)
    match = accepted(submit(client, webhook_url=webhook_receiver.url), ops)
    result = follow(client, match["id"], time_machine, ops)
    received = webhook_receiver.wait_for(1, timeout=10)
    assert len(received) == 1, f"{len(received)} callbacks for one finished match"
    request = received[0]
    assert request.header("Content-Type").split(";")[0] == "application/json"
    assert request.header("X-CVDM-Request-Id") == f"api_{match['id']}"
    # HOOK-8: the receiver's real clock at arrival, as the docs' verifier reads it
    assert_no_problems(verify_signature(request.header("X-CVDM-Signature"), request.body, secret, now=request.at))
    assert request.header("X-CVDM-Signature-Timestamp") == SIGNATURE.match(request.header("X-CVDM-Signature")).group(1)
    body = json.loads(request.body)
    assert_no_problems(webhook_body_problems(ops.submit.contract, body))
    assert body["external_request_id"] == match["id"] and body["cv2jd_result"] == result["cv2jd_result"]
    assert "cv_parser_result" not in body
    time_machine.pass_time(3600, "an hour after the callback")
    assert len(webhook_receiver.received) == 1, "the callback fires once per successful match"


@covers("HOOK-5")
@pytest.mark.parametrize("statuses, expected", [((500, 200), 2), ((503,), 3), ((429,), 3), ((400,), 1), ((404,), 1)],
                         ids=["500-then-200", "503-always", "429-always", "400-permanent", "404-permanent"])
def test_the_receivers_answer_decides_the_retries(api, ops, provision, control, local_receivers, credit_guard,
                                                 time_machine, statuses, expected):
    credit_guard.allow("a CV DeepMatch submit (3 credits)")
    receiver = local_receivers(*statuses)
    tenant, _ = signing_tenant(provision, control, "cvdm-retries")
    client = api.with_key(tenant.key)
    match = accepted(submit(client, webhook_url=receiver.url), ops)
    follow(client, match["id"], time_machine, ops)
    for step in (2, 5, 20, 60):  # past both backoff waits (about 1 s, then 4 s) and well beyond
        time_machine.pass_time(step, "the callback's retries")
    received = receiver.wait_for(expected, timeout=10)
    assert len(received) == expected, f"receiver answering {statuses}: {len(received)} attempts, expected {expected}"
    assert len({r.body for r in received}) == 1, "every attempt carries the same bytes"


"""CV DeepMatch submit over HTTP: the form (CVDM-1..3, META-1), the PDF gate (CVDM-2), the
position config (CFG-1..9, CFG-11 — every rule with a failing and a passing config, all
violations at once, the auto-filled config visible on the poll) and a Hypothesis property
test through the real app: generated valid configs are accepted, single-rule mutations are
refused at the rule's path.

The submit helpers here (`submit`, `config_text`, the CV PDFs) are shared by the other
`test_cvdeepmatch_*` files.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FULL, NO_PERMS, SLOW_SUBMIT, Api, make_app
from mockserver.media.pdf import MAX_CV_BYTES
from mockserver.modules.cvdeepmatch.config import DOCS_MINIMAL_CONFIG, RULES
from test_cvdm_config import (
    FULL_EDUCATION, require_valid_config, MUTATIONS, RULE_CASES, _set, assert_refused_at, minimal, valid_configs,
)
from tests.support.pdf_fixtures import DOCX_MIME, make_blank_pdf, make_cv_pdf, make_docx_like_zip, make_fake_pdf

SUBMIT = "/api/v1/cvdeepmatch/submit"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
JOB_DESCRIPTION = "Senior backend engineer with 5+ years of Node.js, TypeScript and PostgreSQL."


# -- shared helpers ----------------------------------------------------------------------

@lru_cache(maxsize=None)
def strong_cv() -> bytes:
    """A CV that names the docs config's skills and sits inside its 5–10 years."""
    return make_cv_pdf("Jane Doe", ["Node.js", "TypeScript", "PostgreSQL", "Communication"], 7, [
        "Experience",
        "Senior Backend Engineer at Acme Payments, 2018 - 2025",
        "Languages: English, Spanish",
    ])


@lru_cache(maxsize=None)
def weak_cv() -> bytes:
    """A CV with none of the docs config's skills and too little experience."""
    return make_cv_pdf("John Roe", ["Excel", "Customer Service"], 1, ["Shop Assistant at Corner Store, 2024 - 2025"])


@lru_cache(maxsize=None)
def blank_cv() -> bytes:
    return make_blank_pdf()


def config_text(config: dict | None = None) -> str:
    return json.dumps(DOCS_MINIMAL_CONFIG if config is None else config)


def submit(api, *, key: str | None = FULL, pdf: bytes | None = None, filename: str = "cv.pdf",
           mime: str | None = "application/pdf", headers: dict | None = None, params: dict | None = None,
           **fields):
    """POST a submit; ``fields`` override the form (a value of None leaves the field out)."""
    form = {"position_id": "eng-backend-2026", "job_description": JOB_DESCRIPTION, "config": config_text()}
    form.update(fields)
    form = {name: value for name, value in form.items() if value is not None}
    files = {}
    if pdf is not False:
        body = strong_cv() if pdf is None else pdf
        files["cv_file"] = (filename, body, mime) if mime is not None else (filename, body)
    return api.call("POST", SUBMIT, key=key, data=form, files=files, headers=headers or {}, params=params or {})


def accepted_id(response) -> str:
    assert response.status_code == 202, response.text
    return response.json()["id"]


def poll(api, run_id: str, key: str = FULL):
    return api.call("GET", f"/api/v1/cvdeepmatch/{run_id}", key=key)


def fields_of(response) -> dict:
    assert response.status_code == 400, response.text
    body = response.json()["error"]
    assert body["code"] == "INVALID_INPUT", body
    return body["details"]["fields"]


# -- CVDM-1: the submit ------------------------------------------------------------------

def test_submit_answers_202_with_a_uuid_id_processing_message_and_estimated_time(api):
    response = submit(api)
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"id", "status", "message", "estimated_time"}
    assert UUID_RE.match(body["id"])
    assert body["status"] == "processing"
    assert body["estimated_time"] == "1-3 minutes"
    assert "Poll GET /api/v1/cvdeepmatch/{id}" in body["message"]


def test_submit_body_is_compact_json_with_id_and_status_last(api):
    text = submit(api).text
    assert ": " not in text and ", " not in text.split('"message"')[0]
    assert re.search(r'"id":"[0-9a-f-]{36}","status":"processing"\}$', text)


def test_each_submit_gets_its_own_id(api):
    assert accepted_id(submit(api)) != accepted_id(submit(api))


@pytest.mark.parametrize("where", ["form", "query", "both"])
def test_the_retired_source_parameter_is_accepted_and_ignored(api, where):
    fields = {"source": "testing"} if where in ("form", "both") else {}
    params = {"source": "production"} if where in ("query", "both") else {}
    run_id = accepted_id(submit(api, params=params, **fields))
    assert "source" not in poll(api, run_id).json()


def test_webhook_url_and_idempotency_key_are_optional(api):
    run_id = accepted_id(submit(api))
    assert poll(api, run_id).json()["webhook_url"] is None


@pytest.mark.parametrize("missing", ["position_id", "job_description", "config"])
def test_each_required_text_field_left_out_is_invalid_input_at_its_name(api, missing):
    assert missing in fields_of(submit(api, **{missing: None}))


def test_a_missing_cv_file_is_invalid_input_at_cv_file(api):
    assert "cv_file" in fields_of(submit(api, pdf=False))


def test_the_cvdeepmatch_permission_is_required(api):
    response = submit(api, key=NO_PERMS)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "MISSING_PERMISSION"


def test_submits_over_the_per_minute_limit_get_429_rate_limit_exceeded(api):
    """CVDM-7 (A6): the slow-submit key allows 3 submits a minute."""
    statuses = [submit(api, key=SLOW_SUBMIT).status_code for _ in range(4)]
    assert statuses[:3] == [202, 202, 202]
    limited = submit(api, key=SLOW_SUBMIT)
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert limited.headers["Retry-After"] == str(limited.json()["error"]["retryAfterSeconds"])


# -- CVDM-2: the PDF gate ----------------------------------------------------------------

def test_a_docx_cv_is_invalid_input_at_cv_file(api):
    fields = fields_of(submit(api, pdf=make_docx_like_zip(), filename="cv.docx", mime=DOCX_MIME))
    assert list(fields) == ["cv_file"]
    assert any("DOCX" in message for message in fields["cv_file"])


@pytest.mark.parametrize("filename,mime", [("cv.txt", "application/pdf"), ("cv.pdf", "text/plain"),
                                           ("cv.pdf", DOCX_MIME), ("cv", "application/pdf")])
def test_a_non_pdf_name_or_mime_type_is_invalid_input_at_cv_file(api, filename, mime):
    assert "cv_file" in fields_of(submit(api, filename=filename, mime=mime))


def submit_raw_cv_part(api, cv_part_type: str | None):
    """A submit whose `cv_file` part carries exactly ``cv_part_type`` (None: no Content-Type
    line at all — HTTP clients guess `application/pdf` from the name, so the body is built here)."""
    boundary = "cvdm-raw-boundary-7f3a"
    form = {"position_id": "eng-backend-2026", "job_description": JOB_DESCRIPTION, "config": config_text()}
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in form.items()]
    type_line = f"Content-Type: {cv_part_type}\r\n" if cv_part_type is not None else ""
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="cv_file"; filename="cv.pdf"\r\n'
                 f"{type_line}\r\n".encode() + strong_cv() + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return api.call("POST", SUBMIT, content=body,
                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def test_a_raw_cv_part_sent_as_application_pdf_is_accepted(api):
    accepted_id(submit_raw_cv_part(api, "application/pdf"))


@pytest.mark.parametrize("mime", ["application/octet-stream", None], ids=["octet-stream", "no-type"])
def test_a_pdf_part_not_sent_as_application_pdf_is_invalid_input_at_cv_file(api, mime):
    """CVDM-2: the docs' gate is "application/pdf MIME + .pdf extension"; a real PDF named
    cv.pdf but sent as application/octet-stream, or with no Content-Type, is refused."""
    response = submit_raw_cv_part(api, mime)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "INVALID_INPUT")
    assert any("application/pdf" in m for m in response.json()["error"]["details"]["fields"]["cv_file"])
    assert api.platform.store.count("cvdm_run") == 0


def test_bytes_not_starting_with_the_pdf_magic_are_invalid_file_content(api):
    response = submit(api, pdf=make_fake_pdf())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "INVALID_FILE_CONTENT"
    assert "%PDF-" in error["message"]


def test_a_cv_of_exactly_five_megabytes_is_accepted_and_one_byte_more_is_invalid_input(api):
    pdf = strong_cv()
    padding = b"\n%" + b"x" * (MAX_CV_BYTES - len(pdf) - 3) + b"\n"
    exactly = pdf + padding
    assert len(exactly) == MAX_CV_BYTES
    accepted_id(submit(api, pdf=exactly))
    fields = fields_of(submit(api, pdf=exactly + b"x"))
    assert list(fields) == ["cv_file"]


def test_field_problems_come_before_the_magic_bytes_and_together(api):
    bad_config = copy.deepcopy(DOCS_MINIMAL_CONFIG)
    bad_config["requirements"]["skills"]["importance"] = 9
    fields = fields_of(submit(api, pdf=make_docx_like_zip(), filename="cv.docx", mime=DOCX_MIME,
                              config=config_text(bad_config), tags=json.dumps(["dup", "dup"])))
    assert {"cv_file", "config.requirements.skills.importance", "tags"} <= set(fields)


# -- CVDM-3: position_id -----------------------------------------------------------------

@pytest.mark.parametrize("position_id", ["a", "A" * 28, "eng.backend_2026-v2", "0"])
def test_a_position_id_of_1_to_28_allowed_characters_is_accepted(api, position_id):
    accepted_id(submit(api, position_id=position_id))


@pytest.mark.parametrize("position_id", ["A" * 29, "", "eng backend", "eng/backend", "ëng", "eng+1", "id:1"])
def test_a_position_id_outside_the_charset_or_length_is_invalid_input_at_position_id(api, position_id):
    assert list(fields_of(submit(api, position_id=position_id))) == ["position_id"]


# -- META-1: metadata and tags -----------------------------------------------------------

def test_metadata_and_tags_in_both_text_forms_are_accepted_and_echoed(api):
    run_id = accepted_id(submit(api, metadata=json.dumps({"candidateId": "cand-42", "score": 3, "vip": True}),
                                tags='["batch-2026-q2","eu"]'))
    body = poll(api, run_id).json()
    assert body["metadata"] == {"candidateId": "cand-42", "score": 3, "vip": True}
    assert body["tags"] == ["batch-2026-q2", "eu"]
    other = accepted_id(submit(api, tags="a, b"))
    assert poll(api, other).json()["tags"] == ["a", "b"]


@pytest.mark.parametrize("metadata", [
    {f"k{n}": n for n in range(51)},                    # > 50 keys
    {"k" * 41: "v"},                                    # key > 40 chars
    {"k": "v" * 501},                                   # value > 500 chars
    {"nested": {"a": 1}},                               # not string/number/boolean
])
def test_metadata_breaking_a_schema_limit_is_invalid_input(api, metadata):
    assert any(name.startswith("metadata") for name in fields_of(submit(api, metadata=json.dumps(metadata))))


def test_metadata_over_8_kb_in_total_is_invalid_input_at_metadata(api):
    metadata = {f"key{n:02d}": "v" * 400 for n in range(21)}  # each key/value fits; ~8.7 KB in all
    assert "metadata" in fields_of(submit(api, metadata=json.dumps(metadata)))


@pytest.mark.parametrize("tags", [json.dumps([f"t{n}" for n in range(21)]), '["a","a"]', json.dumps(["x" * 41]),
                                  '["ok",""]', "[1,2]"])
def test_tags_breaking_the_rules_are_invalid_input_at_tags(api, tags):
    assert "tags" in fields_of(submit(api, tags=tags))


# -- CFG-1..9, CFG-11: the position config over HTTP -------------------------------------

# Rules on the config text itself that the contract's JSON parse and maxLength meet first.
PIPELINE_TEXT_RULES = frozenset({"config_json", "config_too_long"})

@pytest.mark.parametrize("rule", RULES, ids=[rule.key for rule in RULES])
def test_each_config_rule_refuses_its_violation_with_invalid_input_at_its_path(api, rule):
    failing, path, _passing = RULE_CASES[rule.key]
    fields = fields_of(submit(api, config=failing))
    if rule.key in PIPELINE_TEXT_RULES:
        assert path in fields  # the request pipeline's JSON/length check words these itself
    else:
        assert_refused_at(fields, path, rule.key)
    assert all(name == "config" or name.startswith("config") for name in fields)


@pytest.mark.parametrize("rule", RULES, ids=[rule.key for rule in RULES])
def test_each_config_rule_accepts_the_nearest_valid_config(api, rule):
    _failing, _path, passing = RULE_CASES[rule.key]
    accepted_id(submit(api, config=passing))


def test_a_config_failure_says_the_position_config_failed(api):
    bad = copy.deepcopy(DOCS_MINIMAL_CONFIG)
    bad["requirements"]["workExperience"]["from"] = 11
    error = submit(api, config=config_text(bad)).json()["error"]
    assert error["message"] == "The position config failed validation."


def test_every_config_violation_is_reported_at_once(api):
    """CFG-9: the docs' three classic mistakes in one submit, three paths back."""
    bad = copy.deepcopy(DOCS_MINIMAL_CONFIG)
    work = bad["requirements"]["workExperience"]
    work["from"], work["to"] = 5, 3
    work["industries_config"][1]["importance"] = 4.5
    bad["requirements"]["skills"]["language_skills_config"] = {"required_languages": ["English (B2+)"]}
    fields = fields_of(submit(api, config=config_text(bad)))
    assert set(fields) == {
        "config.requirements.workExperience.from",
        "config.requirements.workExperience.industries_config[1].importance",
        "config.requirements.skills.language_skills_config.required_languages[0]",
    }


def test_the_docs_curl_config_is_accepted_and_the_poll_shows_it_auto_filled(api):
    """CFG-8: omitted optional structures are filled; the poll's config is the stored one."""
    curl_config = {
        "name": "Senior Backend Engineer",
        "requirements": {
            "workExperience": {"from": 5, "to": 10, "importance": 5, "relevant_industries": ["SaaS", "Fintech"],
                               "industries_config": [{"name": "SaaS", "importance": 5},
                                                     {"name": "Fintech", "importance": 4}]},
            "skills": {"importance": 5, "skills_config": {
                "hard_skills": [{"name": "Node.js", "importance": 5}],
                "soft_skills": [{"name": "Communication", "importance": 4}],
                "minimal_qualifications": [{"name": "5+ years backend", "importance": 5}],
                "preferable_qualifications": [],
                "requirements": {"minimal_qualifications": True, "preferable_qualifications": True}}},
        },
    }
    run_id = accepted_id(submit(api, config=config_text(curl_config)))
    stored = poll(api, run_id).json()["config"]
    assert stored == require_valid_config(config_text(curl_config))
    work = stored["requirements"]["workExperience"]
    assert work["time_importance"] == 3 and work["threshold_for_one_exp_relevance"] == 80
    assert stored["requirements"]["education"]["is_enabled"] is False
    assert stored["requirements"]["skills"]["language_skills_config"]["prefered_languages"] == []


def test_a_sent_education_block_is_kept_as_sent(api):
    config = _set(minimal(), "requirements.education", copy.deepcopy(FULL_EDUCATION))
    run_id = accepted_id(submit(api, config=config_text(config)))
    assert poll(api, run_id).json()["config"]["requirements"]["education"] == FULL_EDUCATION


def test_preferred_languages_with_two_rs_and_a_misplaced_requirement_are_accepted_and_kept(api):
    """CFG-11: neither errors; both are stored as sent and never read."""
    config = minimal()
    config["requirements"]["skills"]["preferred_languages"] = ["English (B2+)"]
    config["requirements"]["workExperience"]["hard_skills"] = [{"name": "Go", "importance": 5}]
    run_id = accepted_id(submit(api, config=config_text(config)))
    stored = poll(api, run_id).json()["config"]
    assert stored["requirements"]["skills"]["preferred_languages"] == ["English (B2+)"]
    assert stored["requirements"]["workExperience"]["hard_skills"] == [{"name": "Go", "importance": 5}]


def test_position_name_alone_names_the_position(api):
    config = minimal()
    config["position_name"] = config.pop("name")
    accepted_id(submit(api, config=config_text(config)))


# -- property: valid configs accepted, single-rule mutations refused at their path --------

@pytest.fixture(scope="module")
def property_api():
    with Api(make_app()) as client:
        yield client


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(config=valid_configs())
def test_any_generated_valid_config_is_accepted_over_http(property_api, config):
    response = submit(property_api, config=config_text(config), idempotency_key=str(uuid.uuid4()))
    assert response.status_code == 202, response.text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(config=valid_configs(), rule_key=st.sampled_from(sorted(MUTATIONS)), data=st.data())
def test_any_single_rule_mutation_is_refused_over_http_at_that_path(property_api, config, rule_key, data):
    mutated, path = MUTATIONS[rule_key](data.draw, copy.deepcopy(config))
    fields = fields_of(submit(property_api, config=config_text(mutated)))
    assert f"config.{path}" in fields, (rule_key, path, fields)

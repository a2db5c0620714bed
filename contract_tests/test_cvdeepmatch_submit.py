"""CV DeepMatch submits over HTTP: the form and its PDF gate (CVDM-1..3), correlation fields
(META-1), webhook URL admission (HOOK-1), submits the contract accepts (CVDM-1, CVDM-2) and
the submit rate limit (CVDM-7, A6). Shared helpers: ``cvdeepmatch_helpers``.
"""

from __future__ import annotations

import json
import secrets

import pytest

from contract_tests.catalog import covers
from contract_tests.checks import assert_error
from contract_tests.cvdeepmatch_helpers import (DOCS_CONFIG, JOB_DESCRIPTION, SUBMIT, accepted, cv_pdf, cvdm_tenant,
                                                invalid_fields, names_field, submit)
from contract_tests.cvdeepmatch_helpers import ops  # noqa: F401  (fixtures)

FIVE_MIB = 5 * 1024 * 1024
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


# --------------------------------------------------------------------------- building requests

def padded_pdf(size: int) -> bytes:
    """A PDF of exactly ``size`` bytes: a valid file followed by comment padding after %%EOF."""
    head = cv_pdf()
    return head + b"%" + b"0" * (size - len(head) - 2) + b"\n"


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


# --------------------------------------------------------------------------- submit rate limit

@covers("CVDM-7", "A6", "ERR-3")
def test_submits_over_the_per_minute_limit_are_429_rate_limit_exceeded(api, ops, provision):
    client = api.with_key(cvdm_tenant(provision, "cvdm-rate", key_fields={"rateLimitPerMinute": 2}).key)
    statuses = [submit(client, position_id="not valid!").status_code for _ in range(2)]
    assert statuses == [400, 400], statuses
    err = assert_error(submit(client, position_id="not valid!"), 429, "RATE_LIMIT_EXCEEDED", ops.submit)
    assert 1 <= err["retryAfterSeconds"] <= 60, err

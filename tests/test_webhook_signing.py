"""HOOK-3, HOOK-4, HOOK-8: the mock's webhook signatures pass the docs' own verifier."""

from __future__ import annotations

import hashlib
import hmac
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.webhooks import HEADER_SCHEMES, compact_json, sign, signed_headers, verify_signature

from tests.support.docs_verifier import docs_verifier  # noqa: E402


SECRET = "whsec_test_4f9a1c"
PAYLOAD = {
    "external_request_id": "550e8400-e29b-41d4-a716-446655440000",
    "application_id": "app_abc123",
    "status": "finished",
    "cv2jd_result": {"overall_score": 0.81, "breakdown": {"workExperience": 0.85, "skills": 0.78,
                                                          "education": 0.9}},
    "note": "Zoë — café ✓",
}


def test_docs_verifier_accepts_mock_signature_over_exact_bytes_at_wall_time():
    body = compact_json(PAYLOAD)
    header = sign(body, SECRET, int(time.time()))
    assert docs_verifier()(header, body, SECRET) is True
    assert verify_signature(header, body, SECRET) is True  # no `now`: the receiver's wall clock


def test_signature_header_is_t_and_lower_hex_hmac_of_t_dot_body():
    body = compact_json(PAYLOAD)
    header = sign(body, SECRET, 1747641600)
    assert re.fullmatch(r"t=1747641600,v1=[0-9a-f]{64}", header)
    expected = hmac.new(SECRET.encode(), b"1747641600." + body, hashlib.sha256).hexdigest()
    assert header.endswith("v1=" + expected)


def test_compact_json_has_no_whitespace_and_keeps_non_ascii_as_utf8():
    body = compact_json({"a": [1, 2], "name": "Zoë"})
    assert body == '{"a":[1,2],"name":"Zoë"}'.encode("utf-8")


@pytest.mark.parametrize("verify", ["docs", "mock"])
def test_tampered_body_wrong_secret_and_stale_timestamp_are_rejected(verify):
    now = 1_780_000_000
    check = (docs_verifier(frozen_now=now) if verify == "docs"
             else lambda h, b, s: verify_signature(h, b, s, now=now))
    body = compact_json(PAYLOAD)
    fresh = sign(body, SECRET, now)
    assert check(fresh, body, SECRET) is True
    assert check(fresh, body.replace(b"0.81", b"0.99"), SECRET) is False
    assert check(fresh, body + b" ", SECRET) is False
    assert check(fresh, body, "whsec_other") is False
    assert check(sign(body, SECRET, now - 301), body, SECRET) is False
    assert check(sign(body, SECRET, now + 301), body, SECRET) is False
    assert check(sign(body, SECRET, now - 300), body, SECRET) is True  # the 5-minute edge


def test_reserialised_body_breaks_the_signature():
    body = compact_json(PAYLOAD)
    header = sign(body, SECRET, 1_780_000_000)
    pretty = compact_json(PAYLOAD).decode().replace(",", ", ").encode()
    assert verify_signature(header, pretty, SECRET, now=1_780_000_000) is False


@pytest.mark.parametrize("header", ["", "garbage", "t=,v1=", "v1=abc", "t=123", "t=abc,v1=00",
                                    "t=1780000000,v1=zz", "t=1780000000,v1=é", "t=1780000000;v1=00"])
def test_verify_signature_never_raises_on_malformed_headers(header):
    assert verify_signature(header, b"{}", SECRET, now=1_780_000_000) is False


def test_verify_signature_rejects_a_body_that_is_not_utf8():
    body = b"\xff\xfe"
    assert verify_signature(sign(body, SECRET, 1_780_000_000), body, SECRET, now=1_780_000_000) is False


@pytest.mark.parametrize("kind", ["cvdm", "cvds"])
def test_cv_products_sign_with_x_cvdm_headers_and_api_prefixed_request_id(kind):
    body = compact_json(PAYLOAD)
    headers = signed_headers(kind, run_id="550e8400-e29b-41d4-a716-446655440000", body=body,
                             secret=SECRET, timestamp=1_780_000_000)
    assert headers == {
        "Content-Type": "application/json",
        "X-CVDM-Request-Id": "api_550e8400-e29b-41d4-a716-446655440000",
        "X-CVDM-Signature": sign(body, SECRET, 1_780_000_000),
        "X-CVDM-Signature-Timestamp": "1780000000",
    }


def test_interview_signs_with_x_interview_headers():
    body = compact_json({"event": "interview.session.completed"})
    headers = signed_headers("interview", run_id="ses_1", body=body, secret=SECRET, timestamp=1_780_000_000)
    assert headers["X-Interview-Signature"] == sign(body, SECRET, 1_780_000_000)
    assert headers["X-Interview-Signature-Timestamp"] == "1780000000"
    assert headers["X-Interview-Request-Id"] == "api_ses_1"
    assert not any(name.startswith("X-CVDM") for name in headers)
    assert set(HEADER_SCHEMES) == {"cvdm", "cvds", "interview"}


# -- verify_signature is the docs' verifier, made total ------------------------------------
NOW = 1_780_000_000
_docs_at_now = docs_verifier(frozen_now=NOW)

secrets_ = st.one_of(st.just(SECRET), st.text(max_size=20))
bodies = st.one_of(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3).map(compact_json),
                   st.binary(max_size=64))
near_now = st.integers(NOW - 400, NOW + 400).map(str)
odd_timestamps = st.one_of(st.text(max_size=12),
                           st.sampled_from(["+1780000000", " 1780000000", "1_780_000_000", "0x10", ""]))
WELL_FORMED = ["t={t},v1={v}", "v1={v},t={t}", " t={t} , v1={v} ", "t={t},v1={v},v0=x", "t=1,t={t},v1={v}"]
ILL_FORMED = ["t={t}", "t={t},v1={v},junk", "v1={v}", "t={t},v1={v},t=1"]


@st.composite
def headers_for(draw, body: bytes, secret: str) -> str:
    """Mostly signatures the docs' verifier could accept, plus near misses and noise."""
    roll = draw(st.integers(0, 9))
    if roll == 9:
        return draw(st.text(max_size=40))
    ts = draw(near_now if roll < 7 else odd_timestamps)
    good = hmac.new(secret.encode("utf-8", "surrogatepass"),
                    ts.encode("utf-8", "surrogatepass") + b"." + body, hashlib.sha256).hexdigest()
    v1 = good if roll < 5 else draw(st.one_of(st.text(max_size=70), st.just(good.upper()), st.just(good[:-1])))
    shape = draw(st.sampled_from(WELL_FORMED if roll < 5 else WELL_FORMED + ILL_FORMED))
    return shape.format(t=ts, v=v1)


def _docs_answer(header: str, body: bytes, secret: str) -> bool:
    try:
        return _docs_at_now(header, body, secret)
    except (ValueError, TypeError):
        return False  # where the docs' code crashes, the header is simply not valid


@settings(max_examples=400, deadline=None)
@given(data=st.data(), body=bodies, secret=secrets_)
def test_verify_signature_agrees_with_the_docs_verifier(data, body, secret):
    header = data.draw(headers_for(body, secret))
    assert verify_signature(header, body, secret, now=NOW) is _docs_answer(header, body, secret)

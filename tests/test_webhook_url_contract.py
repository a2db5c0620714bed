"""HOOK-1: the contract states the host-length rule the mock enforces on `webhook_url` (a host
name of at most 253 characters, labels of at most 63), so a generated URL is refused exactly
when the contract says it is invalid — never a 400 for a URL the contract calls valid.

Hypothesis draws host names around both limits; each URL is checked against the contract's
own `webhook_url` schema (from openapi.yaml) and sent to CV DeepSearch search and CV DeepMatch
submit. The apps resolve with an empty static table (no DNS is asked), and the clock never
moves, so no delivery is attempted.
"""

from __future__ import annotations

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Api
from cvds_contract_helpers import candidate, ingest, search
from mockserver.app import cached_contract, create_app
from mockserver.config import Settings
from mockserver.webhooks import StaticResolver
from test_cvdeepmatch_submit import submit

SCHEMAS = ("CvDeepMatchSubmitRequest", "CvdsSearchRequest", "InterviewSessionCreateRequest")


def webhook_url_schema(schema_name: str) -> dict:
    spec = cached_contract().spec
    return spec["components"]["schemas"][schema_name]["properties"]["webhook_url"]


def contract_accepts(url: str, schema_name: str = "CvdsSearchRequest") -> bool:
    return jsonschema_rs.validator_for(webhook_url_schema(schema_name)).is_valid(url)


def within_dns_limits(host: str) -> bool:
    name = host[:-1] if host.endswith(".") else host
    return len(name) <= 253 and all(1 <= len(label) <= 63 for label in name.split("."))


labels = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=70)
long_labels = st.integers(58, 68).map(lambda n: "a" * (n - 1) + "z")
hosts = st.builds(
    lambda parts, tld, dot: ".".join(parts + [tld]) + ("." if dot else ""),
    st.lists(st.one_of(labels, long_labels), min_size=1, max_size=5),
    st.sampled_from(["test", "example", "com"]),
    st.booleans(),
)


@pytest.fixture(scope="module")
def api():
    app = create_app(Settings(clock="manual", strict=True), resolver=StaticResolver({}))
    with Api(app) as client:
        ingest(client, [candidate("c1")])
        yield client


def test_every_webhook_url_in_the_contract_carries_the_same_host_rule():
    patterns = {webhook_url_schema(name).get("pattern") for name in SCHEMAS}
    assert len(patterns) == 1 and None not in patterns


@pytest.mark.parametrize("host, accepted", [
    ("a" * 63 + ".test", True),
    ("a" * 64 + ".test", False),
    (".".join(["a" * 63] * 3) + "." + "b" * 61, True),           # 253 characters
    (".".join(["a" * 63] * 3) + "." + "b" * 61 + ".", True),     # 253 and a trailing dot
    (".".join(["a" * 63] * 3) + "." + "b" * 62, False),          # 254 characters
])
def test_the_contract_and_the_dns_limits_agree_at_the_edges(host, accepted):
    for name in SCHEMAS:
        assert contract_accepts(f"https://{host}/hook", name) is accepted
    assert contract_accepts(f"https://user@{host}:8443/hook?x=1") is accepted
    assert contract_accepts(f"https://{'u' * 300}@short.test/hook") is True  # userinfo is not the host


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=hosts)
def test_a_generated_webhook_url_is_refused_exactly_when_the_contract_says_so(api, host):
    url = f"https://{host}/cvds/callback"
    valid = contract_accepts(url)
    assert valid is within_dns_limits(host)
    response = search(api, body={"webhook_url": url})
    if valid:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "INVALID_INPUT" and "webhook_url" in error["details"]["fields"]


@pytest.mark.parametrize("label_length, status", [(63, 202), (64, 400)])
def test_cv_deepmatch_applies_the_same_rule(api, label_length, status):
    response = submit(api, webhook_url=f"https://{'h' * label_length}.test/cvdm")
    assert response.status_code == status, response.text

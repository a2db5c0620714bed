"""Request-body fields the contract does not declare (openapi.yaml x-provenance
`unknown_fields`): ignored by default in every module — the docs never call them an error,
and their one precedent, CV DeepMatch's retired `source`, is "ignored (not an error)" — and
refused with 400 "Unknown field." per module with the scenario switch
`settings: {<module>: {unknownFields: reject}}` (or a client's own settings).

Ignored means dropped before the handler: nothing of the field is stored or echoed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Api, make_app
from cvds_contract_helpers import SEARCH, candidate, ingest, search
from mockserver.scenarios import ScenarioError
from test_cvdeepmatch_submit import submit as cvdm_submit
from test_interview_support import PERSONAS, make_persona
from test_speech_support import submit as speech_submit

STRICT_MODULES = ("speech", "cvdeepmatch", "cvdeepsearch", "interview")


def scenario_file(tmp_path: Path, settings: str) -> str:
    path = tmp_path / "strict.yaml"
    path.write_text(f"version: 1\nsettings:\n{settings}")
    return str(path)


def strict_app(tmp_path: Path, *modules: str):
    settings = "".join(f"  {module}: {{unknownFields: reject}}\n" for module in modules)
    return make_app(scenarios=[scenario_file(tmp_path, settings)])


def unknown_fields_of(response) -> dict:
    assert response.status_code == 400, response.text
    fields = response.json()["error"]["details"]["fields"]
    return {name: messages for name, messages in fields.items() if messages == ["Unknown field."]}


# -- requests per module: (send it with an undeclared field) ---------------------------------

def speech_request(api):
    return speech_submit(api, surprise="1")


def cvdm_request(api):
    return cvdm_submit(api, externalId="ats-42")  # the overview mentions one (A11)


def cvds_search_request(api):
    return search(api, body={"surprise": {"nested": True}})


def interview_persona_request(api):
    return api.call("POST", PERSONAS, json={"role_name": "Backend Engineer", "language": "en", "surprise": 1})


CASES = [
    ("speech", speech_request, 202, "surprise"),
    ("cvdeepmatch", cvdm_request, 202, "externalId"),
    ("cvdeepsearch", cvds_search_request, 200, "surprise"),
    ("interview", interview_persona_request, 201, "surprise"),
]


@pytest.mark.parametrize("module, send, accepted, field", CASES, ids=[c[0] for c in CASES])
def test_an_undeclared_field_is_ignored_by_default(api, module, send, accepted, field):
    ingest(api, [candidate("c1")])
    response = send(api)
    assert response.status_code == accepted, response.text
    assert field not in response.text


@pytest.mark.parametrize("module, send, accepted, field", CASES, ids=[c[0] for c in CASES])
def test_the_strict_switch_refuses_an_undeclared_field_in_its_module_only(tmp_path, module, send, accepted, field):
    with Api(strict_app(tmp_path, module)) as api:
        ingest(api, [candidate("c1")])
        assert unknown_fields_of(send(api)) == {field: ["Unknown field."]}
        for other, other_send, other_accepted, _field in CASES:
            if other != module:
                assert other_send(api).status_code == other_accepted, other


def test_the_strict_switch_reports_unknown_fields_with_the_other_problems(tmp_path):
    with Api(strict_app(tmp_path, "cvdeepmatch")) as api:
        response = cvdm_submit(api, externalId="x", position_id="has spaces", idempotency_key="")
        fields = response.json()["error"]["details"]["fields"]
        assert {"externalId", "position_id", "idempotency_key"} <= set(fields)
        assert fields["externalId"] == ["Unknown field."]


def test_the_retired_source_stays_ignored_even_when_strict(tmp_path):
    """CVDM-1: `source` is declared (retired, ignored) — never an unknown field."""
    with Api(strict_app(tmp_path, "cvdeepmatch")) as api:
        assert cvdm_submit(api, source="testing").status_code == 202


def test_an_undeclared_field_inside_a_candidate_is_ignored_then_refused_when_strict(api, tmp_path):
    """CVDS-1: each candidate declares external_id, parsed_cv, tags, corpus_id."""
    item = dict(candidate("c9"), surprise="x")
    response = ingest(api, [item])
    assert response.status_code == 200 and response.json()["results"][0]["status"] == "accepted"
    again = ingest(api, [candidate("c9")])  # the same content: the ignored field changed nothing
    assert again.json()["results"][0]["status"] == "unchanged"
    with Api(strict_app(tmp_path, "cvdeepsearch")) as strict:
        assert unknown_fields_of(ingest(strict, [item])) == {"candidates[0].surprise": ["Unknown field."]}


def test_free_form_objects_have_no_unknown_fields_even_when_strict(tmp_path):
    """CFG-10: CV DeepSearch position_metadata is any non-empty object; metadata maps are free."""
    with Api(strict_app(tmp_path, "cvdeepsearch", "interview")) as api:
        ingest(api, [candidate("c1")])
        body = {"position_metadata": {"name": "Go dev", "anything": {"goes": [1, 2]}}}
        assert api.call("POST", SEARCH, json={"corpus_id": "pool", "position_id": "p-1", **body}).status_code == 200
        persona = make_persona(api)
        response = api.call("POST", f"{PERSONAS}/{persona['id']}/sessions",
                            json={"consent_mode": "integrator", "metadata": {"ats": "x-1"}})
        assert response.status_code == 201, response.text


def test_a_client_can_switch_strictness_for_itself(tmp_path):
    path = tmp_path / "client.yaml"
    path.write_text("version: 1\nclients:\n  - id: strictco\n    permissions: [speech]\n    credits: 1000\n"
                    "    settings: {speech: {unknownFields: reject}}\n"
                    "    keys: [{key: zh_api_test_strictco_0001}]\n")
    with Api(make_app(scenarios=[str(path)])) as api:
        assert unknown_fields_of(speech_submit(api, key="zh_api_test_strictco_0001", surprise="1")) == {
            "surprise": ["Unknown field."]}
        assert speech_submit(api, surprise="1").status_code == 202  # other clients: ignored


def test_a_switch_value_other_than_ignore_or_reject_is_refused_at_load(tmp_path):
    with pytest.raises(ScenarioError, match="unknownFields"):
        make_app(scenarios=[scenario_file(tmp_path, "  speech: {unknownFields: strict}\n")])

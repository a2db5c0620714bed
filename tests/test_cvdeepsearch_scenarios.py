"""CV DeepSearch scenario outcomes and state: how rule `then` values are read (and refused
when malformed), module settings for timings, the shipped scenario file's outcomes being
valid for the contract, and runs/candidates surviving a restart with `--state` (POLL-4).
Each test's docstring names the catalog IDs it checks."""

from __future__ import annotations

import math

import pytest

from conftest import Api, make_app
from cvds_contract_helpers import SEARCH_SECONDS, candidate, ingest, list_corpus, run_path, search
from mockserver.errors import ApiError
from mockserver.modules.cvdeepsearch.ingest import EmbeddingPace, embedding_ready_at
from mockserver.modules.cvdeepsearch.outcomes import embedding_choice, search_choice
from mockserver.scenarios import ScenarioError, Scenarios


def test_no_rule_means_the_modules_own_behaviour():
    assert embedding_choice(None).outcome is None and embedding_choice(None).seconds is None
    choice = search_choice(None)
    assert (choice.ending, choice.error, choice.seconds, choice.fails_to_start(1)) == (None, None, None, False)


def test_search_choice_reads_every_outcome_key():
    choice = search_choice({"run": "failed", "errorCode": "INDEX_DOWN", "errorMessage": "Index offline.",
                            "searchSeconds": 30, "startFailures": 2})
    assert choice.error == {"code": "INDEX_DOWN", "message": "Index offline."}
    assert choice.seconds == 30.0
    assert [choice.fails_to_start(n) for n in (1, 2, 3)] == [True, True, False]
    assert search_choice({"startFailures": "all"}).start_failures == math.inf
    assert search_choice({"run": "failed"}).error["code"] == "SEARCH_FAILED"


@pytest.mark.parametrize("then", [
    {"run": "exploded"}, {"run": "failed", "errorCode": "lower case"}, {"run": "failed", "errorMessage": ""},
    {"searchSeconds": 0}, {"searchSeconds": "soon"}, {"startFailures": -1}, {"startFailures": True},
])
def test_malformed_search_outcomes_are_internal_errors_naming_the_rule(then):
    with pytest.raises(ApiError) as caught:
        search_choice(dict(then, _rule="my-rule"))
    assert (caught.value.status, caught.value.code) == (500, "INTERNAL_ERROR")
    assert "my-rule" in caught.value.message


@pytest.mark.parametrize("then", [{"embedding": "maybe"}, {"embeddingSeconds": -1}, {"embeddingSeconds": "x"}])
def test_malformed_embedding_outcomes_are_internal_errors(then):
    with pytest.raises(ApiError) as caught:
        embedding_choice(then)
    assert caught.value.code == "INTERNAL_ERROR"


def test_embedding_pace_is_configurable():
    pace = EmbeddingPace(inline_max=0, chunk_size=10, chunk_seconds=5.0)
    assert embedding_ready_at(100.0, 1, 0, pace) == 105.0
    assert embedding_ready_at(100.0, 30, 25, pace) == 115.0


def test_shipped_rules_parse_cleanly():
    """Every cvds rule in scenarios/cvdeepsearch.yaml yields a valid choice."""
    scenarios = Scenarios.load()
    cvds_rules = [rule for rule in scenarios.rules if rule.get("name", "").startswith("cvds-")]
    assert len(cvds_rules) >= 8
    for rule in cvds_rules:
        then = dict(rule["then"], _rule=rule["name"])
        if rule["when"]["operation"] == "ingestCvdsCandidates":
            embedding_choice(then)
        else:
            search_choice(then)


def test_a_broken_scenario_rule_is_refused_at_start_and_on_reload_naming_the_rule(tmp_path):
    """A rule with a bad value is reported, not silently ignored — at start (never as a 500 at
    the first matching request), and a reload that brings one keeps the old scenarios."""
    bad = "version: 1\nrules:\n  - name: oops\n    when: {operation: submitCvdsSearch}\n    then: {run: sideways}\n"
    path = tmp_path / "bad.yaml"
    path.write_text(bad)
    with pytest.raises(ScenarioError, match="oops.*run must be completed or failed"):
        make_app(scenarios=[str(path)])
    path.write_text("version: 1\n")
    with Api(make_app(scenarios=[str(path)])) as api:
        path.write_text(bad)
        refused = api.post("/__mock/scenarios/reload")
        assert refused.status_code == 400 and "oops" in refused.json()["error"]["message"]
        assert search(api).status_code == 200


def test_module_settings_change_search_and_embedding_times(tmp_path):
    """CLOCK-1: `settings: {cvdeepsearch: {...}}` sets the run duration and the embedding pace."""
    path = tmp_path / "pace.yaml"
    path.write_text("version: 1\nsettings:\n  cvdeepsearch: {searchSeconds: 30, inlineEmbedMax: 0, "
                    "embedChunkSeconds: 7}\n")
    with Api(make_app(scenarios=[str(path)])) as api:
        assert ingest(api, [candidate("c1")]).json()["results"][0]["embedding_status"] == "pending"
        api.advance(7)
        run_id = search(api).json()["id"]
        api.advance(30)
        assert api.call("GET", run_path(run_id)).json()["status"] == "completed"


def test_runs_and_candidates_survive_a_restart_with_state(tmp_path):
    """POLL-4: with --state, a run id and the corpus outlive the process; a due run settles after."""
    state = str(tmp_path / "state.sqlite")
    with Api(make_app(state=state, preview=["cvds-results"])) as first:
        ingest(first, [candidate("c1", tags=["kept"])])
        run_id = search(first).json()["id"]
    with Api(make_app(state=state, preview=["cvds-results"])) as second:
        second.advance(SEARCH_SECONDS)
        body = second.call("GET", run_path(run_id)).json()
        assert (body["status"], [row["external_id"] for row in body["results"]]) == ("completed", ["c1"])
        assert [row["external_id"] for row in list_corpus(second)] == ["c1"]
        assert second.call("GET", "/api/v1/cvds/candidates/c1?corpus_id=pool").json()["tags"] == ["kept"]

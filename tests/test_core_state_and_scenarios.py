"""State that survives a restart (--state, POLL-4 mechanics), scenario files (valid,
invalid with a one-line located error, folders, rules), the control API and the CLI."""

import subprocess
import sys

import pytest

from conftest import FULL, NO_PERMS, Api, make_app
from mockserver.scenarios import Facts, ScenarioError, Scenarios, parse_scenario_text


def test_state_file_keeps_ledger_and_clock_across_restart(tmp_path):
    state = str(tmp_path / "state.sqlite")
    with Api(make_app(state=state)) as first:
        first.advance(7200)
        first.post("/__mock/clients/acme/credits", json={"delta": 40})
        t1 = first.platform.clock.now()
    with Api(make_app(state=state)) as second:
        body = second.call("GET", "/api/v1/credits").json()
        assert body["creditBalance"] == 100040
        assert body["recentTransactions"][0]["type"] == "topup"
        assert second.platform.clock.now() >= t1


def test_bad_scenario_file_is_one_line_with_its_location():
    text = "version: 1\nclients:\n  - id: ok\n    credits: -5\n"
    with pytest.raises(ScenarioError) as exc:
        parse_scenario_text(text, "bad.yaml")
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith("bad.yaml:4:") and "credits" in message


def test_broken_yaml_names_line_and_column():
    with pytest.raises(ScenarioError) as exc:
        parse_scenario_text("version: 1\nclients: [\n", "broken.yaml")
    assert str(exc.value).startswith("broken.yaml:")


def test_unknown_top_level_key_is_refused():
    with pytest.raises(ScenarioError, match="bogus"):
        parse_scenario_text("version: 1\nbogus: true\n", "x.yaml")


def test_scenario_folder_loads_every_file_and_later_rules_win(tmp_path):
    (tmp_path / "a.yaml").write_text("version: 1\nrules:\n  - when: {module: speech}\n    then: {outcome: a}\n")
    (tmp_path / "b.yaml").write_text("version: 1\nrules:\n  - when: {module: speech}\n    then: {outcome: b}\n")
    scenarios = Scenarios.load([tmp_path], include_default=False)
    assert scenarios.outcome(Facts(module="speech"))["outcome"] == "b"


@pytest.mark.parametrize("when,facts,hit", [
    ({"externalId": "fail-*"}, Facts(external_id="fail-42"), True),
    ({"externalId": "fail-*"}, Facts(external_id="ok-1"), False),
    ({"tags": ["a", "b"]}, Facts(tags=["b", "a", "c"]), True),
    ({"tags": ["a", "b"]}, Facts(tags=["a"]), False),
    ({"metadata": {"k": 1}}, Facts(metadata={"k": 1, "z": 2}), True),
    ({"metadata": {"k": 1}}, Facts(metadata={"k": 2}), False),
    ({"scenario": "speech-partial"}, Facts(scenario="speech-partial"), True),
    ({"language": "es"}, Facts(language="en"), False),
    ({"header": {"X-Trace": "1"}}, Facts(headers={"x-trace": "1"}), True),
])
def test_rule_matching(when, facts, hit):
    scenarios = Scenarios([("t", {"rules": [{"when": when, "then": {"outcome": "x"}}]})])
    assert (scenarios.outcome(facts) is not None) is hit


def test_fault_for_an_undocumented_status_is_refused(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("version: 1\nfaults:\n  - when: {operation: getCredits}\n    then: {status: 502, code: STEP_FUNCTIONS_FAILED}\n")
    with pytest.raises(ScenarioError, match="not documented"):
        make_app(scenarios=[str(path)])


def test_injected_fault_answers_with_the_envelope(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("version: 1\nfaults:\n  - when: {operation: getCredits, scenario: boom}\n"
                    "    then: {status: 500, code: INTERNAL_ERROR}\n")
    with Api(make_app(scenarios=[str(path)])) as client:
        r = client.call("GET", "/api/v1/credits", headers={"X-Mock-Scenario": "boom"})
        assert r.status_code == 500 and r.json()["error"]["code"] == "INTERNAL_ERROR"
        assert client.call("GET", "/api/v1/credits").status_code == 200


def test_fault_window_in_virtual_time(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("version: 1\nfaults:\n  - when: {operation: getCredits}\n    window: {afterSeconds: 60, forSeconds: 60}\n"
                    "    then: {status: 500, code: INTERNAL_ERROR}\n")
    with Api(make_app(scenarios=[str(path)])) as client:
        assert client.call("GET", "/api/v1/credits").status_code == 200
        client.advance(61)
        assert client.call("GET", "/api/v1/credits").status_code == 500
        client.advance(60)
        assert client.call("GET", "/api/v1/credits").status_code == 200


def test_journal_records_requests_without_keys_or_query(api):
    api.call("GET", "/api/v1/credits?secret=abc")
    api.call("GET", "/api/v1/credits", key=NO_PERMS)
    entries = api.get("/__mock/journal", params={"client": "acme"}).json()["entries"]
    assert entries[0]["path"] == "/api/v1/credits" and entries[0]["status"] == 200
    assert entries[0]["operation"] == "getCredits"
    text = str(entries)
    assert FULL not in text and "secret=abc" not in text


def test_reset_one_client_clears_its_ledger(api):
    api.post("/__mock/clients/acme/credits", json={"delta": 10})
    assert api.post("/__mock/reset", json={"client": "acme"}).status_code == 200
    assert api.call("GET", "/api/v1/credits").json()["creditBalance"] == 100000


def test_control_api_can_add_a_client_and_rejects_bad_documents(api):
    r = api.post("/__mock/clients", json={"id": "newco", "credits": 9, "permissions": ["speech"],
                                         "keys": [{"key": "zh_api_test_newco_key_01"}]})
    assert r.status_code == 201
    assert api.call("GET", "/api/v1/credits", key="zh_api_test_newco_key_01").json()["creditBalance"] == 9
    bad = api.post("/__mock/clients", json={"id": "x", "credits": "lots"})
    assert bad.status_code == 400


def test_control_api_can_be_switched_off_or_protected():
    with Api(make_app(control=False)) as client:
        assert client.get("/__mock/clock").status_code == 404
    with Api(make_app(control_token="s3cret")) as client:
        assert client.get("/__mock/clock").status_code == 401
        assert client.get("/__mock/clock", headers={"X-Mock-Control-Token": "s3cret"}).status_code == 200


def test_cli_routes_and_keys_print_the_contract_and_the_test_keys():
    routes = subprocess.run([sys.executable, "-m", "mockserver.cli", "routes"], capture_output=True, text=True)
    assert routes.returncode == 0 and "getCredits" in routes.stdout and "/api/v1/health" in routes.stdout
    keys = subprocess.run([sys.executable, "-m", "mockserver.cli", "keys"], capture_output=True, text=True)
    assert keys.returncode == 0 and FULL in keys.stdout


def test_cli_serve_with_a_bad_scenario_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\n")
    r = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--scenarios", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "bad.yaml:1:" in r.stderr


def test_the_control_api_serves_its_own_valid_contract(api):
    import yaml
    from openapi_spec_validator import validate
    r = api.get("/__mock/openapi.yaml")
    assert r.status_code == 200
    spec = yaml.safe_load(r.text)
    validate(spec)
    assert "/__mock/clock/advance" in spec["paths"] and "/__mock/interview/candidate/{action}" in spec["paths"]


def test_reload_refuses_a_rule_a_module_cannot_honour_and_keeps_the_old_scenarios(tmp_path):
    path = tmp_path / "extra.yaml"
    path.write_text("version: 1\nrules:\n  - name: fine\n    when: {module: speech, scenario: x}\n"
                    "    then: {outcome: partial}\n")
    with Api(make_app(scenarios=[str(path)])) as client:
        before = len(client.platform.scenarios.rules)
        path.write_text("version: 1\nrules:\n  - name: bogus\n    when: {module: speech, scenario: x}\n"
                        "    then: {outcome: exploded}\n")
        r = client.post("/__mock/scenarios/reload")
        assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_SCENARIO"
        assert "bogus" in r.json()["error"]["message"]
        assert len(client.platform.scenarios.rules) == before
        assert any(rule.get("name") == "fine" for rule in client.platform.scenarios.rules)

"""The health check's checks are built and encoded once for the scenarios, overrides and store
state in force (`universal.api._checks`); each of those changing must show at once, on the
very next request after one served from the kept checks."""

from __future__ import annotations

from conftest import Api, make_app


def health(api) -> tuple[int, dict]:
    r = api.get("/api/v1/health")
    return r.status_code, r.json()


def test_an_override_shows_on_the_next_health_check_and_its_removal_too(api):
    assert health(api)[0] == 200 and health(api)[0] == 200  # the second from the kept checks
    assert api.put("/__mock/health", json={"checks": {"queue": "unhealthy"}}).status_code == 200
    status, body = health(api)
    assert status == 503 and body["checks"]["queue"] == {"status": "unhealthy"}
    assert api.put("/__mock/health", json={"checks": {}}).status_code == 200
    status, body = health(api)
    assert status == 200 and body["checks"]["queue"] == {"status": "healthy"}


def test_an_override_changed_in_place_shows_too(api):
    assert health(api)[0] == 200
    api.platform.health_overrides["storage"] = "unreachable"
    assert health(api)[1]["checks"]["storage"] == {"status": "unreachable"}


def test_a_scenario_reload_shows_its_health(tmp_path):
    path = tmp_path / "health.yaml"
    path.write_text("version: 1\nhealth:\n  version: 9.9.9\n")
    with Api(make_app(scenarios=[str(path)])) as api:
        assert health(api)[1]["version"] == "9.9.9"
        path.write_text("version: 1\nhealth:\n  version: 3.0.0\n  checks:\n    scoring: not_configured\n")
        assert api.post("/__mock/scenarios/reload").status_code == 200
        status, body = health(api)
        assert status == 503 and body["version"] == "3.0.0"
        assert body["checks"]["scoring"] == {"status": "not_configured"}


def test_two_apps_keep_their_own_health(tmp_path):
    path = tmp_path / "down.yaml"
    path.write_text("version: 1\nhealth:\n  checks:\n    database: unreachable\n")
    with Api(make_app()) as fine, Api(make_app(scenarios=[str(path)])) as down:
        assert health(fine)[0] == 200 and health(down)[0] == 503 and health(fine)[0] == 200


def test_each_answer_has_its_own_timestamp(api):
    first = health(api)[1]["timestamp"]
    api.advance(1.5)
    assert health(api)[1]["timestamp"] != first


def test_a_kept_answer_is_only_reused_within_its_millisecond_and_checks(api):
    first = api.get("/api/v1/health")
    assert api.get("/api/v1/health").content == first.content  # the manual clock stood still
    api.advance(0.001)
    moved = api.get("/api/v1/health")
    assert moved.json()["timestamp"] != first.json()["timestamp"]
    assert api.put("/__mock/health", json={"checks": {"queue": "unhealthy"}}).status_code == 200
    same_instant = api.get("/api/v1/health")
    assert same_instant.status_code == 503 and same_instant.json()["timestamp"] == moved.json()["timestamp"]

"""HOOK-1, HOOK-2: `POST /__mock/scenarios/reload` applies an edited webhook DNS table
(`settings.webhooks.dns`) at once, for admission at submit and for the next delivery attempt
of a callback already queued — DNS rebinding simulated without a restart.

Safety: the only addresses used are loopback (127.0.0.1, where the test's receiver listens)
and TEST-NET-1 (192.0.2.x, unroutable and refused by admission); the app's fallback resolver
is an empty static table, so the system resolver is never asked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Api
from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.webhooks import StaticResolver
from test_cvdeepmatch_submit import accepted_id, submit
from tests.support.webhook_receiver import WebhookReceiver, status

HOST = "hooks.rebind.test"
FAST = {"X-Mock-Scenario": "cvdm-fast"}  # the match finishes 5 virtual seconds after submit
LOOPBACK = "127.0.0.1"
UNROUTABLE = "192.0.2.10"  # TEST-NET-1: documentation range, refused by admission


def write_dns(path: Path, address: str) -> None:
    path.write_text(f'version: 1\nsettings:\n  webhooks:\n    dns: {{"{HOST}": ["{address}"]}}\n')


def dns_app(scenario: Path, **settings):
    settings.setdefault("clock", "manual")
    settings.setdefault("strict", True)
    settings.setdefault("allow_local_webhooks", True)
    return create_app(Settings(scenarios=[str(scenario)], **settings), resolver=StaticResolver({}))


def reload(api) -> None:
    response = api.post("/__mock/scenarios/reload")
    assert response.status_code == 200, response.text


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


def test_a_reloaded_table_rebinds_a_queued_callback_before_its_next_attempt(tmp_path, receiver):
    scenario = tmp_path / "dns.yaml"
    write_dns(scenario, LOOPBACK)
    receiver.program(status(500), status(200))
    url = f"http://{HOST}:{receiver.port}/hook"
    with Api(dns_app(scenario)) as api:
        run_id = accepted_id(submit(api, webhook_url=url, headers=FAST))
        api.advance(5)  # attempt 1: the name resolves to the receiver, which answers 500
        assert len(receiver.requests) == 1
        assert receiver.requests[0].header("Host") == f"{HOST}:{receiver.port}"
        write_dns(scenario, UNROUTABLE)
        reload(api)
        api.advance(10)  # attempt 2 is due ~1 s later: re-resolved through the reloaded table
        [record] = [d for d in api.get("/__mock/webhooks/deliveries").json()["deliveries"]
                    if d["run_id"] == run_id]
    assert len(receiver.requests) == 1, "the rebound name must not be called"
    assert [(a["status"], a["error"]) for a in record["attempts"]] == [(500, None), (None, "url_refused")]
    assert record["state"] == "failed" and record["attempts"][1]["outcome"] == "permanent"


def test_a_reloaded_table_decides_admission_at_submit(tmp_path, receiver):
    scenario = tmp_path / "dns.yaml"
    write_dns(scenario, UNROUTABLE)
    url = f"https://{HOST}/hook"
    with Api(dns_app(scenario)) as api:
        refused = submit(api, webhook_url=url)
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "PRIVATE_WEBHOOK_URL")
        write_dns(scenario, LOOPBACK)
        reload(api)
        accepted_id(submit(api, webhook_url=url))  # loopback is admitted with allow_local_webhooks
        write_dns(scenario, UNROUTABLE)
        reload(api)
        again = submit(api, webhook_url=url)
        assert (again.status_code, again.json()["error"]["code"]) == (400, "PRIVATE_WEBHOOK_URL")


def test_a_reload_that_is_refused_keeps_the_table_in_force(tmp_path):
    scenario = tmp_path / "dns.yaml"
    write_dns(scenario, UNROUTABLE)
    with Api(dns_app(scenario)) as api:
        scenario.write_text("version: 1\nsettings: [not, an, object]\n")
        assert api.post("/__mock/scenarios/reload").status_code == 400
        refused = submit(api, webhook_url=f"https://{HOST}/hook")
        assert refused.json()["error"]["code"] == "PRIVATE_WEBHOOK_URL"

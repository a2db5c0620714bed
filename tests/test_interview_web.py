"""The mock's candidate web page (in-process): the page and its assets, its actions (the
token only in JSON bodies), loopback http candidate links for local click-through, and the
candidate base URL checked at start (INTV-2, INTV-4, INTV-5)."""

from __future__ import annotations

import re

import pytest

from conftest import Api, make_app
from tests.support.candidate_links import token_from_link
from test_interview_support import get_session, make_persona, make_session

LOCAL_BASE = "http://127.0.0.1:8080/candidate"


@pytest.fixture
def local():
    app = make_app(candidate_base_url=LOCAL_BASE)
    with Api(app) as client:
        yield client


def test_a_loopback_candidate_base_gives_http_links_to_the_mocks_own_page(local):
    persona = make_persona(local)
    created = make_session(local, persona["id"])  # strict mode: the link passes the contract
    assert re.fullmatch(r"http://127\.0\.0\.1:8080/candidate/#t=[A-Za-z0-9_-]{43}", created["candidate_link"])


@pytest.mark.parametrize("base", ["http://interview.example.com", "ftp://127.0.0.1/x", "https://x.test/?q=1"])
def test_the_mock_refuses_to_start_with_an_unusable_candidate_base(base):
    with pytest.raises(ValueError, match="candidate base URL"):
        make_app(candidate_base_url=base)


def test_the_candidate_page_and_its_assets_are_served_with_a_strict_policy(local):
    page = local.get("/candidate/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'src="candidate.js"' in page.text and 'href="candidate.css"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    script = local.get("/candidate/candidate.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "location.hash" in script.text and '"api/" + action' in script.text
    assert local.get("/candidate/candidate.css").headers["content-type"].startswith("text/css")
    assert local.get("/candidate/secrets.txt").status_code == 404
    redirect = local.get("/candidate", follow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["location"] == "/candidate/"


def test_the_pages_actions_drive_the_session_with_the_token_in_the_body(local):
    persona = make_persona(local, role_name="QA Engineer", language="de")
    created = make_session(local, persona["id"], consent_mode="explicit")
    token = token_from_link(created["candidate_link"])

    def page_action(action):
        return local.post(f"/candidate/api/{action}", json={"token": token})

    view = page_action("open").json()
    assert view["role_name"] == "QA Engineer" and view["language_name"] == "German"
    assert view["consent_required"] is True and view["max_duration_seconds"] == 2700
    assert "QA Engineer" in view["interviewer_greeting"]
    assert token not in str(view) and created["id"] not in str(view)
    assert page_action("start").json()["error"]["code"] == "CONSENT_REQUIRED"
    page_action("consent")
    assert page_action("start").json()["status"] == "in_progress"
    local.advance(420)
    assert page_action("finish").json()["status"] == "completed"
    session = get_session(local, created["id"])
    assert session["status"] == "completed" and session["duration_seconds"] == 420
    assert page_action("open").status_code == 409


def test_the_candidate_page_keeps_working_without_the_control_api():
    app = make_app(control=False)
    with Api(app) as client:
        persona = make_persona(client)
        created = make_session(client, persona["id"])
        token = token_from_link(created["candidate_link"])
        assert client.post("/__mock/interview/candidate/open", json={"token": token}).status_code == 404
        assert client.post("/candidate/api/open", json={"token": token}).status_code == 200

"""A real browser on the mock's candidate page (INTV-2, INTV-4, INTV-5, INTV-7): headless
Chromium (Debian's `chromium` package, driven by Playwright) opens a candidate link served by
a real uvicorn on 127.0.0.1, consents, starts, survives a reload, finishes — and the
integrator-side API then shows the session completed with a playable recording.

Skipped with a reason when /usr/bin/chromium or the `playwright` package is missing; nothing
here downloads a browser. The mock runs on a manual clock, so the interview's length comes
from a control-API clock move, not from waiting.
"""

from __future__ import annotations

import io
import os
import tempfile
import wave
from pathlib import Path

import httpx
import pytest

from conftest import FULL
from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.testing import free_loopback_socket, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INTERVIEW_SECONDS = 300

if not CHROMIUM.exists():
    pytest.skip("headless Chromium not installed: apt-get install chromium (Debian) to run the browser test",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright to run the browser test")


@pytest.fixture
def served_mock():
    """A real uvicorn on a free loopback port whose candidate links point at its own page."""
    sock = free_loopback_socket()  # bound first: the candidate links point at this server's own page
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(Settings(host="127.0.0.1", port=sock.getsockname()[1], clock="manual", strict=True,
                              candidate_base_url=f"{base}/candidate"))
    with serving(app, sock) as url:
        yield url


def visible(section: str) -> str:
    return f"#{section}:not([hidden])"


def test_a_candidate_consents_and_completes_the_interview_in_a_real_browser(served_mock):
    base = served_mock
    api = httpx.Client(base_url=base, headers={"X-API-Key": FULL}, timeout=10)
    persona = api.post("/api/v1/interview/personas", json={"role_name": "Backend Engineer", "language": "en"}).json()
    created = api.post(f"/api/v1/interview/personas/{persona['id']}/sessions",
                       json={"consent_mode": "explicit", "candidate_ref": "browser-1"}).json()
    link = created["candidate_link"]
    assert link.startswith(f"{base}/candidate/#t=")
    shots = Path(os.environ.get("INTERVIEW_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="candidate-page-"))
    shots.mkdir(parents=True, exist_ok=True)

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 820})
            seen_urls: list[str] = []
            page.on("request", lambda request: seen_urls.append(request.url))
            page.goto(link)
            page.wait_for_selector(visible("welcome"), timeout=10_000)
            assert page.inner_text("#welcome h1") == "Interview for Backend Engineer"
            assert page.inner_text("[data-field=budget]") == "45 minutes"
            assert page.is_disabled("#start-button")  # explicit mode: the consent gate first
            page.check("#consent-box")
            page.click("#consent-button")
            page.wait_for_selector(visible("consent-done"), timeout=10_000)
            page.screenshot(path=str(shots / "1-consented.png"), full_page=True)
            assert api.get(f"/api/v1/interview/sessions/{created['id']}").json()["consent_given_at"] is not None

            page.click("#start-button")
            page.wait_for_selector(visible("live"), timeout=10_000)
            assert "Backend Engineer" in page.inner_text("[data-field=interviewer_greeting]")
            assert httpx.post(f"{base}/__mock/clock/advance", json={"seconds": INTERVIEW_SECONDS}).status_code == 200
            page.reload()  # a reload while live is tolerated: back on the live view
            page.wait_for_selector(visible("live"), timeout=10_000)
            page.screenshot(path=str(shots / "2-live.png"), full_page=True)

            page.click("#finish-button")
            page.wait_for_selector(visible("done"), timeout=10_000)
            page.screenshot(path=str(shots / "3-done.png"), full_page=True)
        finally:
            browser.close()

    token = link.split("#t=", 1)[1]
    assert all(token not in url for url in seen_urls)  # the fragment never reached a request line
    session = api.get(f"/api/v1/interview/sessions/{created['id']}").json()
    assert session["status"] == "completed" and session["has_recording"] is True
    assert session["duration_seconds"] == INTERVIEW_SECONDS
    recording = api.get(f"/api/v1/interview/sessions/{created['id']}/recording")
    assert recording.status_code == 200 and recording.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(recording.content)) as wav:
        assert wav.getnframes() / wav.getframerate() == INTERVIEW_SECONDS
    assert all((shots / name).stat().st_size > 0 for name in ("1-consented.png", "2-live.png", "3-done.png"))
    api.close()

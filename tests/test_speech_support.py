"""Shared helpers for the Speech tests (this file holds no tests).

`submit` posts a real audio file the way the docs' clients do (multipart `audio` plus text
fields); `assert_error` checks the standard envelope; `run_doc` reads a run's stored
timeline so a test can advance the virtual clock exactly to its start or finish.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tests.conftest import FULL
from tests.support.audio_fixtures import audio_file

SUBMIT = "/api/v1/speech/analyze"
RUNS = "/api/v1/speech/runs"
REQUEST_ID = re.compile(r"^req_[0-9]{13}_[A-Za-z0-9]+$")
# The docs' bash loop (cURL recipes): a greedy sed match on the compact JSON text.
SED_ID = re.compile(r'.*"id":"([^"]*)".*')
SED_STATUS = re.compile(r'.*"status":"([^"]*)".*')


@lru_cache(maxsize=64)
def audio(audio_format: str = "flac", seconds: float = 200.0, variant: int = 0) -> bytes:
    """A real recording (cached: the fixtures are deterministic)."""
    return audio_file(audio_format, seconds, variant=variant)


def submit(api, *, key: str = FULL, data: bytes | None = None, filename: str = "interview.flac",
           scenario: str | None = None, headers: dict | None = None, **fields):
    """POST /api/v1/speech/analyze with `audio` (default: a 200 s FLAC) and text `fields`."""
    headers = dict(headers or {})
    if scenario is not None:
        headers["X-Mock-Scenario"] = scenario
    body = audio() if data is None else data
    return api.call("POST", SUBMIT, key=key, headers=headers, files={"audio": (filename, body)},
                    data={name: value for name, value in fields.items() if value is not None})


def submitted(api, **kw) -> dict:
    """Submit and return the 202 body (fails the test on any other status)."""
    r = submit(api, **kw)
    assert r.status_code == 202, r.text
    return r.json()


def poll(api, run_id: str, key: str = FULL):
    return api.call("GET", f"{SUBMIT}/{run_id}", key=key)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, response.text
    assert error["message"] and error["timestamp"]
    return error


def run_doc(api, run_id: str) -> dict:
    """The stored Speech run (its virtual timeline: created_at, start_at, finish_at)."""
    doc = api.platform.store.get("speech_run", run_id)
    assert doc is not None, run_id
    return doc


def advance_to(api, epoch: float) -> None:
    """Move the manual clock to `epoch` (no-op when already there or later)."""
    now = api.platform.clock.now()
    if epoch > now:
        api.advance(epoch - now)


def credits(api, key: str = FULL) -> dict:
    r = api.call("GET", "/api/v1/credits", key=key)
    assert r.status_code == 200, r.text
    return r.json()

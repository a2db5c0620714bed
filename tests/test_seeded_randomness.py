"""`serve --seed N`: every id, token, jitter and outcome draw comes from one injected source,
so two mocks with the same seed answer the same requests with the same bytes (snapshot
tests), and a different seed gives different ids."""

from __future__ import annotations

import json
import re

from mockserver.modules.cvdeepmatch.config import DOCS_MINIMAL_CONFIG
from mockserver.platform.ids import Ids
from tests.conftest import FULL, Api, make_app
from tests.cvds_contract_helpers import candidate, ingest, search
from tests.support.audio_fixtures import audio_file
from tests.support.pdf_fixtures import make_cv_pdf
from tests.test_interview_support import make_persona, make_session

START = 1_790_000_000.0  # both mocks' manual clocks start here
REAL_TIME_HEADERS = {"date", "server"}
# Delivery-log fields that record the real (wall-clock) side of an attempt (HOOK-8).
REAL_TIME_FIELD = re.compile(r"signature|signed|real|wall|elapsed|duration|latency", re.I)
DEAD_RECEIVER = "http://127.0.0.1:9/hook"  # loopback discard port: refused at once, retried


def _virtual_view(value):
    if isinstance(value, dict):
        return {k: _virtual_view(v) for k, v in value.items() if not REAL_TIME_FIELD.search(k)}
    if isinstance(value, list):
        return [_virtual_view(v) for v in value]
    return value


def _session(seed: int | None) -> list[tuple[int, dict, bytes]]:
    """One fixed sequence of requests over every module; each answer as (status, headers, body)."""
    app = make_app(seed=seed, clock_start=START, allow_local_webhooks=True)
    answers: list[tuple[int, dict, bytes]] = []

    def keep(response):
        assert response.status_code < 400, response.text
        headers = {k: v for k, v in response.headers.items() if k.lower() not in REAL_TIME_HEADERS}
        answers.append((response.status_code, headers, response.content))
        return response

    with Api(app) as api:
        speech = keep(api.call("POST", "/api/v1/speech/analyze", data={"language": "en"},
                               files={"audio": ("a.wav", audio_file("wav", 181), "audio/wav")})).json()
        cvdm = keep(api.call("POST", "/api/v1/cvdeepmatch/submit", data={
            "position_id": "eng-backend-2026", "job_description": "Backend engineer, Go and PostgreSQL.",
            "config": json.dumps(DOCS_MINIMAL_CONFIG), "webhook_url": DEAD_RECEIVER},
            files={"cv_file": ("cv.pdf", make_cv_pdf("Ada Lovelace", ["Go", "PostgreSQL"], 6), "application/pdf")})).json()
        persona = make_persona(api)
        answers.append((201, {}, json.dumps(persona).encode()))
        session = make_session(api, persona["id"])
        answers.append((201, {}, json.dumps(session).encode()))
        keep(ingest(api, [candidate("c1"), candidate("c2", "Python")]))
        keep(search(api))
        keep(api.call("GET", "/api/v1/credits"))
        api.advance(900)
        keep(api.call("GET", f"/api/v1/speech/analyze/{speech['id']}"))
        keep(api.call("GET", f"/api/v1/cvdeepmatch/{cvdm['id']}"))
        keep(api.call("GET", "/api/v1/credits"))
        deliveries = api.get("/__mock/webhooks/deliveries").json()
        answers.append((200, {}, json.dumps(_virtual_view(deliveries), sort_keys=True).encode()))
    return answers


def test_two_mocks_with_the_same_seed_answer_the_same_requests_byte_for_byte():
    first, second = _session(seed=7), _session(seed=7)
    assert len(first) == len(second)
    for index, (a, b) in enumerate(zip(first, second)):
        assert a == b, f"answer {index} differs:\n{a}\n{b}"
    deliveries = json.loads(first[-1][2])["deliveries"]
    assert deliveries and all(d["attempts"] for d in deliveries), "the retries (and their jitter) were compared"


def test_a_different_seed_gives_different_ids():
    first, other = _session(seed=7), _session(seed=8)
    speech_first, speech_other = json.loads(first[0][2]), json.loads(other[0][2])
    assert speech_first["id"] != speech_other["id"]
    assert json.loads(first[1][2])["id"] != json.loads(other[1][2])["id"]


def test_unseeded_mocks_draw_from_the_operating_system():
    assert Ids().uuid() != Ids().uuid()
    assert Ids(None).request_id(START) != Ids(None).request_id(START)


def test_seeded_formats_match_the_documented_shapes():
    ids = Ids(1)
    assert re.fullmatch(r"req_\d{13}_[0-9a-f]{12}", ids.request_id(START))
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", ids.uuid())
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", ids.token(32))
    assert re.fullmatch(r"whd_[0-9a-f]{32}", ids.delivery_id())
    assert [Ids(5).hex(8) for _ in range(2)] == [Ids(5).hex(8)] * 2

"""The requests every bench measures: the public health check, an authenticated read, and
the two poll endpoints (a finished Speech run and a finished CV DeepMatch run: terminal runs
are re-fetched freely, so load does not meet the poll throttle)."""

from __future__ import annotations

import http.client
import json
import sys
from dataclasses import dataclass
from pathlib import Path

API_KEY = "zh_api_test_full_access_0001"
REPO_ROOT = Path(__file__).resolve().parent.parent
BOUNDARY = "zenhirebenchpoll5e2a"


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    headers: dict[str, str]


ENDPOINTS = [
    Endpoint("health", "/api/v1/health", {}),
    Endpoint("credits", "/api/v1/credits", {"X-API-Key": API_KEY}),
]


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[str, bytes]:
    parts = []
    for name, value in fields.items():
        parts.append(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode())
    for name, (filename, content, mime) in files.items():
        parts.append(f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n"
                     f"Content-Type: {mime}\r\n\r\n".encode() + content + b"\r\n")
    return f"multipart/form-data; boundary={BOUNDARY}", b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _request(port: int, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, (json.loads(payload) if payload else {})
    finally:
        conn.close()


def poll_endpoints(port: int) -> list[Endpoint]:
    """Submit one Speech and one CV DeepMatch run to the mock on ``port``, move its clock a
    day on (control API), and return the two poll endpoints of those finished runs."""
    sys.path.insert(0, str(REPO_ROOT))
    from mockserver.modules.cvdeepmatch.config import DOCS_MINIMAL_CONFIG
    from tests.support.audio_fixtures import audio_file
    from tests.support.pdf_fixtures import make_cv_pdf

    key = {"X-API-Key": API_KEY}
    content_type, body = _multipart({"language": "en"}, {"audio": ("bench.flac", audio_file("flac", 180), "audio/flac")})
    status, speech = _request(port, "POST", "/api/v1/speech/analyze", key | {"Content-Type": content_type}, body)
    if status != 202:
        raise RuntimeError(f"Speech submit answered {status}: {speech}")
    pdf = make_cv_pdf("Jane Doe", ["Node.js", "TypeScript", "PostgreSQL"], 7, ["Senior Backend Engineer, 2018 - 2025"])
    content_type, body = _multipart(
        {"position_id": "bench", "job_description": "Backend engineer, Node.js and PostgreSQL.",
         "config": json.dumps(DOCS_MINIMAL_CONFIG)}, {"cv_file": ("cv.pdf", pdf, "application/pdf")})
    status, cvdm = _request(port, "POST", "/api/v1/cvdeepmatch/submit", key | {"Content-Type": content_type}, body)
    if status != 202:
        raise RuntimeError(f"CV DeepMatch submit answered {status}: {cvdm}")
    status, _ = _request(port, "POST", "/__mock/clock/advance", {"Content-Type": "application/json"},
                         json.dumps({"seconds": 86400}).encode())
    if status != 200:
        raise RuntimeError(f"clock advance answered {status} (is the control API on?)")
    return [Endpoint("speech-poll", f"/api/v1/speech/analyze/{speech['id']}", key),
            Endpoint("cvdm-poll", f"/api/v1/cvdeepmatch/{cvdm['id']}", key)]

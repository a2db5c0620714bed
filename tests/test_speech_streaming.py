"""SPCH-2 `FILE_TOO_LARGE` while streaming: a 200 MB upload is refused without being read
to the end or held in memory.

Starlette's TestClient reads a request body completely before sending it, so these tests
drive the ASGI app directly with a `receive` that pulls chunks from a generator on demand
and counts what the app consumed.
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc

from tests.conftest import FULL, make_app

MB = 1024 * 1024
CHUNK = 64 * 1024
BOUNDARY = "zenhire-mock-test-boundary"


class ChunkedUpload:
    """A multipart body with one `audio` part of `size` bytes, generated lazily and counted."""

    def __init__(self, size: int):
        self.size = size
        self.bytes_sent = 0
        self.finished = False

    def chunks(self):
        head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n"
                f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"audio\"; filename=\"big.wav\"\r\n"
                f"Content-Type: audio/wav\r\n\r\n").encode()
        yield head
        block = b"\x80" * CHUNK
        for _ in range(self.size // CHUNK):
            yield block
        yield f"\r\n--{BOUNDARY}--\r\n".encode()
        self.finished = True


async def _post(app, headers: dict[str, str], upload: ChunkedUpload) -> tuple[int, dict]:
    chunks = upload.chunks()
    sent: dict = {"status": None, "body": b""}
    request_done = False

    async def receive():
        nonlocal request_done
        if request_done:
            await asyncio.sleep(0)
            return {"type": "http.disconnect"}
        chunk = next(chunks, None)
        if chunk is None:
            request_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        upload.bytes_sent += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message):
        if message["type"] == "http.response.start":
            sent["status"] = message["status"]
        elif message["type"] == "http.response.body":
            sent["body"] += message.get("body", b"")

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/speech/analyze", "raw_path": b"/api/v1/speech/analyze",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
    await app(scope, receive, send)
    return sent["status"], json.loads(sent["body"])


def _headers(**extra: str) -> dict[str, str]:
    return {"x-api-key": FULL, "content-type": f"multipart/form-data; boundary={BOUNDARY}", **extra}


def test_a_200_mb_chunked_upload_is_refused_after_about_25_mb_without_holding_it_in_memory():
    app = make_app()
    upload = ChunkedUpload(200 * MB)
    tracemalloc.start()
    try:
        status, body = asyncio.run(_post(app, _headers(**{"transfer-encoding": "chunked"}), upload))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 400
    assert body["error"]["code"] == "FILE_TOO_LARGE"
    assert "audio" in body["error"]["details"]["fields"]
    assert not upload.finished
    assert 25 * MB < upload.bytes_sent <= 26 * MB  # the 25 MB cap plus the form's 256 KB slack
    assert peak < 8 * MB  # streamed to a spool file, never buffered whole


def test_a_declared_200_mb_upload_is_refused_before_any_body_byte_is_read():
    app = make_app()
    upload = ChunkedUpload(200 * MB)
    status, body = asyncio.run(_post(app, _headers(**{"content-length": str(200 * MB + 300)}), upload))
    assert status == 400
    assert body["error"]["code"] == "FILE_TOO_LARGE"
    assert upload.bytes_sent == 0

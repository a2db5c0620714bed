"""ASGI wrappers that make a deviant variant of the mock — test-only, never in the product.

``Deviation(app, on_request=…, on_response=…, when=…)`` sits in front of the real app:
``on_request(ex)`` may edit the request (path, headers) or poke the app's state before it
is served; ``on_response(ex)`` may edit the buffered response (status, headers, body)
before it is sent. ``ex`` is one ``Exchange``; ``when(ex)`` limits the deviation to the
requests it matches. Lifespan and every unmatched request pass straight through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Exchange:
    method: str
    path: str
    request_headers: dict[str, str]
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    app: Any = None

    # request side
    @property
    def key(self) -> str | None:
        value = self.request_headers.get("x-api-key")
        if value:
            return value
        auth = self.request_headers.get("authorization", "")
        return auth.split(" ", 1)[1] if auth.lower().startswith("bearer ") else None

    @property
    def platform(self):
        return self.app.state.platform

    # response side
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None

    def set_json(self, value: Any, *, indent: int | None = None) -> None:
        separators = None if indent else (",", ":")
        self.body = json.dumps(value, indent=indent, separators=separators, ensure_ascii=False).encode("utf-8")
        self.headers["content-type"] = "application/json"

    @property
    def error(self) -> dict | None:
        body = self.json()
        return body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None


def _decode(headers) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in headers}


def _encode(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


class Deviation:
    def __init__(self, app, *, on_request: Callable[[Exchange], None] | None = None,
                 on_response: Callable[[Exchange], None] | None = None,
                 when: Callable[[Exchange], bool] = lambda ex: True) -> None:
        self.app = app
        self.on_request = on_request
        self.on_response = on_response
        self.when = when
        self.state = app.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ex = Exchange(scope["method"], scope["path"], _decode(scope["headers"]), app=self.app)
        if not self.when(ex):
            await self.app(scope, receive, send)
            return
        if self.on_request is not None:
            self.on_request(ex)
            scope = dict(scope, path=ex.path, raw_path=ex.path.encode("latin-1"),
                         headers=_encode(ex.request_headers))
        if self.on_response is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def capture(message) -> None:
            if message["type"] == "http.response.start":
                ex.status = message["status"]
                ex.headers = _decode(message.get("headers", []))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    ex.body = b"".join(chunks)
                    self.on_response(ex)
                    ex.headers["content-length"] = str(len(ex.body))
                    await send({"type": "http.response.start", "status": ex.status, "headers": _encode(ex.headers)})
                    await send({"type": "http.response.body", "body": ex.body})

        await self.app(scope, receive, capture)

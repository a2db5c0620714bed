"""One delivery attempt: re-check the URL, then one POST, never a redirect (HOOK-2, HOOK-5).

Before every attempt the URL goes through the same admission check as at submit, with a
fresh resolution (DNS-rebinding defence, documented). A refusal is recorded as the
attempt's error without any request being made: ``url_refused`` (permanent) for a private
address or a URL no longer admissible, ``dns_unresolvable`` (retried like any network
error) for a name that does not resolve.

The request goes to the URL as given; proxies from the environment are ignored
(``trust_env=False``) so a receiver on 127.0.0.1 is reached directly. Only the first
``EXCERPT_BYTES`` of the response body are read and kept.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Callable, Protocol

from .admission import Resolver, admit_addresses
from .policy import ERROR_CONNECT, ERROR_DNS, ERROR_NETWORK, ERROR_TIMEOUT, ERROR_URL_REFUSED

if TYPE_CHECKING:  # httpx is imported on the first delivery, not at start (start-up time)
    import httpx

EXCERPT_BYTES = 1024
DEFAULT_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class AttemptResult:
    """What one POST came back with: a status, or an error code (see ``policy``)."""

    status_code: int | None
    error: str | None
    response_body_excerpt: str | None
    duration_ms: int
    error_detail: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Transport(Protocol):
    async def deliver(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult: ...


class HttpxTransport:
    """Sends attempts with httpx after re-checking the URL.

    ``client_factory`` builds the ``httpx.AsyncClient`` for one attempt from keyword options
    (default: ``httpx.AsyncClient`` itself); tests pass one with an ``httpx.MockTransport``.
    """

    def __init__(self, *, resolver: Resolver | None = None, allow_local: bool = False,
                 timeout: float = DEFAULT_TIMEOUT_SECONDS, verify_tls: bool = True,
                 client_factory: Callable[..., "httpx.AsyncClient"] | None = None) -> None:
        self.resolver = resolver
        self.allow_local = allow_local
        self.timeout = timeout
        self.verify_tls = verify_tls
        self.client_factory = client_factory

    async def deliver(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        import httpx  # imported on the first delivery, not at start (start-up time, issue 14)

        started = time.perf_counter()
        refusal, addresses = await asyncio.to_thread(
            admit_addresses, url, resolver=self.resolver, allow_local=self.allow_local)
        if refusal is not None:
            error = ERROR_DNS if refusal.transient else ERROR_URL_REFUSED
            return AttemptResult(None, error, None, _elapsed_ms(started),
                                 error_detail=f"{refusal.code}: {refusal.reason}")
        try:
            target, headers, extensions = pin_to_address(url, headers, addresses)
            async with (self.client_factory or httpx.AsyncClient)(follow_redirects=False, trust_env=False,
                                           timeout=self.timeout, verify=self.verify_tls) as client:
                async with client.stream("POST", target, headers=headers, content=body,
                                         extensions=extensions) as response:
                    excerpt = await _read_excerpt(response)
                    return AttemptResult(response.status_code, None, excerpt, _elapsed_ms(started))
        except httpx.InvalidURL as exc:
            return _failure(ERROR_URL_REFUSED, exc, started)
        except httpx.UnsupportedProtocol as exc:
            return _failure(ERROR_URL_REFUSED, exc, started)
        except httpx.TimeoutException as exc:
            return _failure(ERROR_TIMEOUT, exc, started)
        except httpx.ConnectError as exc:
            return _failure(ERROR_CONNECT, exc, started)
        except httpx.TransportError as exc:
            return _failure(ERROR_NETWORK, exc, started)


def pin_to_address(url: str, headers: dict[str, str], addresses: list[str]):
    """Connect to the address admission checked, not to whatever the name resolves to a
    moment later (HOOK-2, DNS rebinding). The request keeps its ``Host`` header, and TLS
    its server name (SNI), so the receiver sees the URL it registered."""
    import httpx

    parsed = httpx.URL(url)
    host = parsed.host
    if not addresses or host in addresses:
        return url, headers, {}
    address = addresses[0]
    pinned = parsed.copy_with(host=address)
    headers = dict(headers)
    headers["Host"] = parsed.netloc.decode("ascii")
    extensions = {"sni_hostname": host} if parsed.scheme == "https" else {}
    return str(pinned), headers, extensions


async def _read_excerpt(response: "httpx.Response") -> str | None:
    """Up to ``EXCERPT_BYTES`` of the body; None when the body cannot be read (the status
    line already arrived, so the attempt is judged by its status)."""
    import httpx

    collected = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            collected.extend(chunk)
            if len(collected) >= EXCERPT_BYTES:
                break
    except (httpx.TransportError, httpx.DecodingError):
        return None
    return bytes(collected[:EXCERPT_BYTES]).decode("utf-8", errors="replace")


def _failure(error: str, exc: Exception, started: float) -> AttemptResult:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return AttemptResult(None, error, None, _elapsed_ms(started), error_detail=detail)


def _elapsed_ms(started: float) -> int:
    return int(round((time.perf_counter() - started) * 1000))

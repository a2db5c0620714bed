"""Whether a ``webhook_url`` may be accepted, and may be called right now (HOOK-1, HOOK-2).

Documented: the URL must be ``https://`` (else 400 ``INSECURE_WEBHOOK_URL``) and must not
resolve to a private, loopback or link-local address (else 400 ``PRIVATE_WEBHOOK_URL``);
the resolution is re-checked before each delivery attempt (DNS rebinding). The same check
serves both moments: submit handlers call ``check_webhook_url``; the transport calls
``inspect_webhook_url`` before every attempt.

Decisions where the docs are silent:
- A URL that is not an absolute URL with a host (no scheme, empty host, bad port,
  whitespace/control characters/backslashes, a host that is neither a name nor an address,
  a numeric host outside IPv4) → 400 ``INVALID_INPUT`` with ``details.fields.webhook_url``.
- Any scheme other than ``https`` → ``INSECURE_WEBHOOK_URL`` (checked before the host, so
  ``http://10.0.0.1`` is "insecure", the first thing the docs tell an integrator to fix).
- A name that does not resolve → ``INVALID_INPUT`` ("host does not resolve"): it cannot be
  shown to be public, and ``PRIVATE_WEBHOOK_URL`` would misdescribe it. The refusal is
  marked transient so a delivery attempt treats it as a network error (retried).
- If ANY resolved address is forbidden, the URL is refused (an attacker controls which
  answer the connection would use). A resolver answer that is not an address counts as
  forbidden.
- ``localhost`` names are loopback without asking DNS.
- ``allow_local`` (the mock's ``--allow-local-webhooks`` option) admits URLs whose every
  address is loopback, over ``http`` or ``https``; every other private range stays refused.

The resolver is injectable: ``resolve(host) -> list[str]``; an empty list or an ``OSError``
means "does not resolve". ``system_resolver`` asks the operating system.
"""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit
from dataclasses import dataclass
from ipaddress import IPv4Address
from typing import Callable, Mapping, Sequence


from ..errors import ApiError
from .addresses import (
    IpAddress,
    NotAnAddress,
    is_forbidden,
    is_loopback,
    is_loopback_name,
    parse_ip_host,
    parse_resolved,
)

Resolver = Callable[[str], list[str]]

FIELD = "webhook_url"
MAX_URL_LENGTH = 2048
MSG_NOT_A_URL = "must be an absolute https:// URL with a host"
MSG_INSECURE = "must use https://"
MSG_PRIVATE = "must not resolve to a private, loopback or link-local address"
MSG_UNRESOLVABLE = "host does not resolve"

_HOST_LABEL = re.compile(r"[a-z0-9_-]{1,63}")


@dataclass(frozen=True)
class Refusal:
    """Why a webhook URL is refused: the error code, the field message, and whether a
    later attempt could succeed without the integrator changing anything."""

    code: str
    reason: str
    transient: bool = False

    def to_error(self) -> ApiError:
        return ApiError(400, self.code, details={"fields": {FIELD: [self.reason]}})


def system_resolver(host: str) -> list[str]:
    """Every address the operating system resolves ``host`` to ([] when it does not)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class StaticResolver:
    """A fixed host → addresses table, e.g. for tests or offline scenarios.

    Names are matched case-insensitively without a trailing dot; unknown names go to
    ``fallback`` when given, else do not resolve. ``set`` changes an answer later (DNS
    rebinding in tests).
    """

    def __init__(self, table: Mapping[str, Sequence[str]] | None = None,
                 fallback: Resolver | None = None) -> None:
        self._table: dict[str, list[str]] = {}
        self._fallback = fallback
        for host, addresses in (table or {}).items():
            self.set(host, addresses)

    def set(self, host: str, addresses: Sequence[str]) -> None:
        self._table[_table_key(host)] = list(addresses)

    def __call__(self, host: str) -> list[str]:
        key = _table_key(host)
        if key in self._table:
            return list(self._table[key])
        return self._fallback(host) if self._fallback is not None else []


def check_webhook_url(url: str, *, resolver: Resolver | None = None, allow_local: bool = False) -> None:
    """Raise the documented 400 ``ApiError`` when ``url`` may not receive webhooks."""
    refusal = inspect_webhook_url(url, resolver=resolver, allow_local=allow_local)
    if refusal is not None:
        raise refusal.to_error()


def inspect_webhook_url(url: str, *, resolver: Resolver | None = None,
                        allow_local: bool = False) -> Refusal | None:
    """None when ``url`` may receive a webhook now, else the ``Refusal``."""
    return admit_addresses(url, resolver=resolver, allow_local=allow_local)[0]


def admit_addresses(url: str, *, resolver: Resolver | None = None,
                    allow_local: bool = False) -> tuple[Refusal | None, list[str]]:
    """The admission verdict and the addresses it was made on (the ones a delivery must
    connect to, so nothing can rebind the name between the check and the connection)."""
    parsed = _parse(url)
    if parsed is None:
        return Refusal("INVALID_INPUT", MSG_NOT_A_URL), []
    scheme, host, deliverable = parsed
    if scheme != "https" and not (scheme == "http" and allow_local):
        return Refusal("INSECURE_WEBHOOK_URL", MSG_INSECURE), []
    try:
        literal = parse_ip_host(host)
    except NotAnAddress:
        return Refusal("INVALID_INPUT", MSG_NOT_A_URL), []
    if not deliverable:
        if literal is not None and is_forbidden(literal):
            return Refusal("PRIVATE_WEBHOOK_URL", MSG_PRIVATE), []
        return Refusal("INVALID_INPUT", MSG_NOT_A_URL), []
    addresses: list[IpAddress | None]
    if literal is not None:
        addresses = [literal]
    elif is_loopback_name(host):
        addresses = [IPv4Address("127.0.0.1")]
    elif not _is_hostname(host):
        return Refusal("INVALID_INPUT", MSG_NOT_A_URL), []
    else:
        answers = _resolve(resolver or system_resolver, host)
        if not answers:
            if scheme != "https":  # plain http is only for receivers shown to be local
                return Refusal("INSECURE_WEBHOOK_URL", MSG_INSECURE), []
            return Refusal("INVALID_INPUT", MSG_UNRESOLVABLE, transient=True), []
        addresses = [parse_resolved(answer) for answer in answers]
    checked = [str(a) for a in addresses if a is not None]
    if allow_local and all(a is not None and is_loopback(a) for a in addresses):
        return None, checked
    if scheme != "https":
        return Refusal("INSECURE_WEBHOOK_URL", MSG_INSECURE), []
    if any(a is None or is_forbidden(a) for a in addresses):
        return Refusal("PRIVATE_WEBHOOK_URL", MSG_PRIVATE), []
    return None, checked


def _parse(url: object) -> tuple[str, str, bool] | None:
    """(scheme, ASCII host without brackets, deliverable) of an absolute URL; None when malformed.

    The host is read by httpx, the client that delivers, so the host checked is the host
    called. A URL httpx refuses is not deliverable; it is still read by ``urlsplit`` so that
    a spelling such as ``https://0177.0.0.1/`` (octal loopback, which httpx will not parse)
    is reported as private rather than merely malformed.
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        return None
    if "\\" in url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return None
    import httpx  # imported on the first webhook URL, not at start (start-up time, issue 14)

    try:
        parsed = httpx.URL(url)
        scheme, host, port = parsed.scheme, parsed.raw_host.decode("ascii"), parsed.port
        deliverable = True
    except (httpx.InvalidURL, UnicodeError, ValueError):
        try:
            split = urlsplit(url)
            scheme, host, port = split.scheme, split.hostname or "", split.port
        except ValueError:
            return None
        deliverable = False
    if not scheme or not host:
        return None
    if port is not None and not 1 <= port <= 65535:
        return None
    return scheme.lower(), host.lower(), deliverable


def _is_hostname(host: str) -> bool:
    name = host[:-1] if host.endswith(".") else host
    return 0 < len(name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in name.split("."))


def _resolve(resolver: Resolver, host: str) -> list[str]:
    try:
        return [str(answer) for answer in resolver(host)]
    except (OSError, UnicodeError):
        return []


def _table_key(host: str) -> str:
    return host.lower().rstrip(".")

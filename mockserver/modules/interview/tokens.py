"""Interview candidate tokens: minting, hashing, and the candidate link (INTV-2, INTV-3, INTV-4).

A session's token is returned once, inside ``candidate_link``'s URL fragment (``#t=<token>``,
never a query string, so link scanners and servers never see it). The platform stores only
``hash_token(token)``; nothing here keeps or logs a raw token.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

from mockserver.platform.ids import Ids

DEFAULT_CANDIDATE_BASE_URL = "https://interview.zenhire.ai"
TOKEN_BYTES = 32  # token_urlsafe(32) → 43 URL-safe characters
FRAGMENT_PREFIX = "#t="


def mint_token(ids: Ids) -> str:
    """A fresh single-use candidate token (URL-safe base64, 43 characters)."""
    return ids.token(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The only form of a token the platform stores: lower-case hex SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, token_hash: str) -> bool:
    """Whether ``token`` is the one whose hash is stored (constant-time comparison)."""
    return hmac.compare_digest(hash_token(token), token_hash)


def is_loopback_host(host: str | None) -> bool:
    """``localhost`` or a loopback IP literal (127.0.0.0/8, ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_candidate_base_url(base_url: str | None) -> str:
    """The base without trailing slashes, or ``ValueError``.

    The platform's links are ``https://``; for local click-through against the mock's own
    candidate page an ``http://`` base is accepted when its host is loopback (the contract's
    ``candidate_link`` pattern allows exactly these two forms). No query, no fragment.
    """
    base = (base_url or DEFAULT_CANDIDATE_BASE_URL).rstrip("/")
    parts = urlsplit(base)
    secure = parts.scheme == "https"
    local = parts.scheme == "http" and is_loopback_host(parts.hostname)
    if not (secure or local) or not parts.netloc or "#" in base or "?" in base:
        raise ValueError("candidate base URL must be an https:// URL (or http:// on a loopback "
                         f"host) without a query or fragment, not {base!r}")
    return base


def candidate_link(base_url: str | None, token: str) -> str:
    """``<base>/#t=<token>``; ``base_url`` None or empty → the documented host."""
    return f"{check_candidate_base_url(base_url)}/{FRAGMENT_PREFIX}{token}"

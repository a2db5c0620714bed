"""Which IP addresses a webhook may never reach, and how URL hosts spell IPv4 (HOOK-1).

Documented: ``webhook_url`` must not resolve to a private, loopback or link-local address
(``10/8``, ``172.16/12``, ``192.168/16``, ``127/8``, ``169.254/16``, "etc.").
Inferred ("etc."): every range that is not globally routable is refused — unspecified,
CGNAT, documentation, benchmarking, multicast, reserved, broadcast, and the IPv6
equivalents (``::1``, ``::``, ``fc00::/7``, ``fe80::/10``, ``fec0::/10``, multicast,
Teredo/ORCHID/documentation). IPv6 forms that carry an IPv4 address (IPv4-mapped
``::ffff:a.b.c.d``, IPv4-compatible ``::a.b.c.d``, 6to4 ``2002::/16``, NAT64
``64:ff9b::/96``) are judged by the IPv4 address they carry; the deprecated
IPv4-compatible block is refused outright.

The ranges are listed here rather than taken from ``ipaddress.is_global``, whose answers
differ between Python releases.
"""

from __future__ import annotations

import ipaddress
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

IpAddress = IPv4Address | IPv6Address

FORBIDDEN_V4: tuple[IPv4Network, ...] = tuple(IPv4Network(n) for n in (
    "0.0.0.0/8",        # "this network", incl. the unspecified address
    "10.0.0.0/8",       # private
    "100.64.0.0/10",    # carrier-grade NAT
    "127.0.0.0/8",      # loopback
    "169.254.0.0/16",   # link-local (cloud metadata lives here)
    "172.16.0.0/12",    # private
    "192.0.0.0/24",     # IETF protocol assignments
    "192.0.2.0/24",     # documentation
    "192.88.99.0/24",   # 6to4 relay anycast (deprecated)
    "192.168.0.0/16",   # private
    "198.18.0.0/15",    # benchmarking
    "198.51.100.0/24",  # documentation
    "203.0.113.0/24",   # documentation
    "224.0.0.0/4",      # multicast
    "240.0.0.0/4",      # reserved, incl. broadcast
))

FORBIDDEN_V6: tuple[IPv6Network, ...] = tuple(IPv6Network(n) for n in (
    "::/96",            # unspecified, loopback and the deprecated IPv4-compatible block
    "::ffff:0:0:0/96",  # IPv4-translated (SIIT), never routed
    "64:ff9b:1::/48",   # local-use NAT64
    "100::/64",         # discard-only
    "2001::/23",        # IETF protocol assignments: Teredo, ORCHID, benchmarking
    "2001:db8::/32",    # documentation
    "fc00::/7",         # unique local
    "fe80::/10",        # link-local
    "fec0::/10",        # site-local (deprecated)
    "ff00::/8",         # multicast
))

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})

NAT64_PREFIX = IPv6Network("64:ff9b::/96")
SIX_TO_FOUR_PREFIX = IPv6Network("2002::/16")

_HEX_PART = re.compile(r"0[xX][0-9a-fA-F]*")
_OCTAL_PART = re.compile(r"0[0-7]+")
_DECIMAL_PART = re.compile(r"[0-9]+")


def embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX or int(address) >> 32 == 0:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_forbidden(address: IpAddress) -> bool:
    """True when a webhook must not be delivered to ``address``."""
    if isinstance(address, IPv6Address):
        carried = embedded_ipv4(address)
        if carried is not None and is_forbidden(carried):
            return True
        if address.ipv4_mapped is not None:
            return False  # judged entirely by the IPv4 address it maps
        return any(address in network for network in FORBIDDEN_V6)
    return any(address in network for network in FORBIDDEN_V4)


def is_loopback(address: IpAddress) -> bool:
    """Loopback, including ``::ffff:127.x.y.z`` (what ``--allow-local-webhooks`` admits)."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def is_loopback_name(host: str) -> bool:
    """``localhost`` and friends, and any name under ``.localhost`` (RFC 6761)."""
    name = host.lower().rstrip(".")
    return name in LOOPBACK_NAMES or name.endswith(".localhost")


class NotAnAddress(ValueError):
    """The host ends in a number but is no valid IPv4 spelling (e.g. ``256.0.0.1``)."""


def parse_ip_host(host: str) -> IpAddress | None:
    """The IP address a URL host denotes, or None for a name to be resolved.

    Accepts IPv6 literals (brackets already removed, an optional ``%zone``) and every IPv4
    spelling ``inet_aton`` and browsers accept: 1 to 4 dot-separated parts, each decimal,
    ``0x`` hex or leading-zero octal, the last part filling the remaining bytes
    (``2130706433``, ``0x7f.1``, ``127.1``, ``0177.0.0.1``), one trailing dot allowed.
    Raises ``NotAnAddress`` when the last label is numeric but the whole is not valid.
    """
    if ":" in host:
        try:
            return IPv6Address(host)
        except ValueError as exc:
            raise NotAnAddress(f"{host!r} is not a valid IPv6 address") from exc
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels = labels[:-1]
    if not labels or not _is_number(labels[-1]):
        return None
    if len(labels) > 4 or not all(_is_number(label) for label in labels):
        raise NotAnAddress(f"{host!r} ends in a number but is not an IPv4 address")
    values = [_number(label) for label in labels]
    last_capacity = 256 ** (5 - len(values))
    if any(v > 255 for v in values[:-1]) or values[-1] >= last_capacity:
        raise NotAnAddress(f"{host!r} is out of the IPv4 range")
    packed = 0
    for v in values[:-1]:
        packed = packed * 256 + v
    packed = packed * last_capacity + values[-1]
    return IPv4Address(packed)


def parse_resolved(text: str) -> IpAddress | None:
    """A resolver's answer as an address; None when it is not one (treated as forbidden)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_number(label: str) -> bool:
    return bool(_HEX_PART.fullmatch(label) or _DECIMAL_PART.fullmatch(label))


def _number(label: str) -> int:
    if _HEX_PART.fullmatch(label):
        return int(label[2:] or "0", 16)
    if _OCTAL_PART.fullmatch(label):
        return int(label, 8)
    if _DECIMAL_PART.fullmatch(label) and (label == "0" or not label.startswith("0")):
        return int(label, 10)
    raise NotAnAddress(f"{label!r} is not a valid IPv4 part")

"""HOOK-1, HOOK-2: which webhook URLs are accepted, and the re-check before every attempt.

No real DNS: every name goes through a ``StaticResolver``.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mockserver.clock import Clock
from mockserver.errors import ApiError
from mockserver.webhooks import HttpxTransport, StaticResolver, WebhookEngine, check_webhook_url
from mockserver.webhooks.admission import MSG_UNRESOLVABLE, inspect_webhook_url

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"


def refusal_code(url, *, resolver=None, allow_local=False):
    """The error code ``check_webhook_url`` raises for ``url`` (None when admitted)."""
    try:
        check_webhook_url(url, resolver=resolver or StaticResolver(), allow_local=allow_local)
    except ApiError as err:
        assert err.status == 400
        assert list(err.details["fields"]) == ["webhook_url"] and err.details["fields"]["webhook_url"]
        return err.code
    return None


def no_dns(host):
    raise AssertionError(f"the resolver must not be asked about literal host {host!r}")


# -- literal hosts ------------------------------------------------------------------------
PRIVATE_LITERALS = [
    "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254", "192.168.1.1", "127.0.0.1",
    "127.255.0.9", "169.254.169.254", "0.0.0.0", "0.1.2.3", "100.64.0.1", "100.127.255.254",
    "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "192.0.2.10", "198.18.0.1",
    # other spellings of IPv4 that inet_aton and browsers accept
    "2130706433", "0x7f.1", "0x7f000001", "0x7F.0.0.1", "0177.0.0.1", "017700000001", "127.1",
    "127.0.1", "10.1", "0xa9.0xfe.0xa9.0xfe", "3232235777", "127.0.0.1.", "0",
    # IPv6 and IPv6 carrying private IPv4
    "[::1]", "[::]", "[0:0:0:0:0:0:0:1]", "[fc00::1]", "[fd12:3456:789a::1]", "[fe80::1]",
    "[fe80::1%25eth0]", "[fec0::1]", "[ff02::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
    "[::ffff:10.0.0.1]", "[::ffff:169.254.169.254]", "[::127.0.0.1]", "[::10.0.0.1]",
    "[::8.8.8.8]", "[2002:7f00:1::1]", "[2002:c0a8:101::1]", "[64:ff9b::a9fe:a9fe]",
    "[64:ff9b::7f00:1]", "[2001::1]", "[2001:db8::1]", "[::ffff:0:10.0.0.1]",
]


@pytest.mark.parametrize("host", PRIVATE_LITERALS)
def test_private_loopback_link_local_and_reserved_literals_are_refused(host):
    assert refusal_code(f"https://{host}/hook", resolver=no_dns) == "PRIVATE_WEBHOOK_URL"
    assert refusal_code(f"https://{host}:8443/hook", resolver=no_dns) == "PRIVATE_WEBHOOK_URL"


PUBLIC_LITERALS = [PUBLIC_V4, "8.8.8.8", "1.1.1.1", f"[{PUBLIC_V6}]", "[::ffff:8.8.8.8]",
                   "[2002:808:808::1]", "[64:ff9b::808:808]", "0x5d.0xb8.0xd7.0x0e", "1572395790"]


@pytest.mark.parametrize("host", PUBLIC_LITERALS)
def test_public_literals_are_admitted(host):
    assert refusal_code(f"https://{host}/cvdeepmatch/callback", resolver=no_dns) is None


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST", "localhost.", "api.localhost",
                                  "localhost.localdomain", "ip6-localhost"])
def test_localhost_names_are_refused_without_asking_dns(host):
    assert refusal_code(f"https://{host}/hook", resolver=no_dns) == "PRIVATE_WEBHOOK_URL"


# -- names --------------------------------------------------------------------------------
@pytest.mark.parametrize("answers", [["10.0.0.7"], ["127.0.0.1"], ["169.254.169.254"], ["::1"],
                                     ["fd00::5"], ["::ffff:192.168.0.9"], ["fe80::1%eth0"],
                                     ["100.64.3.3"], ["0.0.0.0"]])
def test_names_resolving_to_private_addresses_are_refused(answers):
    resolver = StaticResolver({"hooks.example.com": answers})
    assert refusal_code("https://hooks.example.com/cb", resolver=resolver) == "PRIVATE_WEBHOOK_URL"


def test_a_name_with_one_public_and_one_private_answer_is_refused():
    resolver = StaticResolver({"hooks.example.com": [PUBLIC_V4, "10.0.0.7"]})
    assert refusal_code("https://hooks.example.com/cb", resolver=resolver) == "PRIVATE_WEBHOOK_URL"
    resolver.set("hooks.example.com", [PUBLIC_V6, "::1"])
    assert refusal_code("https://hooks.example.com/cb", resolver=resolver) == "PRIVATE_WEBHOOK_URL"


def test_a_resolver_answer_that_is_not_an_address_counts_as_private():
    resolver = StaticResolver({"hooks.example.com": [PUBLIC_V4, "not-an-ip"]})
    assert refusal_code("https://hooks.example.com/cb", resolver=resolver) == "PRIVATE_WEBHOOK_URL"


def test_names_resolving_only_to_public_addresses_are_admitted():
    resolver = StaticResolver({"example.com": [PUBLIC_V4, PUBLIC_V6]})
    assert refusal_code("https://example.com/cvdeepmatch/callback", resolver=resolver) is None
    assert refusal_code("HTTPS://EXAMPLE.COM./cvdeepmatch/callback", resolver=resolver) is None


def test_an_unresolvable_name_is_invalid_input_and_marked_transient():
    assert refusal_code("https://nowhere.example/cb", resolver=StaticResolver()) == "INVALID_INPUT"
    refusal = inspect_webhook_url("https://nowhere.example/cb", resolver=StaticResolver())
    assert refusal.reason == MSG_UNRESOLVABLE and refusal.transient


def test_a_resolver_that_raises_oserror_means_unresolvable():
    def failing(host):
        raise OSError("temporary failure in name resolution")
    assert refusal_code("https://example.com/cb", resolver=failing) == "INVALID_INPUT"


def test_the_resolver_is_asked_about_the_idna_form_of_the_host():
    asked = []
    def recording(host):
        asked.append(host)
        return [PUBLIC_V4]
    assert refusal_code("https://bücher.example/cb", resolver=recording) is None
    assert asked == ["xn--bcher-kva.example"]


# -- scheme and shape ---------------------------------------------------------------------
@pytest.mark.parametrize("url", ["http://example.com/cb", "http://93.184.215.14/cb", "ftp://example.com/cb",
                                 "ws://example.com/cb", "http://10.0.0.1/cb", "http://2130706433/",
                                 "http://localhost/cb"])
def test_anything_but_https_is_insecure(url):
    resolver = StaticResolver({"example.com": [PUBLIC_V4]})
    assert refusal_code(url, resolver=resolver) == "INSECURE_WEBHOOK_URL"


@pytest.mark.parametrize("url", ["", "example.com/cb", "//example.com/cb", "https://", "https:///cb",
                                 "https://:443/cb", "https://exa mple.com/", "https://example.com/a b",
                                 "https://a.com:99999/", "https://a.com:0/", "https://a.com:abc/",
                                 "https://256.0.0.1/", "https://1.2.3.4.5/", "https://0x1g.1/",
                                 "https://089.0.0.1/", "https://[::1/", "https://[v1.fe]/",
                                 "https://evil.com\\@127.0.0.1/", "https://a..com/", "https://ex%41mple.com/",
                                 "https://example.com/\ncb", None, 42])
def test_malformed_urls_are_invalid_input(url):
    assert refusal_code(url, resolver=StaticResolver({"a.com": [PUBLIC_V4]})) == "INVALID_INPUT"


def test_userinfo_cannot_hide_the_real_host():
    resolver = StaticResolver({"example.com": [PUBLIC_V4]})
    assert refusal_code("https://example.com@127.0.0.1/cb", resolver=resolver) == "PRIVATE_WEBHOOK_URL"
    assert refusal_code("https://user:pw@example.com/cb", resolver=resolver) is None


# -- the mock's --allow-local-webhooks option ----------------------------------------------
@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost:9000/hook", "http://[::1]:9/hook",
                                 "https://127.0.0.1/hook", "https://localhost/hook", "http://127.0.0.2/hook",
                                 "http://[::ffff:127.0.0.1]/hook", "http://2130706433/hook"])
def test_allow_local_admits_loopback_over_http_and_https(url):
    assert refusal_code(url, resolver=no_dns, allow_local=True) is None


@pytest.mark.parametrize("url, code", [
    ("https://10.0.0.1/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://192.168.1.1/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://169.254.169.254/latest/meta-data", "PRIVATE_WEBHOOK_URL"),
    ("https://[fd00::1]/hook", "PRIVATE_WEBHOOK_URL"),
    ("https://0.0.0.0/hook", "PRIVATE_WEBHOOK_URL"),
    ("http://10.0.0.1/hook", "INSECURE_WEBHOOK_URL"),
    ("http://0.0.0.0/hook", "INSECURE_WEBHOOK_URL"),
    ("http://93.184.215.14/hook", "INSECURE_WEBHOOK_URL"),
])
def test_allow_local_still_refuses_other_private_ranges_and_public_http(url, code):
    assert refusal_code(url, resolver=no_dns, allow_local=True) == code


def test_allow_local_admits_a_name_only_when_every_answer_is_loopback():
    resolver = StaticResolver({"receiver.test": ["127.0.0.1", "::1"], "mixed.test": ["127.0.0.1", "10.0.0.2"]})
    assert refusal_code("http://receiver.test:8080/hook", resolver=resolver, allow_local=True) is None
    assert refusal_code("http://mixed.test:8080/hook", resolver=resolver, allow_local=True) == "INSECURE_WEBHOOK_URL"
    assert refusal_code("https://mixed.test:8080/hook", resolver=resolver, allow_local=True) == "PRIVATE_WEBHOOK_URL"


# -- DNS rebinding: re-checked before every attempt (HOOK-2) ---------------------------------
class RecordingHttp:
    """An httpx client factory whose requests never leave the process; records each one."""

    def __init__(self, status_code: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.status_code = status_code

    def __call__(self, **options) -> httpx.AsyncClient:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return httpx.Response(self.status_code, text="ok")
        return httpx.AsyncClient(transport=httpx.MockTransport(handle), **options)


def engine_with(resolver, http, clock):
    transport = HttpxTransport(resolver=resolver, client_factory=http)
    return WebhookEngine(clock, secret_for=lambda client: "whsec_x", transport=transport)


def test_dns_rebinding_to_a_private_address_fails_permanently_without_any_request():
    url = "https://hooks.example.com/cb"
    resolver = StaticResolver({"hooks.example.com": [PUBLIC_V4]})
    check_webhook_url(url, resolver=resolver)  # admitted at submit
    resolver.set("hooks.example.com", ["127.0.0.1"])  # rebound before the callback fires
    http, clock = RecordingHttp(), Clock("manual", start=1_780_000_000)
    engine = engine_with(resolver, http, clock)
    delivery_id = engine.enqueue(kind="cvdm", client_id="c1", run_id="r1", url=url, payload={"a": 1})

    assert asyncio.run(engine.drain()) == 1
    clock.advance(3600)
    assert asyncio.run(engine.drain()) == 0

    log = engine.delivery(delivery_id)
    assert http.requests == []
    assert log["state"] == "failed"
    assert [(a["error"], a["outcome"]) for a in log["attempts"]] == [("url_refused", "permanent")]
    assert "PRIVATE_WEBHOOK_URL" in log["attempts"][0]["error_detail"]


def test_rebinding_between_attempts_stops_the_retries():
    url = "https://hooks.example.com/cb"
    resolver = StaticResolver({"hooks.example.com": [PUBLIC_V4]})
    http, clock = RecordingHttp(status_code=503), Clock("manual", start=1_780_000_000)
    engine = engine_with(resolver, http, clock)
    delivery_id = engine.enqueue(kind="cvds", client_id="c1", run_id="r1", url=url, payload={"a": 1})
    asyncio.run(engine.drain())
    resolver.set("hooks.example.com", [PUBLIC_V4, "192.168.0.10"])
    clock.set(engine.next_due())
    asyncio.run(engine.drain())

    log = engine.delivery(delivery_id)
    assert len(http.requests) == 1
    assert [a["outcome"] for a in log["attempts"]] == ["retry", "permanent"]
    assert engine.next_due() is None


def test_a_name_that_stops_resolving_is_retried_like_a_network_error():
    url = "https://hooks.example.com/cb"
    resolver = StaticResolver()
    http, clock = RecordingHttp(), Clock("manual", start=1_780_000_000)
    engine = engine_with(resolver, http, clock)
    delivery_id = engine.enqueue(kind="cvdm", client_id="c1", run_id="r1", url=url, payload={"a": 1})
    asyncio.run(engine.drain())
    resolver.set("hooks.example.com", [PUBLIC_V4])
    clock.set(engine.next_due())
    asyncio.run(engine.drain())

    log = engine.delivery(delivery_id)
    assert [(a["error"], a["outcome"]) for a in log["attempts"]] == [("dns_unresolvable", "retry"), (None, "delivered")]
    assert len(http.requests) == 1 and log["state"] == "delivered"


def test_plain_http_to_an_unresolvable_name_is_insecure_even_with_allow_local():
    from mockserver.webhooks.admission import inspect_webhook_url
    refusal = inspect_webhook_url("http://hooks.example.com/x", resolver=lambda host: [], allow_local=True)
    assert refusal is not None and refusal.code == "INSECURE_WEBHOOK_URL" and not refusal.transient

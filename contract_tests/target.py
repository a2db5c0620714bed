"""The system under test, reached only over HTTP: its base URL and keys, an HTTP client per
key, capability detection, the optional control API, and the two budgets that keep the
suite honest against targets that cannot be steered.

Capability detection: ``GET /__mock`` answering ``{"mock": "zenhire-mock", "control": true}``
means the target offers the mock's control API (move the clock, inspect webhook deliveries,
provision clients and keys). Without it the suite waits within ``wait_budget`` real seconds
or skips with a reason — it never fakes an observation.

Profiles: ``safe`` spends no credits (only reads, and requests the contract rejects before
charging); ``full`` may submit work, within ``max_credits`` when given. The default is
``full`` against a target with the control API and ``safe`` against anything else.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from .contract import Contract

PROFILES = ("safe", "full")
CONTROL_PREFIX = "/__mock"
DEFAULT = object()


class TargetError(RuntimeError):
    """The target cannot be tested at all (unreachable, no contract, bad options)."""


@dataclass(frozen=True)
class TargetConfig:
    base_url: str
    api_key: str
    second_api_key: str | None = None
    profile: str | None = None
    max_credits: int | None = None
    openapi: str | None = None
    wait_budget: float = 60.0
    control_token: str | None = None
    timeout: float = 30.0
    operations: tuple[str, ...] | None = None
    excluded_checks: tuple[str, ...] = ()
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing")

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise TargetError(f"--base-url must be an http(s) URL, got {self.base_url!r}")
        if not self.api_key:
            raise TargetError("--api-key is required")
        if self.profile is not None and self.profile not in PROFILES:
            raise TargetError(f"--profile must be one of {', '.join(PROFILES)}")
        unknown_phases = set(self.phases) - {"examples", "coverage", "fuzzing"}
        if unknown_phases or not self.phases:
            raise TargetError("--phases takes a comma-separated subset of examples,coverage,fuzzing")
        if self.max_credits is not None and self.max_credits < 0:
            raise TargetError("--max-credits must be >= 0")

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")


class Api:
    """An HTTP client bound to one way of presenting credentials.

    ``api.get("/api/v1/credits")`` sends the bound key in ``X-API-Key``; ``api.bearer()``
    sends it as ``Authorization: Bearer``; ``api.anonymous()`` sends none.
    """

    def __init__(self, http: httpx.Client, key: str | None, scheme: str = "header") -> None:
        self.http = http
        self.key = key
        self.scheme = scheme

    def auth_headers(self) -> dict[str, str]:
        if self.key is None:
            return {}
        if self.scheme == "bearer":
            return {"Authorization": f"Bearer {self.key}"}
        return {"X-API-Key": self.key}

    def with_key(self, key: str | None) -> "Api":
        return Api(self.http, key, self.scheme)

    def bearer(self) -> "Api":
        return Api(self.http, self.key, "bearer")

    def anonymous(self) -> "Api":
        return Api(self.http, None)

    def request(self, method: str, path: str, *, headers: dict | None = None, **kwargs) -> httpx.Response:
        merged = self.auth_headers()
        merged.update(headers or {})
        return self.http.request(method, path, headers=merged, **kwargs)

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.request("POST", path, **kwargs)


class Control:
    """The mock's control API (only when the target offers it)."""

    def __init__(self, http: httpx.Client, token: str | None, capabilities: dict) -> None:
        self.http = http
        self.headers = {"X-Mock-Control-Token": token} if token else {}
        self.capabilities = capabilities

    def _call(self, method: str, path: str, body: Any = None, params: dict | None = None) -> Any:
        resp = self.http.request(method, CONTROL_PREFIX + path, json=body, params=params, headers=self.headers)
        if resp.status_code >= 400:
            raise TargetError(f"control API {method} {path} → {resp.status_code}: {resp.text[:300]}")
        return resp.json()

    # time
    def advance(self, seconds: float) -> dict:
        return self._call("POST", "/clock/advance", {"seconds": seconds})

    def clock(self) -> dict:
        return self._call("GET", "/clock")

    # inspection
    def deliveries(self, client: str | None = None) -> list[dict]:
        return self._call("GET", "/webhooks/deliveries", params={"client": client} if client else None)["deliveries"]

    def journal(self, **query) -> list[dict]:
        return self._call("GET", "/journal", params={k: v for k, v in query.items() if v is not None})["entries"]

    def clients(self) -> list[dict]:
        return self._call("GET", "/clients")["clients"]

    def client_of_key(self, key: str) -> str | None:
        for client in self.clients():
            if any(k.get("key") == key for k in client.get("keys", [])):
                return client["id"]
        return None

    # provisioning
    def add_client(self, doc: dict) -> str:
        return self._call("POST", "/clients", doc)["id"]

    def patch_client(self, client_id: str, patch: dict) -> dict:
        return self._call("PATCH", f"/clients/{client_id}", patch)

    def add_key(self, client_id: str, doc: dict) -> str:
        return self._call("POST", f"/clients/{client_id}/keys", doc)["key"]

    def patch_key(self, key: str, patch: dict) -> dict:
        return self._call("PATCH", f"/keys/{key}", patch)

    def set_credits(self, client_id: str, *, balance: int | None = None, delta: int | None = None) -> dict:
        body = {"balance": balance} if balance is not None else {"delta": delta}
        return self._call("POST", f"/clients/{client_id}/credits", body)

    def set_health(self, checks: dict[str, str]) -> dict:
        return self._call("PUT", "/health", {"checks": checks})

    def set_webhook_secret(self, client_id: str, secret: str) -> dict:
        return self._call("PUT", f"/clients/{client_id}/webhook-secret", {"secret": secret})


@dataclass
class Tenant:
    """A client provisioned by the suite through the control API, with one key."""

    client_id: str
    key: str


class Provisioner:
    """Creates throwaway clients and keys on a target with the control API. Every name carries
    a per-session random suffix, so runs never collide with each other or the target's data."""

    ALL_PERMISSIONS = ["speech", "interview", "cvdeepmatch", "cvdeepsearch"]

    def __init__(self, control: Control) -> None:
        self.control = control
        self.session = secrets.token_hex(4)
        self._count = 0
        self._lock = threading.Lock()

    def _name(self, label: str) -> str:
        """A unique id made of letters, digits and underscores (valid in keys and client ids)."""
        clean = "".join(ch if ch.isalnum() else "_" for ch in label)[:24]
        with self._lock:
            self._count += 1
            return f"ct{self.session}{self._count:03d}{clean}"

    def tenant(self, label: str = "", *, permissions: list[str] | None = None, credits: int = 100000,
               key_prefix: str = "zh_api_test_", key_fields: dict | None = None, **client_fields) -> Tenant:
        name = self._name(label)
        key = key_prefix + name + "_" + secrets.token_hex(6)
        doc = {"id": name, "name": f"contract suite {name}", "credits": credits,
               "permissions": self.ALL_PERMISSIONS if permissions is None else permissions,
               "keys": [dict({"key": key, "label": "contract suite"}, **(key_fields or {}))]}
        doc.update(client_fields)
        client_id = self.control.add_client(doc)
        return Tenant(client_id, key)

    def key_on(self, client_id: str, *, prefix: str = "zh_api_test_", **fields) -> str:
        key = prefix + self._name("k") + "_" + secrets.token_hex(6)
        return self.control.add_key(client_id, dict({"key": key, "label": "contract suite"}, **fields))


class Stopwatch:
    """Target seconds elapsed since it was started: read from the target's own clock when it
    has a control API, else real seconds (a target without one is taken to run in real time).
    An upper bound of the target time between the first request after ``start`` and the
    last response before ``elapsed()`` — what a time-robust assertion may lean on."""

    def __init__(self, machine: "TimeMachine") -> None:
        self._machine = machine
        self._start = machine.now()

    def elapsed(self) -> float:
        return self._machine.now() - self._start


class TimeMachine:
    """Lets time pass for a test: through the control API's clock when the target has one,
    else by really waiting within a bounded total budget, else by skipping with a reason.

    Two units, never mixed up:
    - ``pass_time(seconds)`` moves the *target's* time (virtual seconds on the mock; on a
      target without a control API they are real seconds) — for documented durations
      (a run's 2–5 minutes, a link's ``expires_in``, a 24 h window).
    - ``wait_advertised(seconds)`` honours an interval the target *advertised* in the client's
      real seconds (``Retry-After``, ``pollIntervalSeconds``): on a scaled clock that is
      ``seconds × scale`` of target time, the scale asked from the target (``GET
      /__mock/clock`` → ``{mode, scale, epoch, …}``), never assumed.

    ``drift(real_seconds)`` says how much target time passes on its own while the client
    spends ``real_seconds`` (0 on a manual clock, ``scale ×`` on a scaled one): boundary
    tests keep at least that margin, and ``stopwatch()`` measures what really passed.
    """

    def __init__(self, control: Control | None, budget_seconds: float,
                 sleep: Callable[[float], None] = time.sleep, wall: Callable[[], float] = time.time) -> None:
        self.control = control
        self.remaining = float(budget_seconds)
        self._sleep = sleep
        self._wall = wall
        self._clock: dict | None = None

    @property
    def can_jump(self) -> bool:
        return self.control is not None

    def clock(self) -> dict | None:
        """The target's clock description (mode, scale), asked once; None without control."""
        if self.control is None:
            return None
        if self._clock is None:
            self._clock = self.control.clock()
        return self._clock

    @property
    def mode(self) -> str:
        clock = self.clock()
        return "real (assumed, no control API)" if clock is None else str(clock.get("mode", "real"))

    @property
    def scale(self) -> float:
        """Target seconds per advertised (client real) second."""
        clock = self.clock()
        if clock is None:
            return 1.0
        scale = float(clock.get("scale") or 1.0)
        return scale if scale > 0 else 1.0

    @property
    def flow(self) -> float:
        """Target seconds that pass on their own per real second (0 on a manual clock)."""
        return 0.0 if self.mode == "manual" else self.scale

    def drift(self, real_seconds: float) -> float:
        """Target time that may pass on its own while the client spends ``real_seconds``."""
        return self.flow * real_seconds

    def now(self) -> float:
        """The target's current time in epoch seconds (its control clock, else real time)."""
        if self.control is None:
            return self._wall()
        return float(self.control.clock()["epoch"])

    def stopwatch(self) -> Stopwatch:
        return Stopwatch(self)

    def pass_time(self, seconds: float, why: str) -> None:
        """Let ``seconds`` of the target's time pass."""
        if seconds <= 0:
            return
        if self.control is not None:
            self.control.advance(seconds)
            return
        self._wait_really(seconds, why)

    def wait_advertised(self, seconds: float, why: str, at_least: float = 0) -> None:
        """Honour an interval the target advertised in the client's real seconds, and let at
        least ``at_least`` seconds of the target's time pass (a documented minimum)."""
        target_seconds = max(seconds * self.scale, at_least)
        if target_seconds <= 0:
            return
        if self.control is not None:
            self.control.advance(target_seconds)
            return
        self._wait_really(max(seconds, at_least), why)

    def _wait_really(self, seconds: float, why: str) -> None:
        if seconds > self.remaining:
            pytest.skip(f"needs {seconds:g}s to pass ({why}); the target has no control API and the "
                        f"remaining wait budget is {self.remaining:g}s (--wait-budget)")
        self.remaining -= seconds
        self._sleep(seconds)


class CreditGuard:
    """Gatekeeper for requests that may spend credits (profile and --max-credits)."""

    def __init__(self, api: Api, profile: str, max_credits: int | None) -> None:
        self.api = api
        self.profile = profile
        self.max_credits = max_credits
        self._start: int | None = None
        self._lock = threading.Lock()

    def _available(self) -> int | None:
        resp = self.api.get("/api/v1/credits")
        if resp.status_code != 200:
            return None
        body = resp.json()
        return body.get("availableCredits", body.get("creditBalance"))

    def spent(self) -> int | None:
        if self._start is None:
            return 0
        now = self._available()
        return None if now is None else self._start - now

    def allow(self, what: str) -> None:
        """Skip the calling test unless spending credits on ``what`` is allowed."""
        if self.profile == "safe":
            pytest.skip(f"{what} spends credits; the safe profile spends none (use --profile full)")
        if self.max_credits is None:
            return
        with self._lock:
            if self._start is None:
                self._start = self._available()
            spent = self.spent()
            if spent is None or spent >= self.max_credits:
                pytest.skip(f"{what} would spend credits beyond --max-credits {self.max_credits} "
                            f"(spent so far: {spent})")

    def permits(self) -> bool:
        """Non-skipping variant for generated tests: may credits be spent right now?"""
        if self.profile == "safe":
            return False
        if self.max_credits is None:
            return True
        with self._lock:
            if self._start is None:
                self._start = self._available()
            spent = self.spent()
            return spent is not None and spent < self.max_credits


def load_spec_text(text: str) -> dict:
    try:
        return json.loads(text)
    except ValueError:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@dataclass
class Target:
    config: TargetConfig
    http: httpx.Client
    capabilities: dict | None
    contract: Contract
    profile: str
    control: Control | None = None
    provisioner: Provisioner | None = None
    time: TimeMachine = field(default=None)  # type: ignore[assignment]
    credits: CreditGuard = field(default=None)  # type: ignore[assignment]

    @classmethod
    def connect(cls, config: TargetConfig) -> "Target":
        http = httpx.Client(base_url=config.root, timeout=config.timeout, follow_redirects=False)
        capabilities = detect_capabilities(http, config.control_token)
        spec = fetch_contract(http, config)
        if config.operations is not None:
            spec = select_operations(spec, set(config.operations))
        control = Control(http, config.control_token, capabilities) if capabilities else None
        profile = config.profile or ("full" if control else "safe")
        target = cls(config=config, http=http, capabilities=capabilities, contract=Contract(spec),
                     profile=profile, control=control,
                     provisioner=Provisioner(control) if control else None)
        target.time = TimeMachine(control, config.wait_budget)
        target.credits = CreditGuard(target.api(), profile, config.max_credits)
        return target

    @property
    def spec(self) -> dict:
        return self.contract.spec

    def api(self, key: str | None | object = DEFAULT) -> Api:
        return Api(self.http, self.config.api_key if key is DEFAULT else key)  # type: ignore[arg-type]

    def describe(self) -> str:
        kind = "zenhire-mock (control API)" if self.control else "no control API"
        return (f"target {self.config.root} — {kind}; profile {self.profile}"
                + (f", max credits {self.config.max_credits}" if self.config.max_credits is not None else "")
                + f"; {len(self.contract.operations)} operations in the contract")

    def close(self) -> None:
        self.http.close()


def detect_capabilities(http: httpx.Client, token: str | None) -> dict | None:
    headers = {"X-Mock-Control-Token": token} if token else {}
    try:
        resp = http.get(CONTROL_PREFIX, headers=headers)
    except httpx.HTTPError as exc:
        raise TargetError(f"cannot reach the target: {exc}") from exc
    if resp.status_code != 200:
        return None
    try:
        body = resp.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("control") is True and body.get("mock") == "zenhire-mock":
        return body
    return None


def fetch_contract(http: httpx.Client, config: TargetConfig) -> dict:
    source = config.openapi
    if source and not source.startswith(("http://", "https://")):
        try:
            with open(source, encoding="utf-8") as fh:
                return load_spec_text(fh.read())
        except OSError as exc:
            raise TargetError(f"cannot read --openapi {source}: {exc}") from exc
    candidates = [source] if source else ["/openapi.json", "/openapi.yaml"]
    problems = []
    for url in candidates:
        try:
            resp = http.get(url)
        except httpx.HTTPError as exc:
            problems.append(f"{url}: {exc}")
            continue
        if resp.status_code == 200:
            spec = load_spec_text(resp.text)
            if isinstance(spec, dict) and "paths" in spec:
                return spec
        problems.append(f"{url}: HTTP {resp.status_code}")
    raise TargetError("the target serves no contract; pass --openapi PATH|URL (" + "; ".join(problems) + ")")


def select_operations(spec: dict, wanted: set[str]) -> dict:
    """The contract restricted to the ``wanted`` operation ids (``--operations``); links to
    operations left out are dropped so the stateful layer never follows them."""
    known = {op["operationId"] for item in spec.get("paths", {}).values() for op in item.values()
             if isinstance(op, dict) and "operationId" in op}
    unknown = wanted - known
    if unknown:
        raise TargetError(f"--operations names operations the contract lacks: {', '.join(sorted(unknown))}")
    out = dict(spec)
    paths = {}
    for path, item in spec.get("paths", {}).items():
        kept = {}
        for method, op in item.items():
            if not isinstance(op, dict) or "operationId" not in op:
                kept[method] = op
                continue
            if op["operationId"] not in wanted:
                continue
            op = dict(op, responses={
                status: _without_dead_links(resp, wanted) for status, resp in op.get("responses", {}).items()})
            kept[method] = op
        if any(isinstance(v, dict) and "operationId" in v for v in kept.values()):
            paths[path] = kept
    out["paths"] = paths
    return out


def _without_dead_links(resp: Any, wanted: set[str]) -> Any:
    if not isinstance(resp, dict) or "links" not in resp:
        return resp
    links = {name: link for name, link in resp["links"].items() if link.get("operationId") in wanted}
    out = {k: v for k, v in resp.items() if k != "links"}
    if links:
        out["links"] = links
    return out


_current: dict[str, Any] = {}


def configure(config: TargetConfig | None) -> None:
    """Set (or clear) the target of this test session. Called by the pytest plugin."""
    old = _current.pop("target", None)
    if old is not None:
        old.close()
    _current["config"] = config


def current() -> Target:
    """The session's connected target (connected on first use)."""
    if "target" not in _current:
        config = _current.get("config")
        if config is None:
            raise TargetError("no target configured: run with --base-url URL --api-key KEY")
        _current["target"] = Target.connect(config)
    return _current["target"]


def is_configured() -> bool:
    return _current.get("config") is not None

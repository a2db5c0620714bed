"""The pytest side of the suite: command-line options, the session's target, the shared
fixtures every behaviour test file uses, the catalog report, and run-wide rules (warnings
fail the run; fast behaviour tests run before the generated conformance layers).

Loaded by ``contract_tests/conftest.py``; fixtures are documented in ``README.md``.
"""

from __future__ import annotations

import os
from typing import Callable

import pytest

from . import target as target_mod
from .catalog import MARKER, catalog, ids_of
from .contract import Contract, Operation
from .report import CatalogReport
from .strategies import register_media_strategies, register_profiles
from .target import Api, Control, Provisioner, Target, TargetConfig, TargetError

register_profiles()
register_media_strategies()

DEFAULT_PROFILE = "contract-ci"
# Run order: the cross-cutting layers first (quick, and every module relies on them), then
# the module behaviour files, then the generated layers (slowest).
FIRST_MODULES = ("test_auth.py", "test_errors.py", "test_universal.py")
LATE_MODULES = ("test_conformance.py", "test_stateful.py")
_REPORT_KEY = pytest.StashKey[CatalogReport]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zenhire-contract", "ZenHire contract suite")
    env = os.environ.get
    group.addoption("--base-url", default=env("ZENHIRE_BASE_URL"), help="target base URL (required)")
    group.addoption("--api-key", default=env("ZENHIRE_API_KEY"), help="API key of the primary tenant (required)")
    group.addoption("--second-api-key", default=env("ZENHIRE_SECOND_API_KEY"),
                    help="API key of a second tenant (isolation tests); provisioned automatically on the mock")
    group.addoption("--profile", choices=["safe", "full"], default=None,
                    help="safe: spend no credits; full: submit work. Default: full with the mock's control API, else safe")
    group.addoption("--max-credits", type=int, default=None, help="stop spending credits after this many")
    group.addoption("--openapi", default=None,
                    help="contract path or URL (default: the target's /openapi.json, then /openapi.yaml)")
    group.addoption("--wait-budget", type=float, default=60.0,
                    help="real seconds the suite may wait in total when the target cannot move time (default 60)")
    group.addoption("--control-token", default=env("ZENHIRE_MOCK_CONTROL_TOKEN"),
                    help="X-Mock-Control-Token for a protected control API")
    group.addoption("--catalog-report", default=None, help="write the per-ID catalog report as JSON here")
    group.addoption("--operations", default=None,
                    help="comma-separated operationIds: restrict the suite to these operations of the contract")
    group.addoption("--phases", default="examples,coverage,fuzzing",
                    help="Schemathesis phases of the conformance layer (default examples,coverage,fuzzing)")
    group.addoption("--exclude-checks", default="",
                    help="comma-separated Schemathesis checks to leave out: NAME (everywhere) or NAME:operationId")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(*ids): the behaviour catalog IDs a test asserts")
    config.addinivalue_line("filterwarnings", "error::UserWarning")
    if not config.getoption("hypothesis_profile", None):
        from hypothesis import settings
        settings.load_profile(DEFAULT_PROFILE)
    if config.getoption("help", False):
        return
    base_url, api_key = config.getoption("base_url"), config.getoption("api_key")
    if not base_url or not api_key:
        raise pytest.UsageError("the contract suite needs --base-url URL and --api-key KEY "
                                "(or ZENHIRE_BASE_URL / ZENHIRE_API_KEY)")
    try:
        target_mod.configure(TargetConfig(
            base_url=base_url, api_key=api_key, second_api_key=config.getoption("second_api_key"),
            profile=config.getoption("profile"), max_credits=config.getoption("max_credits"),
            openapi=config.getoption("openapi"), wait_budget=config.getoption("wait_budget"),
            control_token=config.getoption("control_token"),
            operations=_csv(config.getoption("operations")),
            excluded_checks=_csv(config.getoption("exclude_checks")) or (),
            phases=_csv(config.getoption("phases")) or ()))
        target_mod.current()
    except TargetError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[_REPORT_KEY] = CatalogReport(catalog())


def _csv(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(v.strip() for v in value.split(",") if v.strip())


def pytest_unconfigure(config: pytest.Config) -> None:
    if target_mod.is_configured():
        target_mod.configure(None)


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not target_mod.is_configured():
        return []
    return [target_mod.current().describe()]


def pytest_collection_modifyitems(session, config, items) -> None:
    """Cross-cutting behaviour tests first (quick feedback, and `-x` stops early), module
    behaviour tests next, the generated layers last; pytest's order is kept within each."""
    def rank(item) -> int:
        filename = item.nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
        return 0 if filename in FIRST_MODULES else 2 if filename in LATE_MODULES else 1
    items.sort(key=rank)
    report = config.stash.get(_REPORT_KEY, None)
    for item in items:
        ids = ids_of(item)
        if ids:
            item.user_properties.append(("catalog", " ".join(ids)))
        if report is not None:
            report.collect(item.nodeid, ids)


def pytest_runtest_logreport(report) -> None:
    rep = _report_of_session()
    if rep is None:
        return
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr or "")
        rep.record(report.nodeid, "skipped", reason.removeprefix("Skipped: "))
    elif report.failed:
        rep.record(report.nodeid, "failed" if report.when == "call" else "error")
    elif report.when == "call":
        rep.record(report.nodeid, "passed")


_SESSION: dict[str, pytest.Config] = {}


def pytest_sessionstart(session) -> None:
    _SESSION["config"] = session.config


def _report_of_session() -> CatalogReport | None:
    config = _SESSION.get("config")
    return config.stash.get(_REPORT_KEY, None) if config is not None else None


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    report = config.stash.get(_REPORT_KEY, None)
    if report is None or not report.collected:
        return
    terminalreporter.section("ZenHire behaviour catalog")
    for line in report.format_lines(verbose=config.getoption("verbose") > 1):
        terminalreporter.write_line(line)
    path = config.getoption("catalog_report")
    if path:
        report.write_json(path)
        terminalreporter.write_line(f"catalog report written to {path}")


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def target() -> Target:
    """The connected target (base URL, keys, capabilities, contract, profile)."""
    return target_mod.current()


@pytest.fixture(scope="session")
def contract(target: Target) -> Contract:
    """The target's contract (openapi.yaml) with operation look-ups."""
    return target.contract


@pytest.fixture(scope="session")
def operation(contract: Contract) -> Callable[[str], Operation]:
    """``operation("getCredits")`` → the Operation, or skip when the contract lacks it."""
    def get(operation_id: str) -> Operation:
        op = contract.get(operation_id)
        if op is None:
            pytest.skip(f"the target's contract has no {operation_id} operation")
        return op
    return get


@pytest.fixture(scope="session")
def api(target: Target) -> Api:
    """HTTP client sending --api-key. Fails every dependent test when the key is rejected
    (a wrong key must never let a run pass on 401s alone)."""
    client = target.api()
    resp = client.get("/api/v1/credits")
    if resp.status_code in (401, 403):
        pytest.fail(f"--api-key is rejected by the target ({resp.status_code}: {resp.text[:200]}); "
                    "nothing can be verified with it", pytrace=False)
    return client


@pytest.fixture(scope="session")
def control(target: Target) -> Control:
    """The mock's control API; skips when the target has none."""
    if target.control is None:
        pytest.skip("the target has no control API (GET /__mock)")
    return target.control


@pytest.fixture(scope="session")
def provision(target: Target) -> Provisioner:
    """Creates throwaway clients/keys through the control API; skips without it."""
    if target.provisioner is None:
        pytest.skip("needs keys the suite cannot make: the target has no control API to provision them")
    return target.provisioner


@pytest.fixture(scope="session")
def primary_client_id(control: Control, target: Target) -> str:
    """The client id behind --api-key (control API only)."""
    client_id = control.client_of_key(target.config.api_key)
    if client_id is None:
        pytest.skip("the control API does not list the client of --api-key")
    return client_id


@pytest.fixture(scope="session")
def second_api(target: Target, api: Api) -> Api:
    """HTTP client of a second tenant: --second-api-key, else a tenant provisioned through
    the control API, else skip."""
    key = target.config.second_api_key
    if key is None and target.provisioner is not None:
        key = target.provisioner.tenant("second").key
    if key is None:
        pytest.skip("tenant isolation needs --second-api-key (or a target with the control API)")
    if key == target.config.api_key:
        pytest.fail("--second-api-key must differ from --api-key", pytrace=False)
    client = target.api(key)
    resp = client.get("/api/v1/credits")
    if resp.status_code in (401, 403):
        pytest.fail(f"--second-api-key is rejected ({resp.status_code})", pytrace=False)
    return client


@pytest.fixture(scope="session")
def time_machine(target: Target):
    """``time_machine.pass_time(seconds, why)`` (target time) and ``.wait_advertised(seconds, why)``
    (client seconds the target advertised): the control clock, or a bounded real wait, or skip."""
    return target.time


@pytest.fixture()
def credit_guard(target: Target):
    """``credit_guard.allow("a Speech submit")`` skips unless the profile/--max-credits allow spending."""
    return target.credits


@pytest.fixture()
def webhook_receiver(target: Target):
    """A receiver on 127.0.0.1 (``.url``, ``.wait_for(n, timeout)``, ``.received``); skips when
    the target would refuse a local URL (only the mock with --allow-local-webhooks admits one)."""
    from .receiver import WebhookReceiver
    if not (target.capabilities or {}).get("allowLocalWebhooks"):
        pytest.skip("the target does not deliver to local receivers; use the delivery log (control API)")
    with WebhookReceiver() as receiver:
        yield receiver

"""The pytest plugin installed with zenhire-mock (entry point ``pytest11``), the way moto
hands out its mocks: fixtures for your own tests, nothing to import or configure.

- ``zenhire_mock``: the mock in-process on the manual clock (a `mockserver.testing.MockHandle`:
  ``.client`` httpx client, ``.advance()`` / ``.set_time()``, ``.clients()``, ``.set_credits()``,
  ``.set_health()``, ``.deliveries()``, ``.journal()``).
- ``zenhire_mock_server``: the same handle for a live uvicorn server on a free 127.0.0.1
  port (``.url``) for code that needs a real URL.

Configure with ``--zenhire-mock-scenarios PATH`` / ``--zenhire-mock-clock MODE`` /
``--zenhire-mock-store URL`` (or the ini keys ``zenhire_mock_scenarios`` / ``zenhire_mock_clock`` /
``zenhire_mock_store``), and per test with
``@pytest.mark.zenhire_mock(scenarios=[...], clock="scaled", time_scale=60, ...)`` (any
`mockserver.config.Settings` field). With a store URL (``redis://HOST:PORT/DB``) every
fixture's mock keeps its state in that Redis, shared with every other mock pointed at it
(another fixture, a `zenhire-mock serve` replica): state then outlives the test, so clear
it with ``zenhire_mock.reset()`` where a test needs a clean platform. Importing this module is cheap: the mock itself is
imported only when a fixture is first used.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import pytest

MARKER = "zenhire_mock"
CLOCK_MODES = ("manual", "scaled", "real")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("zenhire-mock", "zenhire-mock fixtures (zenhire_mock, zenhire_mock_server)")
    group.addoption("--zenhire-mock-scenarios", action="append", default=None, metavar="PATH",
                    help="scenario file or folder for the zenhire_mock fixtures (repeatable; "
                         "default: the ini key zenhire_mock_scenarios, else only the embedded defaults)")
    group.addoption("--zenhire-mock-clock", choices=CLOCK_MODES, default=None,
                    help="clock of the zenhire_mock fixtures (default: the ini key zenhire_mock_clock, "
                         "else manual)")
    group.addoption("--zenhire-mock-store", default=None, metavar="URL",
                    help="state store of the zenhire_mock fixtures: memory, or redis://HOST:PORT/DB shared "
                         "with every mock using it (default: the ini key zenhire_mock_store, else memory)")
    parser.addini("zenhire_mock_scenarios", type="paths", default=[],
                  help="scenario files or folders for the zenhire_mock fixtures (relative to the ini file)")
    parser.addini("zenhire_mock_clock", default="manual",
                  help="clock of the zenhire_mock fixtures: manual (default), scaled or real")
    parser.addini("zenhire_mock_store", default="memory",
                  help="state store of the zenhire_mock fixtures: memory (default) or redis://HOST:PORT/DB")


def pytest_configure(config: pytest.Config) -> None:
    check_store(config.getoption("zenhire_mock_store") or config.getini("zenhire_mock_store"))
    config.addinivalue_line(
        "markers", f"{MARKER}(**settings): settings for this test's zenhire_mock / zenhire_mock_server "
                   "(scenarios=[...], clock=..., time_scale=..., any mockserver.config.Settings field)")


def mock_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The settings for this test's mock: command line / ini first, then the test's marker."""
    config = request.config
    scenarios = [str(p) for p in config.getini("zenhire_mock_scenarios")]
    scenarios += [os.path.abspath(p) for p in config.getoption("zenhire_mock_scenarios") or []]
    clock = config.getoption("zenhire_mock_clock") or config.getini("zenhire_mock_clock")
    if clock not in CLOCK_MODES:
        raise pytest.UsageError(f"zenhire_mock_clock={clock!r}: must be one of {', '.join(CLOCK_MODES)}")
    store = config.getoption("zenhire_mock_store") or config.getini("zenhire_mock_store")
    settings: dict[str, Any] = {"scenarios": scenarios, "clock": clock, "store": store}
    for marker in reversed(list(request.node.iter_markers(MARKER))):  # closest marker wins
        extra = dict(marker.kwargs)
        if "scenarios" in extra:
            extra["scenarios"] = settings["scenarios"] + [str(p) for p in extra["scenarios"]]
        settings.update(extra)
    return settings


def check_store(store: str) -> None:
    """A usage error (one line, before any test runs) for a store the mock cannot use; the
    settings module imports only the standard library, so this keeps the plugin cheap."""
    from mockserver.config import ConfigError, Settings
    try:
        Settings(store=store).check()
    except ConfigError as exc:
        raise pytest.UsageError(f"zenhire_mock_store: {exc}") from None


@pytest.fixture
def zenhire_mock(request: pytest.FixtureRequest) -> Iterator[Any]:
    """zenhire-mock in this process on the manual clock (a `mockserver.testing.MockHandle`)."""
    from mockserver.testing import mock_platform
    with mock_platform(**mock_settings(request)) as handle:
        yield handle


@pytest.fixture
def zenhire_mock_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """zenhire-mock served on a free 127.0.0.1 port (``.url``), stopped after the test."""
    from mockserver.testing import live_server
    with live_server(**mock_settings(request)) as handle:
        yield handle

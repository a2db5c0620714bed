"""`zenhire-mock serve --workers N`: N uvicorn worker processes answering on one port, all
sharing one store (Redis), so they are one platform.

The supervisor (the `serve` process) checks the settings, builds the app once to fail fast
on a bad scenario file or an unreachable store, binds the socket and prints the banner;
then uvicorn's `Multiprocess` supervisor spawns the workers, hands each the bound socket,
and restarts a worker that dies. A spawned worker imports nothing of its parent's state:
it calls `app_from_env` (uvicorn's ``factory=True``), which rebuilds the same `Settings`
from the ``ZENHIRE_MOCK_*`` variables the supervisor exported (`Settings.to_env`).
"""

from __future__ import annotations

import os
import socket

from .config import ConfigError, Settings

APP_FACTORY = "mockserver.workers:app_from_env"


def app_from_env():
    """The app of one worker process: settings from the environment (as exported by
    `export_settings`), built the way `zenhire-mock serve` builds it."""
    from .cli import build_app
    settings = Settings.from_env()
    try:
        return build_app(settings)
    except ConfigError as exc:  # the supervisor checked the same settings; say why if it changed
        raise SystemExit(f"zenhire-mock worker {os.getpid()}: {exc}") from None


def export_settings(settings: Settings) -> None:
    """Put ``settings`` in this process's environment, which spawned workers inherit. Every
    ``ZENHIRE_MOCK_*`` variable is replaced, so a worker sees exactly these settings."""
    for name in [k for k in os.environ if k.startswith("ZENHIRE_MOCK_")]:
        del os.environ[name]
    os.environ.update(settings.to_env())


def run_workers(settings: Settings, sock: socket.socket) -> None:
    """Serve on ``sock`` with ``settings.workers`` worker processes until interrupted."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    export_settings(settings)
    config = uvicorn.Config(APP_FACTORY, factory=True, workers=settings.workers, log_level=settings.log_level,
                            access_log=settings.log_level == "debug")
    Multiprocess(config, sockets=[sock]).run()

"""The `zenhire-mock` command: `serve` the mock, print `routes` and test `keys`, `probe` a
running mock's liveness, `verify` a target against the contract suite.

Every configuration error (a setting's value, a scenario file, the state file, the port)
is one line on stderr naming the setting and the value, exit status 2, never a traceback.
The listening socket is bound before anything is printed, so the banner means "ready".
"""

from __future__ import annotations

import argparse
import socket
import sys

from . import __version__
from .config import CLOCK_MODES, LIVENESS_PATH, LOG_LEVELS, PREVIEWS, ConfigError, Settings, env_var

USAGE_ERROR = 2
PROG = "zenhire-mock"
DEFAULTS = Settings()


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (the usage itself is one `--help` away), exit status 2."""

    def error(self, message: str):
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the module docstrings' layout in descriptions; widens the option column."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=34, width=100)


def _opt(p: argparse.ArgumentParser, name: str, *flags: str, help: str, default: str | None = None,
         **kw) -> None:
    """An option backed by a setting: its help names the env var and the default."""
    shown = default if default is not None else getattr(DEFAULTS, name)
    kw.setdefault("default", None)
    p.add_argument(*flags, dest=name, help=f"{help} [env {env_var(name)}; default: {shown}]", **kw)


def _scenario_options(p: argparse.ArgumentParser) -> None:
    _opt(p, "scenarios", "--scenarios", action="append", metavar="PATH",
         help="scenario file or folder, loaded after the embedded defaults (repeatable; the env var "
              "takes a ':'-separated list)", default="none")
    _opt(p, "include_default_scenarios", "--no-default-scenarios", action="store_false",
         help="leave out the embedded default scenarios (test clients and named outcomes); only "
              "--scenarios files are loaded (env var: 0 to leave them out)", default="defaults loaded")


def _serve_parser(sub) -> None:
    p = sub.add_parser("serve", help="run the mock server", formatter_class=_Formatter,
                       description="Run the mock. Every option is also a ZENHIRE_MOCK_* environment "
                                   "variable; a flag wins over its variable.")
    _opt(p, "host", "--host", metavar="ADDR", help="address to listen on (0.0.0.0: every interface)")
    _opt(p, "port", "--port", type=_port_arg, metavar="N",
         help="TCP port, 1-65535 (0: any free port; the banner shows the one bound)")
    _scenario_options(p)
    _opt(p, "clock", "--clock", choices=CLOCK_MODES,
         help="real: faithful durations; scaled: --time-scale x faster; manual: time moves only "
              "through POST /__mock/clock/advance")
    _opt(p, "time_scale", "--time-scale", type=float, metavar="N",
         help="virtual seconds per real second with --clock scaled")
    _opt(p, "clock_start", "--clock-start", type=float, metavar="EPOCH",
         help="virtual time at start, Unix seconds (scaled/manual clocks)", default="now")
    _opt(p, "state", "--state", metavar="FILE",
         help="SQLite file that keeps state across restarts (created if missing)", default="in memory")
    _opt(p, "store", "--store", metavar="URL",
         help="where the state lives: memory (this process only) or redis://HOST:PORT/DB, shared by "
              "every worker and replica pointed at it (docs/shared-state.md)")
    _opt(p, "workers", "--workers", type=_workers_arg, metavar="N",
         help="worker processes answering on the one port (more than 1 needs --store redis://...)")
    _opt(p, "control", "--no-control", action="store_false",
         help="switch the /__mock control API off (env var: 0)", default="control API on")
    _opt(p, "control_token", "--control-token", metavar="T",
         help="require header X-Mock-Control-Token: T on /__mock", default="no token")
    _opt(p, "strict", "--strict", action="store_true",
         help="check every response against the contract (a mismatch is a 500 naming it; env var: 1)",
         default="off")
    _opt(p, "allow_local_webhooks", "--allow-local-webhooks", action="store_true",
         help="admit http://127.0.0.1 / localhost webhook receivers (offline development; env var: 1)",
         default="off")
    _opt(p, "preview", "--preview", action="append", choices=PREVIEWS,
         help="enable a provisional surface (repeatable; the env var takes a ','-separated list)",
         default="none")
    _opt(p, "candidate_base_url", "--candidate-base-url", metavar="URL",
         help="base of the candidate interview links the Interview module hands out")
    _opt(p, "journal_size", "--journal-size", type=int, metavar="N",
         help="requests the journal keeps (the newest; each costs about 1.5 KB with its masked "
              "headers and body excerpts; client grading says how many it could not see)")
    _opt(p, "webhook_timeout", "--webhook-timeout", type=float, metavar="SECONDS",
         help="how long one webhook delivery attempt may take")
    _opt(p, "log_level", "--log-level", choices=LOG_LEVELS,
         help="server log level (debug also logs every request)")
    _opt(p, "allocator", "--allocator", choices=("system", "jemalloc"),
         help="the C allocator: jemalloc gives freed memory back (a long-running sandbox stays "
              "smaller; needs libjemalloc2; Linux)")
    _opt(p, "seed", "--seed", type=int, metavar="N",
         help="seed every id, token, retry jitter and outcome draw: the same requests then get the "
              "same responses, run after run (snapshot tests)", default="unseeded")


def _port_arg(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is out of range: a TCP port is 1-65535 (0: any free port)")
    return port


def _workers_arg(text: str) -> int:
    try:
        workers = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if workers < 1:
        raise argparse.ArgumentTypeError(f"{workers}: at least 1 worker process")
    return workers


SERVE_SETTINGS = ("host", "port", "scenarios", "clock", "time_scale", "clock_start", "state", "store",
                  "workers", "control", "control_token", "log_level", "strict", "allow_local_webhooks",
                  "preview", "candidate_base_url", "webhook_timeout", "journal_size",
                  "include_default_scenarios", "seed", "allocator")


def settings_from_args(args: argparse.Namespace) -> Settings:
    return Settings.from_env(**{n: getattr(args, n, None) for n in SERVE_SETTINGS})


def _fail(message: str) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return USAGE_ERROR


def _scenario_error(settings: Settings | None, exc: Exception) -> str:
    given = settings.named("scenarios") if settings is not None and settings.scenarios else "scenarios"
    return f"{given}: {exc}"


def build_app(settings: Settings):
    """The app for ``settings``; `ConfigError` (one line) for a bad scenario or state file."""
    import sqlite3

    from .app import create_app
    from .scenarios import ScenarioError
    from .store.base import StoreUnavailable
    settings.check_state_file()
    try:
        return create_app(settings)
    except ScenarioError as exc:
        raise ConfigError(_scenario_error(settings, exc)) from None
    except StoreUnavailable as exc:
        raise ConfigError(f"{settings.named('store')}={settings.store_label()!r}: cannot reach the store: "
                          f"{_first_line(exc)}") from None
    except sqlite3.Error as exc:
        raise ConfigError(f"{settings.named('state')}={settings.state!r}: cannot use it as a SQLite state "
                          f"file: {exc}") from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def bind_socket(settings: Settings) -> socket.socket:
    """A listening socket on the configured address; `ConfigError` if it cannot be had."""
    where = f"{settings.host}:{settings.port}"
    try:
        infos = socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"{settings.named('host')}={settings.host!r}: not an address to listen on "
                          f"({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = "already in use" if exc.errno in (48, 98, 10048) else (exc.strerror or str(exc))
        raise ConfigError(f"{settings.named('port')}={settings.port}: cannot listen on {where}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def _url_host(sock: socket.socket, host: str) -> str:
    return f"[{host}]" if sock.family == socket.AF_INET6 else host


def cmd_serve(args) -> int:
    from .allocator import AllocatorError, use
    try:
        settings = settings_from_args(args)
        use(settings.allocator)  # jemalloc: this process starts again with it (exec)
        app = build_app(settings)
        sock = bind_socket(settings)
    except (ConfigError, AllocatorError) as exc:
        return _fail(str(exc))
    try:
        _print_banner(settings, app.state.platform, sock)  # Ctrl-C while it prints: a quiet stop too
        if settings.workers > 1:
            from .workers import run_workers
            del app  # the workers build their own; this one only checked the settings
            run_workers(settings, sock)
        else:
            import uvicorn
            config = uvicorn.Config(app, log_level=settings.log_level, access_log=settings.log_level == "debug")
            uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has already shut down gracefully (or had not started)
        pass
    finally:
        sock.close()
    return 0


def _print_banner(settings: Settings, platform, sock: socket.socket) -> None:
    port = sock.getsockname()[1]
    base = f"http://{_url_host(sock, settings.host)}:{port}"
    print(f"zenhire-mock serving {base}  (contract: {base}/openapi.yaml)")
    clock = platform.clock
    print(f"clock: {clock.mode}" + (f" x{clock.scale:g}" if clock.mode == "scaled" else "") +
          f"; control API: {base + '/__mock' if settings.control else 'off'}")
    workers = f"{settings.workers} worker processes" if settings.workers > 1 else "1 worker process"
    shared = "shared with every process using it" if settings.shared_store else "this process only"
    print(f"store: {settings.store_label()} ({shared}); {workers}"
          + ("; allocator: jemalloc" if settings.allocator == "jemalloc" else ""))
    print("test keys:")
    for row in platform.registry.describe_keys():
        print(f"  {row['key']:<36} {row['client']:<12} {row['label']}")
    sys.stdout.flush()


def cmd_routes(args) -> int:
    from .app import cached_contract
    for method, path, op_id, summary in cached_contract().operation_list():
        print(f"{method:<6} {path:<58} {op_id:<28} {summary}")
    return 0


def cmd_keys(args) -> int:
    from .clock import parse_iso
    from .platform.registry import Registry
    from .scenarios import ScenarioError, Scenarios
    settings = None
    try:
        settings = Settings.from_env(scenarios=args.scenarios,
                                     include_default_scenarios=args.include_default_scenarios)
        scenarios = Scenarios.load(settings.scenarios, settings.include_default_scenarios)
    except ConfigError as exc:
        return _fail(str(exc))
    except ScenarioError as exc:
        return _fail(_scenario_error(settings, exc))
    for row in Registry(scenarios.clients, parse_iso).describe_keys():
        print(f"{row['key']:<36} {row['client']:<12} {','.join(row['permissions']) or '-':<45} {row['label']}")
    return 0


def cmd_probe(args) -> int:
    """Exit 0 if a mock answers 200 on its liveness endpoint (the container HEALTHCHECK)."""
    import urllib.error
    import urllib.request

    try:
        settings = Settings.from_env(port=args.port)
    except ConfigError as exc:
        return _fail(str(exc))
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(settings.host, settings.host)
    host = f"[{host}]" if ":" in host else host
    url = f"http://{host}:{settings.port}{LIVENESS_PATH}"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as resp:
            ok = resp.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"{PROG}: {url}: not live ({getattr(exc, 'reason', exc)})", file=sys.stderr)
        return 1
    print(f"{url}: live")
    return 0 if ok else 1


class _DefaultsFormatter(_Formatter):
    """Adds ``[default: …]`` to any option help that does not state its default (verify's
    options are defined by the contract suite, which documents most defaults in prose)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or not action.option_strings or action.required \
                or action.default is argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            return text
        shown = "none" if action.default is None else "off" if action.default is False else action.default
        return f"{text} [default: {shown}]"


def _add_verify(sub) -> None:
    from contract_tests.cli import add_verify_parser
    verify = add_verify_parser(sub)
    verify.formatter_class = _DefaultsFormatter


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__, formatter_class=_Formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _serve_parser(sub)
    sub.add_parser("routes", help="print the operation list from the contract (openapi.yaml)",
                   description="Print every operation of the contract: method, path, operationId, summary.",
                   formatter_class=_Formatter)
    keys = sub.add_parser("keys", help="print the test API keys of the scenarios", formatter_class=_Formatter,
                          description="Print every test API key: key, client, permissions, what it is for.")
    _scenario_options(keys)
    probe = sub.add_parser("probe", help="exit 0 if a mock on this machine is live (container HEALTHCHECK)",
                           formatter_class=_Formatter,
                           description="GET http://127.0.0.1:PORT/__mock/live: the mock process's own "
                                       "liveness, 200 whatever the simulated platform's health.")
    _opt(probe, "port", "--port", type=_port_arg, metavar="N", help="port the mock listens on")
    probe.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                       help="give up after this long [default: %(default)s]")
    _add_verify(sub)
    from .grading.cli import add_grade_parser
    add_grade_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "verify":
        from contract_tests.cli import run_verify
        return run_verify(args)
    if args.command == "grade":
        from .grading.cli import run_grade
        return run_grade(args)
    handlers = {"serve": cmd_serve, "routes": cmd_routes, "keys": cmd_keys, "probe": cmd_probe}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:  # Ctrl-C before the server ran (e.g. while the contract loads)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""The `zenhire-mock` command: `serve` the mock, print `routes` and test `keys`, `verify`
a target against the contract suite."""

from __future__ import annotations

import argparse
import sys

from .config import Settings


def _serve_parser(sub) -> None:
    p = sub.add_parser("serve", help="run the mock server (every option is also a ZENHIRE_MOCK_* env var)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--scenarios", action="append", help="scenario file or folder (repeatable)")
    p.add_argument("--no-default-scenarios", dest="include_default_scenarios", action="store_false", default=None)
    p.add_argument("--clock", choices=["real", "scaled", "manual"])
    p.add_argument("--time-scale", dest="time_scale", type=float)
    p.add_argument("--state", help="SQLite file: state survives restarts")
    p.add_argument("--no-control", dest="control", action="store_false", default=None,
                   help="switch the /__mock control API off")
    p.add_argument("--control-token", dest="control_token", help="require X-Mock-Control-Token on /__mock")
    p.add_argument("--log-level", dest="log_level", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--strict", action="store_true", default=None, help="validate every response against the contract")
    p.add_argument("--allow-local-webhooks", dest="allow_local_webhooks", action="store_true", default=None,
                   help="admit http://127.0.0.1 / localhost webhook receivers (offline development)")
    p.add_argument("--preview", action="append", help="enable a provisional surface (cvds-results)")
    p.add_argument("--candidate-base-url", dest="candidate_base_url")
    p.add_argument("--seed", type=int, help="seed every id, token, jitter and outcome draw: the same requests give "
                   "the same responses run after run (env ZENHIRE_MOCK_SEED; default: unseeded)")


def settings_from_args(args: argparse.Namespace) -> Settings:
    names = ("host", "port", "scenarios", "clock", "time_scale", "state", "control", "control_token",
             "log_level", "strict", "allow_local_webhooks", "preview", "candidate_base_url",
             "include_default_scenarios", "seed")
    return Settings.from_env(**{n: getattr(args, n, None) for n in names})


def cmd_serve(args) -> int:
    import uvicorn

    from .app import create_app
    from .scenarios import ScenarioError
    try:
        settings = settings_from_args(args)
        app = create_app(settings)
    except (ScenarioError, ValueError) as exc:
        print(f"zenhire-mock: {exc}", file=sys.stderr)
        return 2
    platform = app.state.platform
    base = f"http://{settings.host}:{settings.port}"
    print(f"zenhire-mock serving {base}  (contract: {base}/openapi.yaml)")
    clock = platform.clock
    print(f"clock: {clock.mode}" + (f" x{clock.scale:g}" if clock.mode == "scaled" else "") +
          f"; control API: {base + '/__mock' if settings.control else 'off'}; state: {settings.state or 'in memory'}")
    print("test keys:")
    for row in platform.registry.describe_keys():
        print(f"  {row['key']:<36} {row['client']:<12} {row['label']}")
    sys.stdout.flush()
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                access_log=settings.log_level == "debug")
    return 0


def cmd_routes(args) -> int:
    from .app import cached_contract
    for method, path, op_id, summary in cached_contract().operation_list():
        print(f"{method:<6} {path:<58} {op_id:<28} {summary}")
    return 0


def cmd_keys(args) -> int:
    from .platform.registry import Registry
    from .clock import parse_iso
    from .scenarios import Scenarios
    scenarios = Scenarios.load(args.scenarios or [])
    for row in Registry(scenarios.clients, parse_iso).describe_keys():
        print(f"{row['key']:<36} {row['client']:<12} {','.join(row['permissions']) or '-':<45} {row['label']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zenhire-mock", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    sub.add_parser("routes", help="print the operation list from openapi.yaml")
    keys = sub.add_parser("keys", help="print the test API keys")
    keys.add_argument("--scenarios", action="append")
    try:
        from contract_tests.cli import add_verify_parser
        add_verify_parser(sub)
    except ImportError:
        pass
    args = parser.parse_args(argv)
    handlers = {"serve": cmd_serve, "routes": cmd_routes, "keys": cmd_keys}
    if args.command == "verify":
        from contract_tests.cli import run_verify
        return run_verify(args)
    return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

"""`zenhire-mock verify`: run the contract suite against any base URL.

    zenhire-mock verify --base-url URL --api-key KEY [--second-api-key KEY]
                        [--profile safe|full] [--max-credits N] [--junit FILE]

A thin front over pytest: the same suite as ``pytest contract_tests --base-url … --api-key …``,
with pytest's progress display while it runs, the per-catalog-ID report at the end, JUnit
XML on request, and pytest's exit status (non-zero on any failure or error).
"""

from __future__ import annotations

import argparse
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
HYPOTHESIS_PROFILES = ("contract-quick", "contract-ci", "contract-thorough")


def add_verify_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "verify", help="run the contract suite against a ZenHire-compatible server",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base-url", required=True, help="the target, e.g. http://127.0.0.1:8080")
    p.add_argument("--api-key", required=True, help="API key of the primary tenant")
    p.add_argument("--second-api-key", help="API key of another tenant (isolation tests)")
    p.add_argument("--profile", choices=["safe", "full"],
                   help="safe: spend no credits; full: submit work (default: full on the mock, safe elsewhere)")
    p.add_argument("--max-credits", type=int, help="stop spending credits after this many")
    p.add_argument("--junit", metavar="FILE", help="write JUnit XML here (for CI)")
    p.add_argument("--catalog-report", metavar="FILE", help="write the per-catalog-ID report as JSON here")
    p.add_argument("--openapi", metavar="PATH_OR_URL", help="contract to test against (default: the target's)")
    p.add_argument("--operations", metavar="IDS", help="comma-separated operationIds to restrict the suite to")
    p.add_argument("--exclude-checks", metavar="NAMES", help="comma-separated Schemathesis checks to leave out")
    p.add_argument("--phases", metavar="NAMES",
                   help="conformance phases: a comma-separated subset of examples,coverage,fuzzing (default all)")
    p.add_argument("--wait-budget", type=float, metavar="SECONDS",
                   help="real seconds the suite may wait when the target cannot move time (default 60)")
    p.add_argument("--control-token", help="X-Mock-Control-Token for a protected mock control API")
    p.add_argument("--hypothesis-profile", choices=HYPOTHESIS_PROFILES, default="contract-ci",
                   help="how many generated examples per operation (default contract-ci)")
    p.add_argument("-k", dest="select", metavar="EXPR", help="only tests matching this pytest -k expression")
    p.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    p.add_argument("-v", "--verbose", action="count", default=0, help="more detail (repeatable)")
    return p


def pytest_args(args: argparse.Namespace) -> list[str]:
    out = [str(PACKAGE_DIR), "-c", str(PACKAGE_DIR / "pytest.ini"), "--rootdir", str(PACKAGE_DIR),
           "--base-url", args.base_url, "--api-key", args.api_key,
           "--hypothesis-profile", args.hypothesis_profile]
    options = {"--second-api-key": args.second_api_key, "--profile": args.profile,
               "--max-credits": args.max_credits, "--openapi": args.openapi, "--operations": args.operations,
               "--exclude-checks": args.exclude_checks, "--phases": args.phases, "--wait-budget": args.wait_budget,
               "--control-token": args.control_token, "--catalog-report": args.catalog_report,
               "-k": args.select}
    for flag, value in options.items():
        if value is not None:
            out += [flag, str(value)]
    if args.junit:
        out.append(f"--junitxml={args.junit}")
    if args.exitfirst:
        out.append("-x")
    if args.verbose:
        out.append("-" + "v" * args.verbose)
    return out


VERIFY_EXTRA = "pip install 'zenhire-mock[verify]'"


def run_verify(args: argparse.Namespace) -> int:
    import importlib.util
    import sys
    missing = [m for m in ("pytest", "hypothesis", "schemathesis") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"zenhire-mock verify: the contract suite needs {', '.join(missing)}; install them with: "
              f"{VERIFY_EXTRA}", file=sys.stderr)
        return 2
    import pytest
    return int(pytest.main(pytest_args(args)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contract-tests")
    sub = parser.add_subparsers(dest="command", required=True)
    add_verify_parser(sub)
    return run_verify(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

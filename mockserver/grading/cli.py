"""`zenhire-mock grade`: fetch a client's grade report from a running mock over HTTP (the
control API) and fail a CI job when findings at or above a threshold exist.

Exit codes: 0 no finding at or above ``--fail-on``; 1 there are such findings; 2 the report
could not be fetched (unreachable mock, control API off or protected, unknown client).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .report import GradeReport
from .rules import SEVERITIES


def add_grade_parser(sub) -> None:
    p = sub.add_parser("grade", formatter_class=argparse.ArgumentDefaultsHelpFormatter, help="grade a client's behaviour against the docs' rules (exit 1 on findings)")
    p.add_argument("--base-url", required=True, help="the running mock, e.g. http://127.0.0.1:8080")
    p.add_argument("--client", required=True, help="client id to grade (GET /__mock/clients lists them)")
    p.add_argument("--control-token", help="X-Mock-Control-Token when the mock was started with one")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of text")
    p.add_argument("--junit", metavar="FILE", help="also write JUnit XML: one testcase per rule checked")
    p.add_argument("--fail-on", choices=SEVERITIES, default="error",
                   help="lowest severity that fails the run (default: error)")
    p.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")


def fetch_report(base_url: str, client: str, token: str | None = None, timeout: float = 30.0) -> GradeReport:
    import httpx  # only this command needs an HTTP client: `serve` starts without it

    headers = {"X-Mock-Control-Token": token} if token else {}
    response = httpx.get(base_url.rstrip("/") + "/__mock/grades", params={"client": client},
                         headers=headers, timeout=timeout, trust_env=False)
    if response.status_code != 200:
        try:
            message = response.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = response.text[:200]
        raise RuntimeError(f"GET /__mock/grades answered {response.status_code}: {message}")
    return GradeReport(response.json())


def run_grade(args: argparse.Namespace) -> int:
    import httpx

    try:
        report = fetch_report(args.base_url, args.client, args.control_token, args.timeout)
    except (httpx.HTTPError, RuntimeError) as exc:
        print(f"zenhire-mock grade: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(report.text())
    if args.junit:
        Path(args.junit).write_text(report.junit_xml(args.fail_on), encoding="utf-8")
    return 1 if report.at_or_above(args.fail_on) else 0

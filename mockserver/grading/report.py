"""A grade report: the JSON shape `GET /__mock/grades` returns, read back by the CLI and the
pytest plugin, with the threshold check, the assert helper, a text rendering and JUnit XML.

Shape: ``{"client", "requests_covered", "journal_dropped", "window": {"from", "to"},
"findings": [{"rule", "severity", "count", "summary", "doc": {"page", "quote"}, "fix",
"evidence": [...]}], "rules_checked": [ids]}``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from .rules import severity_rank


@dataclass(frozen=True)
class GradeReport:
    data: dict[str, Any]

    @property
    def client(self) -> str:
        return self.data["client"]

    @property
    def findings(self) -> list[dict]:
        return self.data["findings"]

    @property
    def rules_checked(self) -> list[str]:
        return self.data["rules_checked"]

    def rules_broken(self) -> set[str]:
        return {f["rule"] for f in self.findings}

    def finding(self, rule_id: str) -> dict | None:
        return next((f for f in self.findings if f["rule"] == rule_id), None)

    def at_or_above(self, threshold: str) -> list[dict]:
        rank = severity_rank(threshold)
        return [f for f in self.findings if severity_rank(f["severity"]) >= rank]

    def to_dict(self) -> dict[str, Any]:
        return self.data

    def text(self, threshold: str = "advice") -> str:
        d = self.data
        lines = [f"client {d['client']}: {d['requests_covered']} requests graded "
                 f"({d['window']['from'] or '-'} .. {d['window']['to'] or '-'}), "
                 f"{len(d['rules_checked'])} rules checked"]
        if d["journal_dropped"]:
            lines.append(f"  NOTE: {d['journal_dropped']} older requests of this client fell out of the "
                         f"journal's cap and were not graded")
        shown = self.at_or_above(threshold)
        if not shown:
            lines.append("  no findings" + ("" if threshold == "advice" else f" at or above {threshold}"))
        for f in shown:
            lines.append(f"  [{f['severity'].upper()}] {f['rule']} x{f['count']}: {f['summary']}")
            lines.append(f"      docs ({f['doc']['page']}): \"{f['doc']['quote']}\"")
            lines.append(f"      fix: {f['fix']}")
            for ev in f["evidence"][:3]:
                lines.append(f"      - {_evidence_line(ev)}")
        return "\n".join(lines)

    def assert_clean(self, fail_on: str = "error") -> None:
        """Raise AssertionError listing every finding at or above ``fail_on``."""
        if self.at_or_above(fail_on):
            raise AssertionError("the client broke documented rules:\n" + self.text(fail_on))

    def junit_xml(self, fail_on: str = "error") -> str:
        """One testcase per rule checked; a failure for each rule broken at or above ``fail_on``
        (findings below it are listed in the case's system-out)."""
        by_rule = {f["rule"]: f for f in self.findings}
        failing = {f["rule"] for f in self.at_or_above(fail_on)}
        suite = ET.Element("testsuite", name=f"zenhire-mock grade {self.client}",
                           tests=str(len(self.rules_checked)), failures=str(len(failing)), errors="0")
        for rule_id in self.rules_checked:
            case = ET.SubElement(suite, "testcase", classname=f"zenhire_grade.{self.client}", name=rule_id)
            finding = by_rule.get(rule_id)
            if finding is None:
                continue
            detail = "\n".join([f"docs ({finding['doc']['page']}): {finding['doc']['quote']}",
                                f"fix: {finding['fix']}"] + [_evidence_line(e) for e in finding["evidence"]])
            if rule_id in failing:
                failure = ET.SubElement(case, "failure", type=finding["severity"],
                                        message=f"{finding['count']}x {finding['summary']}")
                failure.text = detail
            else:
                ET.SubElement(case, "system-out").text = f"[{finding['severity']}] {finding['summary']}\n{detail}"
        return ET.tostring(ET.Element("testsuites"), encoding="unicode").replace(
            "<testsuites />", "<testsuites>" + ET.tostring(suite, encoding="unicode") + "</testsuites>")


def _evidence_line(ev: dict) -> str:
    if "method" in ev:
        return (f"{ev.get('time')} {ev['method']} {ev.get('path')} -> {ev.get('status')} "
                f"{ev.get('code', '')} ({ev.get('why', '')})").replace("  ", " ")
    return f"{ev.get('time')} {ev.get('url')} -> {ev.get('status') or ev.get('error')} ({ev.get('why', '')})"

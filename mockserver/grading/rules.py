"""The client-grading rules as data: loads `data/grading-rules.yaml` (IDs, severities, the docs'
sentence each rule comes from, how to fix it, the detector that finds its evidence, and the
operation groups and thresholds the detectors read)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

SEVERITIES = ("advice", "warning", "error")  # ascending


def severity_rank(severity: str) -> int:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {severity!r}")
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    detector: str
    title: str
    page: str
    quote: str
    fix: str


@dataclass(frozen=True)
class RuleBook:
    rules: tuple[Rule, ...]
    operations: dict[str, frozenset[str]]
    terminal_statuses: frozenset[str]
    thresholds: dict[str, float]

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def parse_rulebook(doc: dict[str, Any]) -> RuleBook:
    rules = tuple(Rule(**{k: str(item[k]) for k in Rule.__dataclass_fields__}) for item in doc["rules"])
    for rule in rules:
        severity_rank(rule.severity)
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise ValueError("rule ids must be unique")
    return RuleBook(rules=rules,
                    operations={k: frozenset(v) for k, v in doc["operations"].items()},
                    terminal_statuses=frozenset(doc["terminal_statuses"]),
                    thresholds={k: float(v) for k, v in doc["thresholds"].items()})


@lru_cache(maxsize=1)
def rulebook() -> RuleBook:
    text = resources.files("mockserver").joinpath("data/grading-rules.yaml").read_text(encoding="utf-8")
    return parse_rulebook(yaml.safe_load(text))

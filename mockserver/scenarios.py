"""Scenario files → clients, settings, health, outcome rules and injected faults.

A scenario file is YAML validated by `data/scenario.schema.json` on load; a bad file is a
one-line `ScenarioError` naming the file, line and column (never a traceback). Rules
choose outcomes per request: a rule matches on the operation, module, client, key,
`X-Mock-Scenario` header, externalId (glob), tags (contains-all), metadata (subset),
language, any header or form field; the first matching rule's `then` is the outcome the
module applies. Faults are matched by the pipeline before the handler runs.
"""

from __future__ import annotations

import copy
import fnmatch
import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

# The default scenarios ship inside the package (mockserver/data/scenarios: in a checkout a link to
# the root scenarios/ folder people edit, in a wheel real copies).
DEFAULT_SCENARIO_DIR = Path(str(resources.files("mockserver").joinpath("data", "scenarios")))
DEFAULT_SCENARIO = DEFAULT_SCENARIO_DIR / "default.yaml"


def default_scenario_files() -> list[Path]:
    """The embedded defaults: default.yaml (clients) first, then one file per module
    (`speech.yaml`, …) holding that module's named outcomes."""
    others = sorted(p for p in DEFAULT_SCENARIO_DIR.glob("*.yaml") if p != DEFAULT_SCENARIO)
    return [DEFAULT_SCENARIO] + others


class ScenarioError(Exception):
    """A scenario file is unreadable or invalid; the message is one line with its location."""


def _schema() -> dict:
    text = resources.files("mockserver").joinpath("data/scenario.schema.json").read_text()
    return json.loads(text)


@lru_cache(maxsize=1)
def _fast_validator():
    return jsonschema_rs.Draft202012Validator(_schema(), validate_formats=True)


def _node_at(node: yaml.Node, path: list) -> yaml.Node:
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == part), None)
            if found is None:
                break
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
    return node


def parse_scenario_text(text: str, name: str) -> dict:
    """Parse and validate one scenario document; raise `ScenarioError` with a location."""
    try:
        try:  # libyaml when present (start-up time); the pure loader words any error the same way
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{where}: invalid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(f"{name}:1:1: a scenario file must be a mapping")
    if _fast_validator().is_valid(data):  # the compiled check (jsonschema-rs): the usual, quick answer
        return data
    import jsonschema  # only to explain a refusal: its best_match names the most useful error

    validator = jsonschema.Draft202012Validator(_schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        err = jsonschema.exceptions.best_match(errors)
        root = yaml.compose(text, Loader=yaml.SafeLoader)  # positions, only to report an error
        node = _node_at(root, list(err.absolute_path)) if root is not None else None
        line, col = (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise ScenarioError(f"{name}:{line}:{col}: {where}: {err.message}")
    return data


def load_scenario_files(paths: list[str | Path]) -> list[tuple[str, dict]]:
    docs = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        elif path.exists():
            files = [path]
        else:
            raise ScenarioError(f"{path}: no such scenario file or folder")
        for file in files:
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ScenarioError(f"{file}: cannot read: {exc}") from None
            docs.append((str(file), parse_scenario_text(text, str(file))))
    return docs


@dataclass
class Facts:
    """What a rule can match on for one request."""

    operation: str = ""
    module: str = ""
    client: str = ""
    key: str = ""
    scenario: str | None = None
    external_id: str | None = None
    tags: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)


def matches(when: dict, facts: Facts) -> bool:
    op = when.get("operation")
    if op is not None and facts.operation not in ([op] if isinstance(op, str) else op):
        return False
    checks = (("module", facts.module), ("client", facts.client), ("key", facts.key),
              ("language", facts.language))
    for name, value in checks:
        if name in when and when[name] != value:
            return False
    if "scenario" in when and when["scenario"] != facts.scenario:
        return False
    if "externalId" in when and not (facts.external_id is not None and fnmatch.fnmatchcase(facts.external_id, when["externalId"])):
        return False
    if "tags" in when and not set(when["tags"]) <= set(facts.tags):
        return False
    if "metadata" in when and any(facts.metadata.get(k) != v for k, v in when["metadata"].items()):
        return False
    for name, value in when.get("header", {}).items():
        if facts.headers.get(name.lower()) != value:
            return False
    for name, pattern in when.get("field", {}).items():
        value = facts.fields.get(name)
        if value is None or not fnmatch.fnmatchcase(str(value), pattern):
            return False
    return True


class Scenarios:
    """All loaded scenario documents merged: clients, settings, health, rules, faults."""

    def __init__(self, docs: list[tuple[str, dict]]) -> None:
        self.sources = [name for name, _ in docs]
        self.clients: list[dict] = []
        self.settings: dict[str, dict] = {}
        self.health: dict[str, Any] = {"version": "2.0.0", "checks": {}}
        self.rules: list[dict] = []
        self.faults: list[dict] = []
        by_id: dict[str, int] = {}
        for _name, doc in docs:
            for client in doc.get("clients", []):
                if client["id"] in by_id:
                    self.clients[by_id[client["id"]]] = copy.deepcopy(client)
                else:
                    by_id[client["id"]] = len(self.clients)
                    self.clients.append(copy.deepcopy(client))
            for module, values in doc.get("settings", {}).items():
                self.settings.setdefault(module, {}).update(values)
            health = doc.get("health", {})
            if "version" in health:
                self.health["version"] = health["version"]
            self.health["checks"].update(health.get("checks", {}))
            # Later files' rules win over earlier ones: they are tried first.
            self.rules = list(doc.get("rules", [])) + self.rules
            self.faults = list(doc.get("faults", [])) + self.faults

    @classmethod
    def load(cls, paths: list[str | Path] | None = None, include_default: bool = True) -> "Scenarios":
        files: list[str | Path] = list(default_scenario_files()) if include_default else []
        files += list(paths or [])
        return cls(load_scenario_files(files))

    def setting(self, module: str, name: str, default: Any = None) -> Any:
        return self.settings.get(module, {}).get(name, default)

    def outcome(self, facts: Facts) -> dict | None:
        """The `then` of the first rule matching ``facts`` (None: the module's default)."""
        for rule in self.rules:
            if matches(rule["when"], facts):
                return dict(rule["then"], _rule=rule.get("name", ""))
        return None

    def faults_for(self, operation: str) -> list[dict]:
        """The faults that may apply to ``operation`` (those naming it, and those naming none)."""
        index = self.__dict__.get("_fault_index")
        if index is None:
            index = {}
            for fault in self.faults:
                ops = fault["when"].get("operation")
                for op in ([ops] if isinstance(ops, str) else ops or ["*"]):
                    index.setdefault(op, []).append(fault)
            self._fault_index = index
        return index.get(operation, []) + index.get("*", [])

    def fault_candidates(self, operation: str) -> tuple[list[dict], bool]:
        """`faults_for` ``operation``, kept per operation (asked on every request), and
        whether every one of them needs an ``X-Mock-Scenario`` header to apply."""
        kept = self.__dict__.get("_fault_candidates")
        if kept is None:
            kept = self._fault_candidates = {}
        candidates = kept.get(operation)
        if candidates is None:
            faults = self.faults_for(operation)
            candidates = kept[operation] = (faults, all("scenario" in f["when"] for f in faults))
        return candidates

    def fault(self, facts: Facts, elapsed: float) -> dict | None:
        """The first active fault for ``facts``, ``elapsed`` virtual seconds after start."""
        for fault in self.faults_for(facts.operation):
            window = fault.get("window", {})
            after = window.get("afterSeconds", 0)
            span = window.get("forSeconds")
            if elapsed < after or (span is not None and elapsed >= after + span):
                continue
            if matches(fault["when"], facts):
                return fault
        return None

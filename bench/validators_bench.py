"""What one JSON Schema validation of a response body costs, per library (issue 3).

Compares jsonschema (pure Python, 2020-12), fastjsonschema (generated Python code, draft-07
at most) and jsonschema-rs (Rust, 2020-12) on bodies from the contract's own examples:
`getCredits` 200 (CreditsResponse), `getHealth` 200, the Speech poll 200 and the largest
other poll 200 (operations with `x-terminal-statuses`), each its largest example.
Prints µs per validation for `is_valid` and for collecting the error list (what strict mode
does), compile times, and whether each library agrees with the 2020-12 reference
(jsonschema) on invalid variants of each body — a fast validator that accepts what the
contract forbids is no use.

Usage (from the repository root):
  python bench/validators_bench.py

  python bench/validators_bench.py --operation getCvDeepMatch:200

Not a test: nothing asserts on these figures and CI does not run it.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS_PER_SAMPLE = 0.2
SAMPLES = 5
MAX_LOOPS = 1_000_000


@dataclass
class Case:
    label: str
    schema: dict          # the response schema with `components` attached so refs resolve
    body: Any             # a valid body (the contract's example)
    invalid: dict[str, Any]  # name → a body the contract forbids


@dataclass
class Library:
    name: str
    compile: Callable[[dict], Any]
    is_valid: Callable[[Any, Any], bool]
    errors: Callable[[Any, Any], list] | None


# -- the contract ---------------------------------------------------------------------------

def load_spec(spec_path: Path, parts: list[Path]) -> dict:
    spec = yaml.safe_load(spec_path.read_text())
    for part in parts:
        fragment = yaml.safe_load(part.read_text()) or {}
        spec.setdefault("paths", {}).update(fragment.get("paths", {}))
        for section, entries in (fragment.get("components") or {}).items():
            spec.setdefault("components", {}).setdefault(section, {}).update(entries)
    return spec


def _resolve(node: Any, components: dict) -> Any:
    for _ in range(20):  # bounded: chains of $ref are short
        if not (isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/components/")):
            return node
        section, name = node["$ref"][len("#/components/"):].split("/", 1)
        node = components[section][name]
    return node


def _operations(spec: dict) -> dict[str, dict]:
    return {raw["operationId"]: raw for item in spec.get("paths", {}).values()
            for raw in item.values() if isinstance(raw, dict) and "operationId" in raw}


def _examples(media: dict) -> list[Any]:
    found = [media["example"]] if "example" in media else []
    found += [ex["value"] for ex in (media.get("examples") or {}).values() if isinstance(ex, dict) and "value" in ex]
    return found


def case_for(spec: dict, operation_id: str, status: str, label: str | None = None) -> Case | None:
    """The largest JSON example of ``operation_id``'s ``status`` response, with invalid variants."""
    components = spec.get("components", {})
    raw = _operations(spec).get(operation_id)
    if raw is None:
        return None
    response = _resolve(raw.get("responses", {}).get(status), components)
    media = (response or {}).get("content", {}).get("application/json")
    if not media or "schema" not in media:
        return None
    examples = _examples(media)
    if not examples:
        return None
    body = max(examples, key=lambda ex: len(json.dumps(ex)))
    schema = dict(media["schema"], components=components)
    size = len(json.dumps(body, separators=(",", ":")))
    return Case(label=label or f"{operation_id} {status} ({size} B)", schema=schema, body=body,
                invalid=invalid_variants(body))


def invalid_variants(body: Any) -> dict[str, Any]:
    """Bodies a closed response schema must reject: a wrong type, an unknown property."""
    variants: dict[str, Any] = {}
    if isinstance(body, dict) and body:
        first = next(iter(body))
        wrong = copy.deepcopy(body)
        wrong[first] = [] if not isinstance(body[first], list) else "not-a-list"
        variants[f"wrong type of '{first}'"] = wrong
        extra = copy.deepcopy(body)
        extra["undocumentedField"] = 1
        variants["unknown top-level property"] = extra
    return variants


def default_cases(spec: dict) -> list[Case]:
    cases = [case_for(spec, "getCredits", "200", None), case_for(spec, "getHealth", "200", None)]
    polls = [op_id for op_id, raw in _operations(spec).items() if raw.get("x-terminal-statuses")]
    speech = [op_id for op_id in polls if "speech" in op_id.lower()]
    for title, op_ids in (("Speech poll body", speech),
                          ("largest other poll body", [p for p in polls if p not in speech])):
        candidates = [c for c in (case_for(spec, op_id, "200") for op_id in op_ids) if c]
        if candidates:
            largest = max(candidates, key=lambda c: len(json.dumps(c.body)))
            largest.label = f"{title}: {largest.label}"
            cases.append(largest)
    return [c for c in cases if c]


# -- the libraries --------------------------------------------------------------------------

def libraries() -> tuple[list[Library], list[str]]:
    """The libraries that import, and a note for each that does not."""
    found: list[Library] = []
    missing: list[str] = []
    try:
        import jsonschema
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        found.append(Library(
            "jsonschema", lambda s: jsonschema.Draft202012Validator(s, format_checker=checker),
            lambda v, i: v.is_valid(i), lambda v, i: list(v.iter_errors(i))))
    except ImportError:
        missing.append("jsonschema (pip install jsonschema)")
    try:
        import fastjsonschema

        def fast_compile(schema: dict):
            # draft-07 is the newest draft it knows; 2020-12 keywords it does not know are ignored.
            fn = fastjsonschema.compile(dict(schema, **{"$schema": "http://json-schema.org/draft-07/schema#"}),
                                        formats={"uuid": r"^[0-9a-fA-F-]{36}$", "binary": r".*"})
            return fn

        def fast_is_valid(fn, instance) -> bool:
            try:
                fn(instance)
                return True
            except fastjsonschema.JsonSchemaValueException:
                return False

        def fast_errors(fn, instance) -> list:
            try:
                fn(instance)
                return []
            except fastjsonschema.JsonSchemaValueException as exc:
                return [exc]  # it stops at the first error by design

        found.append(Library("fastjsonschema", fast_compile, fast_is_valid, fast_errors))
    except ImportError:
        missing.append("fastjsonschema (pip install fastjsonschema)")
    try:
        import jsonschema_rs
        found.append(Library(
            "jsonschema-rs", lambda s: jsonschema_rs.Draft202012Validator(s, validate_formats=True),
            lambda v, i: v.is_valid(i), lambda v, i: list(v.iter_errors(i))))
    except ImportError:
        missing.append("jsonschema-rs (pip install jsonschema-rs)")
    return found, missing


# -- measuring ------------------------------------------------------------------------------

def per_call_us(fn: Callable[[], Any]) -> float:
    """Best-of-``SAMPLES`` CPU µs per call, each sample calibrated to ~TARGET_SECONDS_PER_SAMPLE.
    CPU time of this process, so other processes on a shared machine do not inflate it."""
    loops = 1
    elapsed = 0.0
    while loops < MAX_LOOPS:
        started = time.process_time()
        for _ in range(loops):
            fn()
        elapsed = time.process_time() - started
        if elapsed >= TARGET_SECONDS_PER_SAMPLE / 10:
            break
        loops *= 4
    loops = min(MAX_LOOPS, max(1, int(loops * TARGET_SECONDS_PER_SAMPLE / max(elapsed, 1e-9))))
    best = float("inf")
    for _ in range(SAMPLES):
        started = time.process_time()
        for _ in range(loops):
            fn()
        best = min(best, (time.process_time() - started) / loops)
    return best * 1e6


def measure(case: Case, lib: Library) -> dict:
    started = time.perf_counter()
    try:
        validator = lib.compile(case.schema)
    except Exception as exc:  # a library that cannot compile the contract's schema is a finding
        return {"error": f"compile failed: {type(exc).__name__}: {str(exc)[:120]}"}
    compile_ms = (time.perf_counter() - started) * 1000
    if not lib.is_valid(validator, case.body):
        return {"error": "rejects the contract's own example", "compile_ms": compile_ms}
    row = {"compile_ms": compile_ms, "is_valid_us": per_call_us(lambda: lib.is_valid(validator, case.body))}
    if lib.errors is not None:
        row["errors_us"] = per_call_us(lambda: lib.errors(validator, case.body))
    row["rejects"] = {name: not lib.is_valid(validator, body) for name, body in case.invalid.items()}
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--spec", default=str(REPO_ROOT / "openapi.yaml"))
    parser.add_argument("--spec-part", action="append", default=[], help="merge this fragment's paths/components")
    parser.add_argument("--operation", action="append", default=[], metavar="OPID:STATUS",
                        help="measure this response instead of the default set (repeatable)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    spec = load_spec(Path(args.spec), [Path(p) for p in args.spec_part])
    if args.operation:
        cases = [case_for(spec, *item.split(":", 1)) for item in args.operation]
        missing_ops = [item for item, case in zip(args.operation, cases) if case is None]
        if missing_ops:
            parser.error(f"no JSON example found for {', '.join(missing_ops)}")
    else:
        cases = default_cases(spec)
    libs, missing = libraries()
    for note in missing:
        print(f"skipped: {note}")
    versions = library_versions()
    print("libraries: " + ", ".join(f"{name} {versions.get(name, '?')}" for name in (lib.name for lib in libs)))
    print("CPU µs per validation of a valid body (best of 5); errors = collect the error list as strict mode does\n")
    report = {}
    for case in cases:
        print(case.label)
        print(f"  {'library':<16}{'compile ms':>11}{'is_valid µs':>13}{'errors µs':>11}  rejects invalid variants?")
        report[case.label] = {}
        for lib in libs:
            row = measure(case, lib)
            report[case.label][lib.name] = row
            if "error" in row:
                print(f"  {lib.name:<16}  {row['error']}")
                continue
            rejects = ", ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in row["rejects"].items())
            print(f"  {lib.name:<16}{row['compile_ms']:>11.1f}{row['is_valid_us']:>13.1f}"
                  f"{row.get('errors_us', float('nan')):>11.1f}  {rejects}")
        print()
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"versions": versions, "cases": report}, indent=1))
        print(f"figures written to {args.json}")
    return 0


def library_versions() -> dict[str, str]:
    from importlib import metadata
    out = {}
    for dist, name in (("jsonschema", "jsonschema"), ("fastjsonschema", "fastjsonschema"),
                       ("jsonschema_rs", "jsonschema-rs")):
        try:
            out[name] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


if __name__ == "__main__":
    sys.exit(main())

"""Checkable habits of the codebase (DESIGN.md): simulation code never reads the wall
clock, every module says what it owns, no module grows past ~800 lines, and module rules
never import Starlette."""

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "mockserver"
SOURCES = sorted(p for p in PKG.rglob("*.py"))
# The clock owns wall time; verify_signature stands for the *receiver's* clock (docs' verifier).
WALL_CLOCK_ALLOWED = {PKG / "clock.py", PKG / "webhooks" / "signing.py"}
WALL_CLOCK = re.compile(r"\btime\.time\(|datetime\.now\(|datetime\.utcnow\(|date\.today\(")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_module_has_a_docstring(path):
    assert ast.get_docstring(ast.parse(path.read_text())), f"{path} lacks a module docstring"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PKG)))
def test_module_stays_small(path):
    assert len(path.read_text().splitlines()) <= 800


def test_simulation_code_never_reads_the_wall_clock():
    offenders = [str(p.relative_to(PKG)) for p in SOURCES
                 if p not in WALL_CLOCK_ALLOWED and WALL_CLOCK.search(p.read_text())]
    assert offenders == []


# The one HTTP-facing file of an API module: Interview's candidate page and its control
# routes (HTTP by nature). Every other file of every module package — its `api` handlers
# included, which speak Ctx/Reply — and media/ stays free of Starlette.
HTTP_FACING = {PKG / "modules" / "interview" / "web.py"}


def test_domain_rules_do_not_import_starlette():
    rule_files = [p for p in (PKG / "modules").rglob("*.py") if p not in HTTP_FACING]
    rule_files += list((PKG / "media").glob("*.py"))
    offenders = [str(p.relative_to(PKG)) for p in rule_files if re.search(r"^\s*(from|import) starlette", p.read_text(), re.M)]
    assert offenders == []

"""The contract suite's power: it must fail against every deviant variant of the mock.

Each variant in ``variants.DEFECTS`` wraps a fresh mock (served on 127.0.0.1) and the whole
suite runs against it through ``zenhire-mock verify`` — stopping at the first failure (``-x``)
with the quick Hypothesis profile, since one failure is all a catch needs. A variant counts
as caught only when a test of the suite *failed* (a crash, usage error or empty run is not a
catch). One test per variant names it; the last prints the mutation score and requires 100%.
Variants needing operations this mock build does not simulate yet are left out of the score.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.defects.serving import mock_app, run_suite, serve, simulated_operations, suite_options
from tests.defects.variants import DEFECTS, Defect

MIN_VARIANTS = 30
PARALLEL_RUNS = 2
pytestmark = pytest.mark.timeout(1200)


@dataclass
class Verdict:
    defect: Defect
    returncode: int
    failed_tests: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def caught(self) -> bool:
        return self.returncode == 1 and bool(self.failed_tests)


def _judge(defect: Defect, workdir: Path) -> Verdict:
    base = mock_app()
    with serve(defect.build(base)) as base_url:
        run = run_suite(base_url, workdir, *suite_options(base), "-x", "--hypothesis-profile", "contract-quick",
                        "--phases", "examples,fuzzing",
                        name=defect.name, timeout=300)
    failed: list[str] = []
    if run.report is not None:
        tests = json.loads(run.report.read_text())["tests"]
        failed = [nodeid for nodeid, t in tests.items() if t["outcome"] in ("failed", "error")]
    return Verdict(defect, run.returncode, failed, run.failures(limit=3000))


def _applicable() -> list[Defect]:
    simulated = set(simulated_operations(mock_app()))
    return [d for d in DEFECTS if set(d.requires) <= simulated]


APPLICABLE = _applicable()


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, Verdict]:
    workdir = tmp_path_factory.mktemp("defects")
    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        results = list(pool.map(lambda d: _judge(d, workdir), APPLICABLE))
    return {v.defect.name: v for v in results}


def test_defect_names_are_unique_and_tagged():
    names = [d.name for d in DEFECTS]
    assert len(names) == len(set(names))
    from contract_tests.catalog import catalog
    assert all(d.breaks == "schema" or d.breaks in catalog() for d in DEFECTS)


@pytest.mark.parametrize("defect", APPLICABLE, ids=[d.name for d in APPLICABLE])
def test_the_suite_catches(verdicts, defect):
    verdict = verdicts[defect.name]
    assert verdict.caught, (f"defect {defect.name!r} ({defect.breaks}: {defect.description}) was NOT caught — "
                            f"suite exit {verdict.returncode}\n{verdict.output}")


def test_mutation_score_is_100_percent(verdicts, capsys):
    caught = [v for v in verdicts.values() if v.caught]
    lines = [f"{'caught' if v.caught else 'MISSED':<7} {v.defect.name:<44} {v.defect.breaks:<8} "
             f"by {', '.join(t.split('::', 1)[-1] for t in v.failed_tests[:2]) or '-'}"
             for v in verdicts.values()]
    left_out = [d.name for d in DEFECTS if d not in APPLICABLE]
    score = f"mutation score: {len(caught)}/{len(verdicts)} = {100 * len(caught) / max(1, len(verdicts)):.0f}%"
    with capsys.disabled():
        print("\n" + "\n".join(lines) + "\n" + score +
              (f" (left out, operations not simulated yet: {', '.join(left_out)})" if left_out else ""))
    assert len(verdicts) >= MIN_VARIANTS, f"only {len(verdicts)} variants apply to this mock build"
    assert len(caught) == len(verdicts), score

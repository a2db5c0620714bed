"""Client grading: checks the integrator's code, as seen in the request journal and the
webhook delivery log, against the documented rules of good client behaviour
(`docs/client-grading.md`). `grade(platform, client_id)` returns a `GradeReport`;
`report.assert_clean(fail_on="error")` fails a test with a readable list."""

from .evaluate import UnknownClient, grade
from .report import GradeReport
from .rules import Rule, rulebook

__all__ = ["GradeReport", "Rule", "UnknownClient", "grade", "rulebook"]

"""Routing keeps the template match of recently seen concrete paths (`Contract.match`): a
kept answer must be the one a fresh match gives, for every method, for unknown paths, and
after the table starts afresh."""

from __future__ import annotations

import mockserver.contract as contract_module
from mockserver.app import cached_contract


def fresh_match(contract, method: str, path: str):
    contract._templated.clear()
    return contract.match(method, path)


def test_a_kept_match_is_the_fresh_one_for_every_method_and_path(monkeypatch):
    contract = cached_contract()
    paths = ["/api/v1/speech/analyze/req_1_abc", "/api/v1/cvdeepmatch/0d6f-ID", "/api/v1/cvdeepmatch/requests",
             "/api/v1/interview/sessions/s1/transcript", "/api/v1/nope/x", "/api/v1/health", "/api/v1/speech/analyze/a\n",
             "/api/v1/cvds/runs/r1/results", "/api/v1/cvds/runs/" + "x" * 300]
    for path in paths:
        for method in ("GET", "POST", "HEAD", "DELETE"):
            expected = fresh_match(contract, method, path)
            contract.match(method, path)  # kept now (unless too long)
            assert contract.match(method, path) == expected, (method, path)
            op, values, allowed = expected
            if op is not None and "{" in op.path:
                assert values and all(values.values())


def test_the_table_starts_afresh_when_full_and_keeps_answering(monkeypatch):
    contract = cached_contract()
    monkeypatch.setattr(contract_module, "TEMPLATED_KEPT", 3)
    contract._templated.clear()
    for i in range(10):
        op, values, _ = contract.match("GET", f"/api/v1/speech/analyze/run{i}")
        assert op.operation_id == "getSpeechAnalysis" and values == {"id": f"run{i}"}
        assert len(contract._templated) <= 3

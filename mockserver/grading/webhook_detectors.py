"""Detectors for the webhook receiver rules: read the client's delivery log (every attempt the
engine made) and the receiver-probe log, and return the attempts that broke a rule."""

from __future__ import annotations

from .detectors import Trail, Violation, detector
from ..webhooks.policy import ERROR_TIMEOUT


def _attempts(trail: Trail):
    for delivery in trail.deliveries:
        for attempt in delivery.get("attempts", []):
            yield delivery, attempt


def _evidence(delivery: dict, attempt: dict) -> dict:
    return {"delivery": delivery["id"], "kind": delivery["kind"], "run": delivery["run_id"],
            "url": attempt.get("url", delivery["url"]), "attempt": attempt["n"], "time": attempt["at"],
            "status": attempt.get("status"), "error": attempt.get("error"),
            "errorDetail": attempt.get("error_detail"), "durationMs": attempt.get("duration_ms")}


@detector
def webhook_rejected(trail: Trail) -> list[Violation]:
    return [(_evidence(d, a), f"receiver answered {a['status']}") for d, a in _attempts(trail)
            if a.get("status") is not None and not 200 <= a["status"] < 300]


@detector
def webhook_timeout(trail: Trail) -> list[Violation]:
    return [(_evidence(d, a), f"no answer within {trail.webhook_timeout:g} s") for d, a in _attempts(trail)
            if a.get("error") == ERROR_TIMEOUT]


@detector
def webhook_unreachable(trail: Trail) -> list[Violation]:
    return [(_evidence(d, a), f"{a['error']}: {a.get('error_detail') or ''}".strip()) for d, a in _attempts(trail)
            if a.get("error") not in (None, ERROR_TIMEOUT)]


@detector
def webhook_slow(trail: Trail) -> list[Violation]:
    limit_ms = trail.webhook_timeout * 1000 * trail.book.thresholds["slow_fraction"]
    return [(_evidence(d, a), f"answered {a['status']} after {a['duration_ms']:.0f} ms (limit {limit_ms:.0f} ms)")
            for d, a in _attempts(trail)
            if a.get("status") is not None and 200 <= a["status"] < 300 and (a.get("duration_ms") or 0) > limit_ms]


def _accepted_probes(trail: Trail, kind: str) -> list[Violation]:
    return [(probe, f"{kind} copy answered {probe['status']}") for probe in trail.probes
            if probe["probe"] == kind and probe.get("status") is not None and 200 <= probe["status"] < 300]


@detector
def probe_tampered(trail: Trail) -> list[Violation]:
    return _accepted_probes(trail, "tampered")


@detector
def probe_stale(trail: Trail) -> list[Violation]:
    return _accepted_probes(trail, "stale")


@detector
def probe_replay(trail: Trail) -> list[Violation]:
    return _accepted_probes(trail, "replay")

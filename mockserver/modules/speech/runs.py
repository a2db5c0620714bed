"""Speech runs on virtual time: the record fixed at submit and every view of it (SPCH-4, RATE-2, POLL-3).

A run's timeline is decided when it is accepted: created, start (later than created when the
client is at its concurrency cap and the run waits in the FIFO queue), finish, and how it
ends. Its status at any moment is derived from `now`:

    now < start → queued;  now < finish → processing;  otherwise → success | partial | failed

Two documents per run, both owned by the client: `speech_run` (everything the poll needs)
and the cross-module `api_run` summary the runs list reads (docs/api-runs.md). A third,
`speech_pool` (one per client), lists the client's runs that have not finished yet, so
`activeRequests` and `queuePosition` are counted without scanning every run.

Poll cadence (POLL-3, "Recommended poll cadence"): `pollIntervalSeconds` is 20 s while
queued (the docs' queued example), then by time since submit 15 s for the first 2 minutes,
30 s to 5 minutes, 60 s after — always in the client's real seconds (CLOCK-2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mockserver.clock import iso
from mockserver.json_writer import freeze
from mockserver.modules.speech.outcomes import FAILED, RunPlan
from mockserver.modules.speech.results import build_speech_result, speech_failure
from mockserver.modules.speech.submission import AudioFacts, Correlation, CutWindow
from mockserver.platform.run_summary import API_RUN_KIND, PROCESSING, QUEUED, RunSummary, timeline_status  # noqa: F401

RUN_KIND = "speech_run"
POOL_KIND = "speech_pool"
SERVICE_TYPE = "speech"
TERMINAL_STATUSES = ("success", "partial", "failed")

QUEUED_POLL_SECONDS = 20.0
POLL_CADENCE = ((120.0, 15.0), (300.0, 30.0))  # (elapsed since submit below, interval)
LATE_POLL_SECONDS = 60.0


def slot_pool(client_id: str) -> str:
    """The concurrency pool of a client: every key of the client shares it (RATE-2)."""
    return f"{client_id}|speech"


def run_status(run: dict, now: float) -> str:
    """The status of a `speech_run` or `api_run` document at virtual time `now` (the one
    timeline rule, `platform.run_summary.timeline_status`)."""
    return timeline_status(run, now)


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATUSES


def poll_interval_seconds(status: str, created_at: float, now: float) -> float:
    """Virtual seconds a client should wait before polling a queued or processing run again."""
    if status == QUEUED:
        return QUEUED_POLL_SECONDS
    elapsed = now - created_at
    for below, interval in POLL_CADENCE:
        if elapsed < below:
            return interval
    return LATE_POLL_SECONDS


# --------------------------------------------------------------------------- documents

def new_run(*, run_id: str, created_at: float, start_at: float, finish_at: float, plan: RunPlan,
            audio: AudioFacts, language: str, cut: CutWindow, correlation: Correlation,
            project: str | None, cost: int, capacity: int) -> dict:
    """The `speech_run` document."""
    return {
        "id": run_id,
        "created_at": created_at,
        "start_at": start_at,
        "finish_at": finish_at,
        "outcome": plan.outcome,
        "error_code": plan.error_code,
        "speaker_count": plan.speaker_count,
        "audio": {"sha256": audio.sha256, "format": audio.format,
                  "duration_seconds": audio.duration_seconds, "size_bytes": audio.size_bytes},
        "language": language,
        "cut": [cut.start_seconds, cut.end_seconds],
        "external_id": correlation.external_id,
        "metadata": correlation.metadata,
        "tags": correlation.tags,
        "project": project,
        "cost": cost,
        "capacity": capacity,
    }


def run_summary(run: dict) -> RunSummary:
    """The cross-module summary of a Speech run (docs/api-runs.md); createdAt is derived when listed."""
    return RunSummary(id=run["id"], service_type=SERVICE_TYPE, external_id=run["external_id"],
                      project=run["project"], metadata=run["metadata"], tags=run["tags"],
                      created_at=run["created_at"], start_at=run["start_at"], finish_at=run["finish_at"],
                      outcome=run["outcome"],
                      row_extra={"language": run["language"], "durationSeconds": run["audio"]["duration_seconds"]})


# --------------------------------------------------------------------------- the client's pool

@dataclass(frozen=True)
class PoolView:
    """The client's in-flight Speech runs at one instant."""

    active: int                      # processing now
    queue: tuple[str, ...]           # queued run ids, next to start first

    def position(self, run_id: str) -> int | None:
        """1-based place in the FIFO queue, or None when the run is not queued."""
        try:
            return self.queue.index(run_id) + 1
        except ValueError:
            return None


def add_to_pool(current: dict | None, run_id: str, arrival: int, start_at: float, finish_at: float,
                now: float) -> dict:
    """`speech_pool` update: forget finished runs, add this one."""
    entries = [e for e in (current or {}).get("inflight", []) if e[3] > now]
    entries.append([arrival, run_id, start_at, finish_at])
    return {"inflight": entries}


def pool_view(pool: dict | None, now: float) -> PoolView:
    entries = (pool or {}).get("inflight", [])
    active = sum(1 for _arrival, _id, start, finish in entries if start <= now < finish)
    queued = sorted((start, arrival, run_id) for arrival, run_id, start, _finish in entries if start > now)
    return PoolView(active=active, queue=tuple(run_id for _start, _arrival, run_id in queued))


# --------------------------------------------------------------------------- bodies

def _correlation(run: dict) -> dict:
    return {"externalId": run["external_id"], "metadata": run["metadata"], "tags": run["tags"]}


def submit_body(run: dict, status: str, view: PoolView, poll_interval: int) -> dict:
    """The 202: processing (a slot was free) or queued with its place (RATE-2)."""
    body: dict[str, Any] = {"id": run["id"], "status": status}
    if status == QUEUED:
        body["queuePosition"] = view.position(run["id"]) or 1
    body["activeRequests"] = view.active
    body["pollIntervalSeconds"] = poll_interval
    body.update(_correlation(run))
    body["createdAt"] = iso(run["created_at"])
    return body


def poll_body(run: dict, status: str, now: float, *, queue_position: int | None = None,
              poll_interval: int | None = None) -> dict:
    """`GET /api/v1/speech/analyze/{id}`: the shape follows the status (SPCH-4..7, SPCH-10, SPCH-11)."""
    body: dict[str, Any] = {"id": run["id"], "status": status}
    if status == QUEUED:
        body["queuePosition"] = queue_position or 1
    if not is_terminal(status):
        body["pollIntervalSeconds"] = poll_interval
    if status == FAILED:
        body["error"] = speech_failure(run["error_code"])
    body.update(_correlation(run))
    body["createdAt"] = iso(run["created_at"])
    if status != QUEUED:
        body["startedAt"] = iso(run["start_at"])
    if is_terminal(status):
        body["completedAt"] = iso(run["finish_at"])
    if status in ("success", "partial"):
        body.update(run_result(run))
    return body


def run_result(run: dict) -> dict:
    """The generated result payload of a finished run (a pure function of the stored inputs).

    Shared between calls (terminal runs are re-fetched freely): callers must not mutate it.
    Its members are frozen (`json_writer.freeze`): each poll splices their kept JSON encoding.
    """
    audio = run["audio"]
    cut_start, cut_end = run["cut"]
    return _cached_result(audio["sha256"], audio["duration_seconds"], run["language"], audio["format"],
                          run["speaker_count"], run["outcome"] == "partial", cut_start, cut_end)


@lru_cache(maxsize=256)
def _cached_result(sha256: str, duration: float, language: str, audio_format: str,
                   speaker_count: int | None, degraded: bool, cut_start: float, cut_end: float) -> dict:
    result = build_speech_result(
        audio_sha256=sha256, duration_seconds=duration, language=language, audio_format=audio_format,
        speaker_count=speaker_count, degraded=degraded, cut_start_seconds=cut_start, cut_end_seconds=cut_end)
    return {name: freeze(value) for name, value in result.items()}

"""CV DeepMatch runs on virtual time: the record fixed at submit and every view of it.

A run's timeline is decided when it is accepted — created, finishing instant, ending
(`finished` / `failed`), and the result computed from the inputs — so its status at any
moment is derived from ``now`` (`processing` before the finish, the ending after). Nothing
here reads a clock or the store; the handler passes ``now`` and persists the dicts.

Views of one run:
- `submit_body` / `replay_body`: the 202 and the idempotent-replay 200 (CVDM-1, IDEM-1);
- `poll_body`: `GET /api/v1/cvdeepmatch/{id}` (CVDM-4, META-2, META-4);
- `list_row`: one compact row of `GET /api/v1/cvdeepmatch/requests` (CVDM-5, LIST-4);
- `webhook_payload`: the completion callback, PII stripped (HOOK-6);
- `run_summary`: the cross-module summary `GET /api/v1/speech/runs?serviceType=cv_deepmatch`
  lists (shape in docs/api-runs.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mockserver.clock import iso
from mockserver.modules.cvdeepmatch.outcomes import FAILED, FINISHED, RunPlan
from mockserver.platform.run_summary import API_RUN_KIND, RunSummary  # noqa: F401 (API_RUN_KIND: module surface)

RUN_KIND = "cvdm_run"
SERVICE_TYPE = "cv_deepmatch"
PROCESSING = "processing"
TERMINAL_STATUSES = (FINISHED, FAILED)

MATCH_COST_CREDITS = 3  # CRED-4: "3 credits per match"
ESTIMATED_TIME = "1-3 minutes"
SUBMIT_MESSAGE = "CV received. Matching in progress. Poll GET /api/v1/cvdeepmatch/{id} for status updates."
REPLAY_MESSAGE = "Duplicate idempotency_key within 24 h. Returning the existing request."


@dataclass(frozen=True)
class Submission:
    """A submit's validated inputs (the config already auto-filled)."""

    position_id: str
    job_description: str
    config: dict
    webhook_url: str | None
    idempotency_key: str | None
    metadata: dict[str, Any]
    tags: list[str]


def new_run(run_id: str, submission: Submission, *, project: str | None, now: float, plan: RunPlan,
            cv2jd_result: dict | None, cv_parser_result: dict | None) -> dict:
    """The stored record of an accepted run (results kept only for a `finished` ending)."""
    finished = plan.outcome == FINISHED
    return {
        "id": run_id,
        "position_id": submission.position_id,
        "project": project,
        "metadata": dict(submission.metadata),
        "tags": list(submission.tags),
        "config": submission.config,
        "webhook_url": submission.webhook_url,
        "idempotency_key": submission.idempotency_key,
        "created_epoch": now,
        "finish_epoch": now + plan.seconds,
        "outcome": plan.outcome,
        "error": None if finished else plan.error,
        "cv2jd_result": cv2jd_result if finished else None,
        "cv_parser_result": cv_parser_result if finished else None,
    }


def status_at(run: dict, now: float) -> str:
    """`processing` until the finish instant, then the fixed ending."""
    return run["outcome"] if now >= run["finish_epoch"] else PROCESSING


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATUSES


def submit_body(run: dict) -> dict:
    return {"id": run["id"], "status": PROCESSING, "message": SUBMIT_MESSAGE, "estimated_time": ESTIMATED_TIME}


def replay_body(run: dict, now: float) -> dict:
    return {"idempotent_replay": True, "message": REPLAY_MESSAGE, "id": run["id"], "status": status_at(run, now)}


def poll_body(run: dict, now: float) -> dict:
    """Every state echoes the request; terminal states add their result or error."""
    status = status_at(run, now)
    body: dict[str, Any] = {
        "position_id": run["position_id"],
        "project": run["project"],
        "metadata": run["metadata"],
        "tags": run["tags"],
        "webhook_url": run["webhook_url"],
        "created_at": iso(run["created_epoch"]),
        "config": run["config"],
    }
    if status == FINISHED:
        body["cv2jd_result"] = run["cv2jd_result"]
        body["cv_parser_result"] = run["cv_parser_result"]
    elif status == FAILED:
        body["error"] = run["error"]
    if is_terminal(status):
        body["finished_at"] = iso(run["finish_epoch"])
    body["id"] = run["id"]
    body["status"] = status
    return body


def list_row(run: dict, now: float) -> dict:
    status = status_at(run, now)
    return {
        "id": run["id"],
        "status": status,
        "position_id": run["position_id"],
        "project": run["project"],
        "metadata": run["metadata"],
        "tags": run["tags"],
        "created_at": iso(run["created_epoch"]),
        "finished_at": iso(run["finish_epoch"]) if is_terminal(status) else None,
        "overall_score": run["cv2jd_result"]["overall_score"] if status == FINISHED else None,
    }


def application_id(client_id: str) -> str:
    """The submitting client's `app_…` id (inferred: `app_` + the client id's letters and digits)."""
    return "app_" + (re.sub(r"[^A-Za-z0-9]", "", client_id) or "client")


def webhook_payload(run: dict, client_id: str) -> dict:
    """The completion callback: no `cv_parser_result` (PII stays on the poll endpoint)."""
    return {
        "external_request_id": run["id"],
        "application_id": application_id(client_id),
        "status": FINISHED,
        "cv2jd_result": run["cv2jd_result"],
    }


def run_summary(run: dict) -> RunSummary:
    """The cross-module run summary (docs/api-runs.md); createdAt is derived when listed."""
    return RunSummary(id=run["id"], service_type=SERVICE_TYPE, project=run["project"], metadata=run["metadata"],
                      tags=run["tags"], created_at=run["created_epoch"], finish_at=run["finish_epoch"],
                      outcome=run["outcome"])

"""CV DeepMatch — `/api/v1/cvdeepmatch/*`, as the integration guide and API reference describe it.

- `POST /submit` accepts a PDF CV, a job description and a position config (CVDM-1..3,
  CFG-1..11, META-1), admits the optional `webhook_url` (HOOK-1), replays a seen
  `idempotency_key` for 24 h (IDEM-1, IDEM-3), holds the match's 3 credits (402 below them,
  CRED-4), or answers 502 STEP_FUNCTIONS_FAILED when a scenario says the pipeline failed to
  start (IDEM-4: the key stays free for the retry).
- `GET /{id}` polls one match: `processing → finished | failed` on virtual time, throttled
  to one poll per 10 s while processing (POLL-1..6, code RATE_LIMITED), 404 for unknown and
  other clients' ids (CVDM-4, CVDM-6).
- `GET /requests` lists the caller's matches newest first in cursor pages with the shared
  filters (CVDM-5, LIST-1, LIST-3, LIST-4).

At submit the whole timeline is fixed and stored: the result is computed from the PDF's text,
the config and the job description (deterministic for the same inputs); the credits are
settled at the finish instant (charged when `finished`, released when `failed`); the signed
callback is queued for the finish instant, only for a `finished` match (HOOK-6). Rules for
the form live in `cvdm_submission`, the config in `cvdm_config`, results in `cvdm_results`,
the run record and its views in `cvdm_runs`, scenario outcomes in `cvdm_outcomes`.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timezone

from mockserver.errors import ApiError, validation_error
from mockserver.media.pdf import MAX_CV_BYTES, PDF_MAGIC, extract_pdf_text
from mockserver.modules.cvdeepmatch.outcomes import (
    DEFAULT_PROCESSING_SECONDS, FINISHED, MatchChoice, draw_seconds, match_choice, plan_run, rule_problems,
)
from mockserver.modules.cvdeepmatch.results import match_cv, score_cv
from mockserver.modules.cvdeepmatch.runs import (
    MATCH_COST_CREDITS, RUN_KIND, Submission, run_summary, is_terminal, list_row, new_run,
    poll_body, replay_body, status_at, submit_body, webhook_payload,
)
from mockserver.modules.cvdeepmatch.submission import read_submission
from mockserver.platform.api_module import ApiModule
from mockserver.platform.context import Ctx, Platform, Reply
from mockserver.platform.kept_views import keep_answer, kept_answer
from mockserver.platform.listing import decode_cursor, paginate, shared_filter
from mockserver.platform.request_input import BodyLimit
from mockserver.platform.run_summary import store_summary
from mockserver.platform.throttle import POLL_MIN_INTERVAL_SECONDS, check_poll
from mockserver.platform.webhook_urls import admit_webhook_url
from mockserver.platform.undo import idempotent_section, undo_submit
from mockserver.scenarios import ScenarioError

MODULE = "cvdeepmatch"
SUBMIT_OPERATION = "submitCvDeepMatch"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600.0
POLL_THROTTLE_CODE = "RATE_LIMITED"
LIST_LIMIT_DEFAULT = 20
START_ATTEMPT_KIND = "cvdm_start_attempt"


# -- submit -------------------------------------------------------------------------------

async def submit_match(ctx: Ctx) -> Reply:
    """POST /api/v1/cvdeepmatch/submit.

    Order: form rules (400, every field at once) → file bytes (INVALID_FILE_CONTENT) →
    webhook URL (HOOK-1) → text extraction → then, with no await in between so concurrent
    duplicates cannot interleave (IDEM-3): idempotency claim (a live key replays its run) →
    scenario start failure (502, claim released) → credit hold (402, claim released) → the
    run's timeline, its settlement and its callback.
    """
    platform = ctx.platform
    upload = ctx.input.files["cv_file"]
    head = await upload.read(len(PDF_MAGIC))
    submission = read_submission(ctx.input.form, ctx.input.json_fields, filename=upload.filename,
                                 content_type=upload.content_type, head_bytes=head)
    if submission.webhook_url is not None:
        admit_webhook_url(platform, submission.webhook_url)
    await upload.seek(0)
    pdf_bytes = await upload.read()
    cv_text = await asyncio.to_thread(extract_pdf_text, pdf_bytes)
    choice = match_choice(platform.scenarios.outcome(
        ctx.facts(MODULE, tags=submission.tags, metadata=submission.metadata)))
    run_id = ctx.platform.ids.uuid()

    scope = f"{ctx.client_id}|cvdm"
    key = submission.idempotency_key
    with idempotent_section(platform.store, scope, key):  # one submit per key at a time (replicas)
        if key is not None:
            original = _claim(platform, scope, key, run_id, ctx)
            if original is not None:
                return Reply(200, replay_body(original, ctx.now))
        if choice.start_failures and choice.fails_to_start(_count_start_attempt(ctx, submission)):
            _release(platform, scope, key, run_id)
            raise ApiError(502, "STEP_FUNCTIONS_FAILED")
        refused = platform.ledger.hold(ctx.client_id, run_id, MATCH_COST_CREDITS, MODULE, ctx.now)
        if refused is not None:
            _release(platform, scope, key, run_id)
            raise ApiError(402, "INSUFFICIENT_CREDITS", details={
                "required": MATCH_COST_CREDITS, "available": refused.available,
                "shortfall": MATCH_COST_CREDITS - refused.available})
        with undo_submit(platform, ctx.client_id, run_id, ctx.now, run_kind=RUN_KIND,
                         claim=(scope, key) if key is not None else None):  # the store failing midway
            run = _start_run(ctx, run_id, submission, choice, cv_text)
        return Reply(202, submit_body(run))


def _claim(platform: Platform, scope: str, key: str, run_id: str, ctx: Ctx) -> dict | None:
    """The run a live claim on ``key`` points to (a replay), or None when ``run_id`` now holds it."""
    for _ in range(2):  # a claim whose run is gone (never stored) is dropped and claimed afresh
        claim = platform.store.claim_idempotency(scope, key, run_id, ctx.now, IDEMPOTENCY_TTL_SECONDS)
        if claim.fresh:
            return None
        original = platform.store.get(RUN_KIND, claim.value, owner=ctx.client_id)
        if original is not None:
            return original
        platform.store.release_idempotency(scope, key, claim.value)
    raise RuntimeError(f"idempotency key {key!r} could not be claimed")


def _release(platform: Platform, scope: str, key: str | None, run_id: str) -> None:
    if key is not None:
        platform.store.release_idempotency(scope, key, run_id)


def _count_start_attempt(ctx: Ctx, submission: Submission) -> int:
    """This submit's 1-based start attempt for its idempotency key (its position_id without one)."""
    subject = f"idem:{submission.idempotency_key}" if submission.idempotency_key else f"position:{submission.position_id}"
    doc = ctx.platform.store.update(
        START_ATTEMPT_KIND, f"{ctx.client_id}|{subject}",
        lambda current: {"count": (current or {}).get("count", 0) + 1}, owner=ctx.client_id)
    return doc["count"]


def _start_run(ctx: Ctx, run_id: str, submission: Submission, choice: MatchChoice, cv_text: str) -> dict:
    platform = ctx.platform
    year = datetime.fromtimestamp(ctx.now, tz=timezone.utc).year
    natural = match_cv(cv_text, submission.config, submission.job_description, reference_year=year)
    span = choice.seconds or platform.setting(MODULE, "processingSeconds", DEFAULT_PROCESSING_SECONDS,
                                              client=ctx.client)
    seconds = draw_seconds(span, random.Random(run_id))
    plan = plan_run(choice, natural.status, natural.error, seconds)
    if plan.outcome == FINISHED and natural.status != FINISHED:
        natural = score_cv(cv_text, submission.config, submission.job_description, reference_year=year)
    run = new_run(run_id, submission, project=ctx.key.project if ctx.key else None, now=ctx.now, plan=plan,
                  cv2jd_result=natural.cv2jd_result, cv_parser_result=natural.cv_parser_result)
    platform.store.put(RUN_KIND, run_id, run, owner=ctx.client_id)
    store_summary(platform.store, run_summary(run), ctx.client_id)
    platform.ledger.schedule(ctx.client_id, run_id, run["finish_epoch"],
                             "charge" if plan.outcome == FINISHED else "release", MODULE)
    if submission.webhook_url is not None and plan.outcome == FINISHED:
        platform.webhooks.enqueue(kind="cvdm", client_id=ctx.client_id, run_id=run_id,
                                  url=submission.webhook_url, payload=webhook_payload(run, ctx.client_id),
                                  due_at=run["finish_epoch"])
    return run


# -- poll ---------------------------------------------------------------------------------

async def get_match(ctx: Ctx) -> Reply:
    """GET /api/v1/cvdeepmatch/{id}: throttled while processing, free once terminal."""
    platform = ctx.platform
    run_id = str(ctx.input.path["id"]).lower()
    views, kept, token = kept_answer(platform.store, RUN_KIND, run_id, ctx.client_id, ctx.now)
    if kept is not None:  # a finished run's answer, rendered once (kept_views)
        return Reply(200, kept)
    run = platform.store.get(RUN_KIND, run_id, owner=ctx.client_id)
    if run is None:
        raise ApiError(404, "REQUEST_NOT_FOUND")
    if is_terminal(status_at(run, ctx.now)):
        return Reply(200, keep_answer(views, RUN_KIND, run_id, ctx.client_id, run["finish_epoch"],
                                      poll_body(run, ctx.now), token))
    check_poll(platform.store, platform.clock, ctx.client_id, run["id"], POLL_THROTTLE_CODE, ctx.now)
    headers = {"Retry-After": str(platform.clock.advertise(POLL_MIN_INTERVAL_SECONDS))}
    return Reply(200, poll_body(run, ctx.now), headers)


# -- list ---------------------------------------------------------------------------------

async def list_matches(ctx: Ctx) -> Reply:
    """GET /api/v1/cvdeepmatch/requests: newest first, cursor pages, shared filters."""
    query = ctx.input.query
    if "metadata_value" in query and "metadata_key" not in query:
        raise validation_error("INVALID_INPUT", {"metadata_value": ["metadata_value needs metadata_key."]})
    before = decode_cursor(query["cursor"], "INVALID_INPUT") if "cursor" in query else None
    entries = ctx.platform.store.scan_entries(RUN_KIND, owner=ctx.client_id, newest_first=True, before_seq=before)
    rows = ((entry.seq, list_row(entry.doc, ctx.now)) for entry in entries)
    page, next_cursor = paginate(rows, query.get("limit", LIST_LIMIT_DEFAULT), shared_filter(query))
    return Reply(200, {"requests": page,
                       "next_cursor": next_cursor, "has_more": next_cursor is not None})


# -- registration -------------------------------------------------------------------------

def _applies_here(when: dict) -> bool:
    operation = when.get("operation")
    operations = [operation] if isinstance(operation, str) else list(operation or [])
    return when.get("module") == MODULE or SUBMIT_OPERATION in operations


def check_scenarios(scenarios) -> None:
    """Refuse (at start and on reload) rules for this module whose `then` it cannot honour."""
    for index, rule in enumerate(scenarios.rules):
        if _applies_here(rule["when"]):
            problems = rule_problems(rule["then"])
            if problems:
                raise ScenarioError(f"rule {rule.get('name') or index!r} (cvdeepmatch): {'; '.join(problems)}")
    span = scenarios.setting(MODULE, "processingSeconds", None)
    if span is not None and rule_problems({"processingSeconds": span}):
        raise ScenarioError("settings.cvdeepmatch.processingSeconds must be a positive number or a [min, max] pair")


HANDLERS = {
    "submitCvDeepMatch": submit_match,
    "getCvDeepMatch": get_match,
    "listCvDeepMatchRequests": list_matches,
}

BODY_LIMITS = {"submitCvDeepMatch": BodyLimit(MAX_CV_BYTES, 400, "INVALID_INPUT", file_field="cv_file")}


API_MODULE = ApiModule(name=MODULE, tag="CV DeepMatch", handlers=HANDLERS, body_limits=BODY_LIMITS,
                       check_scenarios=check_scenarios)

"""Speech — `/api/v1/speech/*`, as the Submit, Poll, List runs, Async polling flow and Rate
limits pages describe it.

- `POST /analyze` (SPCH-1..3, SPCH-9, SPCH-13, CRED-2, RATE-2, META-1, META-3): the pipeline
  has already answered 401, 403 (permission, IP), 429 (submit rate) and the contract's 400s
  (a missing or over-25 MB audio part — refused while streaming —, language, externalId,
  metadata JSON, cut-setting syntax). Here, in order: 403 MULTILINGUAL_NOT_ENABLED, the tags
  and the metadata's 8 KB, the audio's real format and duration, the cut window, then the
  exact-cost credit hold (402). The run is timed on the client's FIFO concurrency pool and
  its hold is settled at its finish: charged on success and partial, released on failure
  (CRED-3, A1, A9).
- `GET /analyze/{id}` (SPCH-4..8, SPCH-10, SPCH-11, POLL-1..6): status derived from time,
  throttled to one poll per 10 s while queued or processing, free once terminal.
- `GET /runs` (LIST-1, LIST-2, LIST-4): Speech and CV DeepMatch runs, newest first.

The rules live in `speech_*.py`; this file wires them to the request, the store, the ledger
and the scenario rules.
"""

from __future__ import annotations

import asyncio

from mockserver.errors import ApiError
from mockserver.platform.api_module import ApiModule
from mockserver.platform.context import Ctx, Reply
from mockserver.platform.kept_views import keep_answer, kept_answer
from mockserver.platform.request_input import BodyLimit
from mockserver.platform.run_summary import store_summary
from mockserver.platform.throttle import check_poll
from mockserver.platform.undo import undo_submit
from mockserver.scenarios import ScenarioError
from mockserver.modules.speech.listing import list_page
from mockserver.modules.speech.outcomes import DEFAULT_PROCESSING_SECONDS, FAILED, OutcomeRuleError, plan_run
from mockserver.modules.speech.runs import (
    POOL_KIND,
    QUEUED,
    RUN_KIND,
    add_to_pool,
    run_summary,
    is_terminal,
    new_run,
    poll_body,
    poll_interval_seconds,
    pool_view,
    run_status,
    slot_pool,
    submit_body,
)
from mockserver.modules.speech.submission import (
    DEFAULT_LANGUAGE,
    check_cut_window,
    check_duration,
    read_audio,
    read_correlation,
    read_cut_window,
    require_multilingual,
    speech_cost,
)

MODULE = "speech"
MAX_AUDIO_BYTES = 25 * 1024 * 1024
POLL_THROTTLE_CODE = "POLL_RATE_LIMITED"

BODY_LIMITS = {
    "submitSpeechAnalysis": BodyLimit(MAX_AUDIO_BYTES, 400, "FILE_TOO_LARGE", file_field="audio"),
}


async def submit_speech_analysis(ctx: Ctx) -> Reply:
    """POST /api/v1/speech/analyze → 202 processing | queued."""
    platform, form = ctx.platform, ctx.input.form
    language = form.get("language", DEFAULT_LANGUAGE)
    require_multilingual(language, ctx.client.multilingual)
    correlation = read_correlation(form, ctx.input.json_fields)
    cut = read_cut_window(form)
    upload = ctx.input.files["audio"]
    audio = await asyncio.to_thread(read_audio, upload.file, upload.filename, upload.content_type)
    check_duration(audio.duration_seconds)
    check_cut_window(cut, audio.duration_seconds)
    cost = speech_cost(audio.duration_seconds)

    rule = platform.scenarios.outcome(ctx.facts(
        MODULE, external_id=correlation.external_id, tags=correlation.tags,
        metadata=correlation.metadata, language=language))
    processing_range = platform.setting(MODULE, "processingSeconds", list(DEFAULT_PROCESSING_SECONDS),
                                        client=ctx.client)
    plan = plan_run(rule, audio.sha256, processing_range)

    run_id = ctx.platform.ids.speech_run_id(ctx.now)
    refused = platform.ledger.hold(ctx.client_id, run_id, cost, MODULE, ctx.now)
    if refused is not None:
        raise ApiError(402, "INSUFFICIENT_CREDITS",
                       f"This recording costs {refused.cost} credits; {refused.available} are available.",
                       details={"cost": refused.cost, "available": refused.available})
    capacity = platform.registry.concurrency(ctx.key)
    with undo_submit(platform, ctx.client_id, run_id, ctx.now, run_kind=RUN_KIND):  # the store failing midway
        start_at, finish_at = platform.store.schedule_slot(slot_pool(ctx.client_id), capacity, ctx.now,
                                                           plan.processing_seconds)
        platform.ledger.schedule(ctx.client_id, run_id, finish_at,
                                 "release" if plan.outcome == FAILED else "charge", MODULE)
        run = new_run(run_id=run_id, created_at=ctx.now, start_at=start_at, finish_at=finish_at, plan=plan,
                      audio=audio, language=language, cut=cut, correlation=correlation,
                      project=ctx.key.project, cost=cost, capacity=capacity)
        platform.store.put(RUN_KIND, run_id, run, owner=ctx.client_id)
        summary = store_summary(platform.store, run_summary(run), ctx.client_id)
        pool = platform.store.update(
            POOL_KIND, ctx.client_id,
            lambda current: add_to_pool(current, run_id, summary.seq, start_at, finish_at, ctx.now),
            owner=ctx.client_id)

    status = run_status(run, ctx.now)
    interval = platform.clock.advertise(poll_interval_seconds(status, run["created_at"], ctx.now))
    return Reply(202, submit_body(run, status, pool_view(pool, ctx.now), interval))


async def get_speech_analysis(ctx: Ctx) -> Reply:
    """GET /api/v1/speech/analyze/{id} → 200 in every status; 404 for unknown or foreign ids."""
    platform = ctx.platform
    run_id = str(ctx.input.path["id"])
    views, kept, token = kept_answer(platform.store, RUN_KIND, run_id, ctx.client_id, ctx.now)
    if kept is not None:  # a finished run's answer, rendered once (kept_views)
        return Reply(200, kept)
    run = platform.store.get(RUN_KIND, run_id, owner=ctx.client_id)
    if run is None:
        raise ApiError(404, "REQUEST_NOT_FOUND")
    status = run_status(run, ctx.now)
    if is_terminal(status):
        return Reply(200, keep_answer(views, RUN_KIND, run_id, ctx.client_id, run["finish_at"],
                                      poll_body(run, status, ctx.now), token))
    check_poll(platform.store, platform.clock, ctx.client_id, run["id"], POLL_THROTTLE_CODE, ctx.now)
    interval = platform.clock.advertise(poll_interval_seconds(status, run["created_at"], ctx.now))
    position = None
    if status == QUEUED:
        position = pool_view(platform.store.get(POOL_KIND, ctx.client_id), ctx.now).position(run["id"])
    body = poll_body(run, status, ctx.now, queue_position=position, poll_interval=interval)
    return Reply(200, body, headers={"Retry-After": str(interval)})


async def list_speech_runs(ctx: Ctx) -> Reply:
    """GET /api/v1/speech/runs → one page of compact rows, newest first."""
    return Reply(200, list_page(ctx.platform.store, ctx.client_id, ctx.input.query, ctx.now))


def check_scenarios(scenarios) -> None:
    """Refuse (at start and on reload) a Speech rule whose outcome a run cannot take."""
    for rule in scenarios.rules:
        when = rule["when"]
        operations = when.get("operation")
        operations = [operations] if isinstance(operations, str) else operations or []
        if when.get("module") == MODULE or "submitSpeechAnalysis" in operations:
            try:
                plan_run(rule["then"], "0" * 64)
            except OutcomeRuleError as exc:
                raise ScenarioError(f"rule {rule.get('name', '')!r}: {exc}") from None


HANDLERS = {
    "submitSpeechAnalysis": submit_speech_analysis,
    "getSpeechAnalysis": get_speech_analysis,
    "listSpeechRuns": list_speech_runs,
}


API_MODULE = ApiModule(name=MODULE, tag="Speech", handlers=HANDLERS, body_limits=BODY_LIMITS,
                       check_scenarios=check_scenarios)

"""CV DeepSearch — `/api/v1/cvds/*`, as the overview, Ingestion and Search guides describe it.

- `POST /candidates` ingests a batch into corpora: fail-closed corpus resolution, ≤ 500
  candidates, ≤ ~10 MB (refused while streaming), idempotent upsert by content hash, inline
  or background embedding (CVDS-1..4).
- `GET /candidates` and `GET /candidates/{external_id}` read embedding statuses, never the
  CV (CVDS-5).
- `POST /search` triggers a run over one corpus of the caller (CVDS-6, CVDS-8), with
  idempotency (IDEM-2..4), the per-position plan cache (`job_updated`), webhook admission
  (HOOK-1) and 502 STEP_FUNCTIONS_FAILED by scenario (CVDS-10).
- `GET /runs/{id}` polls it: `pending → completed | failed`, `results: null` and
  `results_pending: true` as documented today, throttled while pending (CVDS-7, CVDS-11, POLL-1..6).
- A search with a `webhook_url` gets the signed `cvdeepsearch.completed` callback when the
  run completes, by default (CVDS-12, HOOK-7: "If you supplied a webhook_url, we POST a
  signed callback when the run finishes").
- With the `cvds-results` preview on: the best-first ranking inline and on
  `GET /runs/{id}/results` (CVDS-9).

The rules live in `cvds_*.py`; this file wires them to requests, the store, scenario
outcomes (`cvds_outcomes`) and the webhook engine. State is derived from virtual time.
"""

from __future__ import annotations

from typing import Any

from mockserver.modules.cvdeepsearch.candidates import LIST_LIMIT_DEFAULT, list_page
from mockserver.modules.cvdeepsearch.errors import candidate_not_found, require_corpus_id, run_not_found, step_functions_failed
from mockserver.modules.cvdeepsearch.ingest import (
    EMBED_CHUNK_SECONDS,
    EMBED_CHUNK_SIZE,
    INLINE_EMBED_MAX,
    MAX_BODY_BYTES,
    EmbeddingPace,
    decide_item,
    ingest_response,
    plan_ingest,
)
from mockserver.modules.cvdeepsearch.outcomes import embedding_choice, search_choice
from mockserver.modules.cvdeepsearch.runs import (
    RESULTS_LIMIT_DEFAULT,
    SEARCH_SECONDS,
    SearchRun,
    completion_event,
    corpus_error,
    is_terminal,
    new_run_id,
    parse_search,
    results_page,
    run_body,
    search_response,
    start_run,
)
from mockserver.modules.cvdeepsearch.store import CvdsStore
from mockserver.errors import ApiError
from mockserver.platform.api_module import ApiModule
from mockserver.platform.context import Ctx, Reply
from mockserver.scenarios import ScenarioError
from mockserver.platform.request_input import BodyLimit
from mockserver.platform.throttle import POLL_MIN_INTERVAL_SECONDS, check_poll
from mockserver.platform.webhook_urls import admit_webhook_url
from mockserver.platform.undo import idempotent_section

MODULE = "cvdeepsearch"
PREVIEW = "cvds-results"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600.0  # as CV DeepMatch's documented window (inferred for CVDS)
POLL_THROTTLE_CODE = "RATE_LIMITED"


def _store(ctx: Ctx) -> CvdsStore:
    """The caller's CVDS state, with every run that has finished by now settled."""
    store = CvdsStore(ctx.platform.store, ctx.client_id)
    store.settle_due(ctx.now)
    return store


def _rule(ctx: Ctx, fields: dict[str, str], **facts: Any) -> dict | None:
    """The first scenario rule matching this request (plus `fields` for `field:` matches)."""
    request_facts = ctx.facts(MODULE, **facts)
    request_facts.fields.update({name: value for name, value in fields.items() if value is not None})
    return ctx.platform.scenarios.outcome(request_facts)


def _queue_completion(ctx: Ctx, run: SearchRun) -> None:
    """Queue the provisional completion callback (HOOK-7), due at the run's finish, for a
    completing run with a webhook_url — by default (CVDS-12); only the results need the preview."""
    platform = ctx.platform
    if run.webhook_url is not None and run.will_complete:
        platform.webhooks.enqueue(kind="cvds", client_id=ctx.client_id, run_id=run.id, url=run.webhook_url,
                                  payload=completion_event(run), due_at=run.finishes_at)


def _pace(ctx: Ctx) -> EmbeddingPace:
    setting = ctx.platform.setting
    return EmbeddingPace(
        inline_max=int(setting(MODULE, "inlineEmbedMax", INLINE_EMBED_MAX, client=ctx.client)),
        chunk_size=int(setting(MODULE, "embedChunkSize", EMBED_CHUNK_SIZE, client=ctx.client)),
        chunk_seconds=float(setting(MODULE, "embedChunkSeconds", EMBED_CHUNK_SECONDS, client=ctx.client)),
    )


# -- ingestion ----------------------------------------------------------------------------

async def ingest_candidates(ctx: Ctx) -> Reply:
    """POST /api/v1/cvds/candidates (CVDS-1..4). Over-size bodies never reach here (413)."""
    items = plan_ingest(ctx.input.json)  # BATCH_TOO_LARGE / MISSING_CORPUS_ID before any write
    store = _store(ctx)
    pace = _pace(ctx)
    decisions = []
    for item in items:
        choice = embedding_choice(_rule(ctx, {"corpus_id": item.corpus_id},
                                        external_id=item.external_id, tags=list(item.tags or ())))
        decisions.append(store.upsert(item, lambda existing, item=item, choice=choice: decide_item(
            item, existing, now=ctx.now, batch_size=len(items), pace=pace,
            embed_outcome=choice.outcome, embed_seconds=choice.seconds)))
    for run in store.revive_runs({item.corpus_id for item in items}, ctx.now):
        _queue_completion(ctx, run)
    return Reply(200, ingest_response(decisions))


async def list_candidates(ctx: Ctx) -> Reply:
    """GET /api/v1/cvds/candidates?corpus_id=… (CVDS-5, LIST-3): newest first, cursor pages."""
    query = ctx.input.query
    corpus_id = require_corpus_id(query.get("corpus_id"))
    store = _store(ctx)
    page = list_page(store.corpus(corpus_id), now=ctx.now, embedding_status=query.get("embedding_status"),
                     cursor=query.get("cursor"), limit=query.get("limit", LIST_LIMIT_DEFAULT))
    return Reply(200, page)


async def get_candidate(ctx: Ctx) -> Reply:
    """GET /api/v1/cvds/candidates/{external_id}?corpus_id=… (CVDS-5): status with tags."""
    corpus_id = require_corpus_id(ctx.input.query.get("corpus_id"))
    record = _store(ctx).candidate(corpus_id, ctx.input.path["external_id"])
    if record is None:
        raise candidate_not_found()
    return Reply(200, record.status_detail(ctx.now))


# -- search -------------------------------------------------------------------------------

async def submit_search(ctx: Ctx) -> Reply:
    """POST /api/v1/cvds/search (CVDS-6, CVDS-8, CVDS-10, IDEM-2..4, HOOK-1).

    Order: body rules (MISSING_CORPUS_ID) → webhook URL → idempotency claim (a seen key
    replays its run) → scenario start failure (502, claim released so the same key can be
    retried) → plan (cached per position unless `job_updated`) → the run's timeline.
    """
    platform = ctx.platform
    request = parse_search(ctx.input.json)
    if request.webhook_url is not None:
        admit_webhook_url(platform, request.webhook_url)
    store = _store(ctx)
    choice = search_choice(_rule(ctx, {"corpus_id": request.corpus_id, "position_id": request.position_id,
                                       "idempotency_key": request.idempotency_key}))
    run_id = new_run_id(platform.ids.child())
    scope = f"{ctx.client_id}|cvds"
    with idempotent_section(platform.store, scope, request.idempotency_key):  # one submit per key (replicas)
        if request.idempotency_key is not None:
            claim = platform.store.claim_idempotency(scope, request.idempotency_key, run_id, ctx.now,
                                                     IDEMPOTENCY_TTL_SECONDS)
            if not claim.fresh:
                original = store.run(claim.value)
                if original is None:  # a submit the store failed midway: its claim is dropped, claimed afresh
                    platform.store.release_idempotency(scope, request.idempotency_key, claim.value)
                    claim = platform.store.claim_idempotency(scope, request.idempotency_key, run_id, ctx.now,
                                                             IDEMPOTENCY_TTL_SECONDS)
                    original = None if claim.fresh else store.run(claim.value)
                    if not claim.fresh and original is None:
                        raise RuntimeError(f"idempotency key held by run {claim.value}, which was never stored")
                if original is not None:
                    return Reply(200, search_response(original, ctx.now, replay=True))
        if choice.start_failures:
            attempt_key = f"idem:{request.idempotency_key}" if request.idempotency_key else f"position:{request.position_id}"
            if choice.fails_to_start(store.count_start_attempt(attempt_key)):
                if request.idempotency_key is not None:
                    platform.store.release_idempotency(scope, request.idempotency_key, run_id)
                raise step_functions_failed()
        duration = choice.seconds or float(platform.setting(MODULE, "searchSeconds", SEARCH_SECONDS, client=ctx.client))
        plan = store.plan_for(request.position_id, request.position_metadata, rebuild=request.is_job_updated,
                              now=ctx.now)
        planned_error = choice.error
        if choice.ending is None:
            planned_error = corpus_error(store.corpus(request.corpus_id), request.corpus_id, ctx.now + duration)
        run = start_run(request, run_id=run_id, now=ctx.now, duration=duration, plan=plan,
                        planned_error=planned_error, ending_forced=choice.ending is not None)
        store.add_run(run)
        _queue_completion(ctx, run)
        return Reply(200, search_response(run, ctx.now))


async def get_run(ctx: Ctx) -> Reply:
    """GET /api/v1/cvds/runs/{id} (CVDS-7, CVDS-11, POLL-1..6): throttled only while pending."""
    platform = ctx.platform
    run = _store(ctx).run(ctx.input.path["id"])
    if run is None:
        raise run_not_found()
    headers: dict[str, str] = {}
    if not is_terminal(run.status(ctx.now)):
        check_poll(platform.store, platform.clock, ctx.client_id, run.id, POLL_THROTTLE_CODE, ctx.now)
        headers["Retry-After"] = str(platform.clock.advertise(POLL_MIN_INTERVAL_SECONDS))
    return Reply(200, run_body(run, ctx.now, preview=platform.preview_enabled(PREVIEW)), headers)


async def get_run_results(ctx: Ctx) -> Reply:
    """GET /api/v1/cvds/runs/{id}/results (CVDS-9, preview; the pipeline gates it)."""
    run = _store(ctx).run(ctx.input.path["id"])
    if run is None:
        raise run_not_found()
    query = ctx.input.query
    return Reply(200, results_page(run, ctx.now, cursor=query.get("cursor"),
                                   limit=query.get("limit", RESULTS_LIMIT_DEFAULT)))


HANDLERS = {
    "ingestCvdsCandidates": ingest_candidates,
    "listCvdsCandidates": list_candidates,
    "getCvdsCandidate": get_candidate,
    "submitCvdsSearch": submit_search,
    "getCvdsRun": get_run,
    "getCvdsRunResults": get_run_results,
}

BODY_LIMITS = {"ingestCvdsCandidates": BodyLimit(MAX_BODY_BYTES, 413, "PAYLOAD_TOO_LARGE")}


def check_scenarios(scenarios) -> None:
    """Refuse (at start and on reload) a CV DeepSearch rule whose embedding or run outcome
    a request could not take (else the first matching request would fail with a 500)."""
    for index, rule in enumerate(scenarios.rules):
        when = rule["when"]
        operations = when.get("operation")
        operations = [operations] if isinstance(operations, str) else list(operations or [])
        if when.get("module") == MODULE or set(operations) & set(HANDLERS):
            then = dict(rule["then"], _rule=rule.get("name") or str(index))
            try:
                embedding_choice(then)
                search_choice(then)
            except ApiError as exc:
                raise ScenarioError(f"rule {rule.get('name') or index!r} (cvdeepsearch): {exc.message}") from None


API_MODULE = ApiModule(name=MODULE, tag="CV DeepSearch", handlers=HANDLERS, body_limits=BODY_LIMITS,
                       check_scenarios=check_scenarios)

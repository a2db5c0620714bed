"""The path of one API request, in one place:

shared state brought up to date (`Platform.sync`, a shared store only) → route (404/405) →
auth (401, no requestId) → IP allow-list and module permission (403) →
preview gate → submit rate limit (429) → injected faults (latency, 5xx) → parameters and
body validated against the contract (400 with details.fields) → module handler →
response checked against the contract in strict mode → the error envelope on any error.
The store unreachable at any step → 503 ``INTERNAL_ERROR`` with Retry-After (`outage`); the
health check then reports its ``database`` check unreachable instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .contract import Operation
from .errors import ApiError, envelope
from .json_writer import api_json
from .grading.facts import path_run_of, reply_facts, request_facts
from .platform.auth import authenticate, authorise
from .platform.context import Ctx, Platform, Reply
from .platform import journal_line
from .platform.journal_fields import request_excerpt, response_head, run_id_of
from .platform.request_input import parse_params, read_body
from .platform.throttle import check_submit_rate
from .platform.outage import MESSAGE as STORE_DOWN_MESSAGE, RETRY_AFTER_SECONDS as STORE_RETRY_AFTER
from .scenarios import Facts
from .store.base import StoreUnavailable

log = logging.getLogger("zenhire_mock")


dumps = api_json  # the one JSON writer (json_writer), as replies are written


class _BytesResponse(Response):
    """A Response over bytes already rendered: the same headers Starlette's `init_headers`
    writes, built directly when the reply adds none of its own (the common case)."""

    def __init__(self, content: bytes, status_code: int, headers: dict[str, str], media_type: str) -> None:
        self.status_code = status_code
        self.media_type = media_type
        self.background = None
        self.body = content
        if headers or media_type is None or media_type.startswith("text/"):
            self.init_headers(headers)
            return
        raw = [(b"content-type", media_type.encode("latin-1"))]
        if not (status_code < 200 or status_code in (204, 304)):
            raw.insert(0, (b"content-length", str(len(content)).encode("latin-1")))
        self.raw_headers = raw


def error_reply(err: ApiError, platform: Platform, request_id: str | None) -> Reply:
    headers = dict(err.headers)
    if err.retry_after is not None:
        headers["Retry-After"] = str(err.retry_after)
    body = envelope(err, timestamp=platform.clock.iso(), request_id=request_id)
    return Reply(err.status, body, headers)


class Pipeline:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        if platform.settings.strict:
            platform.contract.compile_all()  # strict mode checks every response: fail now, not later
        self._required_headers = self._collect_required_headers()
        self._masked_keys: dict[str, str] = {}

    def _collect_required_headers(self) -> dict[tuple[str, str], list[str]]:
        from .contract import _resolve
        out = {}
        comps = self.platform.contract.components
        for op in self.platform.contract.operations.values():
            for status, resp in op.raw.get("responses", {}).items():
                resp = _resolve(resp, comps)
                names = [n for n, h in resp.get("headers", {}).items() if _resolve(h, comps).get("required")]
                out[(op.operation_id, str(status))] = names
        return out

    def _masked(self, key) -> str:
        """The key as the journal shows it: one shared string per key, not one per line."""
        masked = self._masked_keys.get(key.key)
        if masked is None:
            masked = self._masked_keys[key.key] = key.masked()
        return masked

    async def __call__(self, scope, receive, send) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        platform = self.platform
        started = time.perf_counter()
        store_down: StoreUnavailable | None = None
        if platform.store.shared:  # `Platform.sync` has nothing to do otherwise (the common case)
            try:
                platform.sync()
            except StoreUnavailable as exc:
                store_down = exc
                platform.outage.failed(exc)
        now = platform.clock.now()
        rid = platform.ids.request_id(now)
        op, path_values, allowed = platform.contract.match(request.method, request.scope["path"])
        ctx: Ctx | None = None
        facts: dict | None = {}
        if op is None:
            if allowed:
                err = ApiError(405, "METHOD_NOT_ALLOWED", headers={"Allow": ", ".join(allowed)})
            else:
                err = ApiError(404, "NOT_FOUND", "No such endpoint.")
            reply = error_reply(err, platform, rid)
        else:
            ctx = Ctx(platform=platform, request=request, op=op, request_id=rid, now=now,
                      store_down=store_down is not None)
            try:
                if store_down is not None and not op.public:
                    raise store_down
                acks_at_end = getattr(platform.store, "acks_at_end", None) if platform.store.shared else None
                if acks_at_end is not None:  # what its writes owe other processes, awaited once
                    with acks_at_end():
                        reply = await self._run(ctx, path_values)
                else:
                    reply = await self._run(ctx, path_values)
            except ApiError as err:
                reply = error_reply(err, platform, rid)
            except StoreUnavailable as exc:
                store_down = exc
                platform.outage.failed(exc)
                reply = error_reply(ApiError(503, "INTERNAL_ERROR", STORE_DOWN_MESSAGE,
                                             retry_after=STORE_RETRY_AFTER), platform, rid)
            except TimeoutError as exc:  # a shared store's lock held too long by another process
                log.warning("%s: %s", op.operation_id, exc)
                reply = error_reply(ApiError(503, "INTERNAL_ERROR", "The platform is busy. Retry after the indicated delay.",
                                             retry_after=STORE_RETRY_AFTER), platform, rid)
            except Exception:  # the mock's own bug: report it the documented way
                log.exception("unhandled error in %s", op.operation_id)
                reply = error_reply(ApiError(500, "INTERNAL_ERROR"), platform, rid)
            finally:
                facts = request_facts(ctx, path_values)  # before close: hashes upload heads
                if ctx.input.files:
                    await ctx.input.close()
            if platform.settings.strict:
                reply = self._check(op, reply, rid)
        response = self._render(reply, request.method)
        if store_down is None:
            platform.outage.succeeded()
        try:
            self._journal(request, reply, response, op, ctx, path_values, rid, now, started, facts)
        except StoreUnavailable as exc:  # the reply stands; only its journal line is lost
            platform.outage.failed(exc)
        return response

    def _journal(self, request, reply, response, op, ctx, path_values, rid, now, started, facts) -> None:
        """Keep the request's journal line as the values at hand (`journal_line`): what can be
        derived from them (the ISO time, most grading facts) is derived when the line is read."""
        platform = self.platform
        scope = request.scope
        client = ctx.client.id if ctx and ctx.client else None
        key = self._masked(ctx.key) if ctx and ctx.key else None
        if facts:  # a 401 whose key the registry knows counts for the key's client
            client, key = facts.get("client", client), facts.get("key", key)
        duration = round((time.perf_counter() - started) * 1000, 3)
        platform.journal.record_line(journal_line.build(
            now, scope["method"], scope["path"], reply.status, op.operation_id if op else None, client, key, rid,
            duration, platform.journal.line_seq(), platform.module_of_tag.get(op.tag) if op else None,
            run_id_of(op, path_values, reply), facts, path_run_of(path_values) if path_values else None,
            scope.get("query_string", b""), reply_facts(op, reply), scope["headers"], request_excerpt(ctx),
            reply.headers, response_head(response, reply.media_type, reply.body)))

    async def _run(self, ctx: Ctx, path_values: dict[str, str]) -> Reply:
        platform, op, request = self.platform, ctx.op, ctx.request
        if not op.public:
            ctx.key, ctx.client = authenticate(request, platform.registry, ctx.now)
            authorise(request, ctx.key, ctx.client, op.permission)
        if op.preview and not any(platform.preview_enabled(p) for p in op.raw.get("x-preview-names", ["cvds-results"])):
            codes = op.documented_codes(404) or ["NOT_FOUND"]
            raise ApiError(404, codes[0], "This preview endpoint is not enabled on this server.")
        if op.submit and ctx.key is not None:
            check_submit_rate(platform.store, platform.clock, ctx.client.id,
                              platform.registry.rate_limit(ctx.key), ctx.now)
        faults, scenario_only = platform.scenarios.fault_candidates(op.operation_id)
        if faults and not (scenario_only and "x-mock-scenario" not in request.headers):
            await self._faults(ctx, faults)  # else every candidate needs an X-Mock-Scenario not sent
        if path_values or op.query_params:
            path, query = parse_params(op, request, path_values)
        else:  # nothing to parse or validate (parse_params would return the same)
            path, query = {}, {}
        if op.body is not None:
            ctx.input = await read_body(op, request, platform.body_limits.get(op.operation_id),
                                        unknown_fields=platform.setting(op.permission or "", "unknownFields",
                                                                        "ignore", client=ctx.client))
        # else: no body to read; ctx.input is the empty RequestInput read_body would give
        ctx.input.path, ctx.input.query = path, query
        handler = platform.handlers.get(op.operation_id)
        if handler is None:
            raise ApiError(500, "INTERNAL_ERROR", f"{op.operation_id} is not simulated by this mock build.")
        return await handler(ctx)

    async def _faults(self, ctx: Ctx, faults: list[dict]) -> None:
        """Apply the first of ``faults`` (the operation's candidates) that matches, if any."""
        platform = self.platform
        facts = Facts(operation=ctx.op.operation_id, module=platform.module_of_tag.get(ctx.op.tag, ""),
                      client=ctx.client.id if ctx.client else "", key=ctx.key.key if ctx.key else "",
                      scenario=ctx.request.headers.get("x-mock-scenario"),
                      headers={k.lower(): v for k, v in ctx.request.headers.items()})
        fault = platform.scenarios.fault(facts, ctx.now - platform.started_at)
        if fault is None:
            return
        then = fault["then"]
        if then.get("latencyMs"):
            await asyncio.sleep(then["latencyMs"] / 1000.0)
        if then.get("status"):
            retry = then.get("retryAfterSeconds")
            raise ApiError(then["status"], then["code"], then.get("message"), retry_after=retry)

    def _check(self, op: Operation, reply: Reply, rid: str) -> Reply:
        """Strict mode: the reply must match the contract; a mismatch is the mock's own bug."""
        problems: list[str] = []
        media = op.responses.get(str(reply.status))
        if media is None:
            problems.append(f"status {reply.status} is not documented for {op.operation_id}")
        else:
            if reply.media_type not in media:
                problems.append(f"media type {reply.media_type} not documented for {reply.status}")
            else:
                validator = media[reply.media_type]
                if validator is not None and reply.stream is None:
                    problems.extend(f"{'/'.join(map(str, e.instance_path)) or '(body)'}: {e.message}"
                                    for e in validator.iter_errors(reply.body))
            for name in self._required_headers.get((op.operation_id, str(reply.status)), []):
                if name.lower() not in {h.lower() for h in reply.headers}:
                    problems.append(f"required header {name} missing")
        if not problems:
            return reply
        log.error("contract violation in %s: %s", op.operation_id, problems)
        err = ApiError(500, "INTERNAL_ERROR", "The mock produced a response that breaks its own contract.",
                       details={"contractViolation": problems[:20], "status": reply.status})
        return error_reply(err, self.platform, rid)

    def _render(self, reply: Reply, method: str) -> Response:
        if reply.stream is not None:
            return StreamingResponse(reply.stream, status_code=reply.status, headers=reply.headers,
                                     media_type=reply.media_type)
        content = b"" if reply.body is None else dumps(reply.body)
        return _BytesResponse(content, reply.status, reply.headers, reply.media_type)

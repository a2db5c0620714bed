"""Runs through the control API, for the console and for scripts: `GET /__mock/runs` and
`GET /__mock/runs/{run_id}`.

Each Speech, CV DeepMatch and CV DeepSearch run is shown with its timeline on the virtual
clock — accepted → queued (Speech, when it waited for a slot) → processing (`pending` for
CV DeepSearch, whose API has one state for both) → its ending, each with
its instant and whether it has been reached — its status now, its credits (held, then
charged or released, from the ledger; a settlement still to come is named) and the polls it
received (from the request journal: how many, and which were throttled with 429).

Interview sessions are shown the same way (module ``interview``): initiated → opened →
consented → in_progress → completed | failed, each step the candidate took with its virtual
instant (a re-invite adds ``reinvited``), and while the session is open the deadline that ends
it if nothing else happens (link expiry, or the live budget), plus the completion callbacks
queued for it. Status and times are the Interview API's own at the current virtual time.

Everything is read from what the modules stored at submit (`speech_run`, `cvdm_run`,
`cvds_run` documents; Interview sessions through the module's session book, as its own control
routes read them — the book first plays a client's planned candidate steps up to now, exactly
as an API read does), the ledger's transactions, the webhook log and the journal; nothing here
changes a run. Reading settles due ledger entries, as every credits read does. A session's
candidate token is never shown (only its hash is stored, and that is left out too).
"""

from __future__ import annotations

from typing import Any, Iterable

from starlette.routing import Route

from ..clock import iso, parse_iso
from ..modules.interview import lifecycle as interview_rules
from ..platform.credits import SETTLEMENT, TXN, shown_transaction
from ..store import Entry
from .http import guard, json_response, not_found

SPEECH, CVDM, CVDS, INTERVIEW = "speech", "cvdeepmatch", "cvdeepsearch", "interview"
RUN_KINDS = {SPEECH: "speech_run", CVDM: "cvdm_run", CVDS: "cvds_run"}  # run documents; sessions: the book
MODULES = (SPEECH, CVDM, CVDS, INTERVIEW)
POLL_OPERATIONS = {SPEECH: "getSpeechAnalysis", CVDM: "getCvDeepMatch", CVDS: "getCvdsRun",
                   INTERVIEW: "getInterviewSession"}
CREATE_SESSION = "createInterviewSession"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_EVERYTHING = 10 ** 9


def _point(state: str, epoch: float, now: float) -> dict:
    return {"state": state, "at": iso(epoch), "epoch": epoch, "reached": epoch <= now}


def timeline(module: str, run: dict, now: float) -> list[dict]:
    """The run's states in order with their virtual instants."""
    if module == SPEECH:
        points = [_point("accepted", run["created_at"], now)]
        if run["start_at"] > run["created_at"]:
            points.append(_point("queued", run["created_at"], now))
        points.append(_point("processing", run["start_at"], now))
        points.append(_point(run["outcome"], run["finish_at"], now))
        return points
    if module == CVDS:
        return [_point("accepted", run["created_at"], now), _point("pending", run["created_at"], now),
                _point(ending(module, run), run["finishes_at"], now)]
    return [_point("accepted", run["created_epoch"], now), _point("processing", run["created_epoch"], now),
            _point(run["outcome"], run["finish_epoch"], now)]


def ending(module: str, run: dict) -> str:
    """How the run ends: settled, else as planned at submit (a CV DeepSearch run planned to
    fail CORPUS_EMPTY may still complete if its corpus gains a candidate before its finish)."""
    if module != CVDS:
        return run["outcome"]
    if run.get("outcome"):
        return run["outcome"]["status"]
    return "failed" if run.get("planned_error") else "completed"


def created(run: dict) -> float:
    return run["created_at"] if "created_at" in run else run["created_epoch"]


def status_now(points: list[dict]) -> str:
    return [p for p in points if p["reached"]][-1]["state"]


def ended_at(points: list[dict]) -> str | None:
    """The instant the last state (the ending) was reached, or None while it is still ahead."""
    return points[-1]["at"] if points[-1]["reached"] else None


# -- Interview sessions -----------------------------------------------------------------------

def session_book(platform):
    """The Interview module's session book (None when the module is not wired in)."""
    return platform.module_state.get(INTERVIEW)


def session_timeline(session, now: float) -> list[dict]:
    """A session's steps in order with their virtual instants, settled at ``now`` as the API
    reads it; an open session ends with its deadline (not reached), naming the error it brings."""
    rules = interview_rules
    current = rules.settle(session, now)
    points = [_point(rules.STATUS_INITIATED, current.created_at, now)]
    if current.invite_count > 1:  # a re-invite restarts the link's TTL: expires_at = then + expires_in
        points.append(_point("reinvited", current.expires_at - current.expires_in, now))
    for state, epoch in (("opened", current.opened_at), ("consented", current.consent_given_at),
                         (rules.STATUS_IN_PROGRESS, current.started_at)):
        if epoch is not None:
            points.append(_point(state, epoch, now))
    if current.status in rules.TERMINAL_STATUSES:
        points.append(_point(current.status, current.ended_at, now))
    elif current.status == rules.STATUS_IN_PROGRESS:
        points.append(dict(_point(rules.STATUS_FAILED, current.deadline_at, now), error=rules.SESSION_TIMEOUT,
                           deadline=True))
    else:
        points.append(dict(_point(rules.STATUS_FAILED, current.expires_at, now), error=rules.LINK_EXPIRED,
                           deadline=True))
    return points


def _sessions(platform, owners: Iterable[str], now: float) -> list[tuple[int, Any]]:
    """(store order, session) of every session of these clients, caught up to ``now``."""
    book = session_book(platform)
    if book is None:
        return []
    return [row for owner in owners for row in book.newest_first(owner, now)]


def _credits(txns: list[Entry], settlement: dict | None) -> dict:
    """The run's credit movements (ledger entries, in time then store order) and its pending settlement."""
    view: dict[str, Any] = {"held": 0, "charged": 0, "released": 0, "pendingSettlement": None,
                            "transactions": []}
    for txn in (e.doc for e in sorted(txns, key=lambda e: (e.doc["at"], e.seq))):
        if txn["type"] == "hold":
            view["held"] += txn["amount"]
        elif txn["type"] == "charge":
            view["charged"] += -txn["amount"]
        elif txn["type"] == "release":
            view["released"] += txn["amount"]
        shown = shown_transaction(txn)
        view["transactions"].append({k: shown[k] for k in ("id", "type", "amount", "balanceAfter", "createdAt")})
    if settlement is not None:
        view["pendingSettlement"] = {"action": settlement["action"], "at": iso(settlement["at"])}
    return view


def _error_code(run: dict) -> str | None:
    if run.get("error_code"):
        return run["error_code"]
    outcome = run.get("outcome")
    for error in (run.get("error"), outcome.get("error") if isinstance(outcome, dict) else None,
                  run.get("planned_error")):
        if isinstance(error, dict) and error.get("code"):
            return error["code"]
    return None


def _polls(entries: list[dict]) -> dict:
    ordered = sorted(entries, key=lambda e: e.get("seq", 0))
    return {"received": len(ordered), "throttled": sum(1 for e in ordered if e.get("status") == 429),
            "entries": [{"time": e["time"], "status": e["status"], "requestId": e["requestId"],
                         "throttled": e.get("status") == 429} for e in ordered]}


class RunIndex:
    """What the views need, read once per request: each client's run transactions, the
    journal's requests by run and (when asked) the webhook deliveries by run."""

    def __init__(self, platform, clients: Iterable[str], now: float | None = None) -> None:
        self.platform = platform
        self.now = platform.clock.now() if now is None else now
        self.txns: dict[str, list[Entry]] = {}
        for client in clients:
            platform.ledger.settle(client, self.now)
            for txn in platform.store.scan_entries(TXN, owner=client):
                if txn.doc.get("runId"):
                    self.txns.setdefault(txn.doc["runId"], []).append(txn)
        self.requests: dict[str, list[dict]] = {}
        for entry in platform.journal.query(limit=_EVERYTHING):
            if entry.get("runId"):
                self.requests.setdefault(entry["runId"], []).append(entry)
        self._deliveries: dict[str, list[dict]] | None = None

    def callbacks(self, run_id: str) -> list[dict]:
        """The webhook deliveries queued for a run: when queued, state, attempts so far, next due."""
        if self._deliveries is None:
            self._deliveries = {}
            for d in (self.platform.webhooks.deliveries() if self.platform.webhooks is not None else []):
                self._deliveries.setdefault(d["run_id"], []).append(
                    {"deliveryId": d["id"], "queuedAt": d["created_at"], "state": d["state"],
                     "attempts": len(d["attempts"]), "nextAttemptAt": d["next_attempt_at"]})
        return self._deliveries.get(run_id, [])

    def view(self, module: str, run: dict, client: str | None) -> dict:
        """A module run (its document, owned by ``client``) as the control API shows it."""
        points = timeline(module, run, self.now)
        polls = [e for e in self.requests.get(run["id"], []) if e.get("operation") == POLL_OPERATIONS[module]]
        created = [e["requestId"] for e in self.requests.get(run["id"], []) if e.get("operation") != POLL_OPERATIONS[module]]
        return {
            "id": run["id"], "module": module, "client": client, "status": status_now(points),
            "outcome": ending(module, run), "timeline": points,
            "createdAt": points[0]["at"], "endedAt": ended_at(points),
            "error": _error_code(run),
            "project": run.get("project"), "tags": run.get("tags"),
            "externalId": run.get("external_id"),
            "submitRequestIds": created,
            "credits": _credits(self.txns.get(run["id"], []),
                                self.platform.store.get(SETTLEMENT, f"{client}|{run['id']}")),
            "polls": _polls(polls),
        }

    def session_view(self, session) -> dict:
        """An Interview session in the same shape, plus its ``session`` facts and ``callbacks``;
        ``outcome`` is None until it ends. Never its token or the token's hash."""
        rules = interview_rules
        current = rules.settle(session, self.now)
        points = session_timeline(session, self.now)
        ended = current.status in rules.TERMINAL_STATUSES
        requests = self.requests.get(session.id, [])
        return {
            "id": session.id, "module": INTERVIEW, "client": session.client_id, "status": current.status,
            "outcome": current.status if ended else None, "timeline": points,
            "createdAt": points[0]["at"], "endedAt": ended_at(points),
            "error": current.error_code,
            "project": current.project, "tags": list(current.tags),
            "externalId": current.candidate_ref,
            "submitRequestIds": [e["requestId"] for e in requests if e.get("operation") == CREATE_SESSION],
            "credits": _credits(self.txns.get(session.id, []), None),
            "polls": _polls([e for e in requests if e.get("operation") == POLL_OPERATIONS[INTERVIEW]]),
            "session": {"personaId": current.persona_id, "consentMode": current.consent_mode,
                        "invites": current.invite_count, "expiresAt": iso(current.expires_at),
                        "hasRecording": current.has_recording, "hasTranscript": current.has_transcript,
                        "durationSeconds": current.duration_seconds},
            "callbacks": self.callbacks(session.id),
        }


def _modules(query) -> list[str]:
    module = query.get("module")
    if not module:
        return list(MODULES)
    if module not in MODULES:
        raise ValueError(f"module must be one of {sorted(MODULES)}, not {module!r}")
    return [module]


def list_runs(platform, query, client: str | None) -> dict:
    """Runs newest first (by submit instant), at most ``limit``."""
    raw = query.get("limit") or str(DEFAULT_LIMIT)
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"limit must be a positive integer, not {raw!r}")
    limit = min(int(raw), MAX_LIMIT)
    modules = _modules(query)
    now = platform.clock.now()
    rows = [(created(e.doc), e.seq, module, e) for module in modules if module in RUN_KINDS
            for e in platform.store.scan_entries(RUN_KINDS[module], owner=client)]
    if INTERVIEW in modules:
        owners = [client] if client is not None else sorted(platform.registry.clients)
        rows += [(session.created_at, seq, INTERVIEW, session) for seq, session in _sessions(platform, owners, now)]
    rows.sort(key=lambda row: row[:2], reverse=True)
    rows = rows[:limit]
    index = RunIndex(platform, {_owner(module, item) for _at, _seq, module, item in rows}, now)
    return {"runs": [index.session_view(item) if module == INTERVIEW else index.view(module, item.doc, item.owner)
                     for _at, _seq, module, item in rows],
            "modules": modules, "now": iso(index.now)}


def _owner(module: str, item) -> str:
    return item.client_id if module == INTERVIEW else item.owner


def find_run(platform, run_id: str) -> dict | None:
    """One run's view, or None when no module holds ``run_id``."""
    for module, kind in RUN_KINDS.items():
        if module == CVDS:  # kept per client: `<client>|<run id>`
            found = (platform.store.get_entry(kind, f"{client}|{run_id}") for client in platform.registry.clients)
            entry = next((e for e in found if e is not None), None)
        else:
            entry = platform.store.get_entry(kind, run_id) or platform.store.get_entry(kind, run_id.lower())
        if entry is not None:
            return RunIndex(platform, [entry.owner]).view(module, entry.doc, entry.owner)
    book = session_book(platform)
    if book is not None:
        now = platform.clock.now()
        for client in platform.registry.clients:  # only the owner's sessions are caught up
            session = book.get(client, run_id, now)
            if session is not None:
                return RunIndex(platform, [client], now).session_view(session)
    return None


def changes_between(platform, since: float, until: float) -> dict:
    """What became due in (since, until]: run states reached and webhook attempts made."""
    # (a CV DeepSearch ending shown here is the planned one until a CVDS request settles it)
    if until < since:
        raise ValueError("until must not be before since")
    states = []
    for module, kind in RUN_KINDS.items():
        for entry in platform.store.scan_entries(kind):
            doc = entry.doc
            for point in timeline(module, doc, until):
                if since < point["epoch"] <= until and point["state"] != "accepted":
                    states.append({"runId": doc["id"], "module": module, "client": entry.owner,
                                   "state": point["state"], "at": point["at"], "epoch": point["epoch"]})
    for _seq, session in _sessions(platform, sorted(platform.registry.clients), until):
        for point in session_timeline(session, until):
            if since < point["epoch"] <= until and point["reached"] and point["state"] != "initiated":
                states.append({"runId": session.id, "module": INTERVIEW, "client": session.client_id,
                               "state": point["state"], "at": point["at"], "epoch": point["epoch"]})
    states.sort(key=lambda s: s["epoch"])
    attempts = []
    if platform.webhooks is not None:
        for delivery in platform.webhooks.deliveries():
            for attempt in delivery["attempts"]:
                if since < parse_iso(attempt["at"]) <= until:
                    attempts.append({"deliveryId": delivery["id"], "runId": delivery["run_id"], "n": attempt["n"],
                                     "at": attempt["at"], "status": attempt["status"], "outcome": attempt["outcome"]})
    return {"since": iso(since), "until": iso(until), "runStates": states, "webhookAttempts": attempts}


# -- routes ---------------------------------------------------------------------------------

def _epoch(raw: str | None, name: str, default: float | None = None) -> float:
    if raw in (None, ""):
        if default is None:
            raise ValueError(f"{name} is required (epoch seconds or ISO 8601)")
        return default
    try:
        return float(raw)
    except ValueError:
        return parse_iso(raw)


def routes(platform) -> list:
    """`/runs`, `/runs/{run_id}` and `/clock/changes` (paths relative to `/__mock`)."""

    async def runs(request):
        client = request.query_params.get("client") or None
        if client is not None and client not in platform.registry.clients:
            raise not_found(f"no client {client!r}")
        return json_response(200, list_runs(platform, request.query_params, client))

    async def run(request):
        view = find_run(platform, request.path_params["run_id"])
        if view is None:
            raise not_found("no run with this id")
        return json_response(200, view)

    async def changes(request):
        q = request.query_params
        until = _epoch(q.get("until"), "until", platform.clock.now())
        return json_response(200, changes_between(platform, _epoch(q.get("since"), "since"), until))

    wrap = guard(platform)
    return [Route("/runs", wrap(runs), methods=["GET"]), Route("/runs/{run_id}", wrap(run), methods=["GET"]),
            Route("/clock/changes", wrap(changes), methods=["GET"])]

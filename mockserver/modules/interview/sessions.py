"""Interview sessions on the platform's store (INTV-2..6, INTV-8..10, HOOK-3): creation, the
candidate's actions by token, the console re-invite, scenario plans played forward in time
order, the live-interview cap, and the completion callbacks. No HTTP here.

Stored per session: the ``Session`` record (only the token's hash, INTV-3) plus ``key_ref``,
a hash of the API key that created it (its ``maxConcurrentRequests`` caps the client's live
interviews when this candidate starts, INTV-6). A token index maps each token hash to its
session, so a candidate is found without the raw token ever being stored.

State is derived from time: ``settle`` (lifecycle) answers expiry and timeout at read, and a
client's planned candidate steps are applied lazily, all sessions of the client together in
time order, whenever the client is looked at (``catch_up``) — so the cap a planned join meets
is the one that held at that instant. Every read and write of a client's sessions happens
under the client's lock with no await inside, which makes "count the live interviews, then
go live" atomic: a thread lock in one process, and with a shared store (several processes,
issue #15) the store's named lock ``interview|<client>``, which excludes every process.

Completion callbacks (A4) are queued once per invite round when a session is seen terminal:
at once after an action that ends it, else by ``catch_up`` / ``sweep`` with ``due_at`` = the
moment it ended (a timeout or an expiry is only certain once that moment has passed, since an
action could still pre-empt it, and the webhook engine cannot withdraw a queued callback).
``sweep`` runs whenever the virtual clock jumps.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from mockserver.modules.interview import lifecycle as lc
from mockserver.modules.interview.plan import (
    DROP, END, FINISH, JOIN, OPEN, CandidatePlan, next_step, parse_plan, plan_from_doc,
    planned_end_at, retry_join, step_order, without_join,
)
from mockserver.modules.interview.tokens import candidate_link, hash_token, mint_token

SESSION_KIND = "interview_session"
TOKEN_KIND = "interview_token"
MAX_PLANNED_STEPS = 10_000          # per catch-up; anything beyond is played on the next look
DEFAULT_JOIN_RETRY_SECONDS = 60.0   # a planned candidate refused by the cap tries again (inferred)
ACTIONS = ("open", "consent", "start", "finish", "drop")
_SESSION_FIELDS = frozenset(f.name for f in fields(lc.Session))


class CapReached(lc.InterviewRefused):
    """The live-interview cap refused a start; ``retry_after`` virtual seconds until a retry may work."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(lc.CONCURRENCY_LIMIT)
        self.retry_after = retry_after


class SessionNotFound(LookupError):
    pass


def key_ref(api_key: str) -> str:
    """What a session keeps of the key that created it (never the key itself)."""
    return hashlib.sha256(("interview-key:" + api_key).encode("utf-8")).hexdigest()


def session_to_doc(session: lc.Session, ref: str | None) -> dict[str, Any]:
    doc = asdict(session)
    doc["tags"] = list(session.tags)
    doc["key_ref"] = ref
    return doc


def session_from_doc(doc: dict[str, Any]) -> lc.Session:
    data = {k: v for k, v in doc.items() if k in _SESSION_FIELDS}
    data["tags"] = tuple(data.get("tags") or ())
    data["plan"] = plan_from_doc(data.get("plan"))
    return lc.Session(**data)


@dataclass
class _ClientSessions:
    """One client's sessions loaded for a catch-up: records, store order, changes."""

    client_id: str
    sessions: dict[str, lc.Session] = field(default_factory=dict)
    seqs: dict[str, int] = field(default_factory=dict)
    refs: dict[str, str | None] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)

    def put(self, session: lc.Session) -> lc.Session:
        self.sessions[session.id] = session
        self.dirty.add(session.id)
        return session

    def live_others(self, session_id: str, at: float) -> int:
        return sum(1 for sid, s in self.sessions.items() if sid != session_id and lc.is_live(s, at))

    def next_slot_free(self, session_id: str, at: float) -> float | None:
        """The earliest known moment a live interview of this client ends (budget or plan)."""
        ends = []
        for sid, s in self.sessions.items():
            if sid == session_id or not lc.is_live(s, at):
                continue
            planned = planned_end_at(s)
            ends.append(min(s.deadline_at, planned) if planned is not None else s.deadline_at)
        return min(ends) if ends else None


class SessionBook:
    """Every Interview session of every client, on the platform's store."""

    def __init__(self, platform) -> None:
        self.platform = platform
        self.store = platform.store
        self.lock = threading.RLock()  # one process's lock (a store of its own)

    def _locked(self, client_id: str):
        """The client's critical section: across processes when the store is shared."""
        if self.store.shared:
            return self.store.lock(f"interview|{client_id}")
        return self.lock

    # -- settings ------------------------------------------------------------------------
    def _client(self, client_id: str):
        return self.platform.registry.clients.get(client_id)

    def setting(self, client_id: str, name: str, default: Any) -> Any:
        return self.platform.setting("interview", name, default, client=self._client(client_id))

    def budget(self, client_id: str) -> int:
        return int(self.setting(client_id, "maxInterviewSeconds", lc.MAX_INTERVIEW_SECONDS))

    def cap(self, client_id: str, ref: str | None) -> int | None:
        """The creating key's cap (its own override, else the client's)."""
        registry = self.platform.registry
        if ref is not None:
            for key in registry.keys.values():
                if key.client_id == client_id and key_ref(key.key) == ref:
                    return registry.concurrency(key)
        client = self._client(client_id)
        return client.max_concurrent_requests if client is not None else None

    # -- creation ------------------------------------------------------------------------
    def create(self, *, client_id: str, api_key: str, project: str | None, persona: dict[str, Any],
               body: dict[str, Any], plan_spec: Any, rule: str, now: float) -> tuple[lc.Session, str]:
        """A new ``initiated`` session and its candidate link (the one place the token exists)."""
        token = mint_token(self.platform.ids)
        link = candidate_link(self.platform.settings.candidate_base_url, token)
        plan = parse_plan(plan_spec, now, rule) if plan_spec is not None else None
        session = lc.create_session(
            session_id=self.platform.ids.uuid(), client_id=client_id, persona_id=persona["id"],
            consent_mode=body["consent_mode"], token_hash=hash_token(token), now=now,
            expires_in=body.get("expires_in", lc.DEFAULT_EXPIRES_IN),
            candidate_ref=body.get("candidate_ref"), project=project,
            metadata=body.get("metadata"), tags=body.get("tags"), webhook_url=body.get("webhook_url"),
            role_name=persona["role_name"], language=persona["language"], plan=plan)
        with self._locked(client_id):
            self.store.put(SESSION_KIND, session.id, session_to_doc(session, key_ref(api_key)), owner=client_id)
            self.store.put(TOKEN_KIND, session.token_hash, {"session": session.id}, owner=client_id)
        return session, link

    # -- reading -------------------------------------------------------------------------
    def get(self, client_id: str, session_id: str, now: float) -> lc.Session | None:
        """The client's session, caught up to ``now`` (None: unknown or another client's)."""
        if self.store.get(SESSION_KIND, session_id, owner=client_id) is None:
            return None
        with self._locked(client_id):
            return self._catch_up(client_id, now).sessions.get(session_id)

    def newest_first(self, client_id: str, now: float, before_seq: int | None = None) -> list[tuple[int, lc.Session]]:
        with self._locked(client_id):
            book = self._catch_up(client_id, now)
        rows = [(book.seqs[sid], s) for sid, s in book.sessions.items()
                if before_seq is None or book.seqs[sid] < before_seq]
        return sorted(rows, key=lambda row: row[0], reverse=True)

    # -- the candidate ---------------------------------------------------------------------
    def candidate(self, action: str, token: str, now: float, *, keep_recording: bool = False) -> lc.Session:
        """Apply a candidate action for the holder of ``token``; the settled session after it.
        Raises ``InterviewRefused`` (``CapReached`` for the cap)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown candidate action {action!r}")
        found = self.store.get_entry(TOKEN_KIND, hash_token(token))
        if found is None:
            raise lc.InterviewRefused(lc.INVALID_TOKEN)
        ref, owner = found.doc, found.owner
        with self._locked(owner):
            book = self._catch_up(owner, now)
            session = book.sessions.get(ref["session"])
            if session is None:
                raise lc.InterviewRefused(lc.INVALID_TOKEN)
            session = lc.verify_token(session, token)
            if session.plan is not None:  # a human took over from the scenario plan
                session = book.put(replace(session, plan=None))
            try:
                session = book.put(self._act(book, session, action, now, keep_recording))
            finally:
                self._queue_callbacks(book, now)
                self._save(book)
        return lc.settle(session, now)

    def _act(self, book: _ClientSessions, session: lc.Session, action: str, now: float,
             keep_recording: bool) -> lc.Session:
        if action == "open":
            return lc.mark_opened(session, now)
        if action == "consent":
            return lc.mark_consented(session, now)
        if action == "start":
            opened = book.put(lc.mark_opened(session, now))
            try:
                return lc.go_live(opened, now, live_sessions=book.live_others(opened.id, now),
                                  max_concurrent=self.cap(book.client_id, book.refs[opened.id]),
                                  max_interview_seconds=self.budget(book.client_id))
            except lc.InterviewRefused as refused:
                if refused.reason == lc.CONCURRENCY_LIMIT:
                    raise CapReached(self._retry_at(book, opened.id, now) - now) from None
                raise
        if action == "finish":
            return lc.finish(session, now)
        return lc.drop(session, now, keep_recording=keep_recording)

    # -- the console -----------------------------------------------------------------------
    def reinvite(self, session_id: str, now: float, plan_spec: Any = None) -> tuple[lc.Session, str]:
        """INTV-9: back to ``initiated`` with a fresh link (returned), when it ended without a result."""
        found = self.store.get_entry(SESSION_KIND, session_id)
        if found is None:
            raise SessionNotFound(session_id)
        owner = found.owner
        with self._locked(owner):
            book = self._catch_up(owner, now)
            current = book.sessions[session_id]
            token = mint_token(self.platform.ids)
            plan = parse_plan(plan_spec, now, "reinvite") if plan_spec is not None else None
            fresh = lc.reinvite(current, now, hash_token(token), plan=plan)
            link = candidate_link(self.platform.settings.candidate_base_url, token)
            self.store.delete(TOKEN_KIND, current.token_hash)
            self.store.put(TOKEN_KIND, fresh.token_hash, {"session": session_id}, owner=owner)
            book.put(fresh)
            self._save(book)
        return fresh, link

    # -- time ------------------------------------------------------------------------------
    def sweep(self, now: float) -> None:
        """Catch up every client with a callback still to queue (run when the clock jumps)."""
        if self.store.shared:  # each client under its own cross-process lock
            owners = self._awaiting_callbacks()
            for owner in sorted(o for o in owners if o is not None):
                with self._locked(owner):
                    self._catch_up(owner, now)
            return
        with self.lock:
            owners = self._awaiting_callbacks()
            for owner in sorted(o for o in owners if o is not None):
                self._catch_up(owner, now)

    def _awaiting_callbacks(self) -> set[str | None]:
        """The owners of sessions with a callback round still to queue."""
        return {e.owner for e in self.store.scan_entries(SESSION_KIND)
                if e.doc.get("webhook_url") and e.doc.get("callback_round", 0) < e.doc.get("invite_count", 1)}

    def _catch_up(self, client_id: str, now: float) -> _ClientSessions:
        book = _ClientSessions(client_id)
        for entry in self.store.scan_entries(SESSION_KIND, owner=client_id):
            doc = entry.doc
            book.sessions[doc["id"]] = session_from_doc(doc)
            book.seqs[doc["id"]] = entry.seq
            book.refs[doc["id"]] = doc.get("key_ref")
        for _ in range(MAX_PLANNED_STEPS):
            due = []
            for sid, session in book.sessions.items():
                step = next_step(session)
                if step is not None and step[0] <= now:
                    due.append((step[0], step_order(step[1]), book.seqs[sid], sid, step[1]))
            if not due:
                break
            at, _order, _seq, sid, step = min(due)  # same instant: ends first, then creation order
            book.put(self._play(book, book.sessions[sid], step, at))
        self._queue_callbacks(book, now)
        self._save(book)
        return book

    def _play(self, book: _ClientSessions, session: lc.Session, step: str, at: float) -> lc.Session:
        """Apply one planned step at virtual time ``at``."""
        plan: CandidatePlan = session.plan
        try:
            if step == OPEN:
                opened = lc.mark_opened(session, at)
                return lc.mark_consented(opened, at) if plan.consent else opened
            if step == JOIN:
                opened = lc.mark_opened(session, at)
                if plan.consent:
                    opened = lc.mark_consented(opened, at)
                try:
                    return lc.go_live(opened, at, live_sessions=book.live_others(session.id, at),
                                      max_concurrent=self.cap(book.client_id, book.refs[session.id]),
                                      max_interview_seconds=self.budget(book.client_id))
                except lc.InterviewRefused as refused:
                    if refused.reason == lc.CONCURRENCY_LIMIT:
                        return replace(opened, plan=retry_join(plan, self._retry_at(book, session.id, at)))
                    return replace(opened, plan=without_join(plan))  # declined the consent gate
            assert step == END
            if plan.end == FINISH:
                return lc.finish(session, at)
            if plan.end == DROP:
                return lc.drop(session, at, keep_recording=plan.keep_recording)
            return lc.fail(session, at, lc.INTERNAL_ERROR, keep_recording=plan.keep_recording)
        except lc.InterviewRefused:
            return replace(session, plan=None)  # expired link, or the budget closed it first

    def _retry_at(self, book: _ClientSessions, session_id: str, at: float) -> float:
        retry = at + float(self.setting(book.client_id, "plannedJoinRetrySeconds", DEFAULT_JOIN_RETRY_SECONDS))
        slot = book.next_slot_free(session_id, at)
        if slot is not None and at < slot < retry:
            return slot
        return retry

    def _queue_callbacks(self, book: _ClientSessions, now: float) -> None:
        engine = self.platform.webhooks
        for session in list(book.sessions.values()):
            if not session.webhook_url or session.callback_round >= session.invite_count:
                continue
            settled = lc.settle(session, now)
            if settled.status not in lc.TERMINAL_STATUSES:
                continue
            engine.enqueue(kind="interview", client_id=book.client_id, run_id=session.id,
                           url=session.webhook_url, payload=lc.webhook_event(settled, now),
                           due_at=settled.ended_at)
            book.put(replace(settled, callback_round=settled.invite_count))

    def _save(self, book: _ClientSessions) -> None:
        for sid in sorted(book.dirty):
            self.store.put(SESSION_KIND, sid, session_to_doc(book.sessions[sid], book.refs.get(sid)),
                           owner=book.client_id)
        book.dirty.clear()


"""Property: for any sequence of submits, polls and clock moves, the ledger balances and no
client ever has more runs processing than its cap (CRED-2, CRED-3, CRED-6, RATE-2, POLL-1, POLL-2).

A Hypothesis state machine drives the real app in-process on the manual clock with three
keys: `acme` (8 slots, ample credits) through its full key and its 2-slot key — the two share
one pool and one balance — and a `tight` client (25 credits, 3 slots) that runs short of
credits. A plain model (costs, outcomes, the stored timelines) predicts every answer:

- submit: 402 exactly when cost > balance − holds, with those figures in `details`;
- balance = initial − the costs of runs that ended `success`/`partial`; holds = the costs of
  runs not yet ended; available = balance − holds ≥ 0; usage and transactions agree;
- at every run's start, the client's runs processing (that one included) are at most the cap
  of the key that submitted it, and never more than the client's largest cap;
- poll: 429 exactly when the run is not terminal and was last answered < 10 s ago.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tests.conftest import CAP2, FULL, Api, make_app
from tests.test_speech_support import audio, credits, run_doc, submit

TIGHT = "zh_api_test_property_tight_0001"
CLIENT_OF = {FULL: "acme", CAP2: "acme", TIGHT: "tight"}
CAP_OF = {FULL: 8, CAP2: 2, TIGHT: 3}
SCENARIOS = [None, None, "speech-partial", "speech-failed-SCORING_FAILED", "speech-failed-TRANSCRIPTION_FAILED",
             "speech-fast"]
DURATIONS = [180.0, 200.0, 400.0, 700.0]
POLL_MIN = 10.0


class SpeechLedgerMachine(RuleBasedStateMachine):
    """One example = one fresh tenant state on a shared app (reset through the control API)."""

    api: Api  # set by the test before the machine runs

    def __init__(self):
        super().__init__()
        self.runs: list[dict] = []           # {id, key, client, cost, failed, ending}
        self.last_poll: dict[str, float] = {}
        self.initial: dict[str, int] = {}

    @initialize()
    def start_from_a_clean_ledger(self):
        assert self.api.post("/__mock/reset", json={}).status_code == 200
        r = self.api.post("/__mock/clients", json={
            "id": "tight", "credits": 25, "permissions": ["speech"], "maxConcurrentRequests": 3,
            "keys": [{"key": TIGHT}]})
        assert r.status_code == 201, r.text
        self.initial = {"acme": credits(self.api, FULL)["creditBalance"],
                        "tight": credits(self.api, TIGHT)["creditBalance"]}

    # -- the model ---------------------------------------------------------------------
    def now(self) -> float:
        return self.api.platform.clock.now()

    def expected(self, client: str) -> tuple[int, int, int]:
        """(balance, held, charged) the ledger must show for `client` now."""
        now = self.now()
        charged = held = 0
        for run in self.runs:
            if run["client"] != client:
                continue
            if run_doc(self.api, run["id"])["finish_at"] <= now:
                charged += 0 if run["failed"] else run["cost"]
            else:
                held += run["cost"]
        return self.initial[client] - charged, held, charged

    # -- rules -------------------------------------------------------------------------
    @rule(key=st.sampled_from([FULL, CAP2, TIGHT]), seconds=st.sampled_from(DURATIONS),
          variant=st.integers(0, 3), scenario=st.sampled_from(SCENARIOS))
    def submit_run(self, key, seconds, variant, scenario):
        client = CLIENT_OF[key]
        cost = -(-int(seconds) // 60)
        balance, held, _ = self.expected(client)
        r = submit(self.api, key=key, data=audio("flac", seconds, variant), scenario=scenario)
        if cost > balance - held:
            assert r.status_code == 402, r.text
            assert r.json()["error"]["details"] == {"cost": cost, "available": balance - held}
            return
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["activeRequests"] <= max(c for k, c in CAP_OF.items() if CLIENT_OF[k] == client)
        failed = bool(scenario and scenario.startswith("speech-failed"))
        self.runs.append({"id": body["id"], "key": key, "client": client, "cost": cost, "failed": failed,
                          "ending": "failed" if failed else "partial" if scenario == "speech-partial" else "success"})

    @precondition(lambda self: self.runs)
    @rule(data=st.data())
    def poll_run(self, data):
        run = data.draw(st.sampled_from(self.runs))
        doc = run_doc(self.api, run["id"])
        now = self.now()
        terminal = now >= doc["finish_at"]
        r = self.api.call("GET", f"/api/v1/speech/analyze/{run['id']}", key=run["key"])
        last = self.last_poll.get(run["id"])
        if not terminal and last is not None and now - last < POLL_MIN:
            assert r.status_code == 429, r.text
            assert int(r.headers["Retry-After"]) >= 1
            return
        assert r.status_code == 200, r.text
        status = r.json()["status"]
        if terminal:
            assert status == run["ending"]
        else:
            self.last_poll[run["id"]] = now
            assert status == ("queued" if now < doc["start_at"] else "processing")

    @rule(seconds=st.sampled_from([0.5, 5.0, 9.9, 10.0, 45.0, 120.0, 301.0, 900.0]))
    def advance_clock(self, seconds):
        self.api.advance(seconds)

    # -- invariants --------------------------------------------------------------------
    @invariant()
    def ledger_balances(self):
        if not self.initial:
            return
        for client in ("acme", "tight"):
            balance, held, charged = self.expected(client)
            summary = self.api.platform.ledger.summary(client, self.now())  # what GET /credits shows
            assert summary["creditBalance"] == balance >= 0
            assert summary["heldCredits"] == held
            assert summary["availableCredits"] == balance - held >= 0
            assert summary["usage"]["byModule"]["speech"] == charged

    @invariant()
    def no_client_exceeds_its_cap(self):
        for client in ("acme", "tight"):
            docs = [run_doc(self.api, r["id"]) for r in self.runs if r["client"] == client]  # arrival order
            largest = max(c for k, c in CAP_OF.items() if CLIENT_OF[k] == client)
            for index, doc in enumerate(docs):
                # Runs already processing when this one started (earlier arrivals), plus itself.
                processing = sum(1 for d in docs[:index + 1] if d["start_at"] <= doc["start_at"] < d["finish_at"])
                assert processing <= doc["capacity"] <= largest
                everyone = sum(1 for d in docs if d["start_at"] <= doc["start_at"] < d["finish_at"])
                assert everyone <= largest
            starts = [d["start_at"] for d in docs]
            assert starts == sorted(starts)  # FIFO


def test_ledger_balances_and_caps_hold_for_any_sequence():
    with Api(make_app()) as api:
        SpeechLedgerMachine.api = api
        run_state_machine_as_test(SpeechLedgerMachine, settings=settings(
            max_examples=25, stateful_step_count=25, deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))

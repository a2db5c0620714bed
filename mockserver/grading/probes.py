"""Receiver probes: does the integrator's webhook receiver really verify signatures?

Opt-in per client (they send extra requests to the receiver): the scenario client setting
``settings: {grading: {receiverProbes: true}}``, or ``PUT /__mock/grades/probes``
``{"client": ID, "enabled": true}`` at runtime. After a genuine delivery was accepted (2xx), the
mock sends three copies to the same URL, built with the signing module's public functions and
explicit timestamps relative to the genuine attempt's ``t`` (so they follow whatever clock the
engine signs with):

- ``tampered``: the genuine body and ``t``, but a ``v1`` that is the HMAC of other bytes;
- ``stale``: the genuine body, correctly signed, with ``t`` ten minutes before the genuine one;
- ``replay``: an earlier delivery to this client (the earliest other one, else this one) as an
  attacker would resend it: its exact headers when its ``t`` is already more than 5 minutes
  old, else its body and headers as captured ten minutes ago (correctly signed for that ``t``).

The receiver must answer each with a non-2xx. Results are kept in the store (kind
``grading_probe``, owned by the client, so a tenant reset clears them).
"""

from __future__ import annotations

from typing import Any

from ..webhooks.signing import HEADER_SCHEMES, SIGNATURE_TOLERANCE_SECONDS, signature_hex, signed_headers

PROBE_KIND = "grading_probe"
SWITCH_KIND = "grading_probe_switch"
CAPTURE_AGE_SECONDS = 2 * SIGNATURE_TOLERANCE_SECONDS
PROBES = ("tampered", "stale", "replay")


def probes_enabled(platform: Any, client_id: str) -> bool:
    switch = platform.store.get(SWITCH_KIND, client_id)
    if switch is not None:
        return bool(switch["enabled"])
    client = platform.registry.clients.get(client_id)
    return bool(client and client.settings.get("grading", {}).get("receiverProbes"))


def set_probes(platform: Any, client_id: str, enabled: bool) -> None:
    platform.store.put(SWITCH_KIND, client_id, {"enabled": bool(enabled)}, owner=client_id)


def probe_log(platform: Any, client_id: str) -> list[dict]:
    return list(platform.store.scan(PROBE_KIND, owner=client_id))


def _earlier_capture(engine: Any, record: dict) -> tuple[dict, dict]:
    """(delivery, its delivered attempt) to replay: the client's earliest other delivered one."""
    for other in engine.deliveries(record["client_id"]):
        if other["id"] != record["id"] and other["state"] == "delivered":
            return other, other["attempts"][-1]
    return record, record["attempts"][-1]


def build_probes(engine: Any, record: dict, attempt: dict) -> list[tuple[str, dict[str, str], bytes, int]]:
    """(probe name, headers, body, signature timestamp) of the three copies for one delivery."""
    secret = engine.secret_for(record["client_id"])
    scheme = HEADER_SCHEMES[record["kind"]]
    t = int(attempt["signature_timestamp"])
    body = record["body"].encode("utf-8")
    tampered = signed_headers(record["kind"], run_id=record["run_id"], body=body, secret=secret, timestamp=t)
    tampered[scheme.signature] = f"t={t},v1={signature_hex(body + b' ', secret, t)}"
    stale_t = t - CAPTURE_AGE_SECONDS
    stale = signed_headers(record["kind"], run_id=record["run_id"], body=body, secret=secret, timestamp=stale_t)
    earlier, earlier_attempt = _earlier_capture(engine, record)
    earlier_body = earlier["body"].encode("utf-8")
    earlier_t = int(earlier_attempt["signature_timestamp"])
    if earlier_t < t - SIGNATURE_TOLERANCE_SECONDS:
        replay, replay_t = dict(earlier_attempt["request_headers"]), earlier_t
    else:
        replay_t = t - CAPTURE_AGE_SECONDS
        replay = signed_headers(earlier["kind"], run_id=earlier["run_id"], body=earlier_body, secret=secret,
                                timestamp=replay_t)
    return [("tampered", tampered, body, t), ("stale", stale, body, stale_t),
            ("replay", replay, earlier_body, replay_t)]


def install(platform: Any) -> None:
    """Hook the probes onto the webhook engine (the composition root calls this once; they
    run for the clients that opted in, with or without the control API)."""
    engine = platform.webhooks

    async def after_delivered(record: dict, attempt: dict) -> None:
        client_id = record["client_id"]
        if not probes_enabled(platform, client_id):
            return
        for name, headers, body, t in build_probes(engine, record, attempt):
            result = await engine.transport.deliver(record["url"], headers, body)
            probe_id = "prb_" + platform.ids.hex(16)
            platform.store.put(PROBE_KIND, probe_id, {
                "id": probe_id, "probe": name, "delivery": record["id"], "run": record["run_id"],
                "url": record["url"], "time": platform.clock.iso(), "signatureTimestamp": t,
                "status": result.status_code, "error": result.error, "durationMs": result.duration_ms,
            }, owner=client_id)

    engine.after_delivered.append(after_delivered)

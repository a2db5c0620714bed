"""Interview personas on the platform's store, and their public views (INTV-1, AUTH-6, A10).

A persona is a client's reusable interviewer: role name, interview language, the system
prompt (generated from the v1 template unless one was supplied) and an optional base-prompt
override. Personas are immutable once created; no HTTP here.
"""

from __future__ import annotations

from typing import Any, Iterable

from mockserver.clock import iso
from mockserver.modules.interview.prompts import resolve_system_prompt
from mockserver.platform.ids import Ids
from mockserver.store import Entry

PERSONA_KIND = "interview_persona"


def create_persona(store, ids: Ids, client_id: str, body: dict[str, Any], now: float) -> dict[str, Any]:
    """Store a new persona for ``client_id`` from a validated create body; return the doc."""
    prompt, source = resolve_system_prompt(body["role_name"], body["language"], body.get("system_prompt"))
    doc = {
        "id": ids.uuid(),
        "role_name": body["role_name"],
        "language": body["language"],
        "system_prompt": prompt,
        "system_prompt_source": source,
        "base_prompt_override": body.get("base_prompt_override"),
        "created_at": now,
    }
    return store.put(PERSONA_KIND, doc["id"], doc, owner=client_id)


def find_persona(store, persona_id: str) -> dict[str, Any] | None:
    """The persona doc whoever owns it, or None."""
    return store.get(PERSONA_KIND, persona_id)


def personas_newest_first(store, client_id: str, before_seq: int | None) -> Iterable[Entry]:
    """One tenant's personas, newest first, with their store sequence (the list cursor)."""
    return store.scan_entries(PERSONA_KIND, owner=client_id, newest_first=True, before_seq=before_seq)


def persona_view(doc: dict[str, Any]) -> dict[str, Any]:
    """``GET /personas/{id}`` and the create response: the full persona with its prompt."""
    return {
        "role_name": doc["role_name"],
        "language": doc["language"],
        "system_prompt": doc["system_prompt"],
        "system_prompt_source": doc["system_prompt_source"],
        "base_prompt_override": doc["base_prompt_override"],
        "created_at": iso(doc["created_at"]),
        "id": doc["id"],
    }


def persona_row(doc: dict[str, Any]) -> dict[str, Any]:
    """A compact list row (LIST-4): no prompt text."""
    return {
        "role_name": doc["role_name"],
        "language": doc["language"],
        "system_prompt_source": doc["system_prompt_source"],
        "has_base_prompt_override": doc["base_prompt_override"] is not None,
        "created_at": iso(doc["created_at"]),
        "id": doc["id"],
    }

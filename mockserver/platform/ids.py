"""Identifier formats: request ids and Speech run ids (`req_<13-digit ms>_<alnum>`, ERR-2,
A5 — same format, distinct values), UUIDs for CV DeepMatch and Interview."""

from __future__ import annotations

import os
import uuid


def request_id(now: float) -> str:
    return f"req_{int(now * 1000) % 10**13:013d}_{os.urandom(6).hex()}"


def speech_run_id(now: float) -> str:
    return request_id(now)


def new_uuid() -> str:
    return str(uuid.uuid4())

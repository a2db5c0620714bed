"""SQLite persistence for the in-memory store: every document change is written through,
and the whole state is loaded back on start (``--state FILE``)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Iterator



class SqlitePersistence:
    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, key TEXT NOT NULL, "
                "seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, key))")

    def load_all(self) -> Iterator[tuple[str, str, dict]]:
        with self._lock:
            rows = self._conn.execute("SELECT kind, key, body FROM docs ORDER BY seq").fetchall()
        for kind, key, body in rows:
            yield kind, key, json.loads(body)

    def save(self, kind: str, key: str, doc: dict) -> None:
        body = json.dumps(doc, separators=(",", ":"))
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO docs (kind, key, seq, body) VALUES (?, ?, ?, ?)",
                               (kind, key, doc.get("_seq", 0), body))

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, key))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

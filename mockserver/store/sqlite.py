"""SQLite persistence for the in-memory store: every document change is written through,
and the whole state is loaded back on start (``--state FILE``).

One row per document: ``kind``, ``key``, ``seq`` and ``owner`` in their own columns, ``body``
the document's JSON — the bookkeeping beside the document, never inside it. A file written
by an earlier version (no ``owner`` column; ``_seq``/``_owner`` inside each body) is migrated
when opened, in one transaction: a crash midway leaves the old file as it was."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Iterator

_OLD_BOOKKEEPING = ("_seq", "_owner")


class SqlitePersistence:
    def __init__(self, path: str | Path) -> None:
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, key TEXT NOT NULL, "
                "seq INTEGER NOT NULL, owner TEXT, body TEXT NOT NULL, PRIMARY KEY (kind, key))")
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(docs)")}
            if "owner" not in columns:
                self._migrate_bookkeeping_out_of_bodies()

    def _migrate_bookkeeping_out_of_bodies(self) -> None:
        """Earlier files kept ``_seq``/``_owner`` inside the JSON body: move them to the
        ``seq``/``owner`` columns and write the body back without them."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute("ALTER TABLE docs ADD COLUMN owner TEXT")
            rows = self._conn.execute("SELECT kind, key, seq, body FROM docs").fetchall()
            for kind, key, seq, body in rows:
                doc = json.loads(body)
                seq = doc.get("_seq", seq)
                owner = doc.get("_owner")
                for name in _OLD_BOOKKEEPING:
                    doc.pop(name, None)
                self._conn.execute("UPDATE docs SET seq = ?, owner = ?, body = ? WHERE kind = ? AND key = ?",
                                   (seq, owner, json.dumps(doc, separators=(",", ":")), kind, key))
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def load_all(self) -> Iterator[tuple[str, str, int, str | None, dict]]:
        """Every document as (kind, key, seq, owner, doc), in sequence order."""
        with self._lock:
            rows = self._conn.execute("SELECT kind, key, seq, owner, body FROM docs ORDER BY seq").fetchall()
        for kind, key, seq, owner, body in rows:
            yield kind, key, seq, owner, json.loads(body)

    def save(self, kind: str, key: str, seq: int, owner: str | None, doc: dict) -> None:
        body = json.dumps(doc, separators=(",", ":"))
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO docs (kind, key, seq, owner, body) VALUES (?, ?, ?, ?, ?)",
                               (kind, key, seq, owner, body))

    def delete(self, kind: str, key: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM docs WHERE kind = ? AND key = ?", (kind, key))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

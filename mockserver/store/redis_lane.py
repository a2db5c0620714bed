"""The request path's way to Redis: one connection per thread, commands sent and read on it
directly (redis-py's `Connection.send_command` / `read_response`), without the client's
per-call layers (pool checkout and return, retry wrapper, instrumentation).

Measured in process on the project's 2-core machine: a poll's one ``HMGET`` cost 53 µs of
the process's CPU through `redis.Redis.hmget` and 27 µs on a thread's own connection
(bench: ``redis_roundtrips.py`` counts the round trips, ``replicas_bench.py`` the throughput).
A request's reads — the run it polls, the credits view and its stamp, a poll gate, a submit
window — take this lane; everything else keeps the client (and its pool).

Failures are the client's: a connection error or timeout drops the connection and the command
is sent once more on a fresh one (as the client's one immediate retry does), then raises; a
script Redis does not know (restarted, flushed) is loaded and run again.
"""

from __future__ import annotations

import threading
from typing import Any

import redis
from redis.commands.core import Script


class Lane:
    """Per-thread connections made from ``client``'s pool settings, owned here (never in the
    pool), closed by `close`."""

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
        self._local = threading.local()
        self._made: list[Any] = []
        self._guard = threading.Lock()

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._pool.make_connection()
            with self._guard:
                self._made.append(conn)
        return conn

    def call(self, *args: Any) -> Any:
        """One command, its reply (errors as redis-py raises them)."""
        conn = self._connection()
        try:
            conn.send_command(*args)
            return conn.read_response()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            conn.disconnect()  # reconnects on the next send: Redis restarted, or a stale socket
        conn.send_command(*args)
        return conn.read_response()

    def script(self, script: Script, keys: list, args: list) -> Any:
        """Run a registered script by its SHA, loading it when Redis does not know it."""
        try:
            return self.call("EVALSHA", script.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            self.call("SCRIPT", "LOAD", script.script)
            return self.call("EVALSHA", script.sha, len(keys), *keys, *args)

    def close(self) -> None:
        with self._guard:
            made, self._made = self._made, []
        for conn in made:
            conn.disconnect()

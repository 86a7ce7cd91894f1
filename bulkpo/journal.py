"""The run journal: a SQLite file recording every unit's state around each API call.

A *unit* is one object to send (a PO, a booking, a booking's PO link), keyed by
its natural key. Its state is written *before* a request goes out (``sent``)
and after the answer (``done``/``failed``), so a run killed at any instant can
be resumed: ``sent`` and ``unknown`` units are looked up by name before anything
is re-sent, and nothing is created twice. The key is never stored here.

States:  pending -> sent -> done | failed
                         -> unknown   (the answer was lost; reconcile first)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulkpo.redact import redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    input TEXT NOT NULL,
    input_digest TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    command TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS units (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    flexport_id TEXT,
    payload_digest TEXT NOT NULL DEFAULT '',
    rows TEXT NOT NULL DEFAULT '[]',
    message TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS units_run_state ON units (run_id, state);
"""


class UnitState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class UnitRecord:
    kind: str
    key: str
    run_id: int
    state: UnitState
    outcome: str | None
    flexport_id: str | None
    payload_digest: str
    rows: list[int]
    message: str
    code: str
    attempts: int

    @property
    def finished(self) -> bool:
        return self.state in (UnitState.DONE, UnitState.FAILED)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class Journal:
    """One SQLite file; safe to kill at any moment (WAL, a commit per change)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (not a power cut), at a
        # fraction of FULL's cost per commit.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ runs

    def start_run(self, input_name: str, input_digest: str, command: str = "") -> int:
        cur = self._db.execute(
            "INSERT INTO runs (input, input_digest, started_at, command) VALUES (?, ?, ?, ?)",
            (input_name, input_digest, _now(), command),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def last_run(self) -> tuple[int, str, bool] | None:
        """(run id, input digest, finished?) of the newest run, if any."""
        row = self._db.execute(
            "SELECT id, input_digest, finished_at IS NOT NULL FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        return (int(row[0]), str(row[1]), bool(row[2])) if row else None

    def finish_run(self, run_id: int) -> None:
        self._db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (_now(), run_id))

    # ------------------------------------------------------------ units

    def get(self, kind: str, key: str) -> UnitRecord | None:
        row = self._db.execute(
            "SELECT kind, key, run_id, state, outcome, flexport_id, payload_digest, rows,"
            " message, code, attempts FROM units WHERE kind = ? AND key = ?",
            (kind, key),
        ).fetchone()
        return _record(row) if row else None

    def units(self, kind: str | None = None) -> Iterator[UnitRecord]:
        sql = (
            "SELECT kind, key, run_id, state, outcome, flexport_id, payload_digest, rows,"
            " message, code, attempts FROM units"
        )
        args: tuple[Any, ...] = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            args = (kind,)
        for row in self._db.execute(sql + " ORDER BY rowid", args):
            yield _record(row)

    def register(self, run_id: int, kind: str, units: Iterable[tuple[str, str, list[int]]]) -> None:
        """Record units (key, payload digest, rows) as pending; keeps known ones' state."""
        now = _now()
        with self._transaction():
            self._db.executemany(
                "INSERT INTO units (kind, key, run_id, state, payload_digest, rows, updated_at)"
                " VALUES (?, ?, ?, 'pending', ?, ?, ?)"
                " ON CONFLICT (kind, key) DO UPDATE SET payload_digest = excluded.payload_digest,"
                " rows = excluded.rows",
                [(kind, key, run_id, digest, json.dumps(rows), now) for key, digest, rows in units],
            )

    def mark(
        self,
        kind: str,
        key: str,
        state: UnitState,
        *,
        run_id: int | None = None,
        outcome: str | None = None,
        flexport_id: str | int | None = None,
        message: str = "",
        code: str = "",
        attempt: bool = False,
    ) -> None:
        """Move a unit to ``state``; committed before this returns."""
        sets = ["state = ?", "updated_at = ?", "message = ?", "code = ?"]
        # The journal outlives the run and is sent along with bug reports.
        args: list[Any] = [state.value, _now(), redact(message), redact(code)]
        if run_id is not None:
            sets.append("run_id = ?")
            args.append(run_id)
        if outcome is not None or state in (UnitState.PENDING, UnitState.SENT):
            sets.append("outcome = ?")
            args.append(outcome)
        if flexport_id is not None:
            sets.append("flexport_id = ?")
            args.append(str(flexport_id))
        if attempt:
            sets.append("attempts = attempts + 1")
        args += [kind, key]
        self._db.execute(f"UPDATE units SET {', '.join(sets)} WHERE kind = ? AND key = ?", args)

    def counts(self, kind: str | None = None) -> dict[str, int]:
        sql = "SELECT state, COUNT(*) FROM units"
        args: tuple[Any, ...] = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            args = (kind,)
        return {str(s): int(n) for s, n in self._db.execute(sql + " GROUP BY state", args)}

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _record(row: tuple[Any, ...]) -> UnitRecord:
    return UnitRecord(
        kind=row[0],
        key=row[1],
        run_id=int(row[2]),
        state=UnitState(row[3]),
        outcome=row[4],
        flexport_id=row[5],
        payload_digest=row[6],
        rows=json.loads(row[7]),
        message=row[8],
        code=row[9],
        attempts=int(row[10]),
    )

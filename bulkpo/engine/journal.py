"""The run journal: a SQLite file recording every unit's state around each API call.

A *unit* is one object to send (a PO, a booking, a booking's PO link), keyed by
its natural key. Its state is written *before* a request goes out (``sent``)
and after the answer (``done``/``failed``), so a run killed at any instant can
be resumed: ``sent`` and ``unknown`` units are looked up by name before anything
is re-sent, and nothing is created twice. The key is never stored here.

States:  pending -> sent -> done | failed
                         -> unknown   (the answer was lost; reconcile first)

A unit also keeps what Flexport held when last read or written (its
``updated_at``, and whether that was the unit's body), and the account keeps a
watermark per kind (the newest ``updated_at`` a complete list read showed), so a
re-run lists only what changed since (:mod:`bulkpo.purchase_orders.snapshot`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import hashlib
import json
import os
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkpo.errors import UsageError
from bulkpo.redact import redact

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    input TEXT NOT NULL,
    input_digest TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    command TEXT NOT NULL DEFAULT '',
    base_url TEXT NOT NULL DEFAULT '',
    account TEXT NOT NULL DEFAULT '',
    options TEXT NOT NULL DEFAULT '{}'
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
    account TEXT NOT NULL DEFAULT '',
    seen_updated_at TEXT NOT NULL DEFAULT '',
    synced_digest TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS units_run_state ON units (run_id, state);
CREATE TABLE IF NOT EXISTS watermarks (
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account, kind)
);
"""

# Columns added after the first release: journals written before get them on open.
_ADDED_COLUMNS = {
    "runs": (
        ("base_url", "TEXT NOT NULL DEFAULT ''"),
        ("account", "TEXT NOT NULL DEFAULT ''"),
        ("options", "TEXT NOT NULL DEFAULT '{}'"),
    ),
    "units": (
        ("account", "TEXT NOT NULL DEFAULT ''"),
        ("seen_updated_at", "TEXT NOT NULL DEFAULT ''"),
        ("synced_digest", "TEXT NOT NULL DEFAULT ''"),
    ),
}

_ACCOUNT_DOMAIN = b"bulkpo journal account v1\0"


def account_fingerprint(target: str, key: str) -> str:
    """Who a run talked to, without the key: a hash of a fixed domain, the target and the key.

    The target is part of the hash so that one key used against two APIs (the
    sandbox and production) gives two accounts.
    """
    digest = hashlib.sha256(_ACCOUNT_DOMAIN + target.encode() + b"\0" + key.encode())
    return digest.hexdigest()[:16]


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
    seen_updated_at: str = ""
    """Flexport's ``updated_at`` of the object when this unit last saw or wrote it."""
    synced_digest: str = ""
    """The payload digest Flexport was then known to hold ('' when it held something else)."""

    @property
    def finished(self) -> bool:
        return self.state in (UnitState.DONE, UnitState.FAILED)


@dataclass(frozen=True)
class RunInfo:
    """A run as the journal recorded it: its target, account and effective options."""

    id: int
    input_digest: str
    finished: bool
    base_url: str
    account: str
    options: dict[str, Any] = field(default_factory=dict)


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
        self._migrate()
        # The account of the run this process serves: records of any other are
        # absent. None (no run started or continued): a reader's view of every record.
        self.account: str | None = None

    def _migrate(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, decl in columns:
                if name not in present:
                    with contextlib.suppress(sqlite3.OperationalError):  # added meanwhile
                        self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ runs

    def start_run(
        self,
        input_name: str,
        input_digest: str,
        command: str = "",
        *,
        base_url: str = "",
        account: str = "",
        options: dict[str, Any] | None = None,
    ) -> int:
        """A new run against ``base_url`` as ``account``, which this journal then serves."""
        cur = self._db.execute(
            "INSERT INTO runs (input, input_digest, started_at, command, base_url, account,"
            " options) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (input_name, input_digest, _now(), command, base_url, account,
             json.dumps(options or {})),
        )
        assert cur.lastrowid is not None
        self.account = account
        return cur.lastrowid

    def continue_run(self, run_id: int, account: str, options: dict[str, Any]) -> None:
        """Resume ``run_id`` (made as ``account``) with its options as they are now."""
        self._db.execute(
            "UPDATE runs SET options = ?, finished_at = NULL WHERE id = ?",
            (json.dumps(options), run_id),
        )
        self.account = account

    def last_run_info(self) -> RunInfo | None:
        row = self._db.execute(
            "SELECT id, input_digest, finished_at IS NOT NULL, base_url, account, options"
            " FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        try:
            options = json.loads(row[5])
        except ValueError:
            options = {}
        return RunInfo(
            int(row[0]), str(row[1]), bool(row[2]), str(row[3]), str(row[4]),
            options if isinstance(options, dict) else {},
        )

    def foreign_targets(self) -> list[str]:
        """The base URLs of runs whose records this journal holds for another account."""
        if self.account is None:
            return []
        rows = self._db.execute(
            "SELECT DISTINCT r.base_url FROM units u JOIN runs r ON r.id = u.run_id"
            " WHERE u.account != ? ORDER BY r.base_url",
            (self.account,),
        )
        return [str(row[0]) for row in rows]

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
        """The unit's record, if it was made against this journal's account."""
        row = self._db.execute(
            "SELECT kind, key, run_id, state, outcome, flexport_id, payload_digest, rows,"
            " message, code, attempts, seen_updated_at, synced_digest FROM units"
            " WHERE kind = ? AND key = ? AND account = coalesce(?, account)",
            (kind, key, self.account),
        ).fetchone()
        return _record(row) if row else None

    def units(self, kind: str | None = None) -> Iterator[UnitRecord]:
        sql = (
            "SELECT kind, key, run_id, state, outcome, flexport_id, payload_digest, rows,"
            " message, code, attempts, seen_updated_at, synced_digest FROM units"
        )
        args: tuple[Any, ...] = ()
        if kind is not None:
            sql += " WHERE kind = ?"
            args = (kind,)
        for row in self._db.execute(sql + " ORDER BY rowid", args):
            yield _record(row)

    def register(self, run_id: int, kind: str, units: Iterable[tuple[str, str, list[int]]]) -> None:
        """Record units (key, payload digest, rows) as pending; keeps known ones' state.

        A unit recorded against another account starts afresh: what it says of
        that other API tells nothing of this one.
        """
        now = _now()
        same = "units.account = excluded.account"
        fresh = {
            "state": "'pending'", "outcome": "NULL", "flexport_id": "NULL", "message": "''",
            "code": "''", "attempts": "0", "run_id": "excluded.run_id",
            "seen_updated_at": "''", "synced_digest": "''",
        }
        resets = ", ".join(
            f"{column} = CASE WHEN {same} THEN units.{column} ELSE {value} END"
            for column, value in fresh.items()
        )
        with self._transaction():
            self._db.executemany(
                "INSERT INTO units (kind, key, run_id, state, payload_digest, rows, updated_at,"
                " account) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)"
                " ON CONFLICT (kind, key) DO UPDATE SET payload_digest = excluded.payload_digest,"
                f" rows = excluded.rows, {resets}, account = excluded.account",
                [
                    (kind, key, run_id, digest, json.dumps(rows), now, self.account or "")
                    for key, digest, rows in units
                ],
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
        args += [kind, key, self.account]
        self._db.execute(
            f"UPDATE units SET {', '.join(sets)} WHERE kind = ? AND key = ?"
            " AND account = coalesce(?, account)",
            args,
        )

    def mark_seen(self, kind: str, key: str, updated_at: str, synced_digest: str) -> None:
        """What Flexport held of a unit when last read or written (see :class:`UnitRecord`)."""
        self._db.execute(
            "UPDATE units SET seen_updated_at = ?, synced_digest = ? WHERE kind = ? AND key = ?"
            " AND account = coalesce(?, account)",
            (updated_at, synced_digest, kind, key, self.account),
        )

    def forget_changed(self, kind: str, seen: Iterable[tuple[str, str, str]]) -> None:
        """Drop what units knew of objects a list read shows changed: (key, id, updated_at).

        Called with every object of a snapshot, also those of no unit in this file,
        so that a later run's watermark never hides a change a file skipped.
        """
        with self._transaction():
            self._db.executemany(
                "UPDATE units SET synced_digest = '', seen_updated_at = '' WHERE kind = ?"
                " AND key = ? AND flexport_id = ? AND seen_updated_at != ?"
                " AND account = coalesce(?, account)",
                [(kind, key, flexport_id, updated_at, self.account)
                 for key, flexport_id, updated_at in seen],
            )

    def watermark(self, kind: str) -> str | None:
        """The newest ``updated_at`` a complete snapshot of this account's ``kind`` saw."""
        row = self._db.execute(
            "SELECT value FROM watermarks WHERE account = ? AND kind = ?",
            (self.account or "", kind),
        ).fetchone()
        return str(row[0]) if row else None

    def set_watermark(self, kind: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO watermarks (account, kind, value) VALUES (?, ?, ?)"
            " ON CONFLICT (account, kind) DO UPDATE SET value = excluded.value",
            (self.account or "", kind, value),
        )

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


# ---------------------------------------------------------------- the run's lock


class JournalBusyError(UsageError):
    """Another process runs an import with this journal."""


# Locks this process holds, by lock file: a run that takes the lock early (the
# CLI) and again in the library must not lock itself out.
_held: dict[Path, list[Any]] = {}

_LOCK_OFFSET = 1 << 20
"""Windows locks a byte range others then cannot read: lock a byte far past the pid text."""


def lock_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".lock")


@contextlib.contextmanager
def journal_lock(journal: Path) -> Iterator[None]:
    """Hold an exclusive OS lock on ``journal`` (a ``.lock`` file next to it) until exit.

    The OS drops the lock when the process dies, so a killed run never leaves a
    stale lock behind. JournalBusyError (exit 2) if another process holds it.
    """
    path = lock_path(journal).resolve()
    if path in _held:
        _held[path][1] += 1
        try:
            yield
        finally:
            _held[path][1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+b")  # noqa: SIM115  (held open for the lock's whole life)
    try:
        if not _try_lock(handle):
            raise JournalBusyError(
                f"another import of this file is running ({_holder(handle)}); "
                f"wait for it to finish (its journal: {journal})"
            )
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "started": _now()}).encode())
        handle.flush()
        _held[path] = [handle, 1]
        try:
            yield
        finally:
            del _held[path]
            _unlock(handle)
    finally:
        handle.close()


def _holder(handle: Any) -> str:
    handle.seek(0)
    try:
        info = json.loads(handle.read(4096) or b"{}")
    except (OSError, ValueError):
        info = {}
    if not isinstance(info, dict):
        info = {}
    return f"pid {info.get('pid', 'unknown')}, started {info.get('started', 'just now')}"


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: Any) -> bool:
        handle.seek(_LOCK_OFFSET)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: Any) -> None:
        handle.seek(_LOCK_OFFSET)
        with contextlib.suppress(OSError):
            msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(handle: Any) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def _unlock(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


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
        seen_updated_at=str(row[11]),
        synced_digest=str(row[12]),
    )

"""The run journal: a real SQLite file; states, runs, accounts, migration, lock, redaction."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bulkpo import redact
from bulkpo.engine.journal import (
    Journal,
    JournalBusyError,
    UnitState,
    _try_lock,
    _unlock,
    journal_lock,
    lock_path,
)


def test_states_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        run = journal.start_run("orders.xlsx", "abc")
        journal.register(run, "purchase_order", [("PO-1", "d1", [2, 3]), ("PO-2", "d2", [4])])
        journal.mark("purchase_order", "PO-1", UnitState.SENT, attempt=True)
        journal.mark(
            "purchase_order", "PO-2", UnitState.DONE, outcome="created", flexport_id=42
        )
    with Journal(path) as journal:
        one = journal.get("purchase_order", "PO-1")
        two = journal.get("purchase_order", "PO-2")
        assert one is not None and one.state is UnitState.SENT and one.attempts == 1
        assert one.rows == [2, 3]
        assert two is not None and two.finished and two.flexport_id == "42"
        assert journal.counts() == {"sent": 1, "done": 1}
        assert journal.last_run() == (run, "abc", False)


def test_register_keeps_known_state(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        run = journal.start_run("x", "d")
        journal.register(run, "purchase_order", [("PO-1", "d1", [2])])
        journal.mark("purchase_order", "PO-1", UnitState.DONE, outcome="created", flexport_id=7)
        journal.register(run + 1, "purchase_order", [("PO-1", "d1", [2])])
        record = journal.get("purchase_order", "PO-1")
        assert record is not None and record.state is UnitState.DONE


# ---------------------------------------------------------------- states and transitions


def _journal(tmp_path: Path, account: str = "acct-a") -> tuple[Journal, int]:
    journal = Journal(tmp_path / "j.sqlite")
    run = journal.start_run("orders.xlsx", "digest", "import", base_url="http://api.test",
                            account=account, options={"rate": 5.0})
    return journal, run


def test_a_unit_goes_pending_sent_unknown_sent_done(tmp_path: Path) -> None:
    journal, run = _journal(tmp_path)
    with journal:
        journal.register(run, "purchase_order", [("PO-1", "d1", [2])])
        seen = []
        for state, attempt in [(UnitState.SENT, True), (UnitState.UNKNOWN, False),
                               (UnitState.SENT, True)]:
            journal.mark("purchase_order", "PO-1", state, attempt=attempt)
            record = journal.get("purchase_order", "PO-1")
            assert record is not None
            seen.append((record.state, record.attempts, record.finished))
        journal.mark("purchase_order", "PO-1", UnitState.DONE, outcome="created", flexport_id=9)
        done = journal.get("purchase_order", "PO-1")
    assert seen == [(UnitState.SENT, 1, False), (UnitState.UNKNOWN, 1, False),
                    (UnitState.SENT, 2, False)]
    assert done is not None and done.finished and done.outcome == "created"
    assert done.flexport_id == "9" and done.attempts == 2 and done.run_id == run


def test_sending_again_clears_the_last_outcome_but_keeps_the_id(tmp_path: Path) -> None:
    journal, run = _journal(tmp_path)
    with journal:
        journal.register(run, "purchase_order", [("PO-1", "d1", [2])])
        journal.mark("purchase_order", "PO-1", UnitState.FAILED, outcome="failed",
                     flexport_id=5, message="400 invalid_port", code="invalid_port")
        failed = journal.get("purchase_order", "PO-1")
        journal.mark("purchase_order", "PO-1", UnitState.SENT, attempt=True)
        sent = journal.get("purchase_order", "PO-1")
    assert failed is not None and failed.finished and failed.code == "invalid_port"
    assert sent is not None and not sent.finished
    assert (sent.outcome, sent.flexport_id, sent.message, sent.code) == (None, "5", "", "")


def test_register_keeps_known_state_and_takes_new_rows(tmp_path: Path) -> None:
    journal, run = _journal(tmp_path)
    with journal:
        journal.register(run, "purchase_order", [("PO-1", "d1", [2]), ("PO-2", "d2", [3])])
        journal.mark("purchase_order", "PO-1", UnitState.DONE, outcome="created", flexport_id=7)
        journal.register(run + 1, "purchase_order", [("PO-1", "d1b", [5, 6]), ("PO-3", "d3", [7])])
        one = journal.get("purchase_order", "PO-1")
        three = journal.get("purchase_order", "PO-3")
        keys = [r.key for r in journal.units("purchase_order")]
    assert one is not None and one.state is UnitState.DONE and one.flexport_id == "7"
    assert one.outcome == "created" and one.run_id == run
    assert one.rows == [5, 6] and one.payload_digest == "d1b"
    assert three is not None and three.state is UnitState.PENDING and three.run_id == run + 1
    assert keys == ["PO-1", "PO-2", "PO-3"]


def test_mark_is_committed_before_it_returns(tmp_path: Path) -> None:
    journal, run = _journal(tmp_path)
    with journal:
        journal.register(run, "booking", [("BK-1", "d", [2])])
        journal.mark("booking", "BK-1", UnitState.SENT, attempt=True)
        # A second connection (a resumed run after a kill) sees it while this one is open.
        other = sqlite3.connect(tmp_path / "j.sqlite")
        try:
            row = other.execute(
                "SELECT state, attempts FROM units WHERE kind = 'booking' AND key = 'BK-1'"
            ).fetchone()
        finally:
            other.close()
    assert row == ("sent", 1)


def test_counts_by_state_and_kind(tmp_path: Path) -> None:
    journal, run = _journal(tmp_path)
    with journal:
        journal.register(run, "purchase_order", [(f"PO-{i}", "d", [i]) for i in range(4)])
        journal.register(run, "booking", [("BK-1", "d", [2]), ("BK-2", "d", [3])])
        journal.mark("purchase_order", "PO-0", UnitState.DONE, outcome="created")
        journal.mark("purchase_order", "PO-1", UnitState.FAILED, outcome="failed")
        journal.mark("booking", "BK-1", UnitState.UNKNOWN)
        counts = (journal.counts(), journal.counts("purchase_order"), journal.counts("booking"))
    assert counts == (
        {"pending": 3, "done": 1, "failed": 1, "unknown": 1},
        {"pending": 2, "done": 1, "failed": 1},
        {"pending": 1, "unknown": 1},
    )


# ---------------------------------------------------------------- runs


def test_a_run_records_its_target_account_and_options(tmp_path: Path) -> None:
    journal, run = _journal(tmp_path)
    with journal:
        started = journal.last_run_info()
        journal.finish_run(run)
        finished = journal.last_run_info()
        journal.continue_run(run, "acct-a", {"rate": 2.0, "on_existing": "update"})
        continued = journal.last_run_info()
        second = journal.start_run("other.xlsx", "d2")
        newest = journal.last_run()
    assert started is not None and not started.finished
    assert (started.id, started.input_digest, started.base_url, started.account) == (
        run, "digest", "http://api.test", "acct-a")
    assert started.options == {"rate": 5.0}
    assert finished is not None and finished.finished
    # Continuing a run reopens it with the options it has now.
    assert continued is not None and not continued.finished
    assert continued.options == {"rate": 2.0, "on_existing": "update"}
    assert newest == (second, "d2", False)


def test_unreadable_run_options_read_as_none(tmp_path: Path) -> None:
    journal, run = _journal(tmp_path)
    with journal:
        journal._db.execute("UPDATE runs SET options = 'not json' WHERE id = ?", (run,))
        bad = journal.last_run_info()
        journal._db.execute("UPDATE runs SET options = '[1, 2]' WHERE id = ?", (run,))
        listed = journal.last_run_info()
    assert bad is not None and bad.options == {}
    assert listed is not None and listed.options == {}


def test_an_empty_journal_has_no_run(tmp_path: Path) -> None:
    with Journal(tmp_path / "sub" / "dir" / "j.sqlite") as journal:
        assert journal.last_run() is None and journal.last_run_info() is None
        assert journal.counts() == {} and list(journal.units()) == []
    assert (tmp_path / "sub" / "dir" / "j.sqlite").exists()


# ---------------------------------------------------------------- accounts


def test_records_of_another_account_are_absent(tmp_path: Path) -> None:
    journal, run_a = _journal(tmp_path, account="acct-a")
    with journal:
        journal.register(run_a, "purchase_order", [("PO-1", "d", [2])])
        journal.mark("purchase_order", "PO-1", UnitState.DONE, outcome="created", flexport_id=3)
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.start_run("orders.xlsx", "digest", base_url="https://api.other", account="acct-b")
        absent = journal.get("purchase_order", "PO-1")
        # A mark for the other account's record changes nothing.
        journal.mark("purchase_order", "PO-1", UnitState.FAILED, outcome="failed")
        foreign = journal.foreign_targets()
    with Journal(tmp_path / "j.sqlite") as reader:  # no run: a reader sees every record
        kept = reader.get("purchase_order", "PO-1")
        assert reader.foreign_targets() == []
    assert absent is None
    assert foreign == ["http://api.test"]
    assert kept is not None and kept.state is UnitState.DONE and kept.flexport_id == "3"


def test_registering_another_accounts_unit_starts_it_afresh(tmp_path: Path) -> None:
    journal, run_a = _journal(tmp_path, account="acct-a")
    with journal:
        journal.register(run_a, "purchase_order", [("PO-1", "d", [2])])
        journal.mark("purchase_order", "PO-1", UnitState.DONE, outcome="created", flexport_id=3,
                     message="created", attempt=True)
        run_b = journal.start_run("orders.xlsx", "digest", base_url="https://api.other",
                                  account="acct-b")
        journal.register(run_b, "purchase_order", [("PO-1", "d", [2])])
        record = journal.get("purchase_order", "PO-1")
        foreign_after = journal.foreign_targets()
    assert record is not None
    assert (record.state, record.outcome, record.flexport_id, record.attempts, record.run_id,
            record.message) == (UnitState.PENDING, None, None, 0, run_b, "")
    assert foreign_after == []  # the record is this account's now


# ---------------------------------------------------------------- migration


def test_an_old_schema_journal_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE runs (id INTEGER PRIMARY KEY, input TEXT NOT NULL,
            input_digest TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
            command TEXT NOT NULL DEFAULT '');
        CREATE TABLE units (kind TEXT NOT NULL, key TEXT NOT NULL, run_id INTEGER NOT NULL,
            state TEXT NOT NULL, outcome TEXT, flexport_id TEXT,
            payload_digest TEXT NOT NULL DEFAULT '', rows TEXT NOT NULL DEFAULT '[]',
            message TEXT NOT NULL DEFAULT '', code TEXT NOT NULL DEFAULT '',
            attempts INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
            PRIMARY KEY (kind, key));
        INSERT INTO runs VALUES (1, 'orders.xlsx', 'abc', '2025-01-01', '2025-01-01', 'import');
        INSERT INTO units VALUES ('purchase_order', 'PO-1', 1, 'done', 'created', '11', 'd',
            '[2]', '', '', 1, '2025-01-01');
        """
    )
    db.close()
    with Journal(path) as journal:
        info = journal.last_run_info()
        record = journal.get("purchase_order", "PO-1")
        columns = {row[1] for row in journal._db.execute("PRAGMA table_info(units)")}
    with Journal(path) as again:  # opening a migrated file twice is harmless
        assert again.get("purchase_order", "PO-1") == record
    assert info is not None and info.finished
    assert (info.base_url, info.account, info.options) == ("", "", {})
    assert {"account", "seen_updated_at", "synced_digest"} <= columns
    assert record is not None and record.state is UnitState.DONE and record.flexport_id == "11"
    # Nothing seen yet: a re-run of an old journal reads the PO before calling it unchanged.
    assert (record.seen_updated_at, record.synced_digest) == ("", "")


def test_a_journal_without_watermarks_gets_them_on_open(tmp_path: Path) -> None:
    path = tmp_path / "before-watermarks.sqlite"
    with Journal(path) as journal:
        journal.start_run("orders.xlsx", "digest", account="acct-a")
    db = sqlite3.connect(path)
    db.executescript("DROP TABLE watermarks; ALTER TABLE units DROP COLUMN synced_digest;")
    db.close()
    with Journal(path) as journal:
        journal.account = "acct-a"
        assert journal.watermark("purchase_order") is None
        journal.set_watermark("purchase_order", "2026-11-01T00:00:00.000000+00:00")
        journal.account = "acct-b"
        other = journal.watermark("purchase_order")
        journal.account = "acct-a"
        assert journal.watermark("purchase_order") == "2026-11-01T00:00:00.000000+00:00"
    assert other is None  # another account's list read tells nothing of this one


def test_what_was_seen_is_kept_until_a_list_shows_the_po_changed(tmp_path: Path) -> None:
    journal, run = _journal(tmp_path, account="acct-a")
    with journal:
        journal.register(run, "purchase_order", [("PO-1", "d1", [2]), ("PO-2", "d2", [3])])
        for key, po_id in (("PO-1", 11), ("PO-2", 12)):
            journal.mark("purchase_order", key, UnitState.DONE, outcome="created",
                         flexport_id=po_id)
            journal.mark_seen("purchase_order", key, "2026-11-01T00:00:00.000000+00:00", "d")
        journal.forget_changed("purchase_order", [
            ("PO-1", "11", "2026-11-01T00:00:00.000000+00:00"),  # as seen
            ("PO-2", "12", "2026-11-02T00:00:00.000000+00:00"),  # changed since
            ("PO-3", "13", "2026-11-02T00:00:00.000000+00:00"),  # no unit
        ])  # fmt: skip
        # A new run of the same file keeps what was seen.
        journal.register(run + 1, "purchase_order", [("PO-1", "d1", [2])])
        one, two = journal.get("purchase_order", "PO-1"), journal.get("purchase_order", "PO-2")
    assert one is not None and (one.seen_updated_at, one.synced_digest) == (
        "2026-11-01T00:00:00.000000+00:00", "d")
    assert two is not None and (two.seen_updated_at, two.synced_digest) == ("", "")


# ---------------------------------------------------------------- the lock

_HOLD = """
import sys
from pathlib import Path
from bulkpo.engine.journal import journal_lock
with journal_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def test_a_second_process_cannot_take_the_lock_until_the_first_lets_go(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(journal)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(JournalBusyError) as busy, journal_lock(journal):
            pass
        info = json.loads(lock_path(journal).read_text())
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=10)
        assert holder.stdout is not None
        holder.stdout.close()
    assert f"pid {holder.pid}" in str(busy.value) and str(journal) in str(busy.value)
    assert busy.value.exit_code == 2
    assert info["pid"] == holder.pid
    with journal_lock(journal):  # the OS dropped the lock with the process
        assert json.loads(lock_path(journal).read_text())["pid"] == os.getpid()


def test_the_lock_is_reentrant_within_one_process(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"

    def free() -> bool:
        # A fresh open file is what another process would hold: can it take the lock?
        with open(lock_path(journal), "a+b") as handle:
            taken = _try_lock(handle)
            if taken:
                _unlock(handle)
            return taken

    with journal_lock(journal):
        with journal_lock(journal):  # the CLI takes it, then the library again
            pass
        still_held = not free()
    assert still_held
    assert free()


# ---------------------------------------------------------------- redaction


def test_stored_messages_and_codes_are_redacted(tmp_path: Path) -> None:
    secret = "sk-live-0123456789abcdef"
    redact.register(secret)
    journal, run = _journal(tmp_path)
    with journal:
        journal.register(run, "purchase_order", [("PO-1", "d", [2])])
        journal.mark("purchase_order", "PO-1", UnitState.FAILED, outcome="failed",
                     message=f"header b'Bearer {secret}' refused", code=f"bad:{secret}")
        record = journal.get("purchase_order", "PO-1")
    # The file itself and its write-ahead log: the secret is in neither.
    raw = b"".join(f.read_bytes() for f in tmp_path.glob("j.sqlite*"))
    assert record is not None
    assert record.message == "header b'Bearer [redacted]' refused"
    assert record.code == "bad:[redacted]"
    assert secret.encode() not in raw

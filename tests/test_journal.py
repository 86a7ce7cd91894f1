"""The run journal is a real SQLite file that survives being reopened."""

from __future__ import annotations

from pathlib import Path

from bulkpo.engine.journal import Journal, UnitState


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

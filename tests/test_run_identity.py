"""A journal holds only for the API and account it was made for; an old PO is never "created"."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.bookings import KIND_BOOKING, BookingSubmitter, plan_bookings
from bulkpo.config import BookingDefaults, load_settings
from bulkpo.engine.exactly_once import OnExisting
from bulkpo.engine.journal import Journal, UnitState, account_fingerprint
from bulkpo.engine.pacing import Caller, Pacer, RetryPolicy
from bulkpo.flexport.client import FlexportClient
from bulkpo.purchase_orders.submit import KIND_PO
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.conftest import settings_for
from tests.factories import po_rows, write_po_workbook
from tests.test_booking_payloads import booking
from tests.test_import import run_import, sandbox_pos


def by_name(server: SandboxServer) -> dict[str, dict[str, Any]]:
    return {po["name"]: po for po in sandbox_pos(server)}


@pytest.mark.parametrize("policy", [OnExisting.SKIP, OnExisting.UPDATE])
def test_a_journal_of_the_sandbox_does_not_stand_for_another_api(
    tmp_path: Path, policy: OnExisting
) -> None:
    orders = write_po_workbook(tmp_path / "orders.xlsx", po_rows(4, lines=1))
    # Other POs, to take in "production" the ids the sandbox gave ours.
    others = write_po_workbook(tmp_path / "others.xlsx", po_rows(6, lines=2, start=500))
    journal = tmp_path / "orders.journal.sqlite"
    with (
        running_sandbox(SandboxOptions(db_path=tmp_path / "a.sqlite")) as sandbox_a,
        running_sandbox(SandboxOptions(db_path=tmp_path / "b.sqlite")) as production,
    ):
        run_import(others, settings_for(production, rate=500.0),
                   journal=tmp_path / "others.journal.sqlite")
        before = by_name(production)
        first = run_import(orders, settings_for(sandbox_a, rate=500.0), journal=journal)
        assert first.summary.counts["created"] == 4
        ours = {po["id"] for po in sandbox_pos(sandbox_a)}
        assert ours <= {po["id"] for po in before.values()}, "the ids must collide"

        second = run_import(
            orders, settings_for(production, rate=500.0), journal=journal, on_existing=policy
        )
        after = by_name(production)
        # The notice is said once: the journal now holds this API's results.
        third = run_import(orders, settings_for(production, rate=500.0), journal=journal)
    assert [r.status for r in second.results] == ["created"] * 4, second.summary.line()
    assert {f"PO-{n:05d}" for n in range(1, 5)} <= set(after)
    assert {name: after[name] for name in before} == before  # not one other PO touched
    assert any("another API or account" in n for n in second.stats.notices)
    assert [r.status for r in third.results] == ["unchanged"] * 4
    assert not third.stats.notices


def test_the_same_key_on_another_url_is_another_account() -> None:
    one = account_fingerprint("http://127.0.0.1:8001", "sandbox-key")
    assert one == account_fingerprint("http://127.0.0.1:8001", "sandbox-key")
    assert one != account_fingerprint("http://127.0.0.1:8002", "sandbox-key")
    assert one != account_fingerprint("http://127.0.0.1:8001", "other-key")
    assert "sandbox-key" not in one and len(one) == 16


OLD_SCHEMA = """
CREATE TABLE runs (id INTEGER PRIMARY KEY, input TEXT NOT NULL, input_digest TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT, command TEXT NOT NULL DEFAULT '');
CREATE TABLE units (kind TEXT NOT NULL, key TEXT NOT NULL, run_id INTEGER NOT NULL,
    state TEXT NOT NULL, outcome TEXT, flexport_id TEXT, payload_digest TEXT NOT NULL DEFAULT '',
    rows TEXT NOT NULL DEFAULT '[]', message TEXT NOT NULL DEFAULT '',
    code TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL, PRIMARY KEY (kind, key));
INSERT INTO runs VALUES (1, 'o.xlsx', 'd', '2026-01-01', '2026-01-01', 'import');
INSERT INTO units VALUES ('purchase_order', 'PO-1', 1, 'done', 'created', '7', 'x', '[2]',
    '', '', 1, '2026-01-01');
"""


def test_a_journal_written_before_targets_were_recorded_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_SCHEMA)
    with Journal(path) as journal:
        info = journal.last_run_info()
        assert info is not None and info.base_url == "" and info.options == {}
        reader_view = journal.get(KIND_PO, "PO-1")  # no run bound: every record is seen
        assert reader_view is not None and reader_view.flexport_id == "7"
        run = journal.start_run("o.xlsx", "d", base_url="https://api.example", account="acc",
                                options={"date_order": "dmy"})
        # Nothing says which API the old record was made against: it holds for none.
        assert journal.get(KIND_PO, "PO-1") is None
        assert journal.foreign_targets() == [""]
        journal.register(run, KIND_PO, [("PO-1", "x", [2])])
        record = journal.get(KIND_PO, "PO-1")
        assert record is not None and record.state is UnitState.PENDING
        assert record.flexport_id is None and record.outcome is None
    with Journal(path) as journal:
        info = journal.last_run_info()
        assert info is not None and info.options == {"date_order": "dmy"}
        assert info.base_url == "https://api.example" and info.account == "acc"


def test_pos_that_existed_before_the_run_are_not_created_after_lost_answers(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sandbox.sqlite"
    existing = write_po_workbook(tmp_path / "existing.xlsx", po_rows(15, lines=1))
    with running_sandbox(SandboxOptions(db_path=db)) as calm:
        run_import(existing, settings_for(calm, rate=500.0))
    both = write_po_workbook(tmp_path / "both.xlsx", po_rows(30, lines=1))
    faulty = SandboxOptions(db_path=db, seed=3, fault_rate=0.3, drop_rate=0.1)
    with running_sandbox(faulty) as server:
        outcome = run_import(both, settings_for(server, rate=500.0, max_retries=10))
    status = {r.key: r.status for r in outcome.results}
    assert outcome.stats.retries > 0
    assert Counter(status[f"PO-{n:05d}"] for n in range(1, 16)) == {"unchanged": 15}
    assert Counter(status[f"PO-{n:05d}"] for n in range(16, 31)) == {"created": 15}
    with running_sandbox(SandboxOptions(db_path=db)) as calm:
        held = Counter(po["name"] for po in sandbox_pos(calm))
    assert len(held) == 30 and set(held.values()) == {1}


def test_a_lost_booking_write_is_journaled_as_the_booking(tmp_path: Path) -> None:
    """A booking whose POST answer is lost is `unknown` under its own kind, not a PO's."""
    lost: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, json={"data": {"data": [], "next": None}})
        lost.append(request.url.path)
        raise httpx.ReadError("connection reset after the request was sent", request=request)

    settings = load_settings(env={}, base_url="http://127.0.0.1:9", api_key="k")
    journal = Journal(tmp_path / "j.sqlite")
    run = journal.start_run("b.xlsx", "d")
    [unit] = plan_bookings([booking(name="SAME-NAME")], BookingDefaults())
    # A PO of the same name: a lost booking write must leave its record alone.
    journal.register(run, KIND_PO, [("SAME-NAME", "p", [2])])
    journal.register(run, KIND_BOOKING, [(unit.key, unit.digest, unit.rows)])

    async def go() -> None:
        async with FlexportClient(settings, transport=httpx.MockTransport(handler)) as api:
            caller = Caller(Pacer(1000.0), RetryPolicy(max_retries=1, backoff=0.001))
            submitter = BookingSubmitter(api, caller, journal, run)
            await submitter.submit(unit)

    asyncio.run(go())
    assert lost == ["/bookings", "/bookings"]
    po = journal.get(KIND_PO, "SAME-NAME")
    record = journal.get(KIND_BOOKING, "SAME-NAME")
    assert po is not None and po.state is UnitState.PENDING and po.message == ""
    assert record is not None and record.state is UnitState.UNKNOWN
    journal.close()

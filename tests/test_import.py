"""Bulk PO import against the sandbox over real HTTP: exactly once, a status per row."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bulkpo.config import Settings
from bulkpo.engine.exactly_once import OnExisting
from bulkpo.imports import (
    ImportOptions,
    ImportResult,
    import_purchase_orders,
    load_purchase_orders,
)
from bulkpo.report import STATUSES
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.conftest import DUPLICATE_NAMES, SAMPLES, listing, names_mode, settings_for
from tests.factories import po_row, po_rows, write_po_workbook


def run_import(path: Path, settings: Settings, **options: Any) -> ImportResult:
    table, validation = load_purchase_orders(path)
    options.setdefault("journal", path.with_suffix(".journal.sqlite"))
    options_ = ImportOptions(**options)
    return asyncio.run(import_purchase_orders(table, validation, settings, options_))


def sandbox_pos(server: SandboxServer) -> list[dict[str, Any]]:
    """Every PO the sandbox holds."""
    return listing(server, "/purchase_orders")


def test_sample_workbook_creates_each_po_once_then_unchanged(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    sample = tmp_path / "purchase-orders.xlsx"
    sample.write_bytes((SAMPLES / "purchase-orders.xlsx").read_bytes())
    first = run_import(sample, sandbox_settings)
    rows = len(first.purchase_orders.table.rows)  # type: ignore[union-attr]
    assert first.summary.total == rows
    assert first.summary.counts["created"] == rows, first.summary.line()
    names = Counter(po["name"] for po in sandbox_pos(sandbox))
    assert len(names) == 50 and set(names.values()) == {1}

    again = run_import(sample, sandbox_settings)
    assert again.summary.counts["unchanged"] == rows, again.summary.line()
    assert len(sandbox_pos(sandbox)) == 50


def test_update_policy_sends_only_changes(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    path = write_po_workbook(tmp_path / "a.xlsx", po_rows(3))
    run_import(path, sandbox_settings)
    changed = po_rows(3)
    changed[0]["quantity"] = 999  # PO-00001 line 1
    changed[2]["incoterm"] = "EXW"  # PO-00002: both its rows must agree
    changed[3]["incoterm"] = "EXW"
    path2 = write_po_workbook(tmp_path / "b.xlsx", changed)

    skipped = run_import(path2, sandbox_settings, journal=tmp_path / "j2.sqlite")
    assert Counter(r.status for r in skipped.results) == {"skipped": 4, "unchanged": 2}
    assert "line_items" in skipped.results[0].message

    updated = run_import(path2, sandbox_settings, on_existing=OnExisting.UPDATE,
                         journal=tmp_path / "j3.sqlite")
    assert Counter(r.status for r in updated.results) == {"updated": 4, "unchanged": 2}
    by_name = {po["name"]: po for po in sandbox_pos(sandbox)}
    assert by_name["PO-00002"]["incoterm"] == "EXW"
    assert by_name["PO-00003"]["incoterm"] == "FOB"


def test_bad_rows_are_reported_and_good_ones_go_through(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    rows = po_rows(4)
    rows[2] = po_row(2, 1, quantity=-5)           # PO-00002 line 1: negative quantity
    rows[5] = po_row(3, 2, origin_port="CNXXX")   # PO-00003 line 2: no such port
    path = write_po_workbook(tmp_path / "mixed.xlsx", rows)
    outcome = run_import(path, sandbox_settings)
    status = {r.row: r.status for r in outcome.results}
    # header is row 1: PO-00001 rows 2-3, PO-00002 rows 4-5, PO-00003 6-7, PO-00004 8-9
    assert status == {2: "created", 3: "created", 4: "invalid", 5: "invalid",
                      6: "invalid", 7: "invalid", 8: "created", 9: "created"}
    bad_cells = {str(i.ref) for r in outcome.results for i in r.issues if i.severity == "error"}
    assert "Purchase Orders!Q4" in bad_cells  # Quantity is the 17th column
    assert "Purchase Orders!L7" in bad_cells  # Origin Port is the 12th
    assert sorted(po["name"] for po in sandbox_pos(sandbox)) == ["PO-00001", "PO-00004"]
    assert sum(outcome.summary.counts[s] for s in STATUSES) == 8


def test_server_refusal_fails_the_rows_with_the_servers_message(
    tmp_path: Path, sandbox: SandboxServer, sandbox_settings: Settings
) -> None:
    # A seller ref the account's network does not know: only the API can tell.
    rows = [po_row(1, 1, seller_ref="sup-nowhere"), po_row(2, 1)]
    keys = (*tuple(rows[1]), "seller_ref")
    path = write_po_workbook(tmp_path / "ref.xlsx", rows, keys=keys)
    outcome = run_import(path, sandbox_settings)
    first, second = outcome.results
    assert first.status == "failed"
    assert "unknown_entity_ref" in first.message and "bulkpo refs" in first.message
    assert second.status == "created"


@pytest.mark.slow
@pytest.mark.parametrize("mode", DUPLICATE_NAMES)
def test_faults_storms_and_drops_leave_exactly_one_po_per_name(
    tmp_path: Path, mode: str
) -> None:
    count = 600  # per mode, to keep both modes' storms within what one run took
    path = write_po_workbook(tmp_path / "many.xlsx", po_rows(count, lines=1))
    # 600 creates are at least 600 requests: throttle_every=250 answers 429 at
    # least twice even when a loaded machine never outruns the rate limit.
    options = SandboxOptions(
        db_path=tmp_path / "faulty.sqlite", seed=7, fault_rate=0.05, drop_rate=0.02,
        rate_limit=150.0, throttle_every=250, **names_mode(mode),
    )
    with running_sandbox(options) as server:
        # Ask for more than the server allows, to provoke 429 storms.
        settings = settings_for(server, rate=400.0, concurrency=16, max_retries=8)
        outcome = run_import(path, settings)
    # Read what it holds through a well-behaved server on the same state.
    with running_sandbox(SandboxOptions(db_path=options.db_path, **names_mode(mode))) as calm:
        held = Counter(po["name"] for po in sandbox_pos(calm))
        # A fresh machine: the same file again without the journal finds every PO
        # by name and creates only the ones that failed.
        again = run_import(path, settings_for(calm, rate=500.0, concurrency=8),
                           journal=tmp_path / "fresh-journal.sqlite")
        after = Counter(po["name"] for po in sandbox_pos(calm))
    assert outcome.stats.throttled > 0 and outcome.stats.retries > 0
    assert set(held.values()) == {1}
    statuses = Counter(r.status for r in outcome.results)
    assert sum(statuses.values()) == count
    created = {r.key for r in outcome.results if r.status == "created"}
    failed = {r.key for r in outcome.results if r.status == "failed"}
    # every row's status matches what the sandbox holds
    assert created <= set(held)
    assert not (failed & set(held)), "a row reported failed although its PO exists"
    assert len(created) + len(failed) == count
    assert statuses["created"] >= count - 10, statuses
    assert len(after) == count and set(after.values()) == {1}
    again_statuses = Counter(r.status for r in again.results)
    assert again_statuses == +Counter({"unchanged": len(held), "created": count - len(held)})


@pytest.mark.parametrize("mode", DUPLICATE_NAMES)
def test_rerun_without_journal_creates_nothing_twice(tmp_path: Path, mode: str) -> None:
    path = write_po_workbook(tmp_path / "a.xlsx", po_rows(6))
    with running_sandbox(SandboxOptions(db_path=tmp_path / "s.sqlite", **names_mode(mode))
                         ) as server:
        settings = settings_for(server, rate=500.0, concurrency=4)
        first = run_import(path, settings, journal=tmp_path / "machine-a.sqlite")
        # Another machine (or a lost journal): nothing says which POs exist but the API.
        second = run_import(path, settings, journal=tmp_path / "machine-b.sqlite")
        updated = run_import(path, settings, journal=tmp_path / "machine-c.sqlite",
                             on_existing=OnExisting.UPDATE)
        held = Counter(po["name"] for po in sandbox_pos(server))
    assert Counter(r.status for r in first.results) == {"created": 12}
    assert Counter(r.status for r in second.results) == {"unchanged": 12}
    assert Counter(r.status for r in updated.results) == {"unchanged": 12}
    assert len(held) == 6 and set(held.values()) == {1}

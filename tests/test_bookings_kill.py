"""kill -9 a bookings import at random moments, resume it: no duplicate booking or link."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from pathlib import Path

import pytest

from bulkpo.imports import ImportOptions, import_purchase_orders, load_purchase_orders
from bulkpo.sandbox import SandboxOptions, running_sandbox
from tests.conftest import listing, names_mode, settings_for
from tests.factories import po_rows, write_po_workbook
from tests.test_bookings import booking_row, write_workbook
from tests.test_import_kill import cli_env, kill_then_resume

BOOKING_COUNT = 120


@pytest.mark.slow
# Accepting duplicates is the mode without a safety net (no 409): it gets two seeds.
@pytest.mark.parametrize(("seed", "mode"), [(1, "refuse"), (1, "accept"), (2, "accept")])
def test_kill_and_resume_never_duplicates_bookings_or_links(
    tmp_path: Path, seed: int, mode: str
) -> None:
    chance = random.Random(seed)
    pos = write_po_workbook(tmp_path / "pos.xlsx", po_rows(20, lines=2))
    path = write_workbook(
        tmp_path / "bookings.xlsx", None,
        [booking_row(n, po_numbers=f"PO-{(n % 20) + 1:05d}") for n in range(1, BOOKING_COUNT + 1)],
    )
    with running_sandbox(
        SandboxOptions(db_path=tmp_path / "sandbox.sqlite", seed=seed, latency_ms=5,
                       **names_mode(mode))
    ) as server:
        table, validation = load_purchase_orders(pos)
        asyncio.run(import_purchase_orders(
            table, validation, settings_for(server, rate=500.0),
            ImportOptions(journal=tmp_path / "pos.sqlite"),
        ))
        common = ["import", str(path), "--journal", str(tmp_path / "j.sqlite"), "--yes",
                  "--rate", "150", "--concurrency", "8"]
        kills, report = kill_then_resume(common, cli_env(server), tmp_path, chance, (0.8, 2.0))
        held = Counter(b["name"] for b in listing(server, "/bookings"))
        links = Counter((item["booking"]["id"], item["purchase_order_line_item"]["id"])
                        for item in listing(server, "/booking_line_items"))
    assert kills >= 1, "the import finished before it could be killed; slow it down"
    assert len(held) == BOOKING_COUNT and set(held.values()) == {1}
    assert len(links) == BOOKING_COUNT * 2 and set(links.values()) == {1}
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert Counter(row["status"] for row in rows) == {"created": BOOKING_COUNT}

"""What re-running a bookings import costs in requests per booking, with and without the journal.

Not a test: prints figures measured in one run (the bookings sibling of bench_rerun.py).

A sandbox (in a process of its own) holds N POs of 2 lines (imported from a PO
file) and about N/10 bookings of another file. A bookings file of N bookings,
each naming one of the POs (so each gets 2 links), is imported once, then again,
each way measured in the same run against its baseline, the old path of one
lookup per booking (``read_pages=False``):

- with the journal of the first run;
- without a journal (another machine, or a lost journal);
- with the journal and ``--on-existing update``, after 1 % of the rows changed.

Requests are counted by the client (every request goes through its pacer).

    python benchmarks/bench_rerun_bookings.py [--bookings 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sandbox_process import KEY, sandbox_process
from bulkpo.config import Settings, load_settings
from bulkpo.engine.exactly_once import OnExisting
from bulkpo.imports import ImportOptions, ImportResult, import_workbook, load_workbook
from tests.factories import po_rows
from tests.test_bookings import booking_row, write_workbook

GOAL = 0.1


def run(path: Path, settings: Settings, journal: Path, **options: Any) -> ImportResult:
    workbook = load_workbook(path, defaults=settings.bookings)
    return asyncio.run(import_workbook(
        workbook, settings, ImportOptions(journal=journal, **options)))


def line(label: str, result: ImportResult, count: int) -> float:
    per = result.stats.requests / count
    assert result.bookings is not None
    print(f"  {label:<58} {result.stats.requests:>6} requests = {per:6.3f}/booking "
          f"in {result.stats.elapsed:5.1f}s   {result.bookings.summary.line()}")
    return per


def compare(label: str, path: Path, settings: Settings, journal: Path | None, tmp: Path,
            count: int, baseline: Path | None = None, **options: Any) -> tuple[float, float]:
    """The pages and the baseline on copies of the same journal (or none); ``baseline``
    the baseline's file when the pages' run changes Flexport (its amendments apply)."""
    copies = []
    for name in ("new", "old"):
        copy = tmp / f"{label}-{name}.sqlite"
        if journal is not None:
            shutil.copy(journal, copy)
        copies.append(copy)
    new = line(f"{label}: pages", run(path, settings, copies[0], **options), count)
    old = line(f"{label}: baseline, one lookup per booking",
               run(baseline or path, settings, copies[1], read_pages=False, **options), count)
    return new, old


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bookings", type=int, default=1000)
    args = parser.parse_args()
    count = args.bookings
    others = max(1, count // 10)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        pos = write_workbook(tmp / "pos.xlsx", po_rows(count + others), [])
        other = write_workbook(tmp / "other.xlsx", None, [
            booking_row(n, booking_name=f"BK-OTHER-{n}")
            for n in range(count + 1, count + others + 1)])
        rows = [booking_row(n) for n in range(1, count + 1)]
        path = write_workbook(tmp / "bookings.xlsx", None, rows)
        # 1 % of the rows changed, each side its own change: the pages' amendments apply.
        changed = [write_workbook(tmp / f"changed-{day}.xlsx", None, [
            booking_row(n, cargo_ready_date=f"2026-12-{day}") if n % 100 == 0 else row
            for n, row in enumerate(rows, start=1)]) for day in (15, 16)]
        with sandbox_process(tmp / "sandbox.sqlite") as base_url:
            settings = load_settings(env={}, base_url=base_url, api_key=KEY, rate=2000.0,
                                     concurrency=16)
            run(pos, settings, tmp / "pos.sqlite")
            run(other, settings, tmp / "other.sqlite")
            journal = tmp / "journal.sqlite"
            print(f"bookings re-run requests per booking: {count} bookings of 2 links, an "
                  f"account holding {count + others} bookings and POs; goal <= {GOAL}/booking")
            line("first run (creates and links every booking)", run(path, settings, journal),
                 count)
            with_journal = compare("with journal", path, settings, journal, tmp, count)
            without = compare("without journal", path, settings, None, tmp, count)
            amended = compare("1% changed, --on-existing update", changed[0], settings,
                              journal, tmp, count, changed[1], on_existing=OnExisting.UPDATE)
        print("summary (requests per booking, pages vs one lookup per booking):")
        for label, (new, old) in (("with journal", with_journal),
                                  ("without journal", without),
                                  ("1% changed, update", amended)):
            verdict = "meets" if new <= GOAL else "misses"
            print(f"  {label:<22} {new:6.3f} vs {old:6.3f}  ({old / max(new, 1e-9):,.0f}x fewer; "
                  f"{verdict} the goal)")


if __name__ == "__main__":
    main()

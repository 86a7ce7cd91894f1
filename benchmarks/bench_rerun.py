"""What re-running an import costs in requests per PO, with and without the journal.

Not a test: prints figures measured in one run.

A sandbox (in a process of its own) holds the file's N POs, created by a first
import, plus about N/10 POs of other files, so the account holds about as many POs
as the file. The same file is then imported again, each way measured in the same
run against its baseline, the old path of one lookup per PO (``read_pages=False``):

- with the journal of the first run (then once more, with nothing changed since);
- without a journal (another machine, or a lost journal);
- with the journal, after someone changed 1 % of the POs in Flexport.

Requests are counted by the client (every request goes through its pacer), and
the goal is <= 0.1 requests per PO.

    python benchmarks/bench_rerun.py [--pos 1000] [--lines 2]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sandbox_process import KEY, sandbox_process
from bulkpo.config import Settings, load_settings
from bulkpo.imports import ImportOptions, ImportResult, import_purchase_orders, load_purchase_orders
from tests.factories import po_rows, write_po_workbook

GOAL = 0.1


def run(path: Path, settings: Settings, journal: Path, *, read_pages: bool = True
        ) -> ImportResult:
    table, validation = load_purchase_orders(path)
    options = ImportOptions(journal=journal, read_pages=read_pages)
    return asyncio.run(import_purchase_orders(table, validation, settings, options))


def line(label: str, result: ImportResult, pos: int) -> float:
    per_po = result.stats.requests / pos
    print(f"  {label:<44} {result.stats.requests:>6} requests = {per_po:6.3f}/PO "
          f"in {result.stats.elapsed:5.1f}s   {result.summary.line()}")
    return per_po


def compare(label: str, path: Path, settings: Settings, journal: Path | None, tmp: Path,
            pos: int) -> tuple[float, float]:
    """The new path and the baseline on copies of the same journal (or none)."""
    copies = []
    for name in ("new", "old"):
        copy = tmp / f"{label}-{name}.sqlite"
        if journal is not None:
            shutil.copy(journal, copy)
        copies.append(copy)
    new = line(f"{label}: pages", run(path, settings, copies[0]), pos)
    old = line(f"{label}: baseline, one lookup per PO",
               run(path, settings, copies[1], read_pages=False), pos)
    return new, old


def change_some(base_url: str, count: int) -> None:
    """Someone revises the file's first ``count`` POs in Flexport (their incoterm)."""
    headers = {"Authorization": f"Bearer {KEY}", "Flexport-Version": "3"}
    with httpx.Client(base_url=base_url, headers=headers) as http:
        for number in range(1, count + 1):
            po = http.get("/purchase_orders", params={"f.name": f"PO-{number:05d}"}
                          ).json()["data"]["data"][0]
            lines = http.get("/purchase_order_line_items", params={
                "f.purchase_order.id": po["id"], "per": 100}).json()["data"]["data"]
            body = {
                "name": po["name"], "status": po["status"], "incoterm": "EXW",
                "buyer": {"name": po["buyer"]["name"], "ref": po["buyer"].get("ref")},
                "seller": {"name": po["seller"]["name"]},
                "line_items": [{"line_item_number": item["line_item_number"],
                                "product": {"sku": item["product"]["sku"]},
                                "units": item["units"]} for item in lines],
            }  # fmt: skip
            http.post(f"/purchase_orders/{po['id']}", json=body).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pos", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=2)
    args = parser.parse_args()
    pos = args.pos
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path = write_po_workbook(tmp / "file.xlsx", po_rows(pos, lines=args.lines))
        others = write_po_workbook(tmp / "others.xlsx",
                                   po_rows(max(1, pos // 10), lines=args.lines, start=pos + 1))
        with sandbox_process(tmp / "sandbox.sqlite") as base_url:
            settings = load_settings(env={}, base_url=base_url, api_key=KEY, rate=2000.0,
                                     concurrency=16)
            run(others, settings, tmp / "others.sqlite")
            journal = tmp / "journal.sqlite"
            print(f"re-run requests per PO: {pos} POs of {args.lines} lines, an account "
                  f"holding {pos + max(1, pos // 10)} POs; goal <= {GOAL}/PO")
            line("first run (creates every PO)", run(path, settings, journal), pos)
            with_journal = compare("with journal", path, settings, journal, tmp, pos)
            quiet = line("with journal, nothing changed since the last re-run",
                         run(path, settings, tmp / "with journal-new.sqlite"), pos)
            without = compare("without journal", path, settings, None, tmp, pos)
            change_some(base_url, max(1, pos // 100))
            changed = compare("with journal, 1% changed", path, settings, journal, tmp, pos)
        print("summary (requests per PO, pages vs one lookup per PO):")
        for label, (new, old) in (("with journal", with_journal),
                                  ("without journal", without),
                                  ("with journal, 1% changed", changed)):
            verdict = "meets" if new <= GOAL else "misses"
            print(f"  {label:<26} {new:6.3f} vs {old:6.3f}  ({old / max(new, 1e-9):,.0f}x fewer; "
                  f"{verdict} the goal)")
        print(f"  {'nothing changed since':<26} {quiet:6.3f}")


if __name__ == "__main__":
    main()

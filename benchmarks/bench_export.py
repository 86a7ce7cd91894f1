"""Benchmark: export N purchase orders (5 lines each) from a sandbox to xlsx.

Prints, in the same run: the export's rows/s end to end (fetch + write), the write
stage alone (rows_for_po, the Summary and the xlsx writer, no API) and pandas
``DataFrame.to_excel`` writing the same rows; the export and the write stage are
repeated (best and spread). The CPU printed for the export is the fetching
process's: from 10,000 POs on, a second process writes the file. Not a test.

The sandbox runs in its own process and is read once through every list page
before the runs are timed: a real server answers list pages from its cache, and
this measures bulkpo, not the sandbox's first rendering of each object.

    python benchmarks/bench_export.py            # 20,000 POs, 100,000 rows, 3 runs
    python benchmarks/bench_export.py --pos 2000 --repeat 1
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bulkpo.columns import PURCHASE_ORDER_COLUMNS
from bulkpo.config import load_settings
from bulkpo.purchase_orders.export import (
    ExportSummary,
    _export_column,
    export_purchase_orders,
    rows_for_po,
)
from bulkpo.purchase_orders.query import ExportQuery
from bulkpo.sandbox import SandboxOptions, running_sandbox
from bulkpo.sandbox.purchase_orders import parse_purchase_order
from bulkpo.sandbox.store import Store
from bulkpo.sheets.export_writer import xlsx_export

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.sandbox_process import KEY, sandbox_process

LINES = 5


def po_body(i: int) -> dict[str, Any]:
    return {
        "name": f"PO-{i:06d}",
        "status": ("open", "closed", "cancelled")[i % 3],
        "buyer": {"name": "Acme Imports Inc", "ref": "acme-us", "country_code": "US"},
        "seller": {"name": f"Supplier {i % 40}", "country_code": "CN"},
        "incoterm": "FOB",
        "transportation_mode": "ocean",
        "cargo_ready_date": f"2026-{i % 12 + 1:02d}-15",
        "must_arrive_date": "2027-02-01",
        "origin_port_loc_code": "CNYTN",
        "destination_port_loc_code": "USLAX",
        "memo": f"Order {i} for the spring collection",
        "line_items": [
            {
                "line_item_number": n,
                "product": {"sku": f"{i:06d}-{n}", "name": f"Desk lamp model {n}"},
                "units": 100 * n,
                "unit_of_measure": "PCS",
                "unit_cost": {"amount": "12.50", "currency_code": "USD"},
                "hs_codes": [{"code": "9405.20", "country_code": "US"}],
            }
            for n in range(1, LINES + 1)
        ],
    }


def load(store: Store, count: int) -> None:
    """Straight into the sandbox's store: the same checks as its POST, no HTTP."""
    refs = store.refs()
    for i in range(count):
        store.create_purchase_order(parse_purchase_order(po_body(i), refs, partial=False))


def read_model(i: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A PO and its lines shaped as the API reads them back."""
    body = po_body(i)
    lines = body.pop("line_items")
    body["origin_port"] = {"address": {"unlocode": body.pop("origin_port_loc_code")}}
    body["destination_port"] = {"address": {"unlocode": body.pop("destination_port_loc_code")}}
    return body, lines


def write_stage(path: Path, count: int) -> tuple[int, float]:
    """The export's own work without the API: rows_for_po, Summary tallies, the writer."""
    keys = list(PURCHASE_ORDER_COLUMNS.keys)
    summary = ExportSummary()
    started = time.perf_counter()
    with xlsx_export(path, [_export_column(k) for k in keys], sheet_name="Purchase Orders") as book:
        for i in range(count):
            rows = rows_for_po(*read_model(i))
            summary.add(rows)
            for row in rows:
                book.append([row.get(k) for k in keys])
        book.summary = summary.tables()
        rows_written = book.rows
    return rows_written, time.perf_counter() - started


def warm(base_url: str) -> float:
    """Every PO and line-item list page once, untimed: the sandbox's cache is then warm."""
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {KEY}", "Flexport-Version": "2"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for path in ("/purchase_orders", "/purchase_order_line_items"):
            url: str | None = path + "?per=100"
            while url:
                answer = client.get(url)
                answer.raise_for_status()
                url = answer.json()["data"]["next"]
    return time.perf_counter() - started


def spread(rates: list[float]) -> str:
    return (f"best {max(rates):,.0f} rows/s, spread {min(rates):,.0f}-{max(rates):,.0f} "
            f"over {len(rates)} runs")  # fmt: skip


def max_rss_mb() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_cpu() -> float:
    """CPU of the ended child processes: the export's writing process (the sandbox's
    process ends after the runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pos", type=int, default=20_000, help="purchase orders to export")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the export and stage")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        db = tmp / "sandbox.sqlite"
        with running_sandbox(SandboxOptions(db_path=db)) as server:
            started = time.perf_counter()
            load(server.store, args.pos)
            print(f"loaded {args.pos} POs ({args.pos * LINES} rows) in "
                  f"{time.perf_counter() - started:.1f}s")  # fmt: skip
        # Exported from a sandbox in its own process: only bulkpo is measured.
        out = tmp / "export.xlsx"
        rates: list[float] = []
        stage_rates: list[float] = []
        with sandbox_process(db) as base_url:
            print(f"sandbox cache warmed: every list page read once in {warm(base_url):.1f}s")
            settings = load_settings(
                env={}, base_url=base_url, api_key=KEY,
                rate=1_000_000.0, concurrency=args.concurrency,
            )  # fmt: skip
            for run in range(1, args.repeat + 1):
                rss_before = max_rss_mb()
                writer_cpu = children_cpu()
                started, cpu = time.perf_counter(), time.process_time()
                result = asyncio.run(export_purchase_orders(settings, ExportQuery(), out))
                elapsed = time.perf_counter() - started
                cpu = time.process_time() - cpu
                writer_cpu = children_cpu() - writer_cpu
                export_rss = max_rss_mb() - rss_before
                rates.append(result.rows / elapsed)
                print(f"run {run} bulkpo export : {result.rows} rows in {elapsed:.1f}s = "
                      f"{rates[-1]:,.0f} rows/s (fetch + write), peak RSS growth "
                      f"{export_rss:.0f} MB, {out.stat().st_size / 1e6:.1f} MB file; "
                      f"the fetching process's CPU {cpu:.1f}s = "
                      f"{result.rows / cpu:,.0f} rows per CPU-second; the writing "
                      f"process's CPU {writer_cpu:.1f}s, its peak RSS "
                      f"{children_rss_mb():.0f} MB")  # fmt: skip
                rss_before = max_rss_mb()
                cpu = time.process_time()
                written, stage = write_stage(tmp / "stage.xlsx", args.pos)
                cpu = time.process_time() - cpu
                stage_rss = max_rss_mb() - rss_before
                stage_rates.append(written / stage)
                print(f"run {run} write stage   : {written} rows in {stage:.1f}s = "
                      f"{stage_rates[-1]:,.0f} rows/s (rows_for_po + Summary + xlsx, no API), "
                      f"RSS growth {stage_rss:.0f} MB; "
                      f"{written / cpu:,.0f} rows per CPU-second")  # fmt: skip
        rate = max(rates)

        import pandas as pd
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(out).get_sheet_by_name("Purchase Orders")
        data = sheet.to_python()
        frame = pd.DataFrame(data[1:], columns=data[0])
        del data
        rss_before = max_rss_mb()
        started = time.perf_counter()
        frame.to_excel(tmp / "pandas.xlsx", index=False, sheet_name="Purchase Orders")
        base_elapsed = time.perf_counter() - started
        base_rss = max_rss_mb() - rss_before
        base_rate = len(frame) / base_elapsed
        print(f"pandas to_excel: {len(frame)} rows in {base_elapsed:.1f}s = "
              f"{base_rate:,.0f} rows/s (write only), RSS growth {base_rss:.0f} MB")  # fmt: skip
        print(f"bulkpo export  : {spread(rates)}")
        print(f"write stage    : {spread(stage_rates)}")
        print(f"ratio          : export {rate / base_rate:.2f}x pandas' rows/s, "
              f"{rate / max(stage_rates):.2f} of the write stage's; write stage "
              f"{max(stage_rates) / base_rate:.2f}x pandas'")  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()

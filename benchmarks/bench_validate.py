"""How fast `bulkpo validate` of a purchase-order workbook is, against a raw calamine read.

Run: python benchmarks/bench_validate.py [--rows N] [--skip-pandas] [--repeat K]
     (default 100,000 rows x 15 columns, best of 3)

Prints, from one run on one machine: the raw python-calamine read of the sheet, bulkpo's
read + validate (what `bulkpo validate` does: a large sheet is read in parts, two a core),
the validation alone, their ratio to the raw read (the issue's target: read + validate
<= 1.5x raw), the same with the sheet read whole as on one core, a pandas.read_excel(openpyxl)
+ one pydantic model per row baseline, and the memory of a validation: its tracemalloc
peak and the peak RSS of a fresh process that reads and validates the file and keeps the
purchase orders, next to one that only reads it raw. bulkpo's figures are the CLI's: the
library call under bulkpo.cli.options.gc_paused, as `bulkpo validate` runs it; the same
call made by a host program with its collector on (the library pauses it for the call
and moves what it built to the oldest generation, freezing nothing) is shown beside them.
Not a test; the figures go into reviews. Raw and bulkpo runs alternate so that a noisy
machine hits both alike.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
from pydantic import BaseModel
from python_calamine import CalamineWorkbook

from bulkpo.cli.options import gc_paused
from bulkpo.columns import PURCHASE_ORDER_COLUMNS
from bulkpo.imports import load_purchase_orders
from bulkpo.purchase_orders import validate_purchase_orders
from bulkpo.sheets import reader
from bulkpo.sheets.parts import part_count
from bulkpo.sheets.reader import read_table
from bulkpo.validation import ValidationResult

SHEET = "Purchase Orders"
HEADERS = ["PO Number", "Status", "Seller", "Seller Country", "Incoterm", "Transportation Mode",
           "Cargo Ready Date", "Must Arrive Date", "Origin Port", "Destination Port",
           "Line Number", "SKU", "Quantity", "Unit Cost", "Currency"]


def write_workbook(path: Path, rows: int) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    ws.append(HEADERS)
    # CNNGB is Ningbo's airport, not its seaport: every 4th PO (all five of its rows) is
    # invalid, so the run also pays for issues, not only for clean rows.
    ports = ["CNYTN", "CNSHG", "VNSGN", "CNNGB"]
    for i in range(rows):
        po = i // 5
        ws.append([
            f"PO-{po:07d}", "open", f"Supplier {po % 300}", "CN", "FOB", "ocean",
            dt.date(2026, 3, 1) + dt.timedelta(days=po % 60),
            dt.date(2026, 5, 1) + dt.timedelta(days=po % 60),
            ports[po % 4], "USLAX", i % 5 + 1, f"{i % 5000:06d}", 100 + i % 900,
            round(1 + (i % 1000) / 100, 2), "USD",
        ])
    wb.save(path)


def raw_read(path: Path) -> list[list[Any]]:
    """What the issue compares against: python-calamine's own read of the sheet."""
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(SHEET)
    rows: list[list[Any]] = sheet.to_python()
    return rows


def bulkpo_validate(path: Path) -> ValidationResult:
    """What `bulkpo validate FILE` runs before printing: the library call under the
    CLI's policy of pausing the garbage collector (the library leaves it alone)."""
    with gc_paused():
        return load_purchase_orders(path)[1]


def library_validate(path: Path) -> ValidationResult:
    """The same library call with the collector as the host program has it."""
    return load_purchase_orders(path)[1]


def one_core_validate(path: Path) -> ValidationResult:
    """bulkpo_validate with the sheet read whole, as on a one-core machine (the guard pass
    first, then one calamine call), not in parts on the cores (bulkpo/sheets/parts.py)."""
    real = reader.part_count
    reader.part_count = lambda size: 1  # type: ignore[assignment]
    try:
        return bulkpo_validate(path)
    finally:
        reader.part_count = real


class LineModel(BaseModel):
    po_number: str
    status: str
    seller: str
    seller_country: str
    incoterm: str
    mode: str
    cargo_ready_date: dt.date
    must_arrive_date: dt.date
    origin_port: str
    destination_port: str
    line_number: int
    sku: str
    quantity: int
    unit_cost: Decimal
    currency: str


def pandas_pydantic(path: Path) -> int:
    frame = pd.read_excel(path, engine="openpyxl", dtype={"SKU": str})
    names = list(LineModel.model_fields)
    models = [LineModel(**dict(zip(names, rec, strict=True)))
              for rec in frame.itertuples(index=False)]
    return len(models)


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    result = fn()
    took = time.perf_counter() - start
    del result
    gc.collect()  # each run starts from the same heap, whatever the last one left
    return took


def peak_rss_mb(path: Path, what: str) -> float:
    """Peak RSS of a fresh interpreter that runs ``what`` on the file and keeps its result.

    Read from VmHWM, which starts afresh at exec; ru_maxrss would carry this process's
    own peak over into the child.
    """
    code = (
        "import re, sys\n"
        "from pathlib import Path\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "import bench_validate as b\n"
        f"kept = b.{what}(Path(sys.argv[1]))\n"
        "status = Path('/proc/self/status').read_text()\n"
        "print(re.search(r'VmHWM:\\s*(\\d+)', status).group(1))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path), str(Path(__file__).parent)],
                         check=True, capture_output=True, text=True).stdout
    return int(out.split()[-1]) / 1024  # KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of how many runs")
    parser.add_argument("--skip-pandas", action="store_true",
                        help="skip the slow pandas + pydantic baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pos.xlsx"
        start = time.perf_counter()
        write_workbook(path, args.rows)
        print(f"wrote {args.rows:,} rows x {len(HEADERS)} columns "
              f"({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - start:.1f} s")

        raw_times: list[float] = []
        total_times: list[float] = []
        library_times: list[float] = []
        one_core_times: list[float] = []
        for _ in range(args.repeat):
            raw_times.append(seconds(lambda: raw_read(path)))
            total_times.append(seconds(lambda: bulkpo_validate(path)))
            library_times.append(seconds(lambda: library_validate(path)))
            one_core_times.append(seconds(lambda: one_core_validate(path)))
        raw, total, library = min(raw_times), min(total_times), min(library_times)
        one_core = min(one_core_times)

        table = read_table(path, sheet=SHEET)

        def paused_check() -> ValidationResult:
            with gc_paused():
                return validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS)

        check = min(seconds(paused_check) for _ in range(args.repeat))
        result = validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS)
        tracemalloc.start()
        validate_purchase_orders(table, PURCHASE_ORDER_COLUMNS)
        traced_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        def show(label: str, value: str) -> None:
            print(f"{label:<48} {value}")

        show(f"raw python-calamine read (best of {args.repeat})", f"{raw:6.2f} s  "
             f"[{', '.join(f'{t:.2f}' for t in raw_times)}]")
        show(f"bulkpo read + validate (best of {args.repeat})", f"{total:6.2f} s  "
             f"[{', '.join(f'{t:.2f}' for t in total_times)}]")
        show("  of which validation alone", f"{check:6.2f} s")
        show(f"  same, library call from a host (best of {args.repeat})",
             f"{library:6.2f} s  [{', '.join(f'{t:.2f}' for t in library_times)}]")
        show("ratio read+validate / raw read", f"{total / raw:6.2f}x  (target <= 1.50x)")
        show("  ratio of the medians (a noisy machine's fairer figure)",
             f"{statistics.median(total_times) / statistics.median(raw_times):6.2f}x")
        with zipfile.ZipFile(path) as zf:
            parts = part_count(zf.getinfo("xl/worksheets/sheet1.xml").file_size)
        show("  sheet read in parts (two a core)", f"{parts:6d}")
        show(f"  same, sheet read whole (one core, best of {args.repeat})",
             f"{one_core:6.2f} s  [{', '.join(f'{t:.2f}' for t in one_core_times)}]  "
             f"{one_core / raw:.2f}x")
        if not args.skip_pandas:
            base = seconds(lambda: pandas_pydantic(path))
            show("pandas.read_excel(openpyxl) + pydantic/row (1 run)", f"{base:6.2f} s")
            show("ratio pandas+pydantic / raw read", f"{base / raw:6.2f}x")
            show("ratio pandas+pydantic / bulkpo read+validate", f"{base / total:6.2f}x")
        show("validation peak, tracemalloc", f"{traced_peak / 1e6:6.1f} MB")
        show("peak RSS: process reading raw, keeping rows",
             f"{peak_rss_mb(path, 'raw_read'):6.1f} MB")
        show("peak RSS: process validating, keeping the POs",
             f"{peak_rss_mb(path, 'bulkpo_validate'):6.1f} MB")
        show("valid POs / issues",
             f"{len(result.purchase_orders):,} / {len(result.issues):,}")


if __name__ == "__main__":
    main()

"""Write every kind of workbook bulkpo makes into a folder, for scripts/render.sh to render.

    python scripts/render_outputs.py OUTDIR && scripts/render.sh OUTDIR/png OUTDIR/*.xlsx

The templates, a clean and a dirty validation report, an import report, a fix file, a
re-run report, and a PO export, all from the committed samples and a local sandbox.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

from openpyxl import load_workbook

import bulkpo
from bulkpo.purchase_orders.export import export_purchase_orders
from bulkpo.purchase_orders.query import ExportQuery
from bulkpo.sheets.report_writer import write_errors_file, write_result_report

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "purchase-orders.xlsx"


def _dirty(path: Path) -> None:
    """The sample with a few of the mistakes people make."""
    wb = load_workbook(SAMPLE)
    ws = wb["Purchase Orders"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(3, col["Quantity"], -5)
    ws.cell(5, col["Unit Cost"], "abc")
    ws.cell(9, col["Cargo Ready Date"], "2026-13-01")
    ws.cell(12, col["HS Code"], "94")
    wb.save(path)


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("purchase-orders.xlsx", "bookings.xlsx"):
        shutil.copy(ROOT / "templates" / name, out / f"template-{name}")

    (clean,) = bulkpo.validate_file(SAMPLE).sheets
    write_result_report(out / "validate-clean.xlsx", clean.table, clean.results)
    dirty_input = out / "input-dirty.xlsx"
    _dirty(dirty_input)
    (dirty,) = bulkpo.validate_file(dirty_input).sheets
    write_result_report(out / "validate-dirty.xlsx", dirty.table, dirty.results)
    write_errors_file(out / "fix.xlsx", dirty.table, dirty.results)

    # the user fixes one cell in the report and runs it again
    wb = load_workbook(out / "validate-dirty.xlsx")
    ws = wb["Purchase Orders"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(3, col["Quantity"], 5)
    rerun_input = out / "input-rerun.xlsx"
    wb.save(rerun_input)
    (again,) = bulkpo.validate_file(rerun_input).sheets
    write_result_report(out / "rerun.xlsx", again.table, again.results)

    with bulkpo.Sandbox() as sandbox:
        imported = bulkpo.import_file(dirty_input, settings=sandbox.settings)
        (sheet,) = imported.sheets
        write_result_report(out / "import.xlsx", sheet.table, sheet.results)
        asyncio.run(export_purchase_orders(sandbox.settings, ExportQuery(), out / "export.xlsx"))
        asyncio.run(export_purchase_orders(
            sandbox.settings, ExportQuery(status="cancelled"), out / "export-empty.xlsx"))
    for path in (dirty_input, rerun_input):
        path.unlink()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "renders"))

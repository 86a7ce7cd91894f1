"""Reports as their reader sees them (issue 13): colours only where something is wrong,
a re-run that replaces its own columns, a fix file that is a copy of the input, one
header style, numbers and dates kept as numbers and dates. Every test reads the
written file back."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

import bulkpo
from bulkpo.report import SheetResult
from bulkpo.sheets.layout import HEADER_FONT
from bulkpo.sheets.report_writer import (
    ERROR_CELL_FILL,
    FAILED_ROW_FILL,
    write_errors_file,
    write_result_report,
)
from bulkpo.table import Table

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "purchase-orders.xlsx"
SHEET = "Purchase Orders"


def _col(ws: Worksheet, header: str) -> int:
    """1-based column of ``header`` in row 1."""
    return next(c.column for c in ws[1] if c.value == header)


def _dirty(tmp_path: Path) -> Path:
    """The sample with a negative quantity in row 3 and a bad unit cost in row 5."""
    path = tmp_path / "orders.xlsx"
    wb = load_workbook(SAMPLE)
    ws = wb[SHEET]
    ws.cell(3, _col(ws, "Quantity"), -5)
    ws.cell(5, _col(ws, "Unit Cost"), "abc")
    wb.save(path)
    return path


def _checked(path: Path) -> SheetResult:
    (sheet,) = bulkpo.validate_file(path).sheets
    return sheet


def _filled(ws: Worksheet) -> set[tuple[int, int]]:
    return {
        (c.row, c.column)
        for row in ws.iter_rows(min_row=2)
        for c in row
        if c.fill.fill_type == "solid"
    }


# ------------------------------------------------------------------ item 1


def test_clean_validation_report_has_no_red_and_a_status_filter(tmp_path: Path) -> None:
    checked = _checked(SAMPLE)
    assert {r.status for r in checked.results} == {"valid"}
    out = tmp_path / "report.xlsx"
    write_result_report(out, checked.table, checked.results)
    ws = load_workbook(out)[SHEET]
    assert _filled(ws) == set()
    status = max(c.column for c in ws[1] if c.value == "Status")  # the PO sheet has its own
    ref = ws.auto_filter.ref
    assert ref is not None and ref.startswith("A1:")
    last = ws[ref.split(":")[1]].column
    assert last >= status


def test_dirty_validation_report_paints_only_the_bad_rows(tmp_path: Path) -> None:
    checked = _checked(_dirty(tmp_path))
    out = tmp_path / "report.xlsx"
    write_result_report(out, checked.table, checked.results)
    ws = load_workbook(out)[SHEET]
    invalid = {r.row for r in checked.results if r.status == "invalid"}
    assert 3 in invalid and 5 in invalid and len(invalid) < len(checked.results)
    assert {r for r, _ in _filled(ws)} == invalid  # the rows of the POs not sent, no other
    assert ws.cell(3, _col(ws, "Quantity")).fill.fgColor.rgb == ERROR_CELL_FILL
    assert ws.cell(3, 1).fill.fgColor.rgb == FAILED_ROW_FILL


# ------------------------------------------------------------------ item 2


def test_rerun_report_replaces_its_own_columns_and_sheets(tmp_path: Path) -> None:
    checked = _checked(_dirty(tmp_path))
    first = tmp_path / "report.xlsx"
    write_result_report(first, checked.table, checked.results)
    # the user fixes the quantity in the report and runs it again
    wb = load_workbook(first)
    ws = wb[SHEET]
    ws.cell(3, _col(ws, "Quantity"), 5)
    fixed = tmp_path / "fixed.xlsx"
    wb.save(fixed)
    again = _checked(fixed)
    texts = [i.message + " " + i.suggestion for i in again.issues]
    assert not any("Flexport ID" in t or "metadata.Message" in t for t in texts), texts
    assert {r.status for r in again.results if r.row == 3} == {"valid"}
    second = tmp_path / "report2.xlsx"
    write_result_report(second, again.table, again.results)
    wb = load_workbook(second)
    ws = wb[SHEET]
    headers = [c.value for c in ws[1]]
    assert headers.count("Flexport ID") == 1 and headers.count("Message") == 1
    assert headers.count("Status") == 2  # the PO status and ours, not a third
    assert sorted(wb.sheetnames) == sorted([SHEET, "Instructions", "Lists", "Errors", "Summary"])
    quantity = ws.cell(3, _col(ws, "Quantity"))
    assert quantity.fill.fill_type is None and quantity.comment is None
    still = {r.row for r in again.results if r.status == "invalid"}
    assert 5 in still and 3 not in still
    assert {r for r, _ in _filled(ws)} == still
    message = len(headers)
    assert ws.cell(3, message).value is None  # row 3's old message is gone


# ------------------------------------------------------------------ item 3


def test_fix_file_is_a_copy_with_what_to_fix_first(tmp_path: Path) -> None:
    checked = _checked(_dirty(tmp_path))
    out = tmp_path / "fix.xlsx"
    bad = sorted(r.row for r in checked.results if r.status == "invalid")
    assert write_errors_file(out, checked.table, checked.results) == len(bad)
    wb = load_workbook(out)
    assert "Instructions" in wb.sheetnames
    ws = wb[SHEET]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["What to fix", "Original row", "PO Number"]
    assert [ws.cell(r, 2).value for r in range(2, 2 + len(bad))] == bad
    quantity = _col(ws, "Quantity")
    at = bad.index(3) + 2  # where original row 3 sits in the fix file
    letter = ws.cell(1, quantity).column_letter
    what = ws.cell(at, 1).value
    assert what.startswith(f"{letter}{at} Quantity"), what
    assert ws.cell(at, quantity).value == -5
    # row 2 is held back by row 3 of its PO: named as it sits in this file
    sibling = ws.cell(bad.index(2) + 2, 1).value
    po = ws.cell(bad.index(2) + 2, 3).value
    assert sibling == f"PO {po} is sent once its row {at} here is fixed"
    # the wrapped text gets its rows' height instead of running over the next row
    for row in range(2, 2 + len(bad)):
        text = str(ws.cell(row, 1).value)
        assert (ws.row_dimensions[row].height or 0) >= 15 * -(-len(text) // 60), row
    sku = ws.cell(2, _col(ws, "SKU"))
    assert sku.number_format == "@"  # retyping 00315 keeps the zeros
    assert ws.column_dimensions[sku.column_letter].number_format == "@"
    assert ws.cell(1, 3).fill.fgColor.rgb == load_workbook(SAMPLE)[SHEET]["A1"].fill.fgColor.rgb
    covered = {
        str(rng).split(":")[0].rstrip("0123456789")
        for dv in ws.data_validations.dataValidation
        for rng in dv.sqref.ranges
    }
    assert "C" in covered and "A" not in covered  # PO Number's input message moved with it
    # corrected and loaded again, the fix file is clean and its columns are not data
    ws.cell(at, quantity, 5)
    ws.cell(bad.index(5) + 2, _col(ws, "Unit Cost"), 4.5)
    corrected = tmp_path / "corrected.xlsx"
    wb.save(corrected)
    again = _checked(corrected)
    assert {r.status for r in again.results} == {"valid"}
    assert not [i for i in again.issues if "What to fix" in i.message]


# ------------------------------------------------------------------ item 5


def test_one_named_header_style_on_every_sheet(tmp_path: Path) -> None:
    checked = _checked(_dirty(tmp_path))
    out = tmp_path / "report.xlsx"
    write_result_report(out, checked.table, checked.results)
    wb = load_workbook(out)
    ws = wb[SHEET]
    ours = [c for c in ws[1] if c.value in ("Flexport ID", "Message")]
    assert ours and all(c.font.b and c.font.name and c.font.sz for c in ours)
    assert all(c.fill.fgColor.rgb == ws["B1"].fill.fgColor.rgb for c in ours)  # like the user's
    for name in ("Errors", "Summary"):
        header = next(c for c in wb[name]["A"] if c.value is not None and c.font.b)
        assert header.font.name == HEADER_FONT.name and header.font.sz == HEADER_FONT.sz


# ------------------------------------------------------------------ item 7


def test_csv_input_report_keeps_numbers_and_dates(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    frame = pd.read_excel(SAMPLE, dtype=str, engine="openpyxl").head(6)
    frame.loc[1, "Quantity"] = "-5"
    frame["Cargo Ready Date"] = frame["Cargo Ready Date"].str[:10]  # 2026-12-19
    frame.to_csv(source, index=False)
    checked = _checked(source)
    out = tmp_path / "report.xlsx"
    write_result_report(out, checked.table, checked.results)
    back = pd.read_excel(out, sheet_name=checked.table.sheet, engine="openpyxl")
    assert pd.api.types.is_numeric_dtype(back["Quantity"])
    assert back["Quantity"].iloc[1] == -5
    assert pd.api.types.is_datetime64_any_dtype(back["Cargo Ready Date"])
    assert back["SKU"].iloc[0] == frame["SKU"].iloc[0]  # text columns stay text
    errors = load_workbook(out)["Errors"]
    values = [r[3] for r in errors.iter_rows(min_row=2, values_only=True) if r[2] == "Quantity"]
    assert values == [-5]

    out_csv = tmp_path / "report.csv"
    write_result_report(out_csv, checked.table, checked.results)
    with open(out_csv, encoding="utf-8-sig", newline="") as f:
        lines = list(csv.DictReader(f))
    assert lines[1]["Quantity"] == "-5"  # a number, not the neutralised text '-5


def test_flexport_id_is_a_number(tmp_path: Path) -> None:
    checked = _checked(SAMPLE)
    results = [
        bulkpo.RowResult(r.row, "created", str(1000 + r.row), key=r.key) for r in checked.results
    ]
    out = tmp_path / "report.xlsx"
    write_result_report(out, checked.table, results)
    back = pd.read_excel(out, sheet_name=SHEET, engine="openpyxl")
    assert pd.api.types.is_integer_dtype(back["Flexport ID"])
    assert back["Flexport ID"].iloc[0] == 1002


def test_a_csv_report_read_again_keeps_its_columns_out_of_the_data(tmp_path: Path) -> None:
    checked = _checked(SAMPLE)
    out = tmp_path / "report.csv"
    write_result_report(out, checked.table, checked.results)
    again = _checked(out)
    assert {r.status for r in again.results} == {"valid"}
    assert not [i for i in again.issues if i.code == "unknown_column"]


def test_rows_set_aside_as_not_po_data_keep_their_status_in_the_report(tmp_path: Path) -> None:
    """SAP's totals rows and Odoo's note line are skipped, not lost: each has its status."""
    corpus = Path(__file__).resolve().parent / "erp_corpus" / "files"
    for name in ("sap_me2n_en.xlsx", "odoo_purchase_order.xlsx"):
        checked = _checked(corpus / name)
        skipped = [r.row for r in checked.results if r.status == "skipped"]
        assert skipped, name
        for report in (tmp_path / f"copy-{name}", tmp_path / f"new-{name}.xlsx"):
            # The second form is the streamed report of a workbook too large to copy.
            source = checked.table if report.name.startswith("copy") else _as_text(checked)
            write_result_report(report, source, checked.results, title=name)
            ws = load_workbook(report).worksheets[0]
            # bulkpo's Status is the last one (Odoo's own Status column comes first)
            status = max(c.column for c in ws[checked.table.header_row] if c.value == "Status")
            for number in (r.row for r in checked.results):
                assert ws.cell(number, status).value, (name, report.name, number)
            assert [ws.cell(n, status).value for n in skipped] == ["skipped"] * len(skipped)


def _as_text(checked: SheetResult) -> Table:
    """The same table as if it came from a CSV (so the report cannot copy a workbook)."""
    csv_path = Path(checked.table.path).with_suffix(".csv")
    return dataclasses.replace(checked.table, path=str(csv_path))


def test_columns_nobody_sized_are_fitted_and_sized_ones_kept(tmp_path: Path) -> None:
    """An ERP export sets no column widths: its report must not show dates as ### or cut
    texts. A width the user set is theirs and stays."""
    path = tmp_path / "export.xlsx"
    wb = load_workbook(SAMPLE)
    ws = wb[SHEET]
    sized = {letter: dim.width for letter, dim in ws.column_dimensions.items()}
    kept = next(iter(sized))
    for letter in list(sized)[1:]:
        del ws.column_dimensions[letter]
    wb.save(path)
    checked = _checked(path)
    out = tmp_path / "report.xlsx"
    write_result_report(out, checked.table, checked.results)
    report = load_workbook(out)[SHEET]
    ready = report.cell(1, _col(report, "Cargo Ready Date")).column_letter
    seller = report.cell(1, _col(report, "Seller")).column_letter
    assert report.column_dimensions[kept].width == sized[kept]
    assert report.column_dimensions[ready].width >= 11  # a date, and its header
    assert report.column_dimensions[seller].width >= len("Shenzhen Bright Lights Co Ltd")

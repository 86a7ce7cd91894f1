"""`bulkpo validate`: the summary, the first problems with cells, the report, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bulkpo.cli import main
from tests.conftest import SAMPLES
from tests.factories import po_row, po_rows, write_po_workbook


def test_clean_sample_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SAMPLES / "purchase-orders.xlsx")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "purchase-orders.xlsx [Purchase Orders]: 152 rows, 50 valid POs with 152 lines; "
        "0 errors, 0 warnings"
    )


def test_erp_csv_maps_through_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SAMPLES / "erp-export.csv")]) == 0
    assert "10 valid POs" in capsys.readouterr().out


def test_errors_name_their_cells_and_fail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = po_rows(2)
    rows[1] = po_row(1, 2, cargo_ready_date="2025-13-01")
    rows[3] = po_row(2, 2, incoterm="FOB ")  # folded, not an error
    path = write_po_workbook(tmp_path / "bad.xlsx", rows)
    report = tmp_path / "checked.xlsx"
    assert main(["validate", str(path), "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert "1 valid POs with 2 lines; 1 errors" in out
    assert "error: Purchase Orders!J3 (Cargo Ready Date): " in out
    sheet = load_workbook(report)["Purchase Orders"]
    assert sheet["J3"].fill.fgColor.rgb.endswith("FFC7CE") or sheet["J3"].comment is not None
    assert sheet["J3"].comment is not None and "2025-13-01" in sheet["J3"].comment.text


def test_json_format_lists_every_issue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_po_workbook(tmp_path / "bad.xlsx", [po_row(1, 1, origin_port="CNSH1")])
    assert main(["validate", str(path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["rows"] == 1 and data["errors"] == 1
    [issue] = [i for i in data["issues"] if i["severity"] == "error"]
    assert issue["cell"] == "Purchase Orders!L2" and issue["value"] == "CNSH1"
    assert issue["code"] == "unknown_port" and "CNSH" in issue["suggestion"]


def test_report_summary_counts_valid_and_invalid_rows(tmp_path: Path) -> None:
    rows = po_rows(3)
    rows[0] = po_row(1, 1, quantity=0)
    path = write_po_workbook(tmp_path / "bad.xlsx", rows)
    report = tmp_path / "checked.xlsx"
    assert main(["validate", str(path), "--report", str(report)]) == 1
    summary = dict(
        row for row in load_workbook(report)["Summary"].iter_rows(values_only=True) if row[0]
    )
    assert summary["valid"] == 4 and summary["invalid"] == 2 and summary["total"] == 6
    assert "created" not in summary


def test_mixed_encoding_csv_reads_both_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bulkpo.columns import PURCHASE_ORDER_COLUMNS
    from bulkpo.imports import load_purchase_orders
    from tests.factories import PO_KEYS

    header = ",".join(PURCHASE_ORDER_COLUMNS.by_key(k).header for k in PO_KEYS) + "\n"

    def line(row: dict[str, object]) -> str:
        return ",".join("" if row[k] is None else str(row[k]) for k in PO_KEYS) + "\n"

    path = tmp_path / "mixed.csv"
    path.write_bytes(
        header.encode()
        + line(po_row(1, 1, product_name="Café Ñandú")).encode("utf-8")
        + line(po_row(1, 2, product_name="Crème brûlée")).encode("cp1252")
    )
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "0 errors, 1 warnings" in out
    assert "warning: the file mixes UTF-8 and Windows-1252 text: line 3 read as" in out
    _table, validation = load_purchase_orders(path)
    [po] = validation.purchase_orders
    assert [line.product_name for line in po.lines] == ["Café Ñandú", "Crème brûlée"]


def test_one_wrong_cell_is_one_error_and_its_siblings_point_at_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [po_row(1, line) for line in range(1, 5)] + [po_row(2, line) for line in range(1, 5)]
    rows[2] = po_row(1, 3, destination_port="XXLAX")  # invalid on its own: row 4
    rows[5] = po_row(2, 2, origin_port="CNSHA")  # three rows say CNYTN: row 7 is the odd one
    path = write_po_workbook(tmp_path / "bad.xlsx", rows)
    report = tmp_path / "checked.xlsx"
    assert main(["validate", str(path), "--report", str(report)]) == 1
    assert "2 errors" in capsys.readouterr().out
    book = load_workbook(report)
    errors = [r for r in book["Errors"].iter_rows(min_row=2, values_only=True) if any(r)]
    assert [(r[0], r[5]) for r in errors] == [
        ("Purchase Orders!M4", "unknown_port"), ("Purchase Orders!L7", "po_conflict")]
    sheet = book["Purchase Orders"]
    headers = [c.value for c in sheet[1]]
    message = headers.index("Message") + 1
    # the correct ports are not marked; the sibling rows carry a short pointer
    assert sheet["M2"].comment is None and sheet["L6"].comment is None
    assert sheet["M4"].comment is not None and sheet["L7"].comment is not None
    assert sheet.cell(2, message).value == (
        "Purchase Orders row 2: held back: PO PO-00001 is sent once Purchase Orders!M4 is fixed")
    assert "held back: PO PO-00002 is sent once Purchase Orders!L7" in str(
        sheet.cell(9, message).value)


def test_a_bookings_file_is_checked_as_bookings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(SAMPLES / "bookings.xlsx")]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "bookings.xlsx [Bookings]: 12 rows, 12 valid bookings; 0 errors, 0 warnings")
    # no network in validate: the POs the file does not hold are left to the import
    assert "PO numbers are not in this file (PO-2026-1001" in out
    assert "import looks them up in Flexport" in out


def test_a_combined_workbook_is_checked_per_sheet_with_a_report_for_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_bookings import booking_row, write_workbook

    bookings = [booking_row(1), booking_row(2, cargo_ready_date="2025-13-01"),
                booking_row(3, po_numbers="PO-00077")]
    path = write_workbook(tmp_path / "both.xlsx", po_rows(2), bookings)
    report = tmp_path / "result.xlsx"
    assert main(["validate", str(path), "--report", str(report)]) == 1
    out = capsys.readouterr().out
    assert "both.xlsx [Purchase Orders]: 4 rows, 2 valid POs with 4 lines; 0 errors" in out
    assert "both.xlsx [Bookings]: 3 rows, 2 valid bookings; 1 errors" in out
    assert "error: Bookings!F3 (Cargo Ready Date): " in out
    assert "1 PO numbers are not in this file (PO-00077)" in out
    pos, books = load_workbook(report), load_workbook(tmp_path / "result-bookings.xlsx")
    assert [r for r in pos["Errors"].iter_rows(min_row=2, values_only=True) if any(r)] == []
    errors = [r for r in books["Errors"].iter_rows(min_row=2, values_only=True) if any(r)]
    assert [(r[0], r[5]) for r in errors] == [("Bookings!F3", "bad_date")]
    sheet = books["Bookings"]
    status = [c.value for c in sheet[1]].index("Status") + 1
    assert [sheet.cell(r, status).value for r in (2, 3, 4)] == ["valid", "invalid", "valid"]

    assert main(["validate", str(path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [(s["kind"], s["rows"], s["errors"]) for s in data["sheets"]] == [
        ("purchase-orders", 4, 0), ("bookings", 3, 1)]
    assert data["sheets"][1]["bookings"] == 2 and data["errors"] == 1
    assert data["po_numbers_checked_at_import"] == ["PO-00077"]

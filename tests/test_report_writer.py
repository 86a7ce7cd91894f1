"""The result report (xlsx copy of the input, xlsx from csv, csv, jsonl) and the
errors-only file."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bulkpo.errors import UsageError
from bulkpo.report import RowResult
from bulkpo.sheets.reader import read_table
from bulkpo.sheets.report_writer import (
    ERROR_CELL_FILL,
    FAILED_ROW_FILL,
    WARNING_CELL_FILL,
    write_errors_file,
    write_result_report,
)
from bulkpo.table import CellRef, Issue, Row, Severity, Table

SHEET = "Purchase Orders"
HEADERS = ["PO Number", "SKU", "Quantity", "Cargo Ready", "Memo"]
ROWS = [
    Row(2, ["PO-1", "00123", 10, dt.datetime(2025, 3, 1), "fine"]),
    Row(3, ["PO-2", "00456", 5, "2025-13-01", "=1+1"]),
    Row(4, ["PO-3", "A-9", 7, dt.datetime(2025, 3, 2), None]),
    Row(5, ["PO-4", "B-1", 1, dt.datetime(2025, 3, 3), "dup"]),
]


def _input_workbook(path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET
    ws.append(HEADERS)
    for row in ROWS:
        ws.append(row.values)
    ws["B3"].number_format = "@"
    notes = wb.create_sheet("Notes")
    notes["A1"] = "keep me"
    wb.save(path)


def _results() -> list[RowResult]:
    bad_date = Issue(
        CellRef(SHEET, 3, 3),
        "Cargo Ready",
        "2025-13-01",
        "bad_date",
        Severity.ERROR,
        '"2025-13-01" is no date',
        "write it as 2025-01-13",
    )
    odd_sku = Issue(CellRef(SHEET, 4, 1), "SKU", "A-9", "odd_sku", Severity.WARNING, "unusual SKU")
    return [
        RowResult(2, "created", "1001", key="PO-1"),
        RowResult(3, "invalid", None, "", [bad_date], key="PO-2"),
        RowResult(4, "created", "1003", "", [odd_sku], key="PO-3"),
        RowResult(5, "failed", None, "HTTP 409: name already taken", key="PO-4"),
    ]


@pytest.fixture
def table(tmp_path: Path) -> Table:
    path = tmp_path / "orders.xlsx"
    _input_workbook(path)
    return Table(str(path), SHEET, 1, list(HEADERS), [Row(r.number, list(r.values)) for r in ROWS])


def test_xlsx_report_is_a_marked_copy_of_the_input(tmp_path: Path, table: Table) -> None:
    out = tmp_path / "report.xlsx"
    write_result_report(out, table, _results(), title="Import of orders.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames[:2] == [SHEET, "Notes"]
    assert wb["Notes"]["A1"].value == "keep me"
    ws = wb[SHEET]
    assert [c.value for c in ws[1]] == [*HEADERS, "Status", "Flexport ID", "Message"]
    assert ws["F1"].font.b
    assert [ws.cell(r, 6).value for r in range(2, 6)] == ["created", "invalid", "created", "failed"]
    assert ws["G2"].value == 1001  # a number where it is one
    assert ws["H5"].value == "HTTP 409: name already taken"
    assert "2025-13-01" in ws["H3"].value
    assert ws["B2"].value == "00123"
    assert ws["E3"].value == "=1+1"  # the user's own cells are not rewritten
    bad = ws["D3"]
    assert bad.fill.fgColor.rgb == ERROR_CELL_FILL
    assert bad.comment is not None and "no date" in bad.comment.text
    assert "2025-01-13" in bad.comment.text
    assert ws["A3"].fill.fgColor.rgb == FAILED_ROW_FILL
    assert ws["A5"].fill.fgColor.rgb == FAILED_ROW_FILL
    assert ws["A2"].fill.fill_type is None
    assert ws["B4"].fill.fgColor.rgb == WARNING_CELL_FILL

    errors = wb["Errors"]
    lines = [[c.value for c in row] for row in errors.iter_rows(min_row=2)]
    assert [c.value for c in errors[1]] == [
        "Cell",
        "Row",
        "Column",
        "Value",
        "Severity",
        "Code",
        "Message",
        "Suggestion",
    ]
    assert lines[0][:6] == [
        "Purchase Orders!D3",
        3,
        "Cargo Ready",
        "2025-13-01",
        "error",
        "bad_date",
    ]
    assert lines[1][:5] == ["Purchase Orders!B4", 4, "SKU", "A-9", "warning"]
    assert lines[2][:2] == ["Purchase Orders!5:5", 5]
    assert lines[2][6] == "HTTP 409: name already taken"
    assert errors["A2"].hyperlink is not None
    assert errors["A2"].hyperlink.location == "'Purchase Orders'!D3"

    summary = wb["Summary"]
    assert summary["A1"].value == "Import of orders.xlsx"
    counts = {str(r[0]): int(str(r[1])) for r in summary.iter_rows(min_row=4, values_only=True)}
    assert counts["created"] == 2 and counts["invalid"] == 1 and counts["failed"] == 1
    assert counts["total"] == len(ROWS)
    assert sum(v for k, v in counts.items() if k != "total") == len(ROWS)


def test_xlsx_report_from_csv_input_keeps_row_places(tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text("PO Number,SKU,Quantity\nPO-1,00123,10\n\nPO-2,=cmd,5\n", encoding="utf-8")
    table = read_table(source)
    assert [r.number for r in table.rows] == [2, 4]
    issue = Issue(CellRef(table.sheet, 4, 2), "Quantity", "5", "too_few", Severity.ERROR, "too few")
    results = [RowResult(2, "created", "7"), RowResult(4, "invalid", issues=[issue])]
    out = tmp_path / "report.xlsx"
    write_result_report(out, table, results)
    wb = load_workbook(out)
    ws = wb[table.sheet]
    assert [c.value for c in ws[1]] == [
        "PO Number",
        "SKU",
        "Quantity",
        "Status",
        "Flexport ID",
        "Message",
    ]
    assert ws["B2"].value == "00123"
    assert ws["B4"].value == "'=cmd"
    assert ws["D4"].value == "invalid"
    assert ws["C4"].fill.fgColor.rgb == ERROR_CELL_FILL
    assert ws["C4"].comment is not None
    assert ws["A4"].fill.fgColor.rgb == FAILED_ROW_FILL
    assert ws.freeze_panes == "A2"
    assert wb["Errors"]["A2"].value == f"{table.sheet}!C4"


def test_csv_and_jsonl_reports(tmp_path: Path, table: Table) -> None:
    write_result_report(tmp_path / "r.csv", table, _results())
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["row", "key", "status", "flexport_id", "message", *HEADERS]
    assert lines[1][:6] == ["2", "PO-1", "created", "1001", "", "PO-1"]
    assert lines[1][6] == "00123"
    assert lines[2][9] == "'=1+1"
    assert len(lines) == 1 + len(ROWS)

    write_result_report(tmp_path / "r.jsonl", table, _results())
    objs = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [o["status"] for o in objs] == ["created", "invalid", "created", "failed"]
    assert objs[1]["issues"] == [
        {
            "cell": "Purchase Orders!D3",
            "code": "bad_date",
            "severity": "error",
            "message": '"2025-13-01" is no date',
            "suggestion": "write it as 2025-01-13",
        }
    ]
    assert objs[0]["flexport_id"] == "1001" and objs[1]["flexport_id"] is None
    assert set(objs[0]) == {"row", "key", "status", "flexport_id", "message", "issues"}


def test_unknown_report_suffix(tmp_path: Path, table: Table) -> None:
    with pytest.raises(UsageError):
        write_result_report(tmp_path / "r.txt", table, _results())


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_errors_file_holds_only_bad_rows(tmp_path: Path, table: Table, suffix: str) -> None:
    out = tmp_path / f"errors{suffix}"
    assert write_errors_file(out, table, _results()) == 2
    again = read_table(out)
    assert again.headers == ["What to fix", "Original row", *HEADERS]
    assert [r.values[2] for r in again.rows] == ["PO-2", "PO-4"]
    assert [str(r.values[1]) for r in again.rows] == ["3", "5"]
    assert again.rows[0].values[3] == "00456"
    assert again.rows[0].values[5] == "2025-13-01"
    # the bad date sits in F2 of this file (D3 of the original)
    assert str(again.rows[0].values[0]).startswith("F2 Cargo Ready:")
    assert "no date" in str(again.rows[0].values[0])
    assert again.rows[1].values[0] == "HTTP 409: name already taken"
    if suffix == ".xlsx":
        ws = load_workbook(out)[SHEET]
        assert ws["D2"].data_type == "s" and ws["D2"].value == "00456"
        assert ws["F3"].value == dt.datetime(2025, 3, 3)
        assert ws["G2"].value == "=1+1"  # the user's cell exactly as in their workbook
    else:
        assert again.rows[0].values[6] == "=1+1"
        assert "2025-03-03" in out.read_text(encoding="utf-8-sig")
        assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_errors_file_of_an_errors_file_adds_no_second_block(tmp_path: Path, table: Table) -> None:
    first = tmp_path / "errors.xlsx"
    write_errors_file(first, table, _results())
    again = read_table(first)
    results = [RowResult(r.number, "failed", message="still wrong") for r in again.rows]
    second = tmp_path / "errors2.xlsx"
    assert write_errors_file(second, again, results) == 2
    third = read_table(second)
    assert third.headers == ["What to fix", "Original row", *HEADERS]
    assert [r.values[0] for r in third.rows] == ["still wrong", "still wrong"]

"""The shared sheet writer: formula-safe text, atomic files, and the header layout."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bulkpo.sheets.writer import (
    DATE_FORMAT,
    DECIMAL_FORMAT,
    Column,
    Mark,
    atomic_path,
    csv_sink,
    jsonl_sink,
    neutralise,
    xlsx_book,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("  =cmd", "'  =cmd"),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("ACME Ltd", "ACME Ltd"),
        ("00123", "00123"),
        ("", ""),
        (-5, -5),
        (-1.5, -1.5),
        (True, True),
        (dt.date(2025, 1, 2), dt.date(2025, 1, 2)),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected
    assert type(neutralise(value)) is type(expected)


def test_atomic_path_leaves_nothing_on_exception(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_old_file_until_done(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), csv_sink(target, ["a"]) as sink:
        sink.append(["new"])
        raise RuntimeError
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    with csv_sink(target, ["a"]) as sink:
        sink.append(["new"])
    assert target.read_text(encoding="utf-8-sig").splitlines() == ["a", "new"]


def _write_book(path: Path, *, table: bool) -> None:
    columns = [Column("PO"), Column("Date", DATE_FORMAT), Column("Cost", DECIMAL_FORMAT)]
    with xlsx_book(path) as book:
        sheet = book.add_sheet("Orders", columns, table=table)
        sheet.append(["=HYPERLINK(1)", dt.date(2025, 3, 4), 2.5])
        sheet.append(["PO-2", None, -3], row_fill="FFFDE4E4", marks={0: Mark("FFFF0000", "bad")})


def test_header_bold_frozen_with_filter(tmp_path: Path) -> None:
    path = tmp_path / "plain.xlsx"
    _write_book(path, table=False)
    ws = load_workbook(path)["Orders"]
    assert [c.value for c in ws[1]] == ["PO", "Date", "Cost"]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:C3"
    assert not ws.tables
    assert ws["A2"].value == "'=HYPERLINK(1)"  # text, never a formula
    assert ws["A2"].data_type == "s"
    assert ws["B2"].number_format == DATE_FORMAT
    assert ws["C3"].value == -3 and ws["C3"].number_format == DECIMAL_FORMAT
    assert ws["A3"].fill.fgColor.rgb == "FFFF0000" and ws["A3"].comment is not None
    assert ws["B3"].fill.fgColor.rgb == "FFFDE4E4"
    assert ws.column_dimensions["A"].width >= len("=HYPERLINK(1)")


def test_excel_table_in_write_only_mode_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "table.xlsx"
    _write_book(path, table=True)
    ws = load_workbook(path)["Orders"]
    (name,) = ws.tables
    excel_table = ws.tables[name]
    assert excel_table.ref == "A1:C3"
    assert excel_table.autoFilter is not None and excel_table.autoFilter.ref == "A1:C3"
    assert [c.name for c in excel_table.tableColumns] == ["PO", "Date", "Cost"]
    assert ws.freeze_panes == "A2"


def test_exact_text_keeps_formula_like_text_as_text(tmp_path: Path) -> None:
    path = tmp_path / "exact.xlsx"
    with xlsx_book(path) as book:
        book.add_sheet("S", [Column("A")], exact_text=True).append(["=1+1"])
    cell = load_workbook(path)["S"]["A2"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == ("=1+1", "s", True)


def test_jsonl_sink(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    with jsonl_sink(path, ["a", "b"]) as sink:
        sink.append(["=x", dt.date(2025, 1, 2)])
    assert json.loads(path.read_text()) == {"a": "=x", "b": "2025-01-02"}

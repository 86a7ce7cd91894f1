"""Import templates: what they hold, and that the committed ones are up to date."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any, Literal

import openpyxl
import pytest

import bulkpo
from bulkpo.columns import COLUMN_SETS, ColumnType, Kind
from bulkpo.sheets.reader import read_table
from bulkpo.sheets.template_writer import LISTS_SHEET, write_template
from bulkpo.table import CellValue
from bulkpo.templates import (
    DATE_FORMAT,
    INSTRUCTIONS_SHEET,
    TEXT_FORMAT,
    template_spec,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FORMATS: tuple[Literal["xlsx", "csv"], ...] = ("xlsx", "csv")
KINDS = list(Kind)


def snapshot(path: Path) -> dict[str, Any]:
    """Everything a user sees in a workbook, without the zip container's bytes."""
    wb = openpyxl.load_workbook(path)
    sheets: dict[str, Any] = {}
    for ws in wb.worksheets:
        sheets[ws.title] = {
            "state": ws.sheet_state,
            "freeze": ws.freeze_panes,
            "cells": [
                [(c.value, c.number_format, bool(c.font.bold)) for c in row]
                for row in ws.iter_rows()
            ],
            "columns": sorted(
                (key, dim.width, dim.number_format) for key, dim in ws.column_dimensions.items()
            ),
            "validations": sorted(
                (str(dv.sqref), dv.type, dv.formula1, dv.prompt, dv.promptTitle, dv.errorStyle,
                 dv.showErrorMessage, dv.error)
                for dv in ws.data_validations.dataValidation
            ),
        }
    return {
        "sheets": sheets,
        "names": sorted((name, dn.attr_text) for name, dn in wb.defined_names.items()),
        "created": wb.properties.created,
        "modified": wb.properties.modified,
    }


@pytest.mark.parametrize("kind", KINDS)
def test_committed_xlsx_matches_a_fresh_generation(kind: Kind, tmp_path: Path) -> None:
    fresh = tmp_path / f"{kind.value}.xlsx"
    write_template(template_spec(kind), fresh, "xlsx")
    committed = TEMPLATES / f"{kind.value}.xlsx"
    assert snapshot(committed) == snapshot(fresh), "run: python templates/make_templates.py"


@pytest.mark.parametrize("kind", KINDS)
def test_committed_csv_matches_a_fresh_generation(kind: Kind, tmp_path: Path) -> None:
    fresh = tmp_path / f"{kind.value}.csv"
    write_template(template_spec(kind), fresh, "csv")
    committed = TEMPLATES / f"{kind.value}.csv"
    assert committed.read_bytes() == fresh.read_bytes(), "run: python templates/make_templates.py"


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_is_byte_for_byte_reproducible(fmt: Literal["xlsx", "csv"], tmp_path: Path) -> None:
    first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    write_template(template_spec(Kind.BOOKINGS), first, fmt)
    write_template(template_spec(Kind.BOOKINGS), second, fmt)
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize("kind", KINDS)
def test_xlsx_template_helps_fill_it_in(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_template(template_spec(kind), path, "xlsx")
    column_set = COLUMN_SETS[kind]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[:2] == [column_set.sheet_name, INSTRUCTIONS_SHEET]
    assert wb.active is not None and wb.active.title == column_set.sheet_name
    assert wb.properties.created == wb.properties.modified == dt.datetime(2026, 1, 1)
    ws = wb[column_set.sheet_name]
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 2  # the header and one example row
    header = [c.value for c in ws[1]]
    assert header == [col.header for col in column_set.columns]
    assert all(c.font.bold for c in ws[1])
    required_fills = {c.fill.fgColor.rgb for c, col in zip(ws[1], column_set.columns,
                                                            strict=True) if col.required}
    optional_fills = {c.fill.fgColor.rgb for c, col in zip(ws[1], column_set.columns,
                                                            strict=True) if not col.required}
    assert len(required_fills) == 1 and required_fills.isdisjoint(optional_fills)

    validations = {
        str(dv.sqref).split(":")[0][:-1]: dv for dv in ws.data_validations.dataValidation
    }
    for index, (cell, col) in enumerate(zip(ws[2], column_set.columns, strict=True), start=1):
        letter = openpyxl.utils.get_column_letter(index)
        dv = validations[letter]
        assert str(dv.sqref) == f"{letter}2:{letter}1048576"
        assert isinstance(dv.prompt, str) and col.help in dv.prompt and dv.showInputMessage
        assert dv.promptTitle == col.header[:32]
        if col.required:
            assert cell.value is not None, col.key
            assert dv.prompt.startswith("Required.")
        if col.type is ColumnType.ENUM:
            assert dv.type == "list" and dv.errorStyle == "stop" and dv.showErrorMessage
        elif col.type is ColumnType.BOOLEAN:
            assert dv.type == "list" and dv.formula1 == '"yes,no"' and dv.errorStyle == "warning"
        elif col.type in (ColumnType.COUNTRY, ColumnType.CURRENCY):
            assert dv.type == "list" and dv.errorStyle == "warning" and dv.showErrorMessage
        elif col.type is ColumnType.DATE:
            assert dv.type == "date" and dv.formula1 == "DATE(2000,1,1)"
        elif col.type in (ColumnType.INTEGER, ColumnType.DECIMAL):
            assert dv.type == "decimal" and dv.formula1 == "0"
            assert dv.operator == ("greaterThan" if col.positive else "greaterThanOrEqual")
        elif col.type is ColumnType.PORT:
            assert dv.type == "textLength" and (dv.formula1, dv.formula2) == ("3", "5")
        else:
            assert dv.type is None
        if col.type is ColumnType.DATE:
            assert isinstance(cell.value, dt.datetime)
            assert cell.number_format == DATE_FORMAT
            assert ws.column_dimensions[letter].number_format == DATE_FORMAT
        elif col.type in (ColumnType.TEXT, ColumnType.HS_CODE, ColumnType.PORT):
            assert ws.column_dimensions[letter].number_format == TEXT_FORMAT
            assert cell.value is None or isinstance(cell.value, str)
        width = ws.column_dimensions[letter].width
        # the bold header fits on one line: 20' Containers, Transportation Mode
        assert width >= col.width and width >= len(col.header) * 1.1 + 3
        assert not ws[f"{letter}1"].alignment.wrap_text
        assert ws[f"{letter}1"].font.name == "Calibri" and ws[f"{letter}1"].font.sz == 11


def test_short_enums_inline_and_long_ones_on_a_hidden_lists_sheet(tmp_path: Path) -> None:
    path = tmp_path / "po.xlsx"
    write_template(template_spec(Kind.PURCHASE_ORDERS), path, "xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Purchase Orders"]
    by_title = {dv.promptTitle: dv for dv in ws.data_validations.dataValidation}
    assert by_title["Incoterm"].formula1 == '"EXW,FOB,FAS,FCA,CPT,CFR,CIF,CIP,DAT,DAP,DDP,DPU"'
    assert by_title["Status"].formula1 == '"open,closed,cancelled"'
    uom = COLUMN_SETS[Kind.PURCHASE_ORDERS].by_key("unit_of_measure")
    name = by_title["Unit of Measure"].formula1
    assert name == "list_unit_of_measure"
    lists = wb[LISTS_SHEET]
    letter = next(c.column_letter for c in lists[1] if c.value == "Unit of Measure")
    assert wb.defined_names[name].attr_text == (
        f"'Lists'!${letter}$2:${letter}${len(uom.enum_values) + 1}"
    )
    assert lists.sheet_state == "hidden"
    values = [c.value for c in lists[letter]][1:]
    assert values[: len(uom.enum_values)] == list(uom.enum_values)
    assert not any(values[len(uom.enum_values):])  # the column of a longer list is blank


def test_bookings_template_needs_no_lists_sheet(tmp_path: Path) -> None:
    path = tmp_path / "bk.xlsx"
    write_template(template_spec(Kind.BOOKINGS), path, "xlsx")
    assert openpyxl.load_workbook(path).sheetnames == ["Bookings", INSTRUCTIONS_SHEET]


@pytest.mark.parametrize("kind", KINDS)
def test_instructions_sheet_lists_every_column(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_template(template_spec(kind), path, "xlsx")
    ws = openpyxl.load_workbook(path)[INSTRUCTIONS_SHEET]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header_index = next(i for i, row in enumerate(rows) if row[0] == "Column")
    assert rows[header_index][:6] == [
        "Column", "Required", "Type", "Allowed values", "Description", "Example",
    ]
    table = {row[0]: row for row in rows[header_index + 1:]}
    for col in COLUMN_SETS[kind].columns:
        row = table[col.header]
        assert row[1] == ("yes" if col.required else None)
        assert row[4] == col.help and row[5] == col.example
        for value in col.enum_values:
            assert value in str(row[3])
    assert any("metadata." in str(row[0]) for row in rows[:header_index])


@pytest.mark.parametrize("kind", KINDS)
def test_csv_template_is_header_and_example_row(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    write_template(template_spec(kind), path, "csv")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    column_set = COLUMN_SETS[kind]
    assert rows[0] == [col.header for col in column_set.columns]
    assert len(rows) == 2
    example = dict(zip(column_set.keys, rows[1], strict=True))
    if kind is Kind.NETWORK:
        assert (example["network_type"], example["country"]) == ("entity", "CN")
        return
    assert example["cargo_ready_date"] == "2026-12-15"
    assert example["hs_code"] == "9405.20"


def test_sku_with_leading_zeros_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "po.xlsx"
    write_template(template_spec(Kind.PURCHASE_ORDERS), path, "xlsx")
    ws = openpyxl.load_workbook(path)["Purchase Orders"]
    header = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=header.index("SKU") + 1).value == "004512-BLK"
    assert ws.cell(row=2, column=header.index("Quantity") + 1).value == 1200


def test_rows_and_metadata_columns_replace_the_example(tmp_path: Path) -> None:
    rows: list[dict[str, CellValue]] = [
        {"po_number": "=HYPERLINK(1)", "sku": "00123", "quantity": 5,
         "metadata.department": "Lighting"},
    ]
    spec = template_spec(Kind.PURCHASE_ORDERS, metadata_keys=("department",), rows=rows)
    assert spec.data.columns[-1].header == "metadata.department"
    path = tmp_path / "po.xlsx"
    write_template(spec, path, "xlsx")
    ws = openpyxl.load_workbook(path)["Purchase Orders"]
    values = {c.value: v.value for c, v in zip(ws[1], ws[2], strict=True)}
    assert values["PO Number"] == "=HYPERLINK(1)"
    assert ws["A2"].data_type == "s"  # stored as text, never as a live formula
    assert values["SKU"] == "00123" and values["metadata.department"] == "Lighting"
    assert values["Buyer"] is None


def test_unknown_row_keys_are_refused() -> None:
    with pytest.raises(KeyError, match="colour"):
        template_spec(Kind.BOOKINGS, rows=[{"colour": "red"}])


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pdf"):
        write_template(template_spec(Kind.BOOKINGS), tmp_path / "t.pdf", "pdf")  # type: ignore[arg-type]


def test_quantity_shows_a_fraction_as_typed(tmp_path: Path) -> None:
    path = tmp_path / "po.xlsx"
    write_template(template_spec(Kind.PURCHASE_ORDERS), path, "xlsx")
    ws = openpyxl.load_workbook(path)["Purchase Orders"]
    letter = next(c.column_letter for c in ws[1] if c.value == "Quantity")
    # "0" shows 12.5 as 13, hiding the mistake bulkpo then reports
    assert ws.column_dimensions[letter].number_format == "General"
    assert ws[f"{letter}2"].number_format == "General"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_untouched_example_row_is_not_imported(kind: Kind, fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"t.{fmt}"
    write_template(template_spec(kind), path, "xlsx" if fmt == "xlsx" else "csv")
    table = read_table(path)
    assert table.rows == []
    (note,) = table.issues
    assert note.code == "template_example" and note.ref is not None and note.ref.row == 2
    assert "not imported" in note.message


def test_an_edited_example_row_is_data(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_template(template_spec(Kind.PURCHASE_ORDERS), path, "xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Purchase Orders"]
    ws["A2"] = "PO-77"
    wb.save(path)
    table = read_table(path)
    assert [r.number for r in table.rows] == [2] and table.issues == []


@pytest.mark.parametrize("kind", KINDS)
def test_instructions_rows_are_as_tall_as_their_wrapped_text(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_template(template_spec(kind), path, "xlsx")
    ws = openpyxl.load_workbook(path)[INSTRUCTIONS_SHEET]
    header = next(c.row for c in ws["A"] if c.value == "Column")
    width = ws.column_dimensions["E"].width  # the description, the longest text
    for row in range(header + 1, ws.max_row + 1):
        text = str(ws.cell(row, 5).value or "")
        height = ws.row_dimensions[row].height
        assert height is not None and height >= 15 * (len(text) // int(width) + 1) - 1, row


def test_hs_code_rule_reads_the_same_in_template_and_error(tmp_path: Path) -> None:
    path = tmp_path / "po.xlsx"
    write_template(template_spec(Kind.PURCHASE_ORDERS), path, "xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Purchase Orders"]
    letter = next(c.column_letter for c in ws[1] if c.value == "HS Code")
    hint = next(dv.prompt for dv in ws.data_validations.dataValidation
                if str(dv.sqref).startswith(f"{letter}2"))
    ws[f"{letter}2"] = "94"
    wb.save(path)
    (sheet,) = bulkpo.validate_file(path).sheets
    (issue,) = [i for i in sheet.issues if i.code == "bad_hs_code"]
    assert "4 to 10 digits, dots allowed" in hint
    assert "4 to 10 digits, dots allowed" in issue.suggestion

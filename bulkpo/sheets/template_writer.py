"""Write a :class:`~bulkpo.templates.TemplateSpec` as an xlsx workbook or a csv file.

The xlsx form carries what helps people fill it in (dropdowns, input messages,
formats, an Instructions sheet); the csv form is the header and example rows.
Output is byte-for-byte reproducible, so generated templates can be committed.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import zipfile
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from bulkpo.columns import ColumnType, Kind
from bulkpo.errors import UsageError
from bulkpo.sheets.formats import TEMPLATE, listed
from bulkpo.sheets.layout import (
    CSV_ENCODING,
    HEADER_ALIGNMENT,
    HEADER_FONT,
    LINE_HEIGHT,
    csv_text,
    csv_writer,
    header_room,
    is_formula_like,
    wrapped_lines,
)
from bulkpo.sheets.outputs import Output, atomic_write_bytes, check_outputs
from bulkpo.table import CellValue
from bulkpo.templates import (
    DataSheet,
    InstructionsSheet,
    TemplateColumn,
    TemplateSpec,
    template_spec,
)

LISTS_SHEET = "Lists"
FIXED_TIMESTAMP = dt.datetime(2026, 1, 1)
"""Workbook created/modified stamp: a template's bytes depend only on its spec."""

_LAST_ROW = 1_048_576
_INLINE_LIST_MAX_VALUES = 12  # longer lists read better as a range on the Lists sheet
_INLINE_LIST_MAX_CHARS = 255  # Excel's limit for an inline list formula
_REQUIRED_FILL = PatternFill("solid", start_color="F8CBAD", end_color="F8CBAD")
_OPTIONAL_FILL = PatternFill("solid", start_color="D9E1F2", end_color="D9E1F2")
_BOLD = HEADER_FONT
_BOLD_WIDTH = 1.1  # a bold header is about a tenth wider than the same text plain


def write_template(spec: TemplateSpec, path: Path, fmt: Literal["xlsx", "csv"]) -> None:
    """Write ``spec`` to ``path`` (atomically) as an xlsx workbook or a UTF-8 csv file."""
    if fmt == "csv":
        atomic_write_bytes(path, _csv_bytes(spec.data))
    elif fmt == "xlsx":
        atomic_write_bytes(path, _xlsx_bytes(spec))
    else:
        raise ValueError(f"unknown template format {fmt!r}")


def write_template_file(
    kind: Kind | str,
    path: Path | str | None = None,
    *,
    fmt: str | None = None,
    force: bool = False,
    option: str = "path",
) -> Path:
    """A blank import template of ``kind`` (purchase-orders, bookings) at ``path``.

    The format comes from ``fmt``, else the suffix, else xlsx; the default name
    is ``<kind>.<fmt>``. An existing file, perhaps a filled-in one, is replaced
    only with ``force``::

        bulkpo.write_template("purchase-orders", "my-pos.xlsx")
    """
    kind = Kind(kind)
    chosen = Path(path) if path is not None else None
    if fmt is None:
        fmt = TEMPLATE.resolve(chosen, option).name if chosen and chosen.suffix else "xlsx"
    if fmt not in TEMPLATE.format_names:
        raise UsageError(
            f"{option} {chosen}: the template format is {listed(TEMPLATE.format_names)}"
        )
    target = chosen or Path(f"{kind.value}.{fmt}")
    check_outputs([Output(option if chosen else "", target, replace=force)], {})
    write_template(template_spec(kind), target, "xlsx" if fmt == "xlsx" else "csv")
    return target


def _csv_bytes(sheet: DataSheet) -> bytes:
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow([col.header for col in sheet.columns])
    for row in sheet.rows:
        # The examples are ours and exact: a template shows what to type.
        writer.writerow([csv_text(value, exact=True) for value in row])
    return buffer.getvalue().encode(CSV_ENCODING)


def _xlsx_bytes(spec: TemplateSpec) -> bytes:
    workbook = Workbook()
    data_ws = workbook.active
    assert data_ws is not None  # a new Workbook always has one sheet
    instructions_ws = workbook.create_sheet(spec.instructions.name)
    lists = _ListsSheet(workbook)  # created after Instructions so the hidden sheet is last
    _fill_data_sheet(data_ws, spec.data, lists)
    _fill_instructions(instructions_ws, spec.instructions)
    lists.finish()
    workbook.active = 0

    props = workbook.properties
    props.creator = "bulkpo"
    props.lastModifiedBy = "bulkpo"
    props.title = f"bulkpo {spec.kind.value} template"
    props.created = FIXED_TIMESTAMP
    props.modified = FIXED_TIMESTAMP

    # openpyxl's save() stamps "now" into the properties and every zip entry; writing
    # through ExcelWriter and repacking with a fixed date keeps the bytes stable.
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    return _repack(raw.getvalue())


def _repack(data: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIMESTAMP.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


class _ListsSheet:
    """A hidden sheet holding dropdown lists too long to write inline."""

    def __init__(self, workbook: Workbook) -> None:
        self._workbook = workbook
        self._ws: Worksheet | None = None
        self._count = 0

    def source(self, col: TemplateColumn) -> str:
        """The list formula of a dropdown: inline for short lists, else a range here."""
        inline = '"' + ",".join(col.choices) + '"'
        fits = len(col.choices) <= _INLINE_LIST_MAX_VALUES and len(inline) <= _INLINE_LIST_MAX_CHARS
        if fits and not any("," in choice for choice in col.choices):
            return inline
        if self._ws is None:
            self._ws = self._workbook.create_sheet(LISTS_SHEET)
        self._count += 1
        letter = get_column_letter(self._count)
        self._ws.cell(row=1, column=self._count, value=col.header).font = _BOLD
        for row, choice in enumerate(col.choices, start=2):
            self._ws.cell(row=row, column=self._count, value=choice)
        self._ws.column_dimensions[letter].width = max(12, len(col.header) + 2)
        name = "list_" + col.key
        ref = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(col.choices) + 1}"
        # A named range reads better in Excel's validation dialog than a raw reference.
        self._workbook.defined_names[name] = DefinedName(name, attr_text=ref)
        return name

    def finish(self) -> None:
        if self._ws is not None:
            self._ws.sheet_state = "hidden"


def _set_value(cell: Cell | MergedCell, value: CellValue) -> None:
    cell.value = value
    # A text example starting with "=" is data, never a formula.
    if isinstance(value, str) and is_formula_like(value):
        cell.data_type = "s"


def _fill_data_sheet(ws: Worksheet, sheet: DataSheet, lists: _ListsSheet) -> None:
    ws.title = sheet.name
    for index, col in enumerate(sheet.columns, start=1):
        letter = get_column_letter(index)
        header = ws.cell(row=1, column=index, value=col.header)
        header.font = _BOLD
        header.fill = _REQUIRED_FILL if col.required else _OPTIONAL_FILL
        header.alignment = HEADER_ALIGNMENT
        dimension = ws.column_dimensions[letter]
        # Wide enough for the bold header on one line: never clipped, never broken mid-word.
        dimension.width = max(col.width, 6, math.ceil(header_room(col.header) * _BOLD_WIDTH))
        # A column-wide format applies to cells users type later, not just the examples.
        dimension.number_format = col.number_format

        for row_number, row in enumerate(sheet.rows, start=2):
            cell = ws.cell(row=row_number, column=index)
            _set_value(cell, row[index - 1])
            cell.number_format = col.number_format

        validation = _validation(col, lists)
        validation.add(f"{letter}2:{letter}{_LAST_ROW}")
        ws.add_data_validation(validation)
    ws.row_dimensions[1].height = 20
    ws.freeze_panes = "A2"


_NUMBER_RULES: dict[bool, tuple[Any, str]] = {True: ("greaterThan", "a number above 0"),
                 False: ("greaterThanOrEqual", "a number, 0 or more")}


def _validation(col: TemplateColumn, lists: _ListsSheet) -> DataValidation:
    """The column's input message, and what Excel checks as it is typed: the dropdown's
    values, dates, numbers, port codes. Only an enum refuses other values; the rest
    warn, because bulkpo reads more (country names, dotted dates) and says so itself."""
    common: dict[str, Any] = {
        "allow_blank": True,
        "showInputMessage": True,
        "promptTitle": col.header[:32],
        "prompt": col.hint,
        "errorTitle": col.header[:32],
        "errorStyle": "warning",
    }
    if col.choices:
        return DataValidation(
            type="list", formula1=lists.source(col), showErrorMessage=True,
            error=("Choose one of: " + ", ".join(col.choices))[:255],
            **{**common, "errorStyle": "stop" if col.strict else "warning"},
        )
    if col.type is ColumnType.DATE:
        return DataValidation(
            type="date", operator="between", formula1="DATE(2000,1,1)",
            formula2="DATE(2099,12,31)", showErrorMessage=True,
            error="Type a date as YYYY-MM-DD, such as 2026-12-15.", **common,
        )
    if col.type in (ColumnType.INTEGER, ColumnType.DECIMAL):
        operator, wanted = _NUMBER_RULES[col.positive]
        return DataValidation(
            type="decimal", operator=operator, formula1="0", showErrorMessage=True,
            error=f"{col.header} takes {wanted}, without units or currency signs.", **common,
        )
    if col.type is ColumnType.PORT:
        return DataValidation(
            type="textLength", operator="between", formula1="3", formula2="5",
            showErrorMessage=True,
            error="A port code: five letters (UN/LOCODE) such as CNYTN or USLAX.", **common,
        )
    return DataValidation(showErrorMessage=False, **{**common, "errorTitle": None,
                                                     "errorStyle": None})


def _fill_instructions(ws: Worksheet, sheet: InstructionsSheet) -> None:
    title = ws.cell(row=1, column=1, value=sheet.title)
    title.font = Font(name=HEADER_FONT.name, size=14, bold=True)
    row = 3
    for paragraph in sheet.paragraphs:
        ws.cell(row=row, column=1, value=paragraph)
        row += 1
    row += 1
    ws.cell(
        row=row,
        column=1,
        value="Required columns have orange headers on the data sheet; optional ones are blue.",
    )
    row += 2
    header_row = row
    for index, text in enumerate(sheet.table_header, start=1):
        cell = ws.cell(row=row, column=index, value=text)
        cell.font = _BOLD
        cell.fill = _OPTIONAL_FILL
    wrap = Alignment(vertical="top", wrap_text=True)
    widths = (28, 10, 10, 30, 60, 26, 40)
    for values in sheet.table_rows:
        row += 1
        for index, value in enumerate(values, start=1):
            entry = ws.cell(row=row, column=index)
            _set_value(entry, value)
            entry.alignment = wrap
            entry.number_format = "@"
        # Set, not left to the application: a wrapped cell of a row without a height
        # overlaps the next row until the user resizes it.
        lines = max(wrapped_lines(str(v), w) for v, w in zip(values, widths, strict=True))
        ws.row_dimensions[row].height = LINE_HEIGHT * lines + 3
    for letter, width in zip("ABCDEFG", widths, strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = f"A{header_row + 1}"

"""Write what an import did: the result report (xlsx, csv or JSON lines) and the
errors-only file that the user fixes and uploads again.

The xlsx report is a copy of the user's workbook with Status / Flexport ID / Message
columns, marked cells and an Errors and a Summary sheet; inputs that are not xlsx, or
too large to copy in memory, get a new streamed workbook laid out the same way.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.worksheet import Worksheet

from bulkpo.columns import COLUMN_SETS, ColumnType, Kind
from bulkpo.errors import UsageError
from bulkpo.issues import IssueCode
from bulkpo.redact import redact
from bulkpo.report import GOOD_STATUSES, RowResult, Summary
from bulkpo.sheets.formats import CSV, ERRORS, JSONL, REPORT, XLSX
from bulkpo.sheets.layout import HEADER_FONT, LINE_HEIGHT, column_width, wrapped_lines
from bulkpo.sheets.outputs import same_file
from bulkpo.sheets.writer import (
    Column,
    Mark,
    XlsxBook,
    jsonl_sink,
    neutralise,
    xlsx_book,
)
from bulkpo.table import (
    CSV_REPORT_COLUMNS,
    FIX_COLUMNS,
    REPORT_COLUMNS,
    CellRef,
    CellValue,
    Issue,
    Row,
    Severity,
    Table,
    column_letter,
    own_columns,
    quote_sheet,
)

__all__ = [
    "COPY_MAX_ROWS",
    "ERROR_HEADERS",
    "RESULT_HEADERS",
    "write_errors_file",
    "write_result_report",
]

RESULT_HEADERS = REPORT_COLUMNS
ERROR_HEADERS = ("Cell", "Row", "Column", "Value", "Severity", "Code", "Message", "Suggestion")
SUMMARY_HEADERS = ("Status", "Rows")
# A validation's "valid" is as good as an import's "created": neither row needs a look.
_OK_STATUSES = GOOD_STATUSES | {"valid"}

# Loading a workbook whole takes about 1 KB of memory per cell and ~10 s per 100k
# rows; above this a streamed new workbook is written instead (and without comments,
# each of which is a drawing shape Excel is slow to open by the thousand).
COPY_MAX_ROWS = 20_000
COPY_MAX_BYTES = 20 * 1024 * 1024

FAILED_ROW_FILL = "FFFDE4E4"  # light red
ERROR_CELL_FILL = "FFFF9C9C"  # red
WARNING_CELL_FILL = "FFFFEB9C"  # yellow

_RESULT_WIDTHS = (12.0, 16.0, 60.0)
_FIX_WIDTHS = (60.0, 14.0)
_ERROR_COLUMNS = [
    Column("Cell"),
    Column("Row", width=7),
    Column("Column"),
    Column("Value"),
    Column("Severity", width=10),
    Column("Code"),
    Column("Message", width=60),
    Column("Suggestion", width=40),
]


def write_result_report(
    path: Path, table: Table, results: Sequence[RowResult], *, title: str = ""
) -> None:
    """Write the result of every data row of ``table`` to ``path``; the form follows the
    suffix: ``.xlsx`` (for people), ``.csv`` or ``.jsonl`` (for machines)."""
    path = Path(path)
    _refuse_the_input(path, table)
    fmt = REPORT.resolve(path)
    if fmt is XLSX:
        workbook = _copy_of_input(table)
        if workbook is not None:
            _write_copy_report(path, workbook, table, results, title)
        else:
            _write_new_report(path, table, results, title)
    elif fmt is CSV:
        _write_csv_report(path, table, results)
    elif fmt is JSONL:
        _write_jsonl_report(path, table, results)
    else:  # a format REPORT takes without a layout here: a bug, not the user's doing
        raise NotImplementedError(f"no {fmt.name} result report")


def write_errors_file(path: Path, table: Table, results: Sequence[RowResult]) -> int:
    """Write the rows that did not go through (invalid or failed), for the user to fix
    and load again, as .xlsx or .csv; returns the number of rows written.

    Column A says what to fix, naming each cell as it sits in this file; column B is the
    row's number in the original. The xlsx form from an xlsx input is a copy of that
    workbook (styles, dropdowns, text formats, other sheets kept) holding only these rows.
    The values are the user's own and stay exact: text stays text (``00123``), dates
    stay dates (ISO text in csv); only our text is neutralised.
    """
    path = Path(path)
    _refuse_the_input(path, table)
    fmt = ERRORS.resolve(path)
    by_row = _by_row(results)
    bad = [row for row in _sorted_rows(table) if _is_bad(by_row.get(row.number))]
    if fmt is XLSX:
        workbook = _copy_of_input(table)
        if workbook is not None:
            _write_copy_fix_file(path, workbook, table, bad, results)
            return len(bad)
    ours = own_columns(table.headers)
    width = max([len(table.headers), *(len(row.values) for row in bad)])
    kept = [c for c in range(width) if c not in ours]
    headers = [table.headers[c] if c < len(table.headers) else "" for c in kept]
    moved = {old: new + len(FIX_COLUMNS) for new, old in enumerate(kept)}
    texts = _fix_texts(table, bad, results, moved, 2)
    marks = _cell_marks(table, results, comments=len(bad) <= COPY_MAX_ROWS)
    columns = [Column(h, width=w) for h, w in zip(FIX_COLUMNS, _FIX_WIDTHS, strict=True)]
    columns += [Column(h) for h in headers]
    with fmt.open(path, columns, sheet=table.sheet or "Errors", exact_text=True) as sink:
        for place, row in enumerate(bad, start=2):
            values: list[object] = [neutralise(texts[place - 2]), row.number]
            values += [row.get(c) for c in kept]
            row_marks = {
                moved[c]: mark
                for c, mark in (marks.get((table.sheet, row.number)) or {}).items()
                if c in moved
            }
            sink.append(values, marks=row_marks or None)
    return len(bad)


def _fix_texts(
    table: Table, bad: Sequence[Row], results: Sequence[RowResult], moved: Mapping[int, int],
    first: int,
) -> list[str]:
    """Each fix file row's "What to fix" (the rows at ``first``, ``first + 1``...): every
    problem after its cell as named in the fix file (column ``moved[col]``), errors first;
    a row held back by another row of its PO names that row in the fix file."""
    by_row = _by_row(results)
    notes: dict[int, list[Issue]] = defaultdict(list)
    for issue in _all_issues(table, results):
        if issue.code is IssueCode.PO_INVALID:
            continue  # said below as the row of this file to fix
        if issue.ref is not None and issue.ref.sheet == table.sheet:
            notes[issue.ref.row].append(issue)
    places = {row.number: first + i for i, row in enumerate(bad)}
    po_col = next((i for i, h in enumerate(table.headers)
                   if (c := COLUMN_SETS[Kind.PURCHASE_ORDERS].match(h)) and c.key == "po_number"),
                  None)

    def po_of(row: Row) -> str:
        key = by_row[row.number].key
        return key or (str(row.get(po_col) or "") if po_col is not None else "")

    wrong: dict[str, list[int]] = defaultdict(list)  # PO -> its fix file rows with errors
    for row in bad:
        if any(i.severity is Severity.ERROR for i in notes.get(row.number, [])):
            wrong[po_of(row)].append(places[row.number])
    texts = []
    for row in bad:
        result, place, lines = by_row[row.number], places[row.number], []
        issues = notes.get(row.number, [])
        for issue in sorted(issues, key=lambda i: (i.severity is not Severity.ERROR, i.ref)):
            ref = issue.ref
            where = ""
            if ref is not None and ref.col >= 0 and ref.col in moved:
                where = f"{column_letter(moved[ref.col])}{place} "
            text = f"{where}{_issue_text(issue)}"
            if text not in lines:
                lines.append(text)
        has_errors = any(i.severity is Severity.ERROR for i in issues)
        po = po_of(row)
        others = wrong.get(po, []) if po else []
        if result.status == "invalid" and not has_errors and others:
            rows = ", ".join(str(n) for n in others)
            lines.insert(0, f"PO {po} is sent once its row {rows} here is fixed")
        # The row's own message names the original cells: said only when no issue of
        # this row says it (a failed send, a row held back without a row here to fix).
        elif result.status == "failed" or not lines:
            lines.insert(0, _message(result))
        texts.append(redact("\n".join(line for line in lines if line)))
    return texts


def _refuse_the_input(path: Path, table: Table) -> None:
    """The CLI checks this before sending; a library caller gets the same guard."""
    if table.path and same_file(path, Path(table.path)):
        raise UsageError(f"{path}: that is the input file; writing there would replace it")


# --------------------------------------------------------------------------- xlsx


def _copy_of_input(table: Table) -> Workbook | None:
    """The user's workbook loaded whole, when it is an xlsx/xlsm small enough; else None."""
    source = Path(table.path)
    if source.suffix.lower() not in (".xlsx", ".xlsm") or len(table) > COPY_MAX_ROWS:
        return None
    try:
        if source.stat().st_size > COPY_MAX_BYTES:
            return None
        with warnings.catch_warnings():
            # openpyxl warns about every extension it drops (slicers, data validation
            # lists...); the copy keeps what it can and the user still has the original.
            warnings.simplefilter("ignore")
            # Macros are not kept (keep_vba): the report is an .xlsx, which Excel refuses
            # to open when it carries a VBA project.
            workbook = load_workbook(source, rich_text=True)
    except Exception:
        # openpyxl fails in many ways on workbooks calamine reads fine; a new workbook
        # laid out the same way still makes a complete report.
        return None
    if table.sheet not in workbook.sheetnames or not isinstance(workbook[table.sheet], Worksheet):
        return None
    return workbook


def _last_used_column(ws: Worksheet, table: Table) -> int:
    """The 1-based index of the last column holding a value in the header or data rows.

    ``ws.max_column`` also counts cells that are only formatted (a whole row painted
    yellow reaches column XFD), so the cells are looked at directly.
    """
    last_row = max((row.number for row in table.rows), default=table.header_row)
    last = len(table.headers)
    # _cells is openpyxl's own index of existing cells: one pass over them is far cheaper
    # than iter_rows, which creates every cell of the used rectangle.
    for (r, c), cell in ws._cells.items():
        if c > last and table.header_row <= r <= last_row and cell.value not in (None, ""):
            last = c
    return last


_UNSIZED_WIDTH = 8.43
"""The width Excel gives a column nobody sized."""


def _fit_unsized_columns(ws: Worksheet, table: Table, last: int) -> None:
    """The user's columns nobody sized (an ERP export sets no widths) fitted to what they
    hold, so that dates do not read ### and texts are not cut; a width the user set stays."""
    sized = {
        i for dim in ws.column_dimensions.values() if dim.min is not None
        for i in range(dim.min, (dim.max or dim.min) + 1)
    }
    sample = table.rows[:200]
    for col in range(1, last + 1):
        if col in sized:
            continue
        header = table.headers[col - 1] if col - 1 < len(table.headers) else ""
        width = column_width(header, (row.get(col - 1) for row in sample))
        if width > _UNSIZED_WIDTH:
            ws.column_dimensions[get_column_letter(col)].width = width


def _write_copy_report(
    path: Path, workbook: Workbook, table: Table, results: Sequence[RowResult], title: str
) -> None:
    ws = workbook[table.sheet]
    assert isinstance(ws, Worksheet)  # checked by _copy_of_input
    by_row = _by_row(results)
    ours = sorted(own_columns(table.headers) - {i for i, h in enumerate(table.headers)
                                                 if h.strip() in FIX_COLUMNS})
    # A report run again: its Status / Flexport ID / Message block is replaced in place.
    first = ours[0] + 1 if ours else _last_used_column(ws, table) + 1
    # Rows the reading set aside (totals, deleted lines) are not in table.rows but have
    # their result too: every data row of the sheet gets its status.
    numbers = sorted({row.number for row in table.rows} | by_row.keys())
    last_row = max(numbers, default=table.header_row)
    _clear_own_marks(ws, table.header_row, last_row)
    _remove_own_sheets(workbook)
    style = _user_header(ws, table.header_row, first - 1)
    _fit_unsized_columns(ws, table, first - 1)
    for j, (text, width) in enumerate(zip(RESULT_HEADERS, _RESULT_WIDTHS, strict=True)):
        cell = ws.cell(table.header_row, first + j)
        if not isinstance(cell, MergedCell):
            cell.value = text
            _header_style(cell, style)
        ws.column_dimensions[get_column_letter(first + j)].width = width
    row_fill = _fill(FAILED_ROW_FILL)
    for number in numbers:
        result = by_row.get(number)
        values: list[Any] = [None, None, None]
        if result is not None:
            values = [result.status, _flexport_id(result.flexport_id),
                      neutralise(_message(result)) or None]
        for j, value in enumerate(values):
            cell = ws.cell(number, first + j)
            if not isinstance(cell, MergedCell):
                cell.value = value
        if _is_bad(result):
            for col in range(1, first + len(RESULT_HEADERS)):
                ws.cell(number, col).fill = row_fill
    for (sheet, row_number), marks in _cell_marks(table, results, comments=True).items():
        target = workbook[sheet] if sheet in workbook.sheetnames else None
        if not isinstance(target, Worksheet):
            continue
        for col, mark in marks.items():
            cell = target.cell(row_number, col + 1)
            if isinstance(cell, MergedCell):
                continue
            if mark.fill:
                cell.fill = _fill(mark.fill)
            if mark.comment:
                text = mark.comment
                if cell.comment is not None:
                    text = f"{cell.comment.text}\n\n{text}"
                cell.comment = Comment(text, _AUTHOR, height=160, width=320)
    # Rows hidden in Excel are shown: each has its status, and being hidden is what stopped
    # them; the user's filter criteria go with them (reapplied, they would hide them again).
    shown = [n for n in table.hidden_rows if n in by_row]
    for number in shown:
        ws.row_dimensions[number].hidden = False
    if shown:
        ws.auto_filter.filterColumn = []
    # A filter on the header row: the Status column picks the rows to look at.
    last_col = get_column_letter(max(first + len(RESULT_HEADERS) - 1, ws.max_column))
    ws.auto_filter.ref = f"A{table.header_row}:{last_col}{last_row}"
    with xlsx_book(path, workbook) as book:
        _add_errors_and_summary(book, table, results, title, set(workbook.sheetnames))


_AUTHOR = "bulkpo"
_OWN_FILLS = frozenset({FAILED_ROW_FILL, ERROR_CELL_FILL, WARNING_CELL_FILL})


def _clear_own_marks(ws: Worksheet, header_row: int, last_row: int) -> None:
    """Take off the fills and comments an earlier run of bulkpo put on the data rows,
    so that a cell fixed since then no longer shows red."""
    for (r, _c), cell in list(ws._cells.items()):
        if not header_row < r <= last_row:
            continue
        if cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb in _OWN_FILLS:
            cell.fill = PatternFill(fill_type=None)
        if cell.comment is not None and cell.comment.author == _AUTHOR:
            cell.comment = None


def _is_own_sheet(ws: object) -> bool:
    """An Errors or Summary sheet bulkpo wrote (recognised by its header), not the user's."""
    if not isinstance(ws, Worksheet):
        return False
    head = [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=3, max_col=8)]
    return any(tuple(row) == ERROR_HEADERS or tuple(row[:2]) == SUMMARY_HEADERS for row in head)


def _remove_own_sheets(workbook: Workbook) -> None:
    """The Errors and Summary sheets of an earlier run: replaced, never repeated as
    ``Errors (2)``."""
    for ws in list(workbook.worksheets):
        if ws.title.split(" (")[0] in ("Errors", "Summary") and _is_own_sheet(ws):
            workbook.remove(ws)


def _copy_style(source: Any, target: Any) -> None:
    """One cell's (or column's) whole look onto another of the same workbook."""
    # Any: the openpyxl stubs do not declare _style, the one handle on the whole look.
    target._style = copy.copy(source._style)


def _user_header(ws: Worksheet, row: int, col: int) -> Cell | None:
    """The style of the user's last header cell (``col`` 1-based), to dress ours alike."""
    if col < 1:
        return None
    cell = ws.cell(row, col)
    return None if isinstance(cell, MergedCell) else cell


def _header_style(cell: Any, style: Cell | None) -> None:
    """The user's header look when there is one; bulkpo's header font in any case
    without a bold one (a plain header of ours would read as data)."""
    if style is not None:
        _copy_style(style, cell)
    font = cell.font
    # A bold without a name or size is what LibreOffice shows in its serif default.
    cell.font = Font(
        name=font.name or HEADER_FONT.name,
        size=font.sz or HEADER_FONT.sz,
        bold=True,
        italic=font.i,
        color=font.color,
    )


def _flexport_id(value: str | None) -> int | str | None:
    """A Flexport ID as a number where it is one (they sort and match as numbers)."""
    if value and value.isdigit() and not value.startswith("0") and len(value) < 16:
        return int(value)
    return value or None


def _write_copy_fix_file(
    path: Path, workbook: Workbook, table: Table, bad: Sequence[Row], results: Sequence[RowResult]
) -> None:
    """The fix file as a copy of the input workbook: the data sheet rebuilt in place
    with What to fix and Original row first, then only the bad rows, each cell with its
    own style (text formats keep ``00315``), column formats, widths and dropdowns."""
    src = workbook[table.sheet]
    assert isinstance(src, Worksheet)  # checked by _copy_of_input
    _remove_own_sheets(workbook)
    ours = own_columns(table.headers)
    width = max(_last_used_column(src, table), len(table.headers))
    kept = [c for c in range(width) if c not in ours]
    shift = len(FIX_COLUMNS)
    moved = {old: new + shift for new, old in enumerate(kept)}
    dst = workbook.create_sheet("bulkpo fix file", workbook.index(src))
    hr = table.header_row
    places = [(r, r) for r in range(1, hr + 1)]
    places += [(row.number, hr + 1 + i) for i, row in enumerate(bad)]
    for old_row, new_row in places:
        if src.row_dimensions[old_row].height is not None and old_row <= hr:
            dst.row_dimensions[new_row].height = src.row_dimensions[old_row].height
        for old, new in moved.items():
            source = src.cell(old_row, old + 1)
            if isinstance(source, MergedCell):
                continue
            cell = dst.cell(new_row, new + 1)
            cell.value = source.value
            cell.data_type = source.data_type  # a text "=1+1" stays text, never a formula
            _copy_style(source, cell)
            if cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb in _OWN_FILLS:
                cell.fill = PatternFill(fill_type=None)
            if source.comment is not None and source.comment.author != _AUTHOR:
                cell.comment = copy.copy(source.comment)
    for old, new in moved.items():
        before = src.column_dimensions.get(get_column_letter(old + 1))
        if before is None:  # a dimension may cover a span of columns: find its group
            before = next((d for d in src.column_dimensions.values()
                           if d.min and d.max and d.min <= old + 1 <= d.max), None)
        if before is not None:
            after = dst.column_dimensions[get_column_letter(new + 1)]
            after.width = before.width
            _copy_style(before, after)
    style = _user_header(src, hr, kept[0] + 1) if kept else None
    wrap = Alignment(vertical="top", wrap_text=True)
    texts = _fix_texts(table, bad, results, moved, hr + 1)
    marks = _cell_marks(table, results, comments=True)
    for j, (text, col_width) in enumerate(zip(FIX_COLUMNS, _FIX_WIDTHS, strict=True)):
        header = dst.cell(hr, j + 1, text)
        _header_style(header, style)
        dst.column_dimensions[get_column_letter(j + 1)].width = col_width
    for i, row in enumerate(bad):
        place = hr + 1 + i
        what = dst.cell(place, 1, neutralise(texts[i]))
        # Set, not left to the application: LibreOffice keeps the default height and
        # the wrapped text runs over the next row.
        lines = wrapped_lines(texts[i], _FIX_WIDTHS[0])
        dst.row_dimensions[place].height = max(LINE_HEIGHT * lines + 3, LINE_HEIGHT + 3)
        what.alignment = wrap
        what.fill = _fill(FAILED_ROW_FILL)
        dst.cell(place, 2, row.number)
        for col, mark in (marks.get((table.sheet, row.number)) or {}).items():
            if col in moved:
                cell = dst.cell(place, moved[col] + 1)
                if mark.fill:
                    cell.fill = _fill(mark.fill)
                if mark.comment:
                    cell.comment = Comment(mark.comment, _AUTHOR, height=160, width=320)
    _move_validations(src, dst, moved)
    dst.freeze_panes = f"A{hr + 1}"
    last = get_column_letter(max(moved.values(), default=shift - 1) + 1)
    dst.auto_filter.ref = f"A{hr}:{last}{hr + max(len(bad), 1)}"
    title = src.title
    workbook.remove(src)
    dst.title = title
    workbook.active = workbook.index(dst)
    with xlsx_book(path, workbook):
        pass


def _move_validations(src: Worksheet, dst: Worksheet, moved: Mapping[int, int]) -> None:
    """The dropdowns and input messages of the kept columns, on their new columns."""
    for validation in src.data_validations.dataValidation:
        ranges = []
        for rng in validation.sqref.ranges:
            cols = [moved.get(c - 1) for c in range(rng.min_col, rng.max_col + 1)]
            if any(c is None for c in cols):
                continue
            left = min(c for c in cols if c is not None) + 1
            right = max(c for c in cols if c is not None) + 1
            ranges.append(CellRange(min_col=left, max_col=right,
                                    min_row=rng.min_row, max_row=rng.max_row))
        if ranges:
            moved_validation = copy.copy(validation)
            moved_validation.sqref = MultiCellRange(ranges)
            dst.add_data_validation(moved_validation)


def _write_new_report(path: Path, table: Table, results: Sequence[RowResult], title: str) -> None:
    by_row = _by_row(results)
    rows = _sorted_rows(table)
    width = max([len(table.headers), *(len(row.values) for row in rows)])
    headers = list(table.headers) + [""] * (width - len(table.headers))
    columns = [Column(h) for h in headers]
    columns += [Column(h, width=w) for h, w in zip(RESULT_HEADERS, _RESULT_WIDTHS, strict=True)]
    small = len(rows) <= COPY_MAX_ROWS
    marks = _cell_marks(table, results, comments=small)
    with xlsx_book(path) as book:
        sink = book.add_sheet(
            table.sheet or "Data", columns, header_row=table.header_row, comments=small
        )
        for number, row, result in _rows_and_results(table, by_row):
            sink.skip_to(number)
            # A row the reading set aside (a totals row) keeps only its result here.
            cells = row.values if row is not None else []
            values: list[object] = [*_typed_row(headers, cells),
                                    *([None] * (width - len(cells)))]
            if result is None:
                sink.append(values)
                continue
            values += [result.status, _flexport_id(result.flexport_id), _message(result)]
            sink.append(
                values,
                row_fill=FAILED_ROW_FILL if _is_bad(result) else None,
                marks=marks.get((table.sheet, number)),
            )
        # The data sheet keeps the input's name when Excel allows it, and links work then.
        sheets = {table.sheet} if book.workbook.sheetnames[0] == table.sheet else set()
        _add_errors_and_summary(book, table, results, title, sheets)


def _add_errors_and_summary(
    book: XlsxBook, table: Table, results: Sequence[RowResult], title: str, sheets: set[str]
) -> None:
    """The Errors sheet (every issue and failed row, linked to its cell when the report
    has that sheet) and the Summary sheet (counts per status, adding up to the rows)."""
    errors = book.add_sheet("Errors", _ERROR_COLUMNS)
    for place, link, values in _error_lines(table, results):
        errors.append(values, marks={0: Mark(link=link)} if link and place in sheets else None)

    summary = Summary.of(results)
    covered = {r.row for r in results}
    missing = sum(1 for row in table.rows if row.number not in covered)
    preamble: list[list[object]] = [[title]] if title else []
    sheet = book.add_sheet(
        "Summary",
        [Column("Status", width=14), Column("Rows", width=10)],
        header_row=len(preamble) + 2 if preamble else 1,
        preamble=preamble,
    )
    for status, count in summary.counts.items():
        sheet.append([status, count])
    if missing:
        sheet.append(["no result", missing])
    sheet.append(["total", summary.total + missing])


def _error_lines(
    table: Table, results: Sequence[RowResult]
) -> Iterator[tuple[str, str, list[object]]]:
    """(sheet, link, Errors sheet row) for every issue and every failed row's message,
    in sheet order."""
    lines: list[tuple[tuple[str, int, int], str, str, list[object]]] = []
    for issue in _all_issues(table, results):
        if issue.code is IssueCode.PO_INVALID:
            continue  # a row held back by its PO's error: that error is listed once, on its cell
        ref = issue.ref
        text, link = _place(ref)
        values: list[object] = [
            text,
            ref.row if ref is not None else None,
            issue.header,
            typed_value(issue.header, issue.value),
            issue.severity.value,
            issue.code,
            issue.message,
            issue.suggestion,
        ]
        key = (ref.sheet, ref.row, ref.col) if ref is not None else ("", 0, 0)
        lines.append((key, ref.sheet if ref is not None else "", link, values))
    for result in results:
        has_errors = any(i.severity is Severity.ERROR for i in result.issues)
        if _is_bad(result) and result.message and (result.status == "failed" or not has_errors):
            text, link = _place(CellRef(table.sheet, result.row, -1))
            values = [
                text,
                result.row,
                "",
                result.key,
                Severity.ERROR.value,
                result.status,
                result.message,
                "",
            ]
            lines.append(((table.sheet, result.row, -1), table.sheet, link, values))
    lines.sort(key=lambda line: line[0])
    for _, sheet, link, values in lines:
        yield sheet, link, [neutralise(redact(v) if isinstance(v, str) else v) for v in values]


def _place(ref: CellRef | None) -> tuple[str, str]:
    """A cell's or (``col`` -1) a whole row's place as users read it
    (``Purchase Orders!D7``, ``Purchase Orders!7:7``) and as a link needs it (quoted)."""
    if ref is None:
        return "", ""
    if ref.col >= 0:
        return str(ref), ref.formula
    rows = f"{ref.row}:{ref.row}"
    if not ref.sheet:
        return rows, rows
    return f"{ref.sheet}!{rows}", f"{quote_sheet(ref.sheet)}!{rows}"


# --------------------------------------------------------------------------- csv / jsonl


def _write_csv_report(path: Path, table: Table, results: Sequence[RowResult]) -> None:
    by_row = _by_row(results)
    headers = [*CSV_REPORT_COLUMNS, *table.headers]
    with CSV.open(path, [Column(h) for h in headers]) as sink:
        for number, row, result in _rows_and_results(table, by_row):
            head: list[object] = [number, *_keyed(result)]
            head[3] = _flexport_id(result.flexport_id if result is not None else None)
            sink.append(head + (_typed_row(table.headers, row.values) if row is not None else []))


def _write_jsonl_report(path: Path, table: Table, results: Sequence[RowResult]) -> None:
    by_row = _by_row(results)
    keys = ["row", "key", "status", "flexport_id", "message", "issues"]
    with jsonl_sink(path, keys) as sink:
        for number, _, result in _rows_and_results(table, by_row):
            issues = [
                {
                    "cell": _issue_cell(issue),
                    "code": issue.code,
                    "severity": issue.severity.value,
                    "message": issue.message,
                    "suggestion": issue.suggestion,
                }
                for issue in (result.issues if result is not None else [])
            ]
            key, status, flexport_id, message = _keyed(result)
            sink.write(
                {
                    "row": number,
                    "key": key,
                    "status": status,
                    "flexport_id": flexport_id,
                    "message": message,
                    "issues": issues,
                }
            )


def _keyed(result: RowResult | None) -> tuple[str, str | None, str | None, str]:
    """key, status, flexport_id, message of a row (a row without a result has no status)."""
    if result is None:
        return "", None, None, ""
    return result.key, result.status, result.flexport_id, _message(result)


def _rows_and_results(
    table: Table, by_row: Mapping[int, RowResult]
) -> Iterator[tuple[int, Row | None, RowResult | None]]:
    """Every data row and every result, once each, in row order."""
    rows = {row.number: row for row in table.rows}
    for number in sorted(rows.keys() | by_row.keys()):
        yield number, rows.get(number), by_row.get(number)


# --------------------------------------------------------------------------- shared


def _by_row(results: Sequence[RowResult]) -> dict[int, RowResult]:
    return {result.row: result for result in results}


def _sorted_rows(table: Table) -> list[Row]:
    return sorted(table.rows, key=lambda row: row.number)


def _is_bad(result: RowResult | None) -> bool:
    return result is not None and result.status not in _OK_STATUSES


def _issue_cell(issue: Issue) -> str:
    return _place(issue.ref)[0]


def _issue_text(issue: Issue) -> str:
    text = f"{issue.header}: {issue.message}" if issue.header else issue.message
    return f"{text} ({issue.suggestion})" if issue.suggestion else text


def _message(result: RowResult) -> str:
    """The row's message, or (when the result has none) its issues, errors first.

    Redacted: reports and errors files are the files users send on to suppliers.
    """
    if result.message:
        return redact(result.message)
    ordered = sorted(result.issues, key=lambda i: i.severity is not Severity.ERROR)
    return redact("; ".join(_issue_text(issue) for issue in ordered))


_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?")
_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[ T]00:00(?::00)?)?")


@functools.lru_cache(maxsize=512)
def _spec_type(header: str) -> ColumnType | None:
    """The type every column spec that knows ``header`` agrees on, else None."""
    types = {col.type for spec in COLUMN_SETS.values() if (col := spec.match(header)) is not None}
    return types.pop() if len(types) == 1 else None


def typed_value(header: str, value: object) -> object:
    """A text cell (from a csv input, or an issue's quoted value) as the number or date its
    column holds, when the text reads as exactly one (``-5``, ``12.5``, ``2025-03-01``);
    anything else, and every text column's value (SKU ``00315``), unchanged."""
    if not isinstance(value, str) or not header:
        return value
    kind = _spec_type(header)
    text = value.strip()
    if kind in (ColumnType.INTEGER, ColumnType.DECIMAL) and _NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    found = _ISO_DATE.fullmatch(text)
    if kind is ColumnType.DATE and found:
        try:
            return dt.date.fromisoformat(found.group(1))
        except ValueError:
            return value
    return value


def _typed_row(headers: Sequence[str], values: Sequence[CellValue]) -> list[object]:
    return [typed_value(headers[i] if i < len(headers) else "", v) for i, v in enumerate(values)]


def _all_issues(table: Table, results: Sequence[RowResult]) -> list[Issue]:
    """The results' issues, then the reader's that no result repeats."""
    seen: set[Issue] = set()
    out: list[Issue] = []
    for issue in [i for r in results for i in r.issues] + list(table.issues):
        if issue not in seen:
            seen.add(issue)
            out.append(issue)
    return out


@dataclass
class _CellNotes:
    error: bool = False
    texts: list[str] = field(default_factory=list)


def _cell_marks(
    table: Table, results: Sequence[RowResult], *, comments: bool
) -> dict[tuple[str, int], dict[int, Mark]]:
    """Marks by (sheet, row) then 0-based column: red with the messages for a cell with
    an error, yellow for one with only warnings."""
    notes: dict[tuple[str, int], dict[int, _CellNotes]] = defaultdict(dict)
    for issue in _all_issues(table, results):
        text = issue.message + (f"\n→ {issue.suggestion}" if issue.suggestion else "")
        # a once-per-value warning marks every cell it covers, not only its first
        for ref in issue.cells:
            if ref.col < 0:
                continue
            note = notes[(ref.sheet, ref.row)].setdefault(ref.col, _CellNotes())
            note.error = note.error or issue.severity is Severity.ERROR
            note.texts.append(text)
    return {
        place: {
            col: Mark(
                fill=ERROR_CELL_FILL if note.error else WARNING_CELL_FILL,
                comment="\n\n".join(note.texts) if comments else None,
            )
            for col, note in cols.items()
        }
        for place, cols in notes.items()
    }


_FILLS: dict[str, PatternFill] = {}


def _fill(rgb: str) -> PatternFill:
    fill = _FILLS.get(rgb)
    if fill is None:
        fill = _FILLS[rgb] = PatternFill("solid", start_color=rgb, end_color=rgb)
    return fill

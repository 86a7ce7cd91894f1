"""Write what an import did: the result report (xlsx, csv or JSON lines) and the
errors-only file that the user fixes and uploads again.

The xlsx report is a copy of the user's workbook with Status / Flexport ID / Message
columns, marked cells and an Errors and a Summary sheet; inputs that are not xlsx, or
too large to copy in memory, get a new streamed workbook laid out the same way.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bulkpo.errors import UsageError
from bulkpo.redact import redact
from bulkpo.report import RowResult, Summary
from bulkpo.sheets.formats import CSV, ERRORS, JSONL, REPORT, XLSX
from bulkpo.sheets.outputs import same_file
from bulkpo.sheets.writer import (
    Column,
    Mark,
    XlsxBook,
    jsonl_sink,
    neutralise,
    xlsx_book,
)
from bulkpo.table import CellRef, Issue, Row, Severity, Table, quote_sheet

__all__ = [
    "COPY_MAX_ROWS",
    "ERROR_HEADERS",
    "RESULT_HEADERS",
    "write_errors_file",
    "write_result_report",
]

RESULT_HEADERS = ("Status", "Flexport ID", "Message")
ERROR_HEADERS = ("Cell", "Row", "Column", "Value", "Severity", "Code", "Message", "Suggestion")
ERRORS_FILE_MESSAGE = "Message"

# Loading a workbook whole takes about 1 KB of memory per cell and ~10 s per 100k
# rows; above this a streamed new workbook is written instead (and without comments,
# each of which is a drawing shape Excel is slow to open by the thousand).
COPY_MAX_ROWS = 20_000
COPY_MAX_BYTES = 20 * 1024 * 1024

FAILED_ROW_FILL = "FFFDE4E4"  # light red
ERROR_CELL_FILL = "FFFF9C9C"  # red
WARNING_CELL_FILL = "FFFFEB9C"  # yellow

_RESULT_WIDTHS = (12.0, 16.0, 60.0)
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
_BOLD = Font(bold=True)


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
    """Write the rows that did not go through (invalid or failed) in the input's own
    layout, with a Message column, as .xlsx or .csv; returns the number of rows written.

    The values are the user's own, given back for re-upload, so they stay exact: text
    stays text (``00123``), dates stay dates (ISO text in csv). A formula-like text is
    stored as text in xlsx and so never runs; only the Message, which is ours, is
    neutralised. A Message column already last in the input (an errors file uploaded
    again) is reused, not repeated.
    """
    path = Path(path)
    _refuse_the_input(path, table)
    fmt = ERRORS.resolve(path)
    by_row = _by_row(results)
    bad = [row for row in _sorted_rows(table) if _is_bad(by_row.get(row.number))]
    headers = list(table.headers)
    width = max([len(headers), *(len(row.values) for row in bad)])
    headers += [""] * (width - len(headers))
    if headers and headers[-1].strip().casefold() == ERRORS_FILE_MESSAGE.casefold():
        message_col = len(headers) - 1
    else:
        message_col = len(headers)
        headers.append(ERRORS_FILE_MESSAGE)

    def values(row: Row) -> list[object]:
        out: list[object] = list(row.values[:message_col])
        out += [None] * (message_col - len(out))
        out.append(neutralise(_message(by_row[row.number])))
        return out

    marks = _cell_marks(table, results, comments=len(bad) <= COPY_MAX_ROWS)
    columns = [Column(h) for h in headers[:-1]] + [Column(headers[-1], width=60)]
    with fmt.open(path, columns, sheet=table.sheet or "Errors", exact_text=True) as sink:
        for row in bad:
            sink.append(values(row), marks=marks.get((table.sheet, row.number)))
    return len(bad)


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


def _write_copy_report(
    path: Path, workbook: Workbook, table: Table, results: Sequence[RowResult], title: str
) -> None:
    ws = workbook[table.sheet]
    assert isinstance(ws, Worksheet)  # checked by _copy_of_input
    by_row = _by_row(results)
    first = _last_used_column(ws, table) + 1
    for j, (text, width) in enumerate(zip(RESULT_HEADERS, _RESULT_WIDTHS, strict=True)):
        cell = ws.cell(table.header_row, first + j)
        if not isinstance(cell, MergedCell):
            cell.value = text
            cell.font = _BOLD
        ws.column_dimensions[get_column_letter(first + j)].width = width
    row_fill = _fill(FAILED_ROW_FILL)
    for row in table.rows:
        result = by_row.get(row.number)
        if result is None:
            continue
        for j, value in enumerate(_result_values(result)):
            cell = ws.cell(row.number, first + j)
            if not isinstance(cell, MergedCell):
                cell.value = str(neutralise(value)) or None
        if _is_bad(result):
            for col in range(1, first + len(RESULT_HEADERS)):
                ws.cell(row.number, col).fill = row_fill
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
                cell.comment = Comment(text, "bulkpo", height=160, width=320)
    with xlsx_book(path, workbook) as book:
        _add_errors_and_summary(book, table, results, title, set(workbook.sheetnames))


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
        for row in rows:
            sink.skip_to(row.number)
            result = by_row.get(row.number)
            values: list[object] = [*row.values, *([None] * (width - len(row.values)))]
            if result is None:
                sink.append(values)
                continue
            values += _result_values(result)
            sink.append(
                values,
                row_fill=FAILED_ROW_FILL if _is_bad(result) else None,
                marks=marks.get((table.sheet, row.number)),
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
        ref = issue.ref
        text, link = _place(ref)
        values: list[object] = [
            text,
            ref.row if ref is not None else None,
            issue.header,
            issue.value,
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
    headers = ["row", "key", "status", "flexport_id", "message", *table.headers]
    with CSV.open(path, [Column(h) for h in headers]) as sink:
        for number, row, result in _rows_and_results(table, by_row):
            head: list[object] = [number, *_keyed(result)]
            sink.append(head + (list(row.values) if row is not None else []))


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
    return result is not None and not result.went_through


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


def _result_values(result: RowResult) -> list[str]:
    return [result.status, result.flexport_id or "", _message(result)]


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

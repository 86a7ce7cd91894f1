"""Write rows to xlsx, csv and JSON-lines files: streaming, formula-safe, and atomic.

The one place that knows how bulkpo lays out a sheet it writes (bold frozen header,
filter, widths, number formats, optional Excel table); the result report and the
export both write through it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableColumn, TableStyleInfo

from bulkpo.sheets.layout import (
    CSV_ENCODING,
    DATE_FORMAT,
    DATETIME_FORMAT,
    DECIMAL_FORMAT,
    HEADER_FONT,
    INTEGER_FORMAT,
    MAX_CELL_TEXT,
    column_width,
    csv_text,
    csv_writer,
    is_formula_like,
    json_default,
    neutralise,
    sheet_title,
    storable_text,
    table_name,
    unique_headers,
)
from bulkpo.sheets.outputs import atomic_path

__all__ = [
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "DECIMAL_FORMAT",
    "INTEGER_FORMAT",
    "Column",
    "CsvSink",
    "JsonlSink",
    "Mark",
    "RowSink",
    "SheetSink",
    "XlsxBook",
    "atomic_path",
    "csv_sink",
    "jsonl_sink",
    "neutralise",
    "sheet_title",
    "xlsx_book",
    "xlsx_rows",
]

# Text that needs more than a plain write: a formula start (possibly after spaces), or
# a control character that XML cannot carry.
_NEEDS_CARE = re.compile(r"^ *[=+\-@\t\r]|[\x00-\x08\x0b\x0c\x0e-\x1f]")
# Values openpyxl stores as they are (datetime is not here: it may carry a time zone).
_PLAIN_TYPES = frozenset({type(None), bool, int, float, Decimal, dt.date, dt.time})


@dataclass(frozen=True)
class Column:
    """One column of a written file: its header, number format and (fixed) width, and
    its key in JSON lines (the header when None).

    Without a width, the width follows the header and the first rows' contents.
    """

    header: str
    number_format: str | None = None
    width: float | None = None
    key: str | None = None


@dataclass(frozen=True)
class Mark:
    """How one written cell stands out: a fill colour (RGB hex), a comment, an internal
    link (``'Purchase Orders'!D7``). Formats that cannot show them ignore them."""

    fill: str | None = None
    comment: str | None = None
    link: str | None = None


class RowSink(Protocol):
    """Where rows go, one call per row, whatever the file format."""

    def append(
        self,
        values: Sequence[object],
        *,
        row_fill: str | None = None,
        marks: Mapping[int, Mark] | None = None,
    ) -> None:
        """Write one row; ``marks`` by 0-based column index."""


_Stored = str | bool | int | float | Decimal | dt.date | dt.time | None


def _xlsx_value(value: object) -> _Stored:
    """A value openpyxl can store without raising or corrupting the file."""
    if value is None or isinstance(value, bool | int | float | Decimal | dt.date | dt.time):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            # Excel has no time zones; keep the wall-clock time that was given.
            return value.replace(tzinfo=None)
        return value
    return storable_text(value if isinstance(value, str) else str(value))


class SheetSink:
    """Rows into one worksheet (write-only or ordinary): a bold frozen header with a
    filter (an Excel table's own when ``table`` is set), ``preamble`` rows above the
    header (a title), widths from the first
    ``sample_rows`` rows, per-column number formats, and text that never runs.

    Text goes through :func:`neutralise` unless ``exact_text``; then it is kept exactly
    and a formula-like text is stored as a text cell with Excel's apostrophe flag
    (``quotePrefix``), which is safe and re-reads to the same string.

    Rows are buffered until ``sample_rows`` have come (column widths must precede the
    rows in the file); call :meth:`close` (or let :class:`XlsxBook` do it) at the end.
    """

    def __init__(
        self,
        ws: Any,
        columns: Sequence[Column],
        *,
        header_row: int = 1,
        sample_rows: int = 100,
        table: str | None = None,
        exact_text: bool = False,
        comments: bool = True,
        preamble: Sequence[Sequence[object]] = (),
    ) -> None:
        if len(preamble) >= header_row:
            raise ValueError(f"{len(preamble)} rows above the header need header_row > that")
        # ``ws`` is Any: the openpyxl stubs omit auto_filter and column_dimensions of
        # write-only sheets, which have them at run time.
        self.ws = ws
        self.columns = list(columns)
        self.header_row = header_row
        self.exact_text = exact_text
        self.comments = comments
        self._preamble = [list(row) for row in preamble]
        self._formats = [c.number_format for c in columns]
        self._table = table
        headers = [self._clean(c.header) for c in columns]
        self._headers = unique_headers(headers) if table else headers
        self._sample_rows = sample_rows
        self._pending: list[tuple[int, Sequence[object], str | None, Mapping[int, Mark] | None]]
        self._pending = []
        self._started = False
        self._closed = False
        self._next_row = header_row + 1
        self._last_row = header_row
        self._fills: dict[str, PatternFill] = {}

    def skip_to(self, row: int) -> None:
        """Leave rows empty so that the next row goes to sheet row ``row``."""
        if row < self._next_row:
            raise ValueError(f"row {row} is above the next free row {self._next_row}")
        self._next_row = row

    def append(
        self,
        values: Sequence[object],
        *,
        row_fill: str | None = None,
        marks: Mapping[int, Mark] | None = None,
    ) -> None:
        row = self._next_row
        self._next_row += 1
        if self._started:
            self._write(row, values, row_fill, marks)
        else:
            self._pending.append((row, values, row_fill, marks))
            if len(self._pending) >= self._sample_rows:
                self._start()

    def close(self) -> None:
        """Write what is buffered and the filter/table range; the sheet is then done."""
        if self._closed:
            return
        self._start()
        self._closed = True
        last_col = get_column_letter(max(len(self.columns), 1))
        if self._table:
            # A table needs a data row below its header, even an empty one.
            last = max(self._last_row, self.header_row + 1)
            ref = f"A{self.header_row}:{last_col}{last}"
            excel_table = ExcelTable(
                displayName=self._table,
                ref=ref,
                autoFilter=AutoFilter(ref=ref),
                tableStyleInfo=TableStyleInfo(name="TableStyleMedium2", showRowStripes=True),
            )
            # Named up front: openpyxl would otherwise read them back from the sheet,
            # which a write-only sheet cannot do.
            excel_table.tableColumns = [
                TableColumn(id=i + 1, name=name) for i, name in enumerate(self._headers)
            ]
            with warnings.catch_warnings():
                # openpyxl warns in write-only mode whether or not the columns are named.
                warnings.filterwarnings("ignore", "In write-only mode you must add table")
                self.ws.add_table(excel_table)
        elif self.columns:
            self.ws.auto_filter.ref = f"A{self.header_row}:{last_col}{self._last_row}"

    # ------------------------------------------------------------------ internals

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        for i, column in enumerate(self.columns):
            width = column.width
            if width is None:
                sample = (values[i] for _, values, _, _ in self._pending if i < len(values))
                width = column_width(self._headers[i], sample)
            self.ws.column_dimensions[get_column_letter(i + 1)].width = width
        if self.columns:
            self.ws.freeze_panes = f"A{self.header_row + 1}"
        for above in self._preamble:
            self.ws.append([self._text(v) if isinstance(v, str) else _xlsx_value(v) for v in above])
        for _ in range(self.header_row - 1 - len(self._preamble)):
            self.ws.append([])
        header = []
        for text in self._headers:
            cell = self._as_cell(self._text(text))
            cell.font = HEADER_FONT
            header.append(cell)
        self.ws.append(header)
        pending, self._pending = self._pending, []
        for row, values, row_fill, marks in pending:
            self._write(row, values, row_fill, marks)

    def _as_cell(self, value: _Stored | Cell) -> Cell:
        if isinstance(value, Cell):
            return value
        cell = WriteOnlyCell(self.ws, None)
        cell.value = value
        return cell

    def _fill(self, rgb: str) -> PatternFill:
        fill = self._fills.get(rgb)
        if fill is None:
            fill = self._fills[rgb] = PatternFill("solid", start_color=rgb, end_color=rgb)
        return fill

    def _clean(self, text: str) -> str:
        """The text as stored: neutralised unless exact, without what Excel refuses."""
        return str(_xlsx_value(text if self.exact_text else neutralise(text)))

    def _text(self, text: str) -> str | Cell:
        value = self._clean(text)
        if is_formula_like(value):
            # Exact text that a spreadsheet would run (openpyxl would even store "=..."
            # as a formula): a text cell flagged as Excel flags a typed apostrophe, so
            # it never runs, not even when the cell is edited.
            cell = WriteOnlyCell(self.ws, None)
            cell.value = value
            cell.data_type = "s"
            cell.quotePrefix = True
            return cell
        return value

    def _write(
        self,
        row: int,
        values: Sequence[object],
        row_fill: str | None,
        marks: Mapping[int, Mark] | None,
    ) -> None:
        while self._last_row + 1 < row:
            self.ws.append([])
            self._last_row += 1
        width = len(values)
        if row_fill is not None:
            width = max(width, len(self.columns))
        if marks:
            width = max(width, max(marks) + 1)
        out: list[object] = []
        plain = row_fill is None and not marks
        for i in range(width):
            raw = values[i] if i < len(values) else None
            value: _Stored | Cell
            # The common cases (plain text, numbers, naive dates) skip the careful path:
            # this loop runs once per cell and decides the writing speed.
            if isinstance(raw, str):
                needs_care = len(raw) > MAX_CELL_TEXT or _NEEDS_CARE.search(raw)
                value = self._text(raw) if needs_care else raw
            elif type(raw) in _PLAIN_TYPES:
                value = cast(_Stored, raw)
            else:
                value = _xlsx_value(raw)
            fmt = self._formats[i] if i < len(self._formats) else None
            if plain and fmt is None:
                out.append(value)
                continue
            mark = marks.get(i) if marks else None
            fill = mark.fill if mark is not None and mark.fill else row_fill
            if fmt is None and fill is None and mark is None:
                out.append(value)
                continue
            cell = self._as_cell(value)
            if fmt is not None and isinstance(value, int | float | Decimal | dt.date):
                if "h" in fmt and type(value) is dt.date:
                    fmt = DATE_FORMAT  # a date in a date-time column shows no 00:00
                cell.number_format = fmt
            if fill is not None:
                cell.fill = self._fill(fill)
            if mark is not None:
                if mark.comment and self.comments:
                    cell.comment = _comment(mark.comment)
                if mark.link:
                    # The link takes its cell's coordinate when set; an ordinary sheet's
                    # append does not correct it later as a write-only sheet does.
                    cell.row, cell.column = row, i + 1
                    cell.hyperlink = Hyperlink(ref="", location=mark.link)
            out.append(cell)
        self.ws.append(out)
        self._last_row = row


def _comment(text: str) -> Comment:
    lines = text.splitlines() or [""]
    # Sized to the text: openpyxl's default box is too small for a message + suggestion.
    width = min(max(max(len(line) for line in lines) * 6, 160), 400)
    height = min(20 + 15 * sum(1 + len(line) * 6 // width for line in lines), 300)
    return Comment(text[:MAX_CELL_TEXT], "bulkpo", height=height, width=width)


class XlsxBook:
    """A workbook written sheet by sheet: a new write-only one (flat memory), or an
    opened one that gets sheets added (the copy of the user's workbook)."""

    def __init__(self, workbook: Workbook | None = None) -> None:
        if workbook is None:
            workbook = Workbook(write_only=True)
        self.workbook = workbook
        self._sinks: list[SheetSink] = []
        self._table_names: set[str] = {
            name.casefold() for ws in workbook.worksheets for name in ws.tables
        }

    def add_sheet(
        self,
        title: str,
        columns: Sequence[Column],
        *,
        header_row: int = 1,
        sample_rows: int = 100,
        table: bool = False,
        exact_text: bool = False,
        comments: bool = True,
        preamble: Sequence[Sequence[object]] = (),
    ) -> SheetSink:
        """A new sheet named ``title`` (made valid and unique) and its row sink."""
        title = sheet_title(title, self.workbook.sheetnames)
        ws = self.workbook.create_sheet(title)
        sink = SheetSink(
            ws,
            columns,
            header_row=header_row,
            sample_rows=sample_rows,
            table=table_name(title, self._table_names) if table else None,
            exact_text=exact_text,
            comments=comments,
            preamble=preamble,
        )
        self._sinks.append(sink)
        return sink

    def save(self, path: Path) -> None:
        for sink in self._sinks:
            sink.close()
        self.workbook.save(path)


@contextlib.contextmanager
def xlsx_book(path: Path, workbook: Workbook | None = None) -> Iterator[XlsxBook]:
    """An :class:`XlsxBook` saved atomically to ``path`` when the block ends normally."""
    book = XlsxBook(workbook)
    with atomic_path(path) as tmp:
        yield book
        book.save(tmp)


@contextlib.contextmanager
def xlsx_rows(
    path: Path,
    columns: Sequence[Column],
    *,
    sheet: str = "Data",
    table: bool = False,
    exact_text: bool = False,
) -> Iterator[SheetSink]:
    """One sheet of rows in a new workbook saved atomically to ``path``."""
    with xlsx_book(path) as book:
        yield book.add_sheet(sheet, columns, table=table, exact_text=exact_text)


class CsvSink:
    """Rows into a csv file (header first); text through :func:`neutralise` unless
    ``exact_text``, because csv files are opened in Excel. Marks are ignored."""

    def __init__(self, out: IO[str], headers: Sequence[str], *, exact_text: bool = False) -> None:
        self._writer = csv_writer(out)
        self.exact_text = exact_text
        self._writer.writerow([self._cell(h) for h in headers])

    def _cell(self, value: object) -> str:
        return csv_text(value, exact=self.exact_text)

    def append(
        self,
        values: Sequence[object],
        *,
        row_fill: str | None = None,
        marks: Mapping[int, Mark] | None = None,
    ) -> None:
        self._writer.writerow([self._cell(v) for v in values])


@contextlib.contextmanager
def csv_sink(path: Path, headers: Sequence[str], *, exact_text: bool = False) -> Iterator[CsvSink]:
    """A :class:`CsvSink` on ``path``, written atomically, UTF-8 with a BOM so that
    Excel reads the accents right."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding=CSV_ENCODING, newline="") as out:
        yield CsvSink(out, headers, exact_text=exact_text)


class JsonlSink:
    """Rows into JSON lines, one object per row keyed by ``keys``; values exact (a
    machine reads them), dates in ISO form. Marks are ignored."""

    def __init__(self, out: IO[str], keys: Sequence[str]) -> None:
        self._out = out
        self.keys = list(keys)

    def append(
        self,
        values: Sequence[object],
        *,
        row_fill: str | None = None,
        marks: Mapping[int, Mark] | None = None,
    ) -> None:
        self.write(dict(zip(self.keys, values, strict=False)))

    def write(self, obj: Mapping[str, object]) -> None:
        """Write one object as it is (for nested values the row form cannot carry)."""
        self._out.write(json.dumps(obj, ensure_ascii=False, default=json_default) + "\n")


@contextlib.contextmanager
def jsonl_sink(path: Path, keys: Sequence[str]) -> Iterator[JsonlSink]:
    """A :class:`JsonlSink` on ``path`` (UTF-8), written atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        yield JsonlSink(out, keys)

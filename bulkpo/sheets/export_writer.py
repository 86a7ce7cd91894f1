"""Write an export's rows as they arrive: a formatted xlsx (data, Summary, Query), csv or jsonl.

The data sheet's rows go straight to a spool of sheet XML, built here without
openpyxl's per-cell objects (openpyxl write-only manages about 4,000 rows/s at 25
columns, this about five times that); openpyxl then writes the workbook around them:
bold frozen header, widths, the Excel table, number formats, the Summary sheet
with its chart and the Query sheet. Columns may be added while rows arrive (a
metadata key first seen on page 40): they go to the right, so earlier rows simply
end sooner and the header, written last, names them all. The file appears under
its name only when complete (:func:`bulkpo.sheets.writer.atomic_path`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table as ExcelTable
from openpyxl.worksheet.table import TableColumn, TableStyleInfo

from bulkpo.sheets.formats import CSV, JSONL, XLSX
from bulkpo.sheets.layout import (
    CSV_ENCODING,
    DATE_FORMAT,
    DATETIME_FORMAT,
    DECIMAL_FORMAT,
    HEADER_FONT,
    INTEGER_FORMAT,
    csv_text,
    csv_writer,
    display_width,
    fit_width,
    header_room,
    is_formula_like,
    neutralise,
    sheet_title,
    storable_text,
    table_name,
    unique_headers,
)
from bulkpo.sheets.outputs import atomic_path
from bulkpo.sheets.writer import jsonl_sink

__all__ = [
    "CellKind",
    "ExportColumn",
    "ExportSink",
    "SummaryTable",
    "csv_export",
    "jsonl_export",
    "open_export",
    "xlsx_export",
]

_EXCEL_EPOCH = dt.date(1899, 12, 30)
_BOLD = HEADER_FONT
_RIGHT = Alignment(horizontal="right")


class CellKind(enum.StrEnum):
    """How a column's values are stored: text stays text, the rest are real numbers."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"


_FORMATS = {
    CellKind.INTEGER: INTEGER_FORMAT,
    CellKind.DECIMAL: DECIMAL_FORMAT,
    CellKind.DATE: DATE_FORMAT,
}


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: its header, how it is stored, and its key (jsonl)."""

    key: str
    header: str
    kind: CellKind = CellKind.TEXT


@dataclass(frozen=True)
class SummaryTable:
    """One block of the Summary sheet; ``chart`` draws a bar chart of column ``chart``."""

    title: str
    headers: tuple[str, ...]
    rows: Sequence[Sequence[object]]
    chart: int | None = None
    formats: Sequence[str | None] = ()  # number format by column (thousands separators)


class ExportSink(Protocol):
    """Where an export's rows go, whatever the format."""

    columns: list[ExportColumn]

    def add_column(self, column: ExportColumn) -> None:
        """A column to the right of the others, from the next row on."""

    def append(self, values: Sequence[object]) -> None:
        """One row, its values in column order (shorter rows end early)."""


# ---------------------------------------------------------------- xlsx


def _escape(text: str) -> str:
    text = storable_text(text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


_REMEMBERED_TEXT = 200
_REMEMBERED_TEXTS = 20_000
"""Text cells up to _REMEMBERED_TEXT characters are made once, _REMEMBERED_TEXTS at most."""


class _SheetRows:
    """Data rows as sheet XML in a spool file, from row 2 (the header is openpyxl's)."""

    def __init__(
        self,
        spool: IO[str],
        columns: Sequence[ExportColumn],
        styles: dict[CellKind, str],
        sample_rows: int,
        text_style: int,
    ) -> None:
        self.columns: list[ExportColumn] = []
        self._text_style = text_style
        self._spool = spool
        self._letters: list[str] = []
        self._kinds: dict[CellKind, str] = styles
        self._styles: list[str] = []
        self._sample_rows = sample_rows
        self.widths: list[float] = []
        self.rows = 0
        self._texts: dict[str, str] = {}
        for column in columns:
            self.add_column(column)

    def add_column(self, column: ExportColumn) -> None:
        self.columns.append(column)
        self._letters.append(get_column_letter(len(self.columns)))
        style = self._kinds.get(column.kind)
        self._styles.append(f' s="{style}"' if style else "")
        self.widths.append(header_room(column.header))

    def _text_cell(self, value: str) -> str:
        """A text cell after its reference; short ones remembered, as PO-level values,
        suppliers and codes repeat on many rows."""
        # Text that Excel would run as a formula if typed keeps its exact value (so
        # the export re-imports unchanged) in a text cell marked quote-prefixed, as
        # Excel marks a typed apostrophe: it never runs, not even when the cell is edited.
        style = f' s="{self._text_style}"' if is_formula_like(value) else ""
        text = _escape(value)
        space = ' xml:space="preserve"' if text != text.strip() else ""
        cell = f'{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
        if len(value) <= _REMEMBERED_TEXT:
            if len(self._texts) >= _REMEMBERED_TEXTS:  # memory stays flat
                self._texts.clear()
            self._texts[value] = cell
        return cell

    def append(self, values: Sequence[object]) -> None:
        self.rows += 1
        r = self.rows + 1
        if self.rows <= self._sample_rows:
            for i, value in enumerate(values):
                self.widths[i] = max(self.widths[i], display_width(value))
        parts = [f'<row r="{r}">']
        for i, value in enumerate(values):
            if value is None or value == "":
                continue
            ref = f"{self._letters[i]}{r}"
            if isinstance(value, str):
                cell = self._texts.get(value)
                if cell is None:
                    cell = self._text_cell(value)
                parts.append(f'<c r="{ref}"{cell}')
            elif isinstance(value, bool):
                parts.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int):
                parts.append(f'<c r="{ref}"{self._styles[i]}><v>{value}</v></c>')
            elif isinstance(value, Decimal):
                parts.append(f'<c r="{ref}"{self._styles[i]}><v>{value:f}</v></c>')
            elif isinstance(value, float):
                parts.append(f'<c r="{ref}"{self._styles[i]}><v>{value!r}</v></c>')
            elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
                serial = (value - _EXCEL_EPOCH).days
                parts.append(f'<c r="{ref}"{self._styles[i]}><v>{serial}</v></c>')
            else:
                text = _escape(str(neutralise(str(value))))
                parts.append(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>')
        parts.append("</row>")
        self._spool.write("".join(parts))


class XlsxExport:
    """An export workbook being written: rows now, Summary and Query at the end."""

    def __init__(
        self,
        spool: IO[str],
        columns: Sequence[ExportColumn],
        *,
        sheet_name: str,
        sample_rows: int,
    ) -> None:
        # Made first so that the number formats' style ids are known before any row.
        self._wb = Workbook(write_only=True)
        self._ws: Any = self._wb.create_sheet(sheet_title(sheet_name))
        styles = {kind: str(_style_id(self._ws, fmt)) for kind, fmt in _FORMATS.items()}
        self._rows = _SheetRows(spool, columns, styles, sample_rows, _text_style_id(self._ws))
        self._spool = spool
        self.summary: list[SummaryTable] = []
        self.query: list[tuple[str, object]] = []

    @property
    def columns(self) -> list[ExportColumn]:
        return self._rows.columns

    @property
    def rows(self) -> int:
        return self._rows.rows

    def add_column(self, column: ExportColumn) -> None:
        self._rows.add_column(column)

    def append(self, values: Sequence[object]) -> None:
        self._rows.append(values)

    def save(self, path: Path) -> None:
        """Write the workbook to ``path`` (a temporary file: see :func:`xlsx_export`)."""
        wb, ws = self._wb, self._ws
        columns = self.columns
        headers = unique_headers([str(neutralise(c.header)) for c in columns])
        for i, width in enumerate(self._rows.widths):
            ws.column_dimensions[get_column_letter(i + 1)].width = fit_width(width)
        ws.freeze_panes = "A2"
        header = []
        for text in headers:
            cell = WriteOnlyCell(ws, text)
            cell.font = _BOLD
            header.append(cell)
        ws.append(header)
        last = get_column_letter(max(len(columns), 1))
        # A table needs a data row under its header, even an empty one.
        ref = f"A1:{last}{max(self.rows + 1, 2)}"
        table = ExcelTable(
            displayName=table_name(ws.title),
            ref=ref,
            autoFilter=AutoFilter(ref=ref),
            tableStyleInfo=TableStyleInfo(name="TableStyleMedium2", showRowStripes=True),
        )
        # Named up front: openpyxl would read them back from the sheet, which a
        # write-only sheet cannot do.
        table.tableColumns = [TableColumn(id=i + 1, name=n) for i, n in enumerate(headers)]
        with warnings.catch_warnings():
            # openpyxl warns in write-only mode whether or not the columns are named.
            warnings.filterwarnings("ignore", "In write-only mode you must add table")
            ws.add_table(table)
        summary_sheet(wb, self.summary)
        query_sheet(wb, self.query)
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=".bulkpo-") as tmp:
            skeleton = Path(tmp) / "skeleton.xlsx"
            wb.save(skeleton)
            self._spool.flush()
            self._spool.seek(0)
            _splice_rows(skeleton, path, "xl/worksheets/sheet1.xml", self._spool)


def _text_style_id(ws: Any) -> int:
    """The workbook's style id for quote-prefixed text (registered as a side effect)."""
    cell = WriteOnlyCell(ws, "")
    cell.quotePrefix = True
    return int(cell.style_id)


def _style_id(ws: Any, number_format: str) -> int:
    """The workbook's style id for a number format (registered as a side effect)."""
    cell = WriteOnlyCell(ws, 0)
    cell.number_format = number_format
    return cell.style_id


def _splice_rows(skeleton: Path, target: Path, sheet: str, rows: IO[str]) -> None:
    """Copy ``skeleton`` to ``target`` with the spooled rows inside ``sheet``'s sheetData."""
    with (
        zipfile.ZipFile(skeleton) as source,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as out,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename != sheet:
                out.writestr(info, data)
                continue
            text = data.decode("utf-8")
            head, marker, tail = text.partition("</sheetData>")
            if not marker:  # no header row was written: cannot happen, but never lose rows
                raise RuntimeError(f"{sheet} has no sheetData to fill")
            with out.open(info.filename, "w") as part:
                part.write(head.encode("utf-8"))
                while chunk := rows.read(1 << 20):
                    part.write(chunk.encode("utf-8"))
                part.write((marker + tail).encode("utf-8"))


def _bold_row(ws: Any, values: Sequence[object]) -> list[Cell]:
    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, _any(neutralise(value)))
        cell.font = _BOLD
        cells.append(cell)
    return cells


def _any(value: object) -> Any:
    # openpyxl's stubs list fewer cell value types than it stores (Decimal, date).
    return value


def _summary_width(value: object) -> float:
    """A Summary value's width with its thousands separators (211,860)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(len(f"{value:,}"))
    return display_width(value)


def summary_sheet(wb: Workbook, tables: Sequence[SummaryTable]) -> None:
    ws: Any = wb.create_sheet("Summary")
    widest = max((len(t.headers) for t in tables), default=1)
    # Widths from what each column holds in any block: supplier names are not cut.
    for i in range(widest):
        shown = [display_width(t.headers[i]) for t in tables if i < len(t.headers)]
        shown += [_summary_width(r[i]) for t in tables for r in t.rows if i < len(r)]
        ws.column_dimensions[get_column_letter(i + 1)].width = fit_width(max(shown, default=8) + 1)
    row = 0
    charts: list[BarChart] = []
    for block in tables:
        ws.append(_bold_row(ws, [block.title]))
        header = _bold_row(ws, block.headers)
        for i, cell in enumerate(header):
            if i < len(block.formats) and block.formats[i] is not None:
                cell.alignment = _RIGHT  # over its numbers
        ws.append(header)
        row += 2
        first = row + 1
        for values in block.rows:
            cells: list[object] = []
            for i, value in enumerate(values):
                fmt = block.formats[i] if i < len(block.formats) else None
                if fmt is not None and isinstance(value, int | float | Decimal):
                    cell = WriteOnlyCell(ws, _any(value))
                    cell.number_format = fmt
                    cells.append(cell)
                else:
                    cells.append(neutralise(value))
            ws.append(cells)
            row += 1
        if block.chart is not None and block.rows:
            chart = BarChart()
            chart.type = "col"
            # "Units by month of cargo-ready date": the charted column, by what the block is by
            title = block.title
            by = title[3:] if title.lower().startswith("by ") else title.split(" by ", 1)[-1]
            chart.title = f"{block.headers[block.chart]} by {by.lower()}"
            chart.legend = None
            chart.height, chart.width = 7.5, 16
            data = Reference(ws, min_col=block.chart + 1, min_row=first - 1, max_row=row)
            labels = Reference(ws, min_col=1, min_row=first, max_row=row)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(labels)
            charted = [v for r in block.rows if block.chart < len(r)
                       and isinstance(v := r[block.chart], int)]
            if len(charted) == len(block.rows):
                # Counts: ticks on whole numbers (a chart of 3 POs read 0.5, 1, 1.5...)
                chart.y_axis.majorUnit = _whole_step(max(charted))
                chart.y_axis.number_format = "#,##0"
            charts.append(chart)
        ws.append([])
        row += 1
    for i, chart in enumerate(charts):
        # right of the widest block, so that no chart covers a number
        ws.add_chart(chart, f"{get_column_letter(widest + 2)}{2 + i * 16}")


def _whole_step(top: int) -> int:
    """A whole tick step (1, 2, 5, 10, 20, 50...) giving at most eight ticks up to ``top``."""
    step = 1
    while top / step > 8:
        for factor in (2, 5 / 2, 2):
            step = int(step * factor)
            if top / step <= 8:
                break
    return step


def query_sheet(wb: Workbook, query: Sequence[tuple[str, object]]) -> None:
    ws: Any = wb.create_sheet("Query")
    ws.column_dimensions["A"].width = 26
    ws.column_dimensions["B"].width = 60
    ws.append(_bold_row(ws, ["Setting", "Value"]))
    for name, value in query:
        cell_value = value.replace(tzinfo=None) if isinstance(value, dt.datetime) else value
        cell = WriteOnlyCell(ws, _any(neutralise(cell_value)))
        if isinstance(value, dt.datetime):
            cell.number_format = DATETIME_FORMAT
        ws.append([name, cell])


@contextlib.contextmanager
def xlsx_export(
    path: Path,
    columns: Sequence[ExportColumn],
    *,
    sheet_name: str = "Data",
    sample_rows: int = 100,
) -> Iterator[XlsxExport]:
    """An :class:`XlsxExport` saved to ``path`` when the block ends normally (and only then)."""
    path = Path(path)
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8", dir=path.parent, prefix=".bulkpo-") as spool,
    ):
        book = XlsxExport(spool, columns, sheet_name=sheet_name, sample_rows=sample_rows)
        yield book
        with atomic_path(path) as tmp:
            book.save(tmp)


# ---------------------------------------------------------------- csv and jsonl


@dataclass
class CsvExport:
    """Rows into csv: spooled, so that the header written first names late columns too."""

    columns: list[ExportColumn]
    _spool: IO[str]
    _writer: Any = field(repr=False)
    rows: int = 0

    def add_column(self, column: ExportColumn) -> None:
        self.columns.append(column)

    def append(self, values: Sequence[object]) -> None:
        self.rows += 1
        self._writer.writerow([csv_text(v) for v in values])


@contextlib.contextmanager
def csv_export(path: Path, columns: Sequence[ExportColumn]) -> Iterator[CsvExport]:
    """A :class:`CsvExport` written to ``path`` (UTF-8 with a BOM, for Excel) when the
    block ends normally, and only then."""
    path = Path(path)
    with tempfile.TemporaryFile(
        "w+", encoding="utf-8", newline="", dir=path.parent, prefix=".bulkpo-"
    ) as spool:
        export = CsvExport(list(columns), spool, csv_writer(spool))
        yield export
        spool.flush()
        spool.seek(0)
        with atomic_path(path) as tmp, open(tmp, "w", encoding=CSV_ENCODING, newline="") as out:
            csv_writer(out).writerow([csv_text(c.header) for c in export.columns])
            shutil.copyfileobj(spool, out)


@dataclass
class JsonlExport:
    """Rows as JSON objects keyed by column key; values exact, dates ISO."""

    columns: list[ExportColumn]
    _sink: Any = field(repr=False)
    rows: int = 0

    def add_column(self, column: ExportColumn) -> None:
        self.columns.append(column)

    def append(self, values: Sequence[object]) -> None:
        self.rows += 1
        self._sink.write(
            {c.key: v for c, v in zip(self.columns, values, strict=False) if v is not None}
        )


@contextlib.contextmanager
def jsonl_export(path: Path, columns: Sequence[ExportColumn]) -> Iterator[JsonlExport]:
    """A :class:`JsonlExport` on ``path``, written atomically."""
    with jsonl_sink(Path(path), [c.key for c in columns]) as sink:
        yield JsonlExport(list(columns), sink)


def open_export(
    fmt: str, path: Path, columns: Sequence[ExportColumn], *, sheet_name: str = "Data"
) -> AbstractContextManager[XlsxExport | CsvExport | JsonlExport]:
    """The export sink of the registry's format ``fmt`` (:data:`bulkpo.sheets.formats.EXPORT`
    names those an export takes): columns may grow while rows arrive."""
    if fmt == XLSX.name:
        return xlsx_export(path, columns, sheet_name=sheet_name)
    if fmt == CSV.name:
        return csv_export(path, columns)
    if fmt == JSONL.name:
        return jsonl_export(path, columns)
    raise ValueError(f"no export writer for the format {fmt!r}")

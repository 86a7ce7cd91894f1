"""The cells of an input sheet with their places.

Pure data shared by the reader (which fills a :class:`Table`), validation (which
places :class:`~bulkpo.issues.Issue` s on its cells) and the reports (which point at cells).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

# Issue and Severity live in bulkpo.issues; kept importable from here for the merge; remove after.
from bulkpo.issues import Issue, IssueCode, Severity

__all__ = [
    "CSV_REPORT_COLUMNS", "FIX_COLUMNS", "REPORT_COLUMNS", "CellRef", "CellValue", "Issue", "Row",
    "Severity", "Table", "column_letter", "own_columns", "quote_sheet",
]

REPORT_COLUMNS = ("Status", "Flexport ID", "Message")
"""The block of columns bulkpo adds to the copy of the user's sheet in a result report."""
FIX_COLUMNS = ("What to fix", "Original row")
"""The columns bulkpo puts first in a fix-me file (``--errors``)."""
CSV_REPORT_COLUMNS = ("row", "key", "status", "flexport_id", "message")
"""The columns a csv result report starts with."""


def own_columns(headers: Sequence[str | None]) -> set[int]:
    """The 0-based indexes of the columns bulkpo itself wrote (a report or fix file read
    again): never data, never sent, replaced on the next run.

    The result block counts only as the three headers side by side, because a PO sheet
    may have a Status column of its own.
    """
    folded = [(h or "").strip().casefold() for h in headers]
    own = {i for i, h in enumerate(folded) if h in {f.casefold() for f in FIX_COLUMNS}}
    block = [h.casefold() for h in REPORT_COLUMNS]
    for i in range(len(folded) - len(block) + 1):
        if folded[i : i + len(block)] == block:
            own.update(range(i, i + len(block)))
    # A csv report starts with its own five columns.
    if folded[: len(CSV_REPORT_COLUMNS)] == list(CSV_REPORT_COLUMNS):
        own.update(range(len(CSV_REPORT_COLUMNS)))
    return own


CellValue = str | int | float | bool | dt.date | dt.datetime | dt.time | None
"""A cell as read: text stays text, numbers are int/float, dates are dates."""


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def quote_sheet(sheet: str) -> str:
    """A sheet name as Excel writes it in a reference ('My Sheet'!A1)."""
    if sheet and all(ch.isalnum() or ch == "_" for ch in sheet) and not sheet[0].isdigit():
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


@dataclass(frozen=True, order=True)
class CellRef:
    """A cell's place: sheet name, 1-based row, 0-based column."""

    sheet: str
    row: int
    col: int

    @property
    def a1(self) -> str:
        """``D7``"""
        return f"{column_letter(self.col)}{self.row}"

    def __str__(self) -> str:
        """``Purchase Orders!D7``: the sheet as users see it on its tab, unquoted."""
        return f"{self.sheet}!{self.a1}" if self.sheet else self.a1

    @property
    def formula(self) -> str:
        """``'Purchase Orders'!D7``: quoted as Excel needs it inside a formula or link."""
        return f"{quote_sheet(self.sheet)}!{self.a1}" if self.sheet else self.a1


@dataclass(slots=True)  # one per input row: slots keep a large file's table small
class Row:
    """One data row: its 1-based sheet row number and its cells, by column index
    (written through :meth:`set`)."""

    number: int
    values: Sequence[CellValue]

    def get(self, col: int) -> CellValue:
        return self.values[col] if 0 <= col < len(self.values) else None

    def set(self, col: int, value: CellValue) -> None:
        """Write one cell, growing a short row. A row read from a text file holds its
        cells in the tuple the reader made (smaller, and never traced by the garbage
        collector); the first write gives it a list of its own."""
        values = self.values if isinstance(self.values, list) else list(self.values)
        if col >= len(values):
            values.extend([None] * (col + 1 - len(values)))
        values[col] = value
        self.values = values


@dataclass
class Table:
    """A sheet's data rows under one header row, every value keeping its place.

    ``headers[i]`` is the text of column ``i`` in the header row (``header_row``,
    1-based); ``rows`` holds only non-empty data rows; ``issues`` holds what the
    reader noticed (damaged values, ambiguous dates) as warnings.
    """

    path: str
    sheet: str
    header_row: int
    headers: list[str]
    rows: list[Row]
    issues: list[Issue] = field(default_factory=list)
    sheet_names: list[str] = field(default_factory=list)
    hidden_sheet: bool = False
    """The sheet itself is hidden in the workbook: it is read only when named."""
    merged: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    """Cells merged over several data rows, by column: (first, last) sheet rows; the
    reader gave each covered cell the merged value."""
    hidden_rows: frozenset[int] = frozenset()
    """Sheet rows hidden by a filter or Hide Rows (read from xlsx/xlsm, xlsb, xls and ods)."""
    hidden_cols: frozenset[int] = frozenset()
    """0-based columns hidden in the sheet (read from xlsx/xlsm, xls and ods)."""

    def ref(self, row: Row, col: int) -> CellRef:
        return CellRef(self.sheet, row.number, col)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def merged_cells_issue(table: Table, merged: dict[int, list[tuple[int, int]]]) -> Issue:
    """One warning for the cells merged down that are read on each row they cover."""
    places = [f"{column_letter(col)}{top}:{column_letter(col)}{bottom}"
              for col, spans in sorted(merged.items()) for top, bottom in spans]
    shown = ", ".join(places[:8]) + (", ..." if len(places) > 8 else "")
    col, [(top, _bottom), *_rest] = min(merged.items())
    return Issue(
        CellRef(table.sheet, top, col), "", "", IssueCode.MERGED_CELL, Severity.WARNING,
        f"{len(places):,} merged cell{'s' if len(places) > 1 else ''} over several rows "
        f"({shown}): each row reads the merged value",
        "unmerge them if a row should have a value of its own",
    )

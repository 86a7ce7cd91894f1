"""The rules every sheet bulkpo writes follows: safe text, widths, table names, csv text.

The row writer (:mod:`bulkpo.sheets.writer`), the export's fast xlsx writer
(:mod:`bulkpo.sheets.export_writer`) and the template writer read them here, so that
a column is as wide, a table as validly named and a csv cell as safe in one file as
in another.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO, Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font

__all__ = [
    "CSV_ENCODING",
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "DECIMAL_FORMAT",
    "HEADER_ALIGNMENT",
    "HEADER_FONT",
    "INTEGER_FORMAT",
    "LINE_HEIGHT",
    "MAX_CELL_TEXT",
    "column_width",
    "csv_text",
    "csv_writer",
    "display_width",
    "fit_width",
    "header_room",
    "is_formula_like",
    "json_default",
    "neutralise",
    "sheet_title",
    "storable_text",
    "table_name",
    "unique_headers",
    "wrapped_lines",
]

DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
DECIMAL_FORMAT = "#,##0.00"
INTEGER_FORMAT = "0"

# One header style in every sheet bulkpo writes. The font is named and sized: a bold
# without a name makes LibreOffice fall back to its default serif.
HEADER_FONT = Font(name="Calibri", size=11, bold=True)
# Headers wrap only between words; widths come from the header text (header_room).
HEADER_ALIGNMENT = Alignment(vertical="center", wrap_text=False)

# UTF-8 with a BOM: without it Excel reads the accents (and Chinese descriptions) of a
# double-clicked csv in the local code page.
CSV_ENCODING = "utf-8-sig"

# Excel refuses longer cell texts (the file opens only after a "repair").
MAX_CELL_TEXT = 32_767
_MIN_WIDTH, _MAX_WIDTH = 6.0, 60.0
LINE_HEIGHT = 15.0
"""Points per line of 11-point text: the height of a row of wrapped text."""
# Room for the filter button next to a header's text.
_FILTER_BUTTON = 3.0

# A spreadsheet program treats text starting with these as a formula (or, for tab and
# CR, as a cell break that can smuggle one in). OWASP "CSV Injection": a cell such as
# =HYPERLINK(...) or =cmd|'/c calc'!A1 in a file we write would run when the user
# opens it. Excel's own way to say "this is text" is a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A table name Excel would read as a cell reference (A1, XFD1048576, R1C1, R, C)
# makes it "repair" the file by dropping the table.
_CELL_REFERENCE = re.compile(r"[a-z]{1,3}\d+|r\d*c?\d*|c\d*", re.IGNORECASE)
_MAX_TABLE_NAME = 255


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (also after leading spaces)."""
    return text.lstrip(" ").startswith(_FORMULA_STARTS)


def neutralise(value: object) -> object:
    """``value`` made safe to show in a spreadsheet: text that a spreadsheet would run as
    a formula (starting with ``= + - @``, tab or CR, also after leading spaces) gets a
    leading apostrophe; numbers, dates, booleans and other text are returned unchanged.

    A negative number stays a number: only text is ever changed.
    """
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def storable_text(text: str) -> str:
    """``text`` as an xlsx cell can hold it: without the control characters XML cannot
    carry (from xls or csv input), cut to Excel's longest cell text."""
    if ILLEGAL_CHARACTERS_RE.search(text):
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text[:MAX_CELL_TEXT]


# ---------------------------------------------------------------- widths


def display_width(value: object) -> float:
    """How many characters wide ``value`` shows in a cell with bulkpo's number formats."""
    if value is None:
        return 0.0
    if isinstance(value, dt.datetime):
        return 19.0
    if isinstance(value, dt.date):
        return 10.0
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return float(len(f"{value:,.2f}"))
    return float(max((len(line) for line in str(value).splitlines()), default=0))


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes wrapped at word breaks in a column ``width`` wide."""
    room = max(int(width) - 1, 1)
    count = 0
    for paragraph in text.splitlines() or [""]:
        line = 0
        count += 1
        for word in paragraph.split():
            if line and line + 1 + len(word) > room:
                count += 1
                line = 0
            line += len(word) + (1 if line else 0)
    return count


def header_room(header: str) -> float:
    """The width a header needs: its text and the filter button beside it."""
    return display_width(header) + _FILTER_BUTTON


def fit_width(widest: float) -> float:
    """A column width from its widest content: a character spare, within 6..60."""
    return min(max(widest + 1, _MIN_WIDTH), _MAX_WIDTH)


def column_width(header: str, sample: Iterable[object]) -> float:
    """A column's width from its header and a sample of its values (the first rows)."""
    return fit_width(max([header_room(header), *(display_width(v) for v in sample)]))


# ---------------------------------------------------------------- names


def sheet_title(name: str, taken: Sequence[str] = ()) -> str:
    """``name`` as a valid sheet title not in ``taken``: the characters Excel forbids
    replaced, cut to 31 characters, ``(2)``... added when taken (case-insensitively)."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'") or "Sheet"
    used = {t.casefold() for t in taken}
    title, n = base[:31], 1
    while title.casefold() in used:
        n += 1
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
    return title


def table_name(title: str, taken: set[str] | None = None) -> str:
    """A valid Excel table name from a sheet title, unique in ``taken`` (casefolded names,
    the new one added): word characters only (``Purchase Orders`` -> ``PurchaseOrders``),
    starting with a letter or ``_``, never a cell reference, at most 255 characters."""
    taken = set() if taken is None else taken
    base = re.sub(r"\W", "", title) or "Table"
    if not (base[0].isalpha() or base[0] == "_") or _CELL_REFERENCE.fullmatch(base):
        base = "T_" + base
    name, n = base[:_MAX_TABLE_NAME], 1
    while name.casefold() in taken:
        n += 1
        tail = f"_{n}"
        name = base[: _MAX_TABLE_NAME - len(tail)] + tail
    taken.add(name.casefold())
    return name


def unique_headers(headers: Sequence[str]) -> list[str]:
    """Headers an Excel table accepts: non-empty and unique regardless of case."""
    seen: set[str] = set()
    out = []
    for i, header in enumerate(headers):
        base = header.strip() or f"Column{i + 1}"
        name, n = base, 1
        while name.casefold() in seen:
            n += 1
            name = f"{base}{n}"
        seen.add(name.casefold())
        out.append(name)
    return out


# ---------------------------------------------------------------- csv and json


def csv_text(value: object, *, exact: bool = False) -> str:
    """A value as csv text: empty for None, ISO dates, ``TRUE``/``FALSE``, plain decimals
    (``100``, never ``1E+2``); text through :func:`neutralise` unless ``exact``, because
    csv files are opened in Excel. Numbers are never neutralised (``-5`` stays ``-5``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, int | float):
        return str(value)
    text = value if isinstance(value, str) else str(value)
    return text if exact else str(neutralise(text))


def csv_writer(out: IO[str]) -> Any:
    """The csv writer of every csv bulkpo writes: comma-separated, CRLF line ends
    (RFC 4180, what Excel writes), quoting only where needed."""
    return csv.writer(out, delimiter=",", lineterminator="\r\n")


def json_default(value: object) -> object:
    """JSON for the cell values json cannot write: ISO dates, decimals as exact strings."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")

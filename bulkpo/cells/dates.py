"""Date cells: ISO, day/month or month/day text, words and serial numbers, read and written."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bulkpo.cells.base import (
    CellType,
    Converter,
    DateOrder,
    Problem,
    cached,
    cell_text,
    excel_error,
    fixed,
    shown,
    warn,
)
from bulkpo.issues import IssueCode
from bulkpo.reference import EXCEL_EPOCH, EXCEL_ERRORS, MONTHS
from bulkpo.table import CellValue, Table

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})")
_SERIAL = re.compile(r"\d{4,6}(?:\.0+)?")
_WORDS_FORMATS = ("%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y",
                  "%d-%b-%y", "%d %b %y")


def _long(d: dt.date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def _make_date(year: int, month: int, day: int, text: str) -> dt.date | Problem:
    if not 1900 <= year <= 2199:
        return Problem(IssueCode.BAD_DATE, f'"{text}" is no date (year {year})',
                        "write dates as YYYY-MM-DD, e.g. 2026-03-01")
    if not 1 <= month <= 12:
        return Problem(IssueCode.BAD_DATE, f'"{text}" is no date (there is no month {month})',
                        "write dates as YYYY-MM-DD, e.g. 2026-03-01")
    try:
        return dt.date(year, month, day)
    except ValueError:
        return Problem(IssueCode.BAD_DATE, f'"{text}" is no date ({MONTHS[month - 1]} has no day '
                        f"{day} in {year})", "write dates as YYYY-MM-DD, e.g. 2026-03-01")


def _serial_date(n: float, text: str) -> object:
    if not 1 <= n < 2958466:
        return Problem(IssueCode.BAD_DATE, f"{text} is no date", "write dates as YYYY-MM-DD")
    d = EXCEL_EPOCH + dt.timedelta(days=int(n))
    return warn(d, IssueCode.SERIAL_DATE,
                 f"{text} is a date serial number; read as {d.isoformat()}",
                 "format the cell as a date so the sheet shows it as one")


class DateOrderGuess:
    """The day/month order of a sheet's text dates, learnt from its unambiguous ones."""

    def __init__(self, table: Table, cols: list[int]) -> None:
        self.table = table
        self.cols = cols
        self.done = False
        self.order: DateOrder | None = None
        self.witness = ""

    def get(self) -> tuple[DateOrder | None, str]:
        if not self.done:
            self.done = True
            self._learn()
        return self.order, self.witness

    def _learn(self) -> None:
        found: dict[DateOrder, str] = {}
        for row in self.table.rows:
            for col in self.cols:
                v = row.get(col)
                if type(v) is not str:
                    continue
                m = _DMY.fullmatch(v.strip())
                if not m:
                    continue
                a, b = int(m.group(1)), int(m.group(2))
                order: DateOrder | None = "dmy" if a > 12 >= b else "mdy" if b > 12 >= a else None
                if order and order not in found:
                    found[order] = f"{self.table.ref(row, col)} {v.strip()}"
                    if len(found) == 2:
                        return
        if len(found) == 1:
            ((self.order, self.witness),) = found.items()


_TIME = re.compile(r"(?P<d>.*?\d)(?:[ T]+|\s*,\s*)(?P<t>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
                   r"\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)")
_MIDNIGHT = re.compile(r"0?0:00(?::00(?:[.,]0+)?)?\s*(?:[Aa]\.?[Mm]\.?)?\s*\S*")
_YYYYMMDD = re.compile(r"(19|20|21)\d{6}")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
NULL_DATES = frozenset({"00000000", "0000-00-00", "00.00.0000", "00/00/0000", "0/0/0000",
                        "1900-01-01", "01.01.1900", "01/01/1900", "1/1/1900", "19000101"})
"""What ERPs write for no date (SAP 00000000, SQL's 1900-01-01): read as blank."""
_NULL_DAYS = (dt.date(1900, 1, 1), dt.date(1899, 12, 30), dt.date(1899, 12, 31))


def _null(text: str) -> Problem:
    return fixed(None, IssueCode.NULL_DATE, f'"{text}" is how an ERP writes no date; read as blank',
                 "leave the cell empty, or write the date", key=text)


def _yyyymmdd(s: str) -> object:
    d = _make_date(int(s[:4]), int(s[4:6]), int(s[6:]), s)
    if isinstance(d, Problem):
        return d
    return fixed(d, IssueCode.READ_AS, f'dates written YYYYMMDD read so, as "{s}" = {d}',
                 key="yyyymmdd")


class DateCell(CellType):
    """Dates, from date cells, ISO or day/month text, words, or Excel serial numbers."""

    @staticmethod
    def write_value(value: Any) -> Any:
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])

    def reader(self) -> Converter:
        date_order, guess = self.context.date_order, self.context.guess
        def from_text(s: str) -> object:
            if s in NULL_DATES:
                return _null(s)
            timed = _TIME.fullmatch(s)
            if timed is not None:
                day = from_day(timed.group("d"))
                if _MIDNIGHT.fullmatch(timed.group("t")) or isinstance(day, Problem):
                    return day
                return fixed(day, IssueCode.READ_AS,
                             f'dates with a time of day read as the day, as "{s}" = '
                             f"{shown(day)}", key="time of day")
            return from_day(s)

        def from_day(s: str) -> object:
            if s in NULL_DATES:
                return _null(s)
            if s in EXCEL_ERRORS:
                return excel_error(s)
            if _YYYYMMDD.fullmatch(s):
                return _yyyymmdd(s)
            m = _DOTTED.fullmatch(s)
            if m and date_order is None:
                a, b = int(m.group(1)), int(m.group(2))
                d = _make_date(int(m.group(3)), b, a, s)
                if isinstance(d, Problem) or a > 12 or a == b:
                    return d
                return fixed(d, IssueCode.READ_AS,
                             f'dotted dates read day first, as "{s}" = {_long(d)}',
                             "give the date order (mdy) if the file means month first",
                             key="dotted")
            m = _ISO.fullmatch(s)
            if m:
                return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), s)
            m = _DMY.fullmatch(s)
            if m:
                a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
                year = y + 2000 if len(m.group(3)) == 2 else y
                if a > 12 or b > 12 or a == b:
                    day, month = (a, b) if a > 12 or (a == b) else (b, a)
                    if a > 12 and b > 12:
                        return Problem(IssueCode.BAD_DATE, f'"{s}" is no date',
                                        "write dates as YYYY-MM-DD, e.g. 2026-03-01")
                    return _make_date(year, month, day, s)
                if date_order is not None:
                    day, month = (a, b) if date_order == "dmy" else (b, a)
                    return _make_date(year, month, day, s)
                order, witness = guess.get()
                if not order:
                    # nothing in the file says which: a guess would be a wrong date half
                    # the time, so the file stops and asks
                    first, second = dt.date(year, a, b), dt.date(year, b, a)
                    return Problem(
                        IssueCode.AMBIGUOUS_DATE,
                        f'"{s}" could be {_long(first)} or {_long(second)} and no date in the '
                        "sheet tells the order: is it month/day (mdy) or day/month (dmy)?",
                        "give the date order (--date-order mdy or dmy), or write dates as "
                        "YYYY-MM-DD")
                reason = f"as in {witness}"
                day, month = (a, b) if order == "dmy" else (b, a)
                d = _make_date(year, month, day, s)
                if isinstance(d, Problem):
                    return d
                other = dt.date(year, a, b) if order == "dmy" else dt.date(year, b, a)
                words = "day/month" if order == "dmy" else "month/day"
                flip = "mdy" if order == "dmy" else "dmy"
                return warn(d, IssueCode.AMBIGUOUS_DATE,
                             f'"{s}" could be {_long(d)} or {_long(other)}; read as {_long(d)} '
                             f"({words}, {reason})",
                             f"write it as {d.isoformat()}, or give the date order ({flip}) "
                             "if you meant the other")
            if _SERIAL.fullmatch(s):
                return _serial_date(float(s), s)
            for fmt in _WORDS_FORMATS:
                try:
                    return dt.datetime.strptime(s, fmt).date()
                except ValueError:
                    continue
            return Problem(IssueCode.BAD_DATE, f'"{s}" is no date',
                            "write dates as YYYY-MM-DD, e.g. 2026-03-01")

        text_conv = cached(from_text)

        def convert(v: CellValue) -> object:
            t = type(v)
            if t is dt.date:
                return _null(cell_text(v)) if v in _NULL_DAYS else v
            if t is str:
                s = v.strip()  # type: ignore[union-attr]
                return text_conv(s) if s else None
            if t is dt.datetime:
                d = v.date()  # type: ignore[union-attr]
                return _null(cell_text(v)) if d in _NULL_DAYS else d
            if v is None:
                return None
            if t is int and _YYYYMMDD.fullmatch(str(v)):
                return _yyyymmdd(str(v))
            if (t is int or t is float) and v == 0:
                return _null(cell_text(v))
            if t is int or t is float:
                return _serial_date(v, cell_text(v))  # type: ignore[arg-type]
            return Problem(IssueCode.BAD_DATE, f"{cell_text(v)} is no date",
                            "write dates as YYYY-MM-DD, e.g. 2026-03-01")

        return convert

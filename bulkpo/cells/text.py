"""Text cells: kept exactly as typed, with warnings where Excel has changed an id."""

from __future__ import annotations

import datetime as dt
import re

from bulkpo.cells.base import (
    CellType,
    Converter,
    NumberCounter,
    cached,
    excel_error,
    float_text,
    warn,
)
from bulkpo.issues import IssueCode
from bulkpo.reference import EXCEL_ERRORS
from bulkpo.table import CellValue

_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?E\+\d{1,3}", re.IGNORECASE)
_DOT_ZERO = re.compile(r"\d+\.0")


class TextCell(CellType):
    """Text kept exactly as typed; an id that arrived as a number is warned about."""

    def reader(self) -> Converter:
        col = self.col
        counter = self.context.counter
        is_id = col.identifier

        def from_text(s: str) -> object:
            if s in EXCEL_ERRORS:
                return excel_error(s)
            if is_id and _SCIENTIFIC.fullmatch(s):
                return warn(s, IssueCode.DAMAGED_NUMBER,
                             f"{s} is an id Excel has shown in scientific notation; "
                             "the digits after the first few are probably lost",
                             "format the column as Text and re-type the id")
            if _DOT_ZERO.fullmatch(s):
                return warn(s, IssueCode.TRAILING_DOT_ZERO,
                             f'"{s}" ends in ".0", as a number does after a round trip through '
                             "a float; it is kept as typed",
                             f'if you meant "{s[:-2]}", write that')
            return s

        text_conv = cached(from_text)

        def convert(v: CellValue) -> object:
            if type(v) is str:
                s = v.strip()
                if s and s[0] != "#" and not s.endswith(".0") and ("E" not in s or not is_id):
                    return s
                return text_conv(s) if s else None
            return number_as_text(v, is_id, counter)

        return convert


def number_as_text(v: CellValue, is_id: bool, counter: NumberCounter) -> object:
    if v is None:
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = float_text(v) if isinstance(v, float) else str(v)
        if is_id and isinstance(v, int) and abs(v) >= 10**11:
            shown = f"{v:.2E}".replace("E+", "E+")
            return warn(text, IssueCode.DAMAGED_NUMBER,
                         f"shown as {shown}; Excel keeps 15 digits of a number and may have "
                         "rounded this id",
                         "format the column as Text and re-type it")
        if is_id:
            if counter.count == 0:
                counter.first = v
            counter.count += 1
        return text
    if isinstance(v, dt.date | dt.time):
        text = v.isoformat()
        return warn(text, IssueCode.DATE_IN_TEXT,
                     f"arrived as the date {text}: Excel turns text such as 3-4 or MAR1 into "
                     "dates", "format the column as Text and re-type the value")
    return str(v)

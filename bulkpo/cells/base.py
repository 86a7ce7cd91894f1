"""What every cell type shares: problems, cell text, memos, and the CellType base class."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from bulkpo.columns import Column
from bulkpo.issues import IssueCode, Severity
from bulkpo.table import CellValue

if TYPE_CHECKING:
    from bulkpo.cells.dates import DateOrderGuess
    from bulkpo.cells.numbers import DecimalMarkGuess


DateOrder = Literal["dmy", "mdy"]

ERROR = Severity.ERROR
WARNING = Severity.WARNING


class Problem:
    """Why a cell cannot be used as it is; a warning carries the value accepted anyway."""

    __slots__ = ("code", "message", "once", "severity", "suggestion", "value")

    def __init__(
        self,
        code: IssueCode,
        message: str,
        suggestion: str = "",
        *,
        severity: Severity = ERROR,
        value: object = None,
        once: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.suggestion = suggestion
        self.severity = severity
        self.value = value
        # A fix with one meaning: the engine reports it once per ``once`` key per column,
        # with the count and the cells, instead of once per cell (see validation.Fixes).
        self.once = once


def warn(value: object, code: IssueCode, message: str, suggestion: str = "") -> Problem:
    return Problem(code, message, suggestion, severity=WARNING, value=value)


def fixed(value: object, code: IssueCode, message: str, suggestion: str = "",
          *, key: str) -> Problem:
    """A value read the one way it can mean, to be warned about once per ``key`` per column:
    the engine adds " in N cells: Sheet!V2, V3, ..." to ``message``."""
    return Problem(code, message, suggestion, severity=WARNING, value=value, once=key)


Converter: TypeAlias = Callable[[CellValue], object]


def cell_text(v: CellValue) -> str:
    """A cell as the user sees it, for messages: 12.5, 2026-03-01, TRUE, 00123."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return float_text(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def float_text(v: float) -> str:
    if v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    text = format(Decimal(repr(v)), "f")
    return text


def shown(value: object) -> str:
    """A converted value as text for a message (dates ISO, lists comma-joined)."""
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def is_blank(v: CellValue) -> bool:
    return v is None or (type(v) is str and not v.strip())


def excel_error(text: str) -> Problem:
    return Problem(IssueCode.EXCEL_ERROR, f"the cell holds the Excel error {text}, not a value",
                    "fix the formula or type the value")


def cached(convert: Callable[[str], object]) -> Callable[[str], object]:
    """Memoise a text converter: a sheet repeats its codes, ports and dates many times."""
    memo: dict[str, object] = {}

    def cached(text: str) -> object:
        try:
            return memo[text]
        except KeyError:
            result = convert(text)
            if len(memo) < 50_000:
                memo[text] = result
            return result

    return cached


@dataclass
class ReadContext:
    """What a sheet's converters share: its date order (given or guessed), id counters,
    and the decimal mark (True: comma; None: learnt from the column's own cells)."""

    date_order: DateOrder | None
    guess: DateOrderGuess
    counter: NumberCounter
    decimal_comma: bool | None = None
    marks: DecimalMarkGuess | None = None  # the sheet's decimal mark, learnt when needed


class CellType:
    """A column type: how a cell of it is read (checked) and how a value is written back.

    :meth:`reader` builds the converter of one column of one sheet (a closure over
    what it needs, as frictionless' fields build theirs); :meth:`write` turns a value
    (from the API, for an export) into what a cell of the type holds.
    """

    def __init__(self, col: Column, header: str, context: ReadContext) -> None:
        self.col = col
        self.header = header
        self.context = context

    def reader(self) -> Converter:
        raise NotImplementedError

    @classmethod
    def write(cls, value: Any) -> Any:
        """A value as the cell should hold it; what cannot be typed is shown as text."""
        if value is None or value == "":
            return None
        try:
            return cls.write_value(value)
        except (ValueError, InvalidOperation):
            return str(value)  # whatever the API sent, shown rather than lost

    @staticmethod
    def write_value(value: Any) -> Any:
        return value if isinstance(value, str) else str(value)


class NumberCounter:
    """Counts the numbers found in an id column, to warn once instead of on every cell."""

    def __init__(self) -> None:
        self.first: CellValue = None
        self.count = 0


def article(word: str) -> str:
    """'a' or 'an' before a header as users read it aloud (an Incoterm, a UoM)."""
    return "an" if word[:1].lower() in "aeio" else "a"

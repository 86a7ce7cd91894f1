"""Cell converters: one per column type, turning what a cell holds into a checked value."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeAlias

from bulkpo.columns import Column, ColumnType
from bulkpo.issues import IssueCode, Severity
from bulkpo.reference import (
    COUNTRIES,
    COUNTRY_ALIASES,
    CURRENCIES,
    CURRENCY_ALIASES,
    EXCEL_EPOCH,
    EXCEL_ERRORS,
    FALSE_WORDS,
    MONTHS,
    TRUE_WORDS,
)
from bulkpo.table import CellValue, Table

DateOrder = Literal["dmy", "mdy"]

ERROR = Severity.ERROR
WARNING = Severity.WARNING


class Problem:
    """Why a cell cannot be used as it is; a warning carries the value accepted anyway."""

    __slots__ = ("code", "message", "severity", "suggestion", "value")

    def __init__(
        self,
        code: IssueCode,
        message: str,
        suggestion: str = "",
        *,
        severity: Severity = ERROR,
        value: object = None,
    ) -> None:
        self.code = code
        self.message = message
        self.suggestion = suggestion
        self.severity = severity
        self.value = value


def warn(value: object, code: IssueCode, message: str, suggestion: str = "") -> Problem:
    return Problem(code, message, suggestion, severity=WARNING, value=value)


Converter: TypeAlias = Callable[[CellValue], object]


def cell_text(v: CellValue) -> str:
    """A cell as the user sees it, for messages: 12.5, 2026-03-01, TRUE, 00123."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date | dt.time):
        return v.isoformat()
    return str(v)


def _float_text(v: float) -> str:
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


def _excel_error(text: str) -> Problem:
    return Problem(IssueCode.EXCEL_ERROR, f"the cell holds the Excel error {text}, not a value",
                    "fix the formula or type the value")


def _cached(convert: Callable[[str], object]) -> Callable[[str], object]:
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


# --- text ---------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?E\+\d{1,3}", re.IGNORECASE)
_DOT_ZERO = re.compile(r"\d+\.0")


def _text_converter(col: Column, counter: NumberCounter) -> Converter:
    is_id = col.identifier

    def from_text(s: str) -> object:
        if s in EXCEL_ERRORS:
            return _excel_error(s)
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

    text_conv = _cached(from_text)

    def convert(v: CellValue) -> object:
        if type(v) is str:
            s = v.strip()
            if s and s[0] != "#" and not s.endswith(".0") and ("E" not in s or not is_id):
                return s
            return text_conv(s) if s else None
        return _number_as_text(v, is_id, counter)

    return convert


class NumberCounter:
    """Counts the numbers found in an id column, to warn once instead of on every cell."""

    def __init__(self) -> None:
        self.first: CellValue = None
        self.count = 0


def _number_as_text(v: CellValue, is_id: bool, counter: NumberCounter) -> object:
    if v is None:
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = _float_text(v) if isinstance(v, float) else str(v)
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


# --- numbers ------------------------------------------------------------------------------

_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _decimal_from_text(s: str) -> Decimal | None:
    if _GROUPED.fullmatch(s):
        s = s.replace(",", "")
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _number_converter(col: Column, header: str) -> Converter:
    integer = col.type is ColumnType.INTEGER
    positive = col.positive
    what = "a whole number" if integer else "a number"

    def check(n: int | Decimal, text: str) -> object:
        if positive and n <= 0:
            return Problem(IssueCode.NOT_POSITIVE, f"{header} must be more than 0, not {text}")
        if n < 0:
            return Problem(IssueCode.NOT_POSITIVE, f"{header} must not be negative, not {text}")
        return n

    def from_text(s: str) -> object:
        if s in EXCEL_ERRORS:
            return _excel_error(s)
        d = _decimal_from_text(s)
        if d is None:
            return Problem(IssueCode.BAD_NUMBER, f'"{s}" is not {what}',
                            _number_hint(s))
        if integer:
            if d != d.to_integral_value():
                return Problem(IssueCode.BAD_NUMBER, f'"{s}" is not {what}')
            return check(int(d), s)
        return check(d, s)

    text_conv = _cached(from_text)

    def convert(v: CellValue) -> object:
        if type(v) is int:
            return check(v if integer else Decimal(v), str(v))
        if type(v) is str:
            s = v.strip()
            return text_conv(s) if s else None
        if type(v) is float:
            if integer:
                if not v.is_integer():
                    return Problem(IssueCode.BAD_NUMBER, f"{_float_text(v)} is not {what}")
                return check(int(v), _float_text(v))
            return check(Decimal(repr(v)), _float_text(v))
        if v is None:
            return None
        return Problem(IssueCode.BAD_NUMBER, f"{cell_text(v)} is not {what}")

    return convert


_LOOKALIKES = str.maketrans("OolI", "0011")


def _number_hint(s: str) -> str:
    fixed = s.translate(_LOOKALIKES)
    if fixed != s and _decimal_from_text(fixed) is not None:
        return f"did you mean {fixed}?"
    return "write digits only, without units or currency signs"


# --- dates --------------------------------------------------------------------------------

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


def _date_converter(date_order: DateOrder | None, guess: DateOrderGuess) -> Converter:
    def from_text(s: str) -> object:
        if s in EXCEL_ERRORS:
            return _excel_error(s)
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
            reason = f"as in {witness}" if order else "the sheet has no date that tells"
            order = order or "mdy"
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

    text_conv = _cached(from_text)

    def convert(v: CellValue) -> object:
        t = type(v)
        if t is dt.date:
            return v
        if t is str:
            s = v.strip()  # type: ignore[union-attr]
            return text_conv(s) if s else None
        if t is dt.datetime:
            return v.date()  # type: ignore[union-attr]
        if v is None:
            return None
        if t is int or t is float:
            return _serial_date(v, cell_text(v))  # type: ignore[arg-type]
        return Problem(IssueCode.BAD_DATE, f"{cell_text(v)} is no date",
                        "write dates as YYYY-MM-DD, e.g. 2026-03-01")

    return convert


# --- booleans, enums, codes ---------------------------------------------------------------


def _bool_converter(header: str) -> Converter:
    def convert(v: CellValue) -> object:
        if v is None or type(v) is bool:
            return v
        if isinstance(v, int | float) and v in (0, 1):
            return bool(v)
        s = cell_text(v).strip()
        low = s.lower()
        if not low:
            return None
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        if s in EXCEL_ERRORS:
            return _excel_error(s)
        return Problem(IssueCode.BAD_BOOLEAN, f'"{s}" is not yes or no',
                        f"write yes or no in {header}")

    return convert


def _fold_enum(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).lower()


def _listing(values: Iterable[str], limit: int = 12) -> str:
    values = list(values)
    shown = ", ".join(values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def _enum_lookup(values: tuple[str, ...], header: str) -> Callable[[str], object]:
    folded = {_fold_enum(v): v for v in values}

    def lookup(s: str) -> object:
        found = folded.get(_fold_enum(s))
        if found is not None:
            return found
        if s in EXCEL_ERRORS:
            return _excel_error(s)
        close = difflib.get_close_matches(_fold_enum(s), list(folded), n=1, cutoff=0.6)
        hint = f"did you mean {folded[close[0]]}?" if close else f"use one of {_listing(values)}"
        return Problem(IssueCode.BAD_ENUM, f'"{s}" is not {article(header)} {header} value; '
                        f"expected one of {_listing(values)}", hint)

    return lookup


def _enum_converter(col: Column, header: str) -> Converter:
    lookup = _cached(_enum_lookup(col.enum_values, header))

    def convert(v: CellValue) -> object:
        if type(v) is str:
            return lookup(v.strip()) if v.strip() else None
        return None if v is None else lookup(cell_text(v))

    return convert


def _country(s: str) -> object:
    code = s.upper()
    if code in COUNTRIES:
        return code
    if s in EXCEL_ERRORS:
        return _excel_error(s)
    if code in COUNTRY_ALIASES:
        hint = f"write {COUNTRY_ALIASES[code]} ({COUNTRIES[COUNTRY_ALIASES[code]]})"
    else:
        by_name = {name.lower(): c for c, name in COUNTRIES.items()}
        close = difflib.get_close_matches(s.lower(), list(by_name), n=1, cutoff=0.75)
        hint = f"write {by_name[close[0]]} ({COUNTRIES[by_name[close[0]]]})" if close else (
            "write the two-letter ISO 3166 code, e.g. US, CN, DE")
    return Problem(IssueCode.BAD_COUNTRY, f'"{s}" is not an ISO 3166 two-letter country code', hint)


def _currency(s: str) -> object:
    code = s.upper()
    if code in CURRENCIES:
        return code
    if s in EXCEL_ERRORS:
        return _excel_error(s)
    if code in CURRENCY_ALIASES:
        hint = f"write {CURRENCY_ALIASES[code]}"
    else:
        close = difflib.get_close_matches(code, sorted(CURRENCIES), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "write the ISO 4217 code, e.g. USD"
    return Problem(IssueCode.BAD_CURRENCY, f'"{s}" is not an ISO 4217 currency code', hint)


def _code_converter(check: Callable[[str], object]) -> Converter:
    lookup = _cached(check)

    def convert(v: CellValue) -> object:
        if type(v) is str:
            s = v.strip()
            return lookup(s) if s else None
        return None if v is None else lookup(cell_text(v))

    return convert


_HS = re.compile(r"\d+(?:\.\d+)*")


def _hs_code(s: str) -> object:
    compact = s.replace(" ", "")
    digits = compact.replace(".", "")
    if _HS.fullmatch(compact) and 4 <= len(digits) <= 10:
        return compact
    if s in EXCEL_ERRORS:
        return _excel_error(s)
    return Problem(IssueCode.BAD_HS_CODE, f'"{s}" is not an HS code',
                    "write 4 to 10 digits, dots allowed, e.g. 9405.20 or 8309.90.10.00")


def _hs_converter() -> Converter:
    lookup = _cached(_hs_code)

    def convert(v: CellValue) -> object:
        if type(v) is str:
            s = v.strip()
            return lookup(s) if s else None
        if v is None:
            return None
        text = cell_text(v)
        checked = lookup(text)
        if isinstance(checked, Problem):
            return Problem(checked.code, checked.message + " (it arrived as a number, so "
                            "Excel may have dropped leading or trailing zeros)",
                            "format the column as Text and re-type the code")
        return warn(checked, IssueCode.DAMAGED_NUMBER,
                     f"the HS code arrived as the number {text}; Excel drops leading and "
                     "trailing zeros of numbers (0101.10 becomes 101.1)",
                     "format the column as Text and check the code")

    return convert


def _port_converter() -> Converter:
    """Ports are only folded here; whether the code fits the row's mode is a row rule."""

    def convert(v: CellValue) -> object:
        if v is None:
            return None
        s = v.strip() if isinstance(v, str) else cell_text(v)
        if not s:
            return None
        if s in EXCEL_ERRORS:
            return _excel_error(s)
        return s

    return convert


_LIST_SPLIT = re.compile(r"[,;\n\r]+")


def _list_converter(col: Column, header: str, counter: NumberCounter) -> Converter:
    item_lookup = _cached(_enum_lookup(col.enum_values, header)) if col.enum_values else None
    is_id = col.identifier

    def from_text(s: str) -> object:
        items: list[str] = []
        for part in _LIST_SPLIT.split(s):
            item = part.strip()
            if not item:
                continue
            if item_lookup is not None:
                found = item_lookup(item)
                if isinstance(found, Problem):
                    return found
                item = str(found)
            if item not in items:
                items.append(item)
        return tuple(items) or None

    text_conv = _cached(from_text)

    def convert(v: CellValue) -> object:
        if type(v) is str:
            s = v.strip()
            return text_conv(s) if s else None
        single = _number_as_text(v, is_id, counter)
        if isinstance(single, Problem):
            return warn((str(single.value),), single.code, single.message, single.suggestion)
        return None if single is None else text_conv(str(single))

    return convert


def converter(
    col: Column,
    header: str,
    date_order: DateOrder | None,
    guess: DateOrderGuess,
    counter: NumberCounter,
) -> Converter:
    t = col.type
    if t is ColumnType.TEXT:
        return _text_converter(col, counter)
    if t is ColumnType.INTEGER or t is ColumnType.DECIMAL:
        return _number_converter(col, header)
    if t is ColumnType.DATE:
        return _date_converter(date_order, guess)
    if t is ColumnType.BOOLEAN:
        return _bool_converter(header)
    if t is ColumnType.ENUM:
        return _enum_converter(col, header)
    if t is ColumnType.COUNTRY:
        return _code_converter(_country)
    if t is ColumnType.CURRENCY:
        return _code_converter(_currency)
    if t is ColumnType.HS_CODE:
        return _hs_converter()
    if t is ColumnType.PORT:
        return _port_converter()
    return _list_converter(col, header, counter)


def article(word: str) -> str:
    """'a' or 'an' before a header as users read it aloud (an Incoterm, a UoM)."""
    return "an" if word[:1].lower() in "aeio" else "a"

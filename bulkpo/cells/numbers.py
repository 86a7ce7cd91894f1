"""Number cells: whole numbers as int, amounts as Decimal, read and written."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from bulkpo.cells.base import (
    ERROR,
    CellType,
    Converter,
    Problem,
    cached,
    cell_text,
    excel_error,
    fixed,
    float_text,
)
from bulkpo.columns import ColumnType
from bulkpo.issues import IssueCode
from bulkpo.reference import CURRENCIES, EXCEL_ERRORS
from bulkpo.table import CellValue, Table

_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# Written with a decimal comma, no other reading: 4,25  1.150,00  1.250.000
_COMMA_ONLY = re.compile(r"[+-]?(?:\d+,(?:\d{1,2}|\d{4,})|\d{1,3}(?:\.\d{3})+,\d+"
                         r"|\d{1,3}(?:\.\d{3}){2,})")
# Written with a decimal point, no other reading: 4.25  1,150.00  1,250,000
_DOT_ONLY = re.compile(r"[+-]?(?:\d+\.(?:\d{1,2}|\d{4,})|\d{1,3}(?:,\d{3})+\.\d+"
                       r"|\d{1,3}(?:,\d{3}){2,})")
# One separator before three digits: 1,250 or 1.250, a thousand or a fraction by locale.
_EITHER = re.compile(r"[+-]?\d{1,3}[,.]\d{3}")


def _decimal_from_text(s: str) -> Decimal | None:
    if _GROUPED.fullmatch(s):
        s = s.replace(",", "")
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _comma_decimal(s: str) -> Decimal | None:
    """``1.150,00`` -> 1150.00: dots group thousands, the comma marks the decimals."""
    return _decimal_from_text(s.replace(".", "").replace(",", "."))


class DecimalMarkGuess:
    """The decimal mark of a sheet's numbers (comma or point), learnt from the cells that
    read only one way (4,25 or 4.25); None when they say both or nothing."""

    def __init__(self, table: Table | None, cols: list[int]) -> None:
        self.table = table
        self.cols = cols
        self.done = False
        self.comma: bool | None = None
        self.witness = ""

    def get(self) -> tuple[bool | None, str]:
        if not self.done:
            self.done = True
            self._learn()
        return self.comma, self.witness

    def _learn(self) -> None:
        if self.table is None:
            return
        found: dict[bool, str] = {}
        for row in self.table.rows:
            for col in self.cols:
                v = row.get(col)
                if type(v) is not str:
                    continue
                text = _strip_money(v.strip())[0]
                comma = True if _COMMA_ONLY.fullmatch(text) else (
                    False if _DOT_ONLY.fullmatch(text) else None)
                if comma is not None and comma not in found:
                    found[comma] = f"{self.table.ref(row, col)} {v.strip()}"
                    if len(found) == 2:
                        return
        if len(found) == 1:
            ((self.comma, self.witness),) = found.items()


# Currency written in a price cell: a symbol or an ISO code, before or after the amount.
_SYMBOLS: dict[str, tuple[str | None, frozenset[str]]] = {
    "$": ("USD", frozenset({"USD", "CAD", "AUD", "NZD", "HKD", "SGD", "TWD", "MXN"})),
    "US$": ("USD", frozenset({"USD"})),
    "€": ("EUR", frozenset({"EUR"})),
    "£": ("GBP", frozenset({"GBP"})),
    "¥": (None, frozenset({"CNY", "JPY"})),
    "RMB": ("CNY", frozenset({"CNY"})),
}
_MONEY = re.compile(r"(?P<a>US\$|[$€£¥]|[A-Za-z]{3})?\s*(?P<n>[+-]?[\d.,]*\d)\s*"
                    r"(?P<b>US\$|[$€£¥]|[A-Za-z]{3})?")


def _strip_money(s: str) -> tuple[str, str]:
    """``$5,100.00`` -> (``5,100.00``, ``$``); text without a currency comes back whole."""
    if not s or (s[0].isdigit() and s[-1].isdigit()):
        return s, ""
    m = _MONEY.fullmatch(s)
    if not m or (m.group("a") and m.group("b")):
        return s, ""
    mark = (m.group("a") or m.group("b") or "")
    if mark and mark.upper() not in _SYMBOLS and mark.upper() not in CURRENCIES:
        return s, ""
    return m.group("n"), mark


class Priced(Decimal):
    """A price that came with its currency ("$1.00", "4.25 USD"): the row's Currency is
    filled from it, or checked against it (``fits``), by the line rule."""

    mark: str
    currency: str | None
    fits: frozenset[str]

    def __new__(cls, value: Decimal, mark: str) -> Priced:
        self = super().__new__(cls, value)
        code = mark.upper()
        self.mark = mark
        self.currency, self.fits = _SYMBOLS.get(code, (code, frozenset({code})))
        return self


MONEY_KEYS = frozenset({"unit_cost"})
"""Columns whose cells may carry their currency."""


class NumberCell(CellType):
    """Numbers: an int for INTEGER columns, a Decimal for DECIMAL ones."""

    def reader(self) -> Converter:
        col, header = self.col, self.header
        integer = col.type is ColumnType.INTEGER
        positive = col.positive
        what = "a whole number" if integer else "a number"

        def check(n: int | Decimal, text: str) -> object:
            if positive and n <= 0:
                return Problem(IssueCode.NOT_POSITIVE, f"{header} must be more than 0, not {text}")
            if n < 0:
                return Problem(IssueCode.NOT_POSITIVE, f"{header} must not be negative, not {text}")
            return n

        money = col.key in MONEY_KEYS
        decimal_comma, guess = self.context.decimal_comma, self.context.marks

        def read(s: str) -> tuple[Decimal | None, Problem | None]:
            """The number a text means, and the warning (or error) that goes with it."""
            if decimal_comma is True:
                if _DOT_ONLY.fullmatch(s):
                    # 4.25 or 1,150.00 cannot be written with a decimal comma: reading its
                    # dot as a thousands mark would send 425 for 4.25.
                    return None, Problem(
                        IssueCode.BAD_NUMBER,
                        f'"{s}" is written with a decimal point, but the numbers of this '
                        "file are read with a decimal comma",
                        "check the cell, or read the file without decimal_comma "
                        "(--decimal-comma)")
                return _comma_decimal(s), None
            if decimal_comma is False:
                return _decimal_from_text(s), None
            if _COMMA_ONLY.fullmatch(s):
                d = _comma_decimal(s)
                return d, fixed(d, IssueCode.DECIMAL_COMMA,
                                f'numbers written with a decimal comma read so, as "{s}" = {d}',
                                "give decimal_comma if that is not how the file writes "
                                "numbers", key="decimal comma")
            if _EITHER.fullmatch(s):
                comma, witness = guess.get() if guess is not None else (None, "")
                if comma is None:
                    other = _comma_decimal(s) if "," in s else _decimal_from_text(
                        s.replace(".", ""))
                    first = _decimal_from_text(s.replace(",", "")) if "," in s else (
                        _decimal_from_text(s))
                    return None, Problem(
                        IssueCode.AMBIGUOUS_NUMBER,
                        f'"{s}" reads as {first} with a decimal point or {other} with a '
                        "decimal comma, and the file has no number that tells",
                        "give decimal_comma (true or false) for this file")
                d = _comma_decimal(s) if comma else _decimal_from_text(s)
                return d, fixed(d, IssueCode.DECIMAL_COMMA,
                                f'numbers such as "{s}" read with a decimal '
                                f"{'comma' if comma else 'point'}, as in {witness}",
                                "give decimal_comma if that is not how the file writes "
                                "numbers", key=f"either {comma}")
            return _decimal_from_text(s), None

        def from_text(s: str) -> object:
            if s in EXCEL_ERRORS:
                return excel_error(s)
            mark = ""
            if money:
                s_num, mark = _strip_money(s)
            else:
                s_num = s
            d, note = read(s_num)
            if note is not None and note.severity is ERROR:
                return note
            if d is None:
                return Problem(IssueCode.BAD_NUMBER, f'"{s}" is not {what}',
                                _number_hint(s))
            if integer:
                if d != d.to_integral_value():
                    return Problem(IssueCode.BAD_NUMBER, f'"{s}" is not {what}')
                checked = check(int(d), s)
            else:
                checked = check(d, s)
            if isinstance(checked, Problem):
                return checked
            if mark:
                priced = Priced(d, mark)
                cur = priced.currency or " or ".join(sorted(priced.fits))
                return fixed(priced, IssueCode.CURRENCY_IN_PRICE,
                             f'prices written with "{mark}" read as amounts in {cur}',
                             "the currency fills a blank Currency; put the amount alone in "
                             f"{header} to silence this", key=f"currency {mark}")
            if note is not None:
                note.value = checked
                return note
            return checked

        text_conv = cached(from_text)

        def convert(v: CellValue) -> object:
            if type(v) is int:
                return check(v if integer else Decimal(v), str(v))
            if type(v) is str:
                s = v.strip()
                return text_conv(s) if s else None
            if type(v) is float:
                if integer:
                    if not v.is_integer():
                        return Problem(IssueCode.BAD_NUMBER, f"{float_text(v)} is not {what}")
                    return check(int(v), float_text(v))
                return check(Decimal(repr(v)), float_text(v))
            if v is None:
                return None
            return Problem(IssueCode.BAD_NUMBER, f"{cell_text(v)} is not {what}")

        return convert


class IntegerCell(NumberCell):
    @staticmethod
    def write_value(value: Any) -> Any:
        return int(value)


class DecimalCell(NumberCell):
    @staticmethod
    def write_value(value: Any) -> Any:
        return Decimal(str(value))


_LOOKALIKES = str.maketrans("OolI", "0011")


def _number_hint(s: str) -> str:
    fixed = s.translate(_LOOKALIKES)
    if fixed != s and _decimal_from_text(fixed) is not None:
        return f"did you mean {fixed}?"
    return "write digits only, without units or currency signs"

"""Number cells: whole numbers as int, amounts as Decimal, read and written."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from bulkpo.cells.base import (
    CellType,
    Converter,
    Problem,
    cached,
    cell_text,
    excel_error,
    float_text,
)
from bulkpo.columns import ColumnType
from bulkpo.issues import IssueCode
from bulkpo.reference import EXCEL_ERRORS
from bulkpo.table import CellValue

_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _decimal_from_text(s: str) -> Decimal | None:
    if _GROUPED.fullmatch(s):
        s = s.replace(",", "")
    try:
        d = Decimal(s)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


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

        def from_text(s: str) -> object:
            if s in EXCEL_ERRORS:
                return excel_error(s)
            d = _decimal_from_text(s)
            if d is None:
                return Problem(IssueCode.BAD_NUMBER, f'"{s}" is not {what}',
                                _number_hint(s))
            if integer:
                if d != d.to_integral_value():
                    return Problem(IssueCode.BAD_NUMBER, f'"{s}" is not {what}')
                return check(int(d), s)
            return check(d, s)

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

"""One converter per column type, reading and writing together, and the registry of them.

Each type is a :class:`CellType` (frictionless' field classes are the model):
``reader()`` builds the converter that checks a column's cells, ``write()`` turns a
value back into what a cell holds, for exports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bulkpo.cells.base import (
    CellType,
    Converter,
    DateOrder,
    NumberCounter,
    Problem,
    ReadContext,
    article,
    cell_text,
    is_blank,
    shown,
    warn,
)
from bulkpo.cells.codes import (
    BooleanCell,
    CountryCell,
    CurrencyCell,
    EnumCell,
    HsCodeCell,
    ListCell,
    PortCell,
)
from bulkpo.cells.dates import DateCell, DateOrderGuess
from bulkpo.cells.numbers import DecimalCell, DecimalMarkGuess, IntegerCell, Priced
from bulkpo.cells.text import TextCell
from bulkpo.columns import Column, ColumnType

__all__ = [
    "CELL_TYPES",
    "BooleanCell",
    "CellType",
    "Converter",
    "CountryCell",
    "CurrencyCell",
    "DateCell",
    "DateOrder",
    "DateOrderGuess",
    "DecimalCell",
    "DecimalMarkGuess",
    "EnumCell",
    "HsCodeCell",
    "IntegerCell",
    "ListCell",
    "NumberCounter",
    "PortCell",
    "Priced",
    "Problem",
    "ReadContext",
    "TextCell",
    "article",
    "cell_text",
    "converter",
    "is_blank",
    "shown",
    "warn",
    "write",
]


CELL_TYPES: dict[ColumnType, type[CellType]] = {
    ColumnType.TEXT: TextCell,
    ColumnType.INTEGER: IntegerCell,
    ColumnType.DECIMAL: DecimalCell,
    ColumnType.DATE: DateCell,
    ColumnType.BOOLEAN: BooleanCell,
    ColumnType.ENUM: EnumCell,
    ColumnType.COUNTRY: CountryCell,
    ColumnType.CURRENCY: CurrencyCell,
    ColumnType.PORT: PortCell,
    ColumnType.HS_CODE: HsCodeCell,
    ColumnType.LIST: ListCell,
}
"""The cell type of each column type: one place says how a column's cells read and write."""


def converter(
    col: Column,
    header: str,
    date_order: DateOrder | None,
    guess: DateOrderGuess,
    counter: NumberCounter,
    decimal_comma: bool | None = None,
    marks: DecimalMarkGuess | None = None,
) -> Converter:
    """The converter of one column of a sheet."""
    context = ReadContext(date_order, guess, counter, decimal_comma, marks)
    return CELL_TYPES[col.type](col, header, context).reader()


def write(column: Column, value: Any) -> Any:
    """A value as a cell of ``column`` should hold it (dates as dates, counts as ints, ...)."""
    return CELL_TYPES[column.type].write(value)


def writer(column: Column) -> Callable[[Any], Any]:
    """:func:`write` for one column, looked up once (None stays None)."""
    return CELL_TYPES[column.type].write

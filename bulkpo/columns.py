"""THE column specs: one table per kind of input, read by everything else.

The template generator, the reader's header mapping, validation, the result
report, the export and the README tables all read :data:`PURCHASE_ORDER_COLUMNS`
and :data:`BOOKING_COLUMNS`; nothing else lists column names.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field


class ColumnType(enum.StrEnum):
    TEXT = "text"          # kept exactly as typed (SKU 00123 stays 00123)
    INTEGER = "integer"
    DECIMAL = "decimal"    # money, weights: kept as decimal.Decimal
    DATE = "date"
    BOOLEAN = "boolean"    # yes/no, true/false, y/n, 1/0, x
    ENUM = "enum"          # one of Column.enum_values
    COUNTRY = "country"    # ISO 3166-1 alpha-2
    CURRENCY = "currency"  # ISO 4217
    PORT = "port"          # UN/LOCODE (IATA accepted where the column says so)
    HS_CODE = "hs_code"
    LIST = "list"          # several values in one cell, split on , ; or newline


class Kind(enum.StrEnum):
    PURCHASE_ORDERS = "purchase-orders"
    BOOKINGS = "bookings"


@dataclass(frozen=True)
class Column:
    """One input column: how it is named, typed, checked, explained and sent."""

    key: str                      # stable internal name, e.g. "po_number"
    header: str                   # canonical header, e.g. "PO Number"
    type: ColumnType
    help: str                     # one sentence for users (template hint, docs)
    example: str                  # example value, as typed in a cell
    api_field: str                # dotted path in the API body, "" if none
    required: bool = False
    aliases: tuple[str, ...] = ()  # other headers users write; folded before matching
    enum_values: tuple[str, ...] = ()
    po_level: bool = False        # PO-level column repeated on each line row
    accepts_iata: bool = False    # PORT columns that also accept IATA codes (air)
    width: int = 14               # template/export column width in characters


def fold_header(text: str) -> str:
    """Fold a header for matching: case, spaces and punctuation removed, # -> number."""
    text = text.strip().lower().replace("#", " number ").replace("№", " number ")
    return re.sub(r"[^a-z0-9]+", "", text)


METADATA_PREFIX = "metadata."


@dataclass(frozen=True)
class ColumnSet:
    """The columns of one kind, with header lookup by folded name or alias."""

    kind: Kind
    sheet_name: str
    columns: tuple[Column, ...]
    _by_folded: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for col in self.columns:
            for name in (col.header, col.key, *col.aliases):
                self._by_folded.setdefault(fold_header(name), col)

    def match(self, header: str) -> Column | None:
        """The column a user's header means, or None (metadata.* is handled apart)."""
        return self._by_folded.get(fold_header(header))

    def by_key(self, key: str) -> Column:
        for col in self.columns:
            if col.key == key:
                return col
        raise KeyError(key)

"""The catalogue of issue codes with their meanings, and the Issue each input problem becomes."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Only named in annotations: bulkpo.table imports this module, so no import back at runtime.
    from bulkpo.table import CellRef


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


class IssueCode(enum.StrEnum):
    """The codes ``bulkpo validate --format json`` publishes; :data:`MEANINGS` says each one's."""

    # headers
    UNKNOWN_COLUMN = "unknown_column"
    DUPLICATE_COLUMN = "duplicate_column"
    REQUIRED = "required"
    # files
    MIXED_ENCODING = "mixed_encoding"
    TEMPLATE_EXAMPLE = "template_example"
    # cells
    EXCEL_ERROR = "excel_error"
    DAMAGED_NUMBER = "damaged_number"
    TRAILING_DOT_ZERO = "trailing_dot_zero"
    DATE_IN_TEXT = "date_in_text"
    STORED_AS_NUMBER = "stored_as_number"
    BAD_NUMBER = "bad_number"
    NOT_POSITIVE = "not_positive"
    BAD_DATE = "bad_date"
    SERIAL_DATE = "serial_date"
    AMBIGUOUS_DATE = "ambiguous_date"
    BAD_BOOLEAN = "bad_boolean"
    BAD_ENUM = "bad_enum"
    BAD_COUNTRY = "bad_country"
    BAD_CURRENCY = "bad_currency"
    BAD_HS_CODE = "bad_hs_code"
    UNKNOWN_PORT = "unknown_port"
    WRONG_PORT_KIND = "wrong_port_kind"
    PORT_NAME = "port_name"
    # values read the one way they can mean, said once per distinct value
    READ_AS = "read_as"
    HISTORICAL_INCOTERM = "historical_incoterm"
    NULL_DATE = "null_date"
    CURRENCY_IN_PRICE = "currency_in_price"
    CURRENCY_CONFLICT = "currency_conflict"
    DECIMAL_COMMA = "decimal_comma"
    AMBIGUOUS_NUMBER = "ambiguous_number"
    NO_CURRENCY = "no_currency"
    DEFAULT_USED = "default_used"
    # purchase orders
    PO_CONFLICT = "po_conflict"
    DUPLICATE_LINE = "duplicate_line"
    DATES_ORDER = "dates_order"
    PO_INVALID = "po_invalid"
    HIDDEN_ROW = "hidden_row"
    MERGED_CELL = "merged_cell"
    HIDDEN_COLUMN = "hidden_column"
    # bookings
    DUPLICATE_BOOKING = "duplicate_booking"
    BAD_PO_LINE = "bad_po_line"
    UNKNOWN_PO = "unknown_po"
    # network refs
    DUPLICATE_REF = "duplicate_ref"
    UNKNOWN_REF = "unknown_ref"


C = IssueCode

MEANINGS: dict[IssueCode, str] = {
    C.MIXED_ENCODING: "A CSV mixes UTF-8 and Windows-1252 lines; each line was read as what it is.",
    C.TEMPLATE_EXAMPLE: "The template's example row, left as it was: skipped, not imported.",
    C.UNKNOWN_COLUMN: "A header names no column of the sheet's kind; the column is ignored.",
    C.DUPLICATE_COLUMN: "A second column for the same field; it is ignored.",
    C.REQUIRED: "A required column is missing, or a cell the row needs is blank.",
    C.EXCEL_ERROR: "The cell holds an Excel error (#N/A, #REF!, ...) instead of a value.",
    C.DAMAGED_NUMBER: "An id or HS code that Excel stored as a number may have lost digits.",
    C.TRAILING_DOT_ZERO: 'Text ending in ".0", as a number does after a round trip; kept as typed.',
    C.DATE_IN_TEXT: "A text column received a date: Excel turned text such as 3-4 into one.",
    C.STORED_AS_NUMBER: "An id column holds numbers: leading zeros may have been lost.",
    C.BAD_NUMBER: "Not a number, or not a whole number where one is needed.",
    C.NOT_POSITIVE: "A number below zero, or not above zero where an amount must be.",
    C.BAD_DATE: "Not a date that exists.",
    C.SERIAL_DATE: "A date arrived as Excel's serial number; read as that date.",
    C.AMBIGUOUS_DATE: "A date such as 03/04/2026 that reads either way: asked unless the sheet "
    "or --date-order tells the order.",
    C.BAD_BOOLEAN: "Not yes or no.",
    C.BAD_ENUM: "Not one of the column's allowed values.",
    C.BAD_COUNTRY: "Not an ISO 3166 two-letter country code.",
    C.BAD_CURRENCY: "Not an ISO 4217 currency code.",
    C.BAD_HS_CODE: "Not an HS code (4 to 10 digits, dots allowed).",
    C.UNKNOWN_PORT: "Not a known UN/LOCODE (or IATA code where the column accepts one).",
    C.WRONG_PORT_KIND: "A warning: UN/LOCODE flags the port as another kind than the mode's "
                       "(an airport for ocean); sent as written, the alternative named.",
    C.PORT_NAME: "A port written by name (Yantian) that means one seaport; read as its code.",
    C.READ_AS: "A value written the ERP's way (EA, Sea, Confirmed, F.O.B., Germany, DEU) read "
               "as the one value it means; said once per distinct value, with its cells.",
    C.HISTORICAL_INCOTERM: "DDU and the other Incoterms 2000 terms, read as the term that "
                           "replaced them (DDU -> DAP).",
    C.NULL_DATE: "00000000 or 1900-01-01, an ERP's way of writing no date: read as blank.",
    C.CURRENCY_IN_PRICE: "A price written with its currency ($1.00, 4.25 USD): the amount is "
                         "kept and the currency fills the row's blank Currency.",
    C.CURRENCY_CONFLICT: "A price's own currency differs from the row's Currency.",
    C.DECIMAL_COMMA: "Numbers written with a decimal comma (4,25), read so because the column "
                     "has no other reading.",
    C.AMBIGUOUS_NUMBER: "A number such as 1,250 that reads two ways; say decimal_comma.",
    C.NO_CURRENCY: "Unit costs with no currency anywhere: sent as USD, said once.",
    C.DEFAULT_USED: "Blank cells (or no column) of Unit of Measure read as its default, PCS: "
                    "said once, with the cells.",
    C.PO_CONFLICT: "Two rows of one PO give different PO-level values.",
    C.DUPLICATE_LINE: "A line number or SKU appears twice in one PO.",
    C.DATES_ORDER: "A must-arrive or delivery date before the cargo-ready date.",
    C.PO_INVALID: "The row is not sent because another row of its PO has an error.",
    C.MERGED_CELL: "A cell merged over several rows: each row reads its value (said once per "
    "column); a Quantity merged so is not sent, being each line's or their total.",
    C.HIDDEN_COLUMN: "A column hidden in the sheet is read as the field its header names: "
    "said, since its values are not seen.",
    C.HIDDEN_ROW: "The row is hidden in the sheet (a filter or Hide Rows): not sent until it is "
    "unhidden or deleted, since whether it was meant to go cannot be told.",
    C.DUPLICATE_BOOKING: "Two rows share a booking name; neither is sent.",
    C.BAD_PO_LINE: "A PO Numbers item is neither a PO number nor PO:SKU=units.",
    C.UNKNOWN_PO: "A booking names a PO that is neither in the file nor in Flexport.",
    C.DUPLICATE_REF: "Two network rows of one type share a ref; neither is sent.",
    C.UNKNOWN_REF: "An entity or location ref that is neither in the file's network sheet "
                   "nor in the account's network; said once per value, with its cells.",
}
"""One line per code: what it means to the person fixing the sheet."""


@dataclass(frozen=True)
class Issue:
    """One problem in the input, placed on a cell (or a row when ``ref.col`` is -1)."""

    ref: CellRef | None
    header: str
    value: str
    code: IssueCode
    severity: Severity
    message: str
    suggestion: str = ""
    also: tuple[CellRef, ...] = ()  # the other cells a once-per-value warning covers

    @property
    def cells(self) -> tuple[CellRef, ...]:
        """Every cell the issue is about: ``ref`` and ``also``, for marking each one."""
        return ((self.ref,) if self.ref is not None else ()) + self.also

    def __str__(self) -> str:
        place = (
            str(self.ref)
            if self.ref is not None and self.ref.col >= 0
            else (
                f"{self.ref.sheet} row {self.ref.row}" if self.ref is not None else ""
            )
        )
        head = f"{place} ({self.header})" if self.header else place
        text = f"{head}: {self.message}" if head else self.message
        if self.suggestion:
            text += f"; {self.suggestion}"
        return text


def markdown_table() -> str:
    """The issue-code catalogue as a Markdown table, for the README."""
    lines = ["| Code | Meaning |", "|---|---|"]
    lines += [f"| `{code}` | {MEANINGS[code]} |" for code in IssueCode]
    return "\n".join(lines) + "\n"

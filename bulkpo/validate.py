"""Table -> purchase orders or bookings, and every problem found, placed on its cell.

Validation reads the column spec (:mod:`bulkpo.columns`) generically: each mapped
column gets a converter compiled once, and every cell goes through its column's
converter. Cross-row rules (rows of one PO agree, no duplicate lines or booking
names, dates in order) and the booking rules that mirror what the Flexport API
refuses run after the cells. Nothing here reads files or talks to the API.

A PO with any error is not sent at all: every one of its rows is invalid, and the
rows without an error of their own get one naming the offending cell.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeAlias

from bulkpo import ports
from bulkpo.columns import Column, ColumnSet, ColumnType, fold_header, metadata_key
from bulkpo.domain import (
    Booking,
    ContainerCounts,
    DangerousGoods,
    LineItem,
    Party,
    PurchaseOrder,
    ShippingUnits,
)
from bulkpo.gcpause import gc_paused
from bulkpo.table import CellRef, CellValue, Issue, Row, Severity, Table

__all__ = [
    "COUNTRIES",
    "CURRENCIES",
    "HeaderMap",
    "ValidationResult",
    "map_headers",
    "validate_bookings",
    "validate_purchase_orders",
]

DateOrder = Literal["dmy", "mdy"]

ERROR = Severity.ERROR
WARNING = Severity.WARNING

# --------------------------------------------------------------------------- reference lists

COUNTRIES: dict[str, str] = dict(
    line.split(" ", 1)
    for line in """\
AD Andorra|AE United Arab Emirates|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla|AL Albania
AM Armenia|AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria|AU Australia
AW Aruba|AX Aland Islands|AZ Azerbaijan|BA Bosnia and Herzegovina|BB Barbados|BD Bangladesh
BE Belgium|BF Burkina Faso|BG Bulgaria|BH Bahrain|BI Burundi|BJ Benin|BL Saint Barthelemy
BM Bermuda|BN Brunei Darussalam|BO Bolivia|BQ Bonaire, Sint Eustatius and Saba|BR Brazil
BS Bahamas|BT Bhutan|BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|CA Canada
CC Cocos (Keeling) Islands|CD Congo, Democratic Republic|CF Central African Republic
CG Congo|CH Switzerland|CI Cote d'Ivoire|CK Cook Islands|CL Chile|CM Cameroon|CN China
CO Colombia|CR Costa Rica|CU Cuba|CV Cabo Verde|CW Curacao|CX Christmas Island|CY Cyprus
CZ Czechia|DE Germany|DJ Djibouti|DK Denmark|DM Dominica|DO Dominican Republic|DZ Algeria
EC Ecuador|EE Estonia|EG Egypt|EH Western Sahara|ER Eritrea|ES Spain|ET Ethiopia|FI Finland
FJ Fiji|FK Falkland Islands|FM Micronesia|FO Faroe Islands|FR France|GA Gabon
GB United Kingdom|GD Grenada|GE Georgia|GF French Guiana|GG Guernsey|GH Ghana|GI Gibraltar
GL Greenland|GM Gambia|GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece
GS South Georgia and the South Sandwich Islands|GT Guatemala|GU Guam|GW Guinea-Bissau
GY Guyana|HK Hong Kong|HM Heard Island and McDonald Islands|HN Honduras|HR Croatia|HT Haiti
HU Hungary|ID Indonesia|IE Ireland|IL Israel|IM Isle of Man|IN India
IO British Indian Ocean Territory|IQ Iraq|IR Iran|IS Iceland|IT Italy|JE Jersey|JM Jamaica
JO Jordan|JP Japan|KE Kenya|KG Kyrgyzstan|KH Cambodia|KI Kiribati|KM Comoros
KN Saint Kitts and Nevis|KP North Korea|KR South Korea|KW Kuwait|KY Cayman Islands
KZ Kazakhstan|LA Laos|LB Lebanon|LC Saint Lucia|LI Liechtenstein|LK Sri Lanka|LR Liberia
LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia|LY Libya|MA Morocco|MC Monaco|MD Moldova
ME Montenegro|MF Saint Martin (French part)|MG Madagascar|MH Marshall Islands
MK North Macedonia|ML Mali|MM Myanmar|MN Mongolia|MO Macao|MP Northern Mariana Islands
MQ Martinique|MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|MV Maldives|MW Malawi
MX Mexico|MY Malaysia|MZ Mozambique|NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island
NG Nigeria|NI Nicaragua|NL Netherlands|NO Norway|NP Nepal|NR Nauru|NU Niue|NZ New Zealand
OM Oman|PA Panama|PE Peru|PF French Polynesia|PG Papua New Guinea|PH Philippines|PK Pakistan
PL Poland|PM Saint Pierre and Miquelon|PN Pitcairn|PR Puerto Rico|PS Palestine|PT Portugal
PW Palau|PY Paraguay|QA Qatar|RE Reunion|RO Romania|RS Serbia|RU Russia|RW Rwanda
SA Saudi Arabia|SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden|SG Singapore
SH Saint Helena, Ascension and Tristan da Cunha|SI Slovenia|SJ Svalbard and Jan Mayen
SK Slovakia|SL Sierra Leone|SM San Marino|SN Senegal|SO Somalia|SR Suriname|SS South Sudan
ST Sao Tome and Principe|SV El Salvador|SX Sint Maarten (Dutch part)|SY Syria|SZ Eswatini
TC Turks and Caicos Islands|TD Chad|TF French Southern Territories|TG Togo|TH Thailand
TJ Tajikistan|TK Tokelau|TL Timor-Leste|TM Turkmenistan|TN Tunisia|TO Tonga|TR Turkey
TT Trinidad and Tobago|TV Tuvalu|TW Taiwan|TZ Tanzania|UA Ukraine|UG Uganda
UM United States Minor Outlying Islands|US United States|UY Uruguay|UZ Uzbekistan
VA Holy See|VC Saint Vincent and the Grenadines|VE Venezuela|VG Virgin Islands (British)
VI Virgin Islands (U.S.)|VN Viet Nam|VU Vanuatu|WF Wallis and Futuna|WS Samoa|XK Kosovo
YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe""".replace("\n", "|").split("|")
)
"""ISO 3166-1 alpha-2 codes (and XK, Kosovo, which Flexport and most carriers use)."""

# Codes people write that are not ISO 3166 alpha-2, and what they mean.
_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR", "USA": "US", "PRC": "CN", "UAE": "AE"}

CURRENCIES: frozenset[str] = frozenset(re.findall(r"[A-Z]{3}", """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD
    EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD
    MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR
    PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL
    THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF
    XCD XOF XPF YER ZAR ZMW ZWL"""))
"""ISO 4217 currency codes in use."""

_CURRENCY_ALIASES = {
    "RMB": "CNY", "US$": "USD", "$": "USD", "€": "EUR", "£": "GBP", "¥": "CNY or JPY",
    "NTD": "TWD", "YEN": "JPY", "EURO": "EUR", "EUROS": "EUR", "DOLLAR": "USD",
}

# Columns holding identifiers: a number there may have lost digits on the way.
_ID_KEYS = frozenset({"po_number", "sku", "booking_name", "po_numbers"})
# Amounts that must be above zero; other numbers only must not be negative.
_POSITIVE_KEYS = frozenset({"quantity", "unit_count", "atomic_count", "weight_kg", "volume_cbm",
                            "line_number"})

_EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!",
     "#GETTING_DATA"}
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_TRUE = frozenset({"yes", "y", "true", "1", "x", "t", "ja", "oui", "si", "sí"})
_FALSE = frozenset({"no", "n", "false", "0", "f", "nein", "non"})
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)


# --------------------------------------------------------------------------- results


@dataclass
class HeaderMap:
    """Which sheet column holds which spec column, and what was wrong with the headers.

    ``column_of`` maps a column key to its 0-based sheet column; ``metadata_of`` a
    metadata key (``metadata.size`` -> ``size``) to its sheet column; ``headers``
    a key to the header text as the user wrote it.
    """

    column_of: dict[str, int] = field(default_factory=dict)
    metadata_of: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # keys of required columns not found


@dataclass
class ValidationResult:
    """What a sheet means and what is wrong with it.

    ``issues`` holds every problem (the reader's warnings first, then the header
    problems, then the cells' in sheet order); ``invalid_rows`` maps each sheet row
    that must not be sent to the errors that stop it. ``purchase_orders`` /
    ``bookings`` hold only the valid objects.
    """

    header_map: HeaderMap
    row_count: int
    purchase_orders: list[PurchaseOrder] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    invalid_rows: dict[int, list[Issue]] = field(default_factory=dict)

    @property
    def column_of(self) -> dict[str, int]:
        return self.header_map.column_of

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity is WARNING]

    @property
    def valid_row_count(self) -> int:
        return self.row_count - len(self.invalid_rows)


# --------------------------------------------------------------------------- headers


def map_headers(
    table: Table, columns: ColumnSet, *, defaults: Mapping[str, str] | None = None
) -> HeaderMap:
    """Match the sheet's headers to the spec: unknown headers are warnings, a missing
    required column (with no default) is one error placed on the header row."""
    result = HeaderMap()
    defaults = defaults or {}
    names = {fold_header(n): c.header for c in columns.columns for n in (c.header, *c.aliases)}
    for index, text in enumerate(table.headers):
        header = (text or "").strip()
        if not header:
            continue
        ref = CellRef(table.sheet, table.header_row, index)
        meta = metadata_key(header)
        col = columns.match(header)
        if col is None and meta is not None:
            if meta in result.metadata_of:
                result.issues.append(_duplicate_header(ref, header, result.metadata_of[meta],
                                                       table))
            else:
                result.metadata_of[meta] = index
            continue
        if col is None:
            close = difflib.get_close_matches(fold_header(header), list(names), n=1, cutoff=0.75)
            hint = (
                f'did you mean "{names[close[0]]}"? To keep it, name it "metadata.{header}"'
                if close
                else f'to send it as metadata, name it "metadata.{header}"'
            )
            sheet = columns.sheet_name
            result.issues.append(Issue(ref, header, header, "unknown_column", WARNING,
                                       f'"{header}" is not {_article(sheet)} {sheet} column '
                                       "and is ignored", hint))
            continue
        if col.key in result.column_of:
            result.issues.append(_duplicate_header(ref, header, result.column_of[col.key], table))
            continue
        result.column_of[col.key] = index
        result.headers[col.key] = header
    present = ", ".join(h.strip() for h in table.headers if h and h.strip()) or "none"
    for col in _required_columns(columns):
        if col.key not in result.column_of and not col.default and not defaults.get(col.key):
            result.missing.append(col.key)
            result.issues.append(Issue(
                CellRef(table.sheet, table.header_row, 0), col.header, "", "required", ERROR,
                f"required column '{col.header}' not found; headers present: {present}",
                f"add a column headed '{col.header}'",
            ))
    for col in columns.columns:
        result.headers.setdefault(col.key, col.header)
    return result


def _duplicate_header(ref: CellRef, header: str, first: int, table: Table) -> Issue:
    other = CellRef(table.sheet, table.header_row, first)
    return Issue(ref, header, header, "duplicate_column", WARNING,
                 f'"{header}" is a second column for the same field as {other.a1} and is ignored',
                 "delete or rename one of the two columns")


# The Flexport API refuses a booking without these (spec §7.4), so they are required
# here whatever the column table says, unless the settings give a default.
_BOOKING_API_REQUIRED = ("shipper_entity_ref", "consignee_entity_ref", "origin_location_ref")


def _required_columns(columns: ColumnSet) -> list[Column]:
    keys = {c.key for c in columns.columns}
    extra = set(_BOOKING_API_REQUIRED) & keys if "booking_name" in keys else set()
    return [c for c in columns.columns if c.required or c.key in extra]


# --------------------------------------------------------------------------- cell problems


class _Problem:
    """Why a cell cannot be used as it is; a warning carries the value accepted anyway."""

    __slots__ = ("code", "message", "severity", "suggestion", "value")

    def __init__(
        self,
        code: str,
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


def _warn(value: object, code: str, message: str, suggestion: str = "") -> _Problem:
    return _Problem(code, message, suggestion, severity=WARNING, value=value)


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


def _shown(value: object) -> str:
    """A converted value as text for a message (dates ISO, lists comma-joined)."""
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _is_blank(v: CellValue) -> bool:
    return v is None or (type(v) is str and not v.strip())


def _excel_error(text: str) -> _Problem:
    return _Problem("excel_error", f"the cell holds the Excel error {text}, not a value",
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


def _text_converter(col: Column, counter: _NumberCounter) -> Converter:
    is_id = col.key in _ID_KEYS

    def from_text(s: str) -> object:
        if s in _EXCEL_ERRORS:
            return _excel_error(s)
        if is_id and _SCIENTIFIC.fullmatch(s):
            return _warn(s, "damaged_number",
                         f"{s} is an id Excel has shown in scientific notation; "
                         "the digits after the first few are probably lost",
                         "format the column as Text and re-type the id")
        if _DOT_ZERO.fullmatch(s):
            return _warn(s, "trailing_dot_zero",
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


class _NumberCounter:
    """Counts the numbers found in an id column, to warn once instead of on every cell."""

    def __init__(self) -> None:
        self.first: CellValue = None
        self.count = 0


def _number_as_text(v: CellValue, is_id: bool, counter: _NumberCounter) -> object:
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
            return _warn(text, "damaged_number",
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
        return _warn(text, "date_in_text",
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
    positive = col.key in _POSITIVE_KEYS
    what = "a whole number" if integer else "a number"

    def check(n: int | Decimal, text: str) -> object:
        if positive and n <= 0:
            return _Problem("not_positive", f"{header} must be more than 0, not {text}")
        if n < 0:
            return _Problem("not_positive", f"{header} must not be negative, not {text}")
        return n

    def from_text(s: str) -> object:
        if s in _EXCEL_ERRORS:
            return _excel_error(s)
        d = _decimal_from_text(s)
        if d is None:
            return _Problem("bad_number", f'"{s}" is not {what}',
                            _number_hint(s))
        if integer:
            if d != d.to_integral_value():
                return _Problem("bad_number", f'"{s}" is not {what}')
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
                    return _Problem("bad_number", f"{_float_text(v)} is not {what}")
                return check(int(v), _float_text(v))
            return check(Decimal(repr(v)), _float_text(v))
        if v is None:
            return None
        return _Problem("bad_number", f"{cell_text(v)} is not {what}")

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
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _make_date(year: int, month: int, day: int, text: str) -> dt.date | _Problem:
    if not 1900 <= year <= 2199:
        return _Problem("bad_date", f'"{text}" is no date (year {year})',
                        "write dates as YYYY-MM-DD, e.g. 2026-03-01")
    if not 1 <= month <= 12:
        return _Problem("bad_date", f'"{text}" is no date (there is no month {month})',
                        "write dates as YYYY-MM-DD, e.g. 2026-03-01")
    try:
        return dt.date(year, month, day)
    except ValueError:
        return _Problem("bad_date", f'"{text}" is no date ({_MONTHS[month - 1]} has no day '
                        f"{day} in {year})", "write dates as YYYY-MM-DD, e.g. 2026-03-01")


def _serial_date(n: float, text: str) -> object:
    if not 1 <= n < 2958466:
        return _Problem("bad_date", f"{text} is no date", "write dates as YYYY-MM-DD")
    d = _EXCEL_EPOCH + dt.timedelta(days=int(n))
    return _warn(d, "serial_date",
                 f"{text} is a date serial number; read as {d.isoformat()}",
                 "format the cell as a date so the sheet shows it as one")


class _DateOrderGuess:
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


def _date_converter(date_order: DateOrder | None, guess: _DateOrderGuess) -> Converter:
    def from_text(s: str) -> object:
        if s in _EXCEL_ERRORS:
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
                    return _Problem("bad_date", f'"{s}" is no date',
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
            if isinstance(d, _Problem):
                return d
            other = dt.date(year, a, b) if order == "dmy" else dt.date(year, b, a)
            words = "day/month" if order == "dmy" else "month/day"
            flip = "mdy" if order == "dmy" else "dmy"
            return _warn(d, "ambiguous_date",
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
        return _Problem("bad_date", f'"{s}" is no date',
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
        return _Problem("bad_date", f"{cell_text(v)} is no date",
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
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        if s in _EXCEL_ERRORS:
            return _excel_error(s)
        return _Problem("bad_boolean", f'"{s}" is not yes or no',
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
        if s in _EXCEL_ERRORS:
            return _excel_error(s)
        close = difflib.get_close_matches(_fold_enum(s), list(folded), n=1, cutoff=0.6)
        hint = f"did you mean {folded[close[0]]}?" if close else f"use one of {_listing(values)}"
        return _Problem("bad_enum", f'"{s}" is not {_article(header)} {header} value; '
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
    if s in _EXCEL_ERRORS:
        return _excel_error(s)
    if code in _COUNTRY_ALIASES:
        hint = f"write {_COUNTRY_ALIASES[code]} ({COUNTRIES[_COUNTRY_ALIASES[code]]})"
    else:
        by_name = {name.lower(): c for c, name in COUNTRIES.items()}
        close = difflib.get_close_matches(s.lower(), list(by_name), n=1, cutoff=0.75)
        hint = f"write {by_name[close[0]]} ({COUNTRIES[by_name[close[0]]]})" if close else (
            "write the two-letter ISO 3166 code, e.g. US, CN, DE")
    return _Problem("bad_country", f'"{s}" is not an ISO 3166 two-letter country code', hint)


def _currency(s: str) -> object:
    code = s.upper()
    if code in CURRENCIES:
        return code
    if s in _EXCEL_ERRORS:
        return _excel_error(s)
    if code in _CURRENCY_ALIASES:
        hint = f"write {_CURRENCY_ALIASES[code]}"
    else:
        close = difflib.get_close_matches(code, sorted(CURRENCIES), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "write the ISO 4217 code, e.g. USD"
    return _Problem("bad_currency", f'"{s}" is not an ISO 4217 currency code', hint)


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
    if s in _EXCEL_ERRORS:
        return _excel_error(s)
    return _Problem("bad_hs_code", f'"{s}" is not an HS code',
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
        if isinstance(checked, _Problem):
            return _Problem(checked.code, checked.message + " (it arrived as a number, so "
                            "Excel may have dropped leading or trailing zeros)",
                            "format the column as Text and re-type the code")
        return _warn(checked, "damaged_number",
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
        if s in _EXCEL_ERRORS:
            return _excel_error(s)
        return s

    return convert


_LIST_SPLIT = re.compile(r"[,;\n\r]+")


def _list_converter(col: Column, header: str, counter: _NumberCounter) -> Converter:
    item_lookup = _cached(_enum_lookup(col.enum_values, header)) if col.enum_values else None
    is_id = col.key in _ID_KEYS

    def from_text(s: str) -> object:
        items: list[str] = []
        for part in _LIST_SPLIT.split(s):
            item = part.strip()
            if not item:
                continue
            if item_lookup is not None:
                found = item_lookup(item)
                if isinstance(found, _Problem):
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
        if isinstance(single, _Problem):
            return _warn((str(single.value),), single.code, single.message, single.suggestion)
        return None if single is None else text_conv(str(single))

    return convert


# --------------------------------------------------------------------------- compiling


@dataclass
class _Field:
    """One spec column as this sheet holds it, with its converter."""

    key: str
    col: Column
    index: int            # sheet column, -1 when absent (the default still applies)
    header: str           # as the user wrote it
    convert: Converter
    default: object       # converted default for blank cells, None for none
    counter: _NumberCounter


def _compile(
    table: Table,
    columns: ColumnSet,
    header_map: HeaderMap,
    date_order: DateOrder | None,
    defaults: Mapping[str, str],
    setup_issues: list[Issue],
) -> list[_Field]:
    date_cols = [
        header_map.column_of[c.key]
        for c in columns.columns
        if c.type is ColumnType.DATE and c.key in header_map.column_of
    ]
    guess = _DateOrderGuess(table, date_cols)
    fields: list[_Field] = []
    for col in columns.columns:
        index = header_map.column_of.get(col.key, -1)
        default_text = defaults.get(col.key) or col.default
        if index < 0 and not default_text:
            continue
        header = header_map.headers.get(col.key, col.header)
        counter = _NumberCounter()
        convert = _converter(col, header, date_order, guess, counter)
        default: object = None
        if default_text:
            default = convert(default_text)
            if isinstance(default, _Problem):
                if default.severity is ERROR:
                    setup_issues.append(Issue(
                        None, header, default_text, default.code, ERROR,
                        f"the default {header} {default.message}", default.suggestion))
                    default = None
                else:
                    default = default.value
        fields.append(_Field(col.key, col, index, header, convert, default, counter))
    return fields


def _converter(
    col: Column,
    header: str,
    date_order: DateOrder | None,
    guess: _DateOrderGuess,
    counter: _NumberCounter,
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


# --------------------------------------------------------------------------- rows

_BAD = object()  # a cell whose value could not be used (its error is reported)


class _RowState:
    """The converted values of one row, with its problems."""

    __slots__ = ("errors", "number", "values")

    def __init__(self, number: int) -> None:
        self.number = number
        self.values: dict[str, object] = {}
        self.errors: list[Issue] = []


ColumnConverter: TypeAlias = Callable[[Sequence[CellValue]], tuple[list[object], int]]
_MISS = object()
_MEMO_LIMIT = 50_000


def _column_converter(f: _Field) -> ColumnConverter:
    """A whole column's cells -> their values (a :class:`_Problem` where a cell has one),
    and how many problems there are.

    A sheet repeats its statuses, codes, ports, dates and PO-level texts on every line,
    so each distinct cell is converted once and the rest are one dict lookup; the memo
    also makes the many lines of a PO share one value object. Only cells of types that
    cannot compare equal to another type's are memoised (1 == 1.0 == True would mix up
    "1", "1.0" and "TRUE"): text, dates and fractional floats. Whole numbers in number
    columns, the other common case, take their own test instead.
    """
    convert, default = f.convert, f.default
    blank: object = default
    if blank is None and f.col.required:
        blank = _Problem("required", f"{f.header} is required")
    memo: dict[object, object] = {}
    if type(blank) is not _Problem:
        memo[None] = blank
    problems = 0

    def slow(v: CellValue) -> object:
        nonlocal problems
        value = convert(v)
        if value is None:
            value = blank
        if type(value) is _Problem:
            problems += 1
        elif len(memo) < _MEMO_LIMIT and (
            type(v) is str or type(v) is dt.date or (type(v) is float and not v.is_integer())
        ):
            memo[v] = value
        return value

    get = memo.get
    low = -1
    if f.col.type is ColumnType.INTEGER:
        low = 1 if f.key in _POSITIVE_KEYS else 0

    def column(cells: Sequence[CellValue]) -> tuple[list[object], int]:
        nonlocal problems
        problems = 0
        if low >= 0:
            values = [
                v if type(v) is int and v >= low
                else r if (r := get(v, _MISS)) is not _MISS else slow(v)
                for v in cells
            ]
        else:
            values = [r if (r := get(v, _MISS)) is not _MISS else slow(v) for v in cells]
        return values, problems

    return column


class _Checker:
    """Converts the sheet column by column and collects the issues, in sheet order.

    ``converted[key][i]`` is the value of ``table.rows[i]`` in that column, a
    :class:`_Problem` where the cell has one; ``flagged`` holds the positions of the
    rows with a problem, which alone need a :class:`_RowState` and issues.
    """

    def __init__(self, table: Table, fields: list[_Field], issues: list[Issue]) -> None:
        self.table = table
        self.sheet = table.sheet
        self.fields = fields
        self.by_key = {f.key: f for f in fields}
        self.issues = issues
        rows = table.rows
        n = len(rows)
        # One tuple per sheet column; short rows read as blank past their end.
        cells = list(itertools.zip_longest(*(r.values for r in rows))) if rows else []
        self.converted: dict[str, list[object]] = {}
        self.flagged: set[int] = set()
        for f in fields:
            column = cells[f.index] if 0 <= f.index < len(cells) else (None,) * n
            values, problems = _column_converter(f)(column)
            self.converted[f.key] = values
            if problems:
                self.flagged.update(i for i, v in enumerate(values) if type(v) is _Problem)

    def values(self, keys: Sequence[str]) -> Iterable[tuple[object, ...]]:
        """Per row, the values of ``keys`` (None for a key the sheet does not have)."""
        n = len(self.table.rows)
        columns = [self.converted.get(k) or itertools.repeat(None, n) for k in keys]
        return zip(*columns, strict=True) if columns else itertools.repeat((), n)

    def state(self, pos: int) -> _RowState:
        """The row at ``pos`` with its cell problems reported: errors leave _BAD, warnings
        the value accepted anyway."""
        row = self.table.rows[pos]
        state = _RowState(row.number)
        out = state.values
        for f in self.fields:
            value = self.converted[f.key][pos]
            if type(value) is _Problem:
                value = self._problem(state, f, row.get(f.index), value)
            out[f.key] = value
        return state

    def _problem(self, state: _RowState, f: _Field, raw: CellValue, p: _Problem) -> object:
        issue = Issue(
            CellRef(self.sheet, state.number, max(f.index, -1)), f.header, cell_text(raw),
            p.code, p.severity, p.message, p.suggestion,
        )
        self.issues.append(issue)
        if p.severity is ERROR:
            state.errors.append(issue)
            return _BAD
        return p.value

    def error(
        self, state: _RowState, key: str, code: str, message: str, suggestion: str = "",
        *, value: str | None = None,
    ) -> Issue:
        """A row-rule error placed on ``key``'s cell (on the row when it has no column)."""
        f = self.by_key.get(key)
        index = f.index if f is not None else -1
        header = f.header if f is not None else ""
        if value is None:
            current = state.values.get(key)
            value = "" if current is None or current is _BAD else _shown(current)
        issue = Issue(CellRef(self.sheet, state.number, index), header, value, code, ERROR,
                      message, suggestion)
        self.issues.append(issue)
        state.errors.append(issue)
        return issue

    def ref(self, state: _RowState, key: str) -> CellRef:
        return self.ref_at(state.number, key)

    def ref_at(self, row: int, key: str) -> CellRef:
        f = self.by_key.get(key)
        return CellRef(self.sheet, row, f.index if f is not None else -1)

    def header(self, key: str, columns: ColumnSet) -> str:
        f = self.by_key.get(key)
        if f is not None:
            return f.header
        try:
            return columns.by_key(key).header
        except KeyError:
            return key

    def number_warnings(self) -> None:
        """One warning per id column that held numbers, on its first such cell."""
        for f in self.fields:
            c = f.counter
            if c.count == 0 or f.index < 0:
                continue
            first_row = next(
                (r for r in self.table.rows if r.get(f.index) == c.first
                 and type(r.get(f.index)) is not str),
                None,
            )
            if first_row is None:
                continue
            others = (f" and {c.count - 1:,} other cell{'s' if c.count > 2 else ''} in this "
                      "column are" if c.count > 1 else " is")
            self.issues.append(Issue(
                CellRef(self.sheet, first_row.number, f.index), f.header, cell_text(c.first),
                "stored_as_number", WARNING,
                f"{cell_text(c.first)}{others} stored as numbers; leading zeros may have "
                "been lost", "format the column as Text and re-type the ids",
            ))


def _want_for(mode: object) -> ports.Want | None:
    if mode == "ocean":
        return "seaport"
    if mode == "air":
        return "airport"
    return None


def _check_port(
    checker: _Checker, state: _RowState, key: str, want: ports.Want | None
) -> ports.PortInfo | None:
    value = state.values.get(key)
    if not isinstance(value, str):
        return None
    f = checker.by_key[key]
    port, problem = ports.check_port(value, want=want, accept_iata=f.col.accepts_iata)
    if problem is not None:
        checker.error(state, key, problem.code, problem.message, problem.suggestion, value=value)
        state.values[key] = _BAD
        return None
    assert port is not None
    state.values[key] = ports.fold_code(value)
    return port


def _finish(
    checker: _Checker, table: Table, header_map: HeaderMap, setup: list[Issue],
    issues: list[Issue],
) -> list[Issue]:
    checker.number_warnings()
    issues.sort(key=lambda i: (i.ref.row, i.ref.col) if i.ref is not None else (0, 0))
    return [*table.issues, *header_map.issues, *setup, *issues]


def _opt_str(values: dict[str, object], key: str) -> str | None:
    v = values.get(key)
    return v if isinstance(v, str) else None


# --------------------------------------------------------------------------- purchase orders


class _PoDraft:
    """A PO while its rows are read.

    ``po_values`` holds its PO-level values in ``po_keys`` order (None until a row
    gives one); each was set by the row at position ``first`` unless ``set_at`` names
    another (a value first given on a later row).
    """

    __slots__ = ("errors", "first", "line_numbers", "lines", "metadata", "name", "own_errors",
                 "po_values", "rows", "set_at", "skus")

    def __init__(self, name: str, first: int, po_values: tuple[object, ...]) -> None:
        self.name = name
        self.first = first
        self.po_values = po_values
        self.set_at: dict[int, int] = {}
        self.rows: list[int] = []
        self.lines: list[LineItem] = []
        self.line_numbers: dict[int, int] = {}  # -> sheet row
        self.skus: dict[str, int] = {}
        self.metadata: dict[str, list[str]] = {}
        self.errors: list[Issue] = []
        self.own_errors: dict[int, list[Issue]] = {}

    def position_of(self, k: int) -> int:
        """Position (in table.rows) of the row that set PO-level value ``k``."""
        return self.set_at.get(k, self.first)


_LINE_KEYS = ("line_number", "sku", "quantity", "product_name", "unit_of_measure", "unit_cost",
              "currency", "hs_code")


@gc_paused()
def validate_purchase_orders(
    table: Table,
    columns: ColumnSet,
    *,
    date_order: DateOrder | None = None,
    defaults: Mapping[str, str] | None = None,
) -> ValidationResult:
    """Check a purchase-order sheet (one row per line) and assemble its POs.

    Rows sharing a PO number form one PO; their PO-level values must agree (a
    blank repeats the PO's value). ``date_order`` settles text dates like
    03/04/2026; without it they are read as the sheet's other dates suggest and
    flagged. ``defaults`` (column key -> text) fill blank cells.
    """
    defaults = defaults or {}
    header_map = map_headers(table, columns, defaults=defaults)
    result = ValidationResult(header_map=header_map, row_count=len(table.rows))
    if header_map.missing:
        return _all_invalid(result, table, header_map)
    setup: list[Issue] = []
    fields = _compile(table, columns, header_map, date_order, defaults, setup)
    po_level = [f for f in fields if f.col.po_level and f.key != "po_number"]
    # A PO-level default applies to the PO, so a blank row does not disagree with the others.
    po_defaults = {f.key: f.default for f in po_level if f.default is not None}
    for f in po_level:
        f.default = None
    issues: list[Issue] = []
    checker = _Checker(table, fields, issues)
    po_keys = tuple(f.key for f in po_level)
    meta_cols = list(header_map.metadata_of.items())
    drafts: dict[str, _PoDraft] = {}
    flagged = checker.flagged
    rows = table.rows

    # The common row has no problem, repeats its PO's values exactly and adds a new line:
    # it is settled here with a tuple comparison and one LineItem. Anything else (a cell
    # problem, a blank or differing PO-level value, a repeated line) goes to _add_row,
    # which reports it; the fast path changes nothing before it is sure.
    for pos, (row, name, po, line) in enumerate(zip(
        rows, checker.converted["po_number"], checker.values(po_keys),
        checker.values(_LINE_KEYS), strict=True,
    )):
        if pos in flagged or type(name) is not str:
            _add_row(checker, pos, drafts, po_level, meta_cols, result.invalid_rows, columns)
            continue
        line_number, sku, quantity, product_name, unit, cost, currency, hs_code = line
        draft = drafts.get(name)
        if draft is None:
            draft = drafts[name] = _PoDraft(name, pos, po)
        elif po != draft.po_values:
            _add_row(checker, pos, drafts, po_level, meta_cols, result.invalid_rows, columns)
            continue
        if line_number is None:
            line_number = len(draft.rows) + 1  # numbered by its place in the PO
        if line_number in draft.line_numbers or sku in draft.skus:
            _add_row(checker, pos, drafts, po_level, meta_cols, result.invalid_rows, columns)
            continue
        number = row.number
        draft.rows.append(number)
        draft.line_numbers[line_number] = number  # type: ignore[index]
        draft.skus[sku] = number  # type: ignore[index]
        # Clean cells hold their column's type already (the converters saw to it).
        draft.lines.append(LineItem(
            number, line_number, sku, quantity, product_name,  # type: ignore[arg-type]
            unit or "PCS", cost, currency, hs_code,  # type: ignore[arg-type]
        ))
        if meta_cols:
            _add_metadata(draft, row, meta_cols)

    invalid = result.invalid_rows
    for draft in drafts.values():
        assembled = _assemble_po(checker, draft, po_keys, po_defaults)
        if draft.errors or assembled is None:
            _invalidate(draft, invalid, table.sheet)
        else:
            result.purchase_orders.append(assembled)
    result.issues = _finish(checker, table, header_map, setup, issues)
    return result


def _add_row(
    checker: _Checker,
    pos: int,
    drafts: dict[str, _PoDraft],
    po_level: list[_Field],
    meta_cols: list[tuple[str, int]],
    invalid: dict[int, list[Issue]],
    columns: ColumnSet,
) -> None:
    """Add the row at ``pos`` to its PO the careful way, reporting every problem."""
    rows = checker.table.rows
    row = rows[pos]
    state = checker.state(pos)
    values = state.values
    name = values.get("po_number")
    if not isinstance(name, str):
        invalid[row.number] = state.errors
        return
    draft = drafts.get(name)
    if draft is None:
        draft = drafts[name] = _PoDraft(name, pos, (None,) * len(po_level))
    draft.rows.append(row.number)
    merged = list(draft.po_values)
    for k, f in enumerate(po_level):
        value = values[f.key]
        if value is None:
            continue
        seen = merged[k]
        if seen is None:
            merged[k] = value
            draft.set_at[k] = pos
        elif seen != value and value is not _BAD and seen is not _BAD:
            text = cell_text(row.get(f.index)).strip()
            first = rows[draft.position_of(k)]
            checker.error(
                state, f.key, "po_conflict",
                f"{CellRef(checker.sheet, row.number, f.index)} says {text} but "
                f"{CellRef(checker.sheet, first.number, f.index)} (same PO) says "
                f"{cell_text(first.get(f.index)).strip()}",
                f"give every row of PO {name} the same {f.header}, or leave it blank "
                "after the first", value=text,
            )
    draft.po_values = tuple(merged)
    line = _line_item(checker, state, draft, columns)
    if line is not None:
        draft.lines.append(line)
    if meta_cols:
        _add_metadata(draft, row, meta_cols)
    if state.errors:
        draft.errors.extend(state.errors)
        draft.own_errors[row.number] = state.errors


def _add_metadata(draft: _PoDraft, row: Row, meta_cols: list[tuple[str, int]]) -> None:
    for key, index in meta_cols:
        v = row.get(index)
        if not _is_blank(v):
            text = cell_text(v).strip()
            got = draft.metadata.setdefault(key, [])
            if text not in got:
                got.append(text)


def _line_item(
    checker: _Checker, state: _RowState, draft: _PoDraft, columns: ColumnSet
) -> LineItem | None:
    values = state.values
    number = values.get("line_number")
    position = len(draft.rows)
    if number is None:
        number = position
    sku = values.get("sku")
    if isinstance(number, int):
        first = draft.line_numbers.get(number)
        if first is not None:
            how = "" if "line_number" in checker.by_key and values.get("line_number") else (
                " (numbered by its place in the PO)")
            ref_line = checker.ref(state, "line_number")
            checker.error(state, "line_number", "duplicate_line",
                          f"line {number}{how} appears twice in PO {draft.name}: "
                          f"{ref_line} and {checker.ref_at(first, 'line_number')}",
                          "give each line of a PO its own number", value=str(number))
        else:
            draft.line_numbers[number] = state.number
    if isinstance(sku, str):
        first = draft.skus.get(sku)
        if first is not None:
            checker.error(state, "sku", "duplicate_line",
                          f"SKU {sku} appears twice in PO {draft.name}: "
                          f"{checker.ref(state, 'sku')} and {checker.ref_at(first, 'sku')}",
                          "put the quantities of one SKU on one line", value=sku)
        else:
            draft.skus[sku] = state.number
    quantity = values.get("quantity")
    if state.errors or not isinstance(number, int) or not isinstance(sku, str) or not isinstance(
        quantity, int
    ):
        return None
    cost = values.get("unit_cost")
    return LineItem(
        row=state.number,
        line_number=number,
        sku=sku,
        quantity=quantity,
        product_name=_opt_str(values, "product_name"),
        unit_of_measure=_opt_str(values, "unit_of_measure") or "PCS",
        unit_cost=cost if isinstance(cost, Decimal) else None,
        currency=_opt_str(values, "currency"),
        hs_code=_opt_str(values, "hs_code"),
    )


def _assemble_po(
    checker: _Checker, draft: _PoDraft, po_keys: tuple[str, ...], po_defaults: dict[str, object]
) -> PurchaseOrder | None:
    got = dict(zip(po_keys, draft.po_values, strict=True))
    for key, default in po_defaults.items():
        if got[key] is None:
            got[key] = default
    first_row = draft.rows[0]
    rows = checker.table.rows

    def set_ref(key: str) -> CellRef | None:
        """The cell that gave the PO its ``key`` value (None for a default)."""
        k = po_keys.index(key)
        if draft.po_values[k] is None:
            return None
        return checker.ref_at(rows[draft.position_of(k)].number, key)

    # Port kinds and date order are PO rules, checked once on the cell that set the value.
    want = _want_for(got.get("transportation_mode"))
    for key in ("origin_port", "destination_port"):
        value = got.get(key)
        if not isinstance(value, str):
            continue
        accept_iata = checker.by_key[key].col.accepts_iata
        problem = ports.check_port(value, want=want, accept_iata=accept_iata)[1]
        if problem is not None:
            draft.errors.append(_po_issue(checker, draft, key, set_ref(key), first_row,
                                          problem.code, problem.message, problem.suggestion,
                                          value))
            got[key] = _BAD
        else:
            got[key] = ports.fold_code(value)
    ready, arrive = got.get("cargo_ready_date"), got.get("must_arrive_date")
    if not isinstance(ready, dt.date):
        ready = None
    if not isinstance(arrive, dt.date):
        arrive = None
    if ready is not None and arrive is not None and arrive < ready:
        ref = set_ref("must_arrive_date")
        ready_ref = set_ref("cargo_ready_date")
        draft.errors.append(_po_issue(
            checker, draft, "must_arrive_date", ref, first_row, "dates_order",
            f"the must-arrive date {arrive.isoformat()} is before the cargo-ready date "
            f"{ready.isoformat()}" + (f" ({ready_ref})" if ready_ref else ""),
            "check the two dates", arrive.isoformat(),
        ))
    if draft.errors:
        return None
    # Only text reaches the PO's text fields; _BAD and anything else becomes None.
    text = {k: v for k, v in got.items() if isinstance(v, str)}.get
    return PurchaseOrder(
        name=draft.name,
        lines=draft.lines,
        status=text("status") or "open",
        buyer=Party(text("buyer_name"), text("buyer_ref"), text("buyer_country")),
        seller=Party(text("seller_name"), text("seller_ref"), text("seller_country")),
        incoterm=text("incoterm"),
        transportation_mode=text("transportation_mode"),
        cargo_ready_date=ready,
        must_arrive_date=arrive,
        origin_port=text("origin_port"),
        destination_port=text("destination_port"),
        origin_address_ref=text("origin_address_ref"),
        destination_address_ref=text("destination_address_ref"),
        memo=text("memo"),
        metadata=draft.metadata,
    )


def _po_issue(
    checker: _Checker, draft: _PoDraft, key: str, ref: CellRef | None, first_row: int,
    code: str, message: str, suggestion: str, value: str,
) -> Issue:
    f = checker.by_key.get(key)
    if ref is None:
        ref = CellRef(checker.sheet, first_row, f.index if f is not None else -1)
    issue = Issue(ref, f.header if f is not None else "", value, code, ERROR, message,
                  suggestion)
    checker.issues.append(issue)
    draft.own_errors.setdefault(ref.row, []).append(issue)
    return issue


def _invalidate(draft: _PoDraft, invalid: dict[int, list[Issue]], sheet: str) -> None:
    """Every row of a PO with an error is invalid; rows without their own say why."""
    first = draft.errors[0]
    more = len(draft.errors) - 1
    reason = f"{first.ref}: {first.message}" if first.ref is not None else first.message
    if more:
        reason += f" (and {more} more error{'s' if more > 1 else ''})"
    for number in draft.rows:
        own = draft.own_errors.get(number)
        if own:
            invalid[number] = own
        else:
            invalid[number] = [Issue(
                CellRef(sheet, number, -1), "", draft.name, "po_invalid", ERROR,
                f"PO {draft.name} is not sent because another of its rows has an error: "
                f"{reason}", "fix that row; this one is then sent with it",
            )]


def _all_invalid(result: ValidationResult, table: Table, header_map: HeaderMap) -> ValidationResult:
    errors = [i for i in header_map.issues if i.severity is ERROR]
    for row in table.rows:
        result.invalid_rows[row.number] = errors
    result.issues = [*table.issues, *header_map.issues]
    return result


# --------------------------------------------------------------------------- bookings


@gc_paused()
def validate_bookings(
    table: Table,
    columns: ColumnSet,
    *,
    date_order: DateOrder | None = None,
    known_po_numbers: Collection[str] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> ValidationResult:
    """Check a bookings sheet (one row per booking) and build its bookings.

    Besides the cell rules, the rules the Flexport API applies to a booking are
    checked per row, so the user sees them on the cell before anything is sent.
    ``known_po_numbers`` (from the PO sheet and the API) lets PO numbers be
    checked; ``None`` skips that check. ``defaults`` (column key -> text, e.g.
    the ``[bookings]`` settings) fill blank cells.
    """
    defaults = defaults or {}
    header_map = map_headers(table, columns, defaults=defaults)
    result = ValidationResult(header_map=header_map, row_count=len(table.rows))
    if header_map.missing:
        return _all_invalid(result, table, header_map)
    setup: list[Issue] = []
    fields = _compile(table, columns, header_map, date_order, defaults, setup)
    issues: list[Issue] = []
    checker = _Checker(table, fields, issues)
    known = set(known_po_numbers) if known_po_numbers is not None else None
    meta_cols = list(header_map.metadata_of.items())
    names: dict[str, list[_RowState]] = {}
    built: dict[int, Booking] = {}
    for pos, row in enumerate(table.rows):
        state = checker.state(pos)
        _booking_rules(checker, state, columns, known)
        name = state.values.get("booking_name")
        if isinstance(name, str):
            names.setdefault(name, []).append(state)
        metadata: dict[str, list[str]] = {}
        for key, index in meta_cols:
            v = row.get(index)
            if not _is_blank(v):
                metadata[key] = [cell_text(v).strip()]
        booking = _build_booking(state, metadata) if not state.errors else None
        if booking is not None:
            built[row.number] = booking
        else:
            result.invalid_rows[row.number] = state.errors
    for name, states in names.items():
        if len(states) < 2:
            continue
        # Both rows stop: which of the two the user meant to send is theirs to say.
        for state in states:
            others = ", ".join(
                f"row {o.number} ({checker.ref(o, 'booking_name')})"
                for o in states if o is not state
            )
            issue = checker.error(state, "booking_name", "duplicate_booking",
                                  f'booking name "{name}" is also used on {others}',
                                  "booking names must be unique; rename one", value=name)
            built.pop(state.number, None)
            result.invalid_rows.setdefault(state.number, [])
            if issue not in result.invalid_rows[state.number]:
                result.invalid_rows[state.number].append(issue)
    result.bookings = list(built.values())
    result.issues = _finish(checker, table, header_map, setup, issues)
    return result


def _booking_rules(
    checker: _Checker, state: _RowState, columns: ColumnSet, known: set[str] | None
) -> None:
    v = state.values

    def need(key: str, why: str) -> None:
        if v.get(key) is None:
            header = checker.header(key, columns)
            checker.error(state, key, "required", f"{header} is required {why}",
                          f"fill in {header}" + (
                              f" (or set a default for {key})" if key in _BOOKING_API_REQUIRED
                              else ""), value="")

    mode = v.get("freight_type")
    want = _want_for(mode)
    for key in _BOOKING_API_REQUIRED:
        if key in checker.by_key:
            need(key, "by Flexport for every booking")
    origin = None
    if mode in ("ocean", "air"):
        need("incoterm", f"for {mode} bookings")
        if not v.get("wants_pickup"):
            need("origin_port", "when Flexport does not pick the goods up (Wants Pickup is no)")
        origin = _check_port(checker, state, "origin_port", want) if "origin_port" in \
            checker.by_key else None
        if "destination_port" in checker.by_key:
            _check_port(checker, state, "destination_port", want)
    elif mode == "trucking":
        for key in ("origin_port", "destination_port"):
            if key in checker.by_key:
                _check_port(checker, state, key, None)
        need("payment_terms", "for trucking bookings")
    if mode == "trucking":
        need("destination_location_ref", "for trucking bookings")
    elif v.get("wants_delivery"):
        need("destination_location_ref", "when Flexport delivers the goods (Wants Delivery is yes)")
    if origin is not None and origin.country == "CN":
        need("export_description_zh", f"when the goods leave mainland China ({origin.code})")
    if mode == "ocean":
        load = v.get("load_type")
        total = sum(n for k in ("containers_20", "containers_40", "containers_40hc",
                                "containers_45hc") if isinstance(n := v.get(k), int))
        if load == "FCL" and total == 0:
            checker.error(state, "load_type", "required",
                          "FCL needs at least one container count (20', 40', 40' HC or 45' HC)",
                          "fill in how many containers of each size", value="FCL")
        elif load is None and total == 0:
            need("load_type", "for ocean bookings (FCL or LCL)")
    need("unit_count", "by Flexport: a booking's cargo needs its shipping units")
    need("unit_type", "by Flexport: a booking's cargo needs its shipping units")
    need("weight_kg", "by Flexport for the cargo of a booking")
    need("volume_cbm", "by Flexport for the cargo of a booking")
    if v.get("unit_type") == "pallet":
        need("atomic_count", "when Unit Type is pallet")
    if v.get("li_ion"):
        need("li_ion_packing", "when the goods contain lithium-ion batteries")
    ready, delivery = v.get("cargo_ready_date"), v.get("delivery_date")
    if isinstance(ready, dt.date) and isinstance(delivery, dt.date) and delivery < ready:
        checker.error(state, "delivery_date", "dates_order",
                      f"the delivery date {delivery.isoformat()} is before the cargo-ready "
                      f"date {ready.isoformat()} ({checker.ref(state, 'cargo_ready_date')})",
                      "check the two dates")
    items = v.get("po_numbers")
    pos: tuple[str, ...] | None = None
    if isinstance(items, tuple):
        parsed = parse_po_items(items)
        if isinstance(parsed, str):
            checker.error(state, "po_numbers", "bad_po_line", parsed,
                          "write a PO number, or PO:SKU=units to book part of a PO "
                          "(e.g. PO-2026-1001:LAMP-001=200)", value=", ".join(items))
        else:
            pos, line_units = parsed
            v["po_numbers"], v["po_line_units"] = pos, line_units
    if known is not None and pos is not None:
        unknown = [p for p in pos if p not in known]
        if unknown:
            shown = ", ".join(unknown)
            close = (difflib.get_close_matches(unknown[0], list(known), n=1, cutoff=0.8)
                     if len(known) <= 20_000 else [])
            checker.error(
                state, "po_numbers", "unknown_po",
                f"PO {shown} {'is' if len(unknown) == 1 else 'are'} neither in this file nor "
                "in Flexport",
                f"did you mean {close[0]}?" if close else "check the PO numbers",
                value=", ".join(pos),
            )


def _article(word: str) -> str:
    """'a' or 'an' before a header as users read it aloud (an Incoterm, a UoM)."""
    return "an" if word[:1].lower() in "aeio" else "a"


_PO_ITEM = re.compile(r"(?P<po>[^:=]+?)\s*(?::\s*(?P<sku>[^=]+?)\s*=\s*(?P<units>[^=]*))?\Z")


def parse_po_items(
    items: Sequence[str],
) -> tuple[tuple[str, ...], dict[str, dict[str, int]]] | str:
    """PO Numbers cell items -> (PO numbers, {PO: {SKU: units}}), or what is wrong.

    ``PO-1`` books the whole PO; ``PO-1:SKU-9=200`` books 200 units of that
    PO's line with SKU-9 (and only the lines named this way).
    """
    numbers: dict[str, None] = {}
    parts: dict[str, dict[str, int]] = {}
    for item in items:
        match = _PO_ITEM.match(item.strip())
        if match is None:
            return f"{item!r} is neither a PO number nor PO:SKU=units"
        po, sku, units = match["po"].strip(), match["sku"], match["units"]
        numbers[po] = None
        if sku is None:
            continue
        if not units.strip().isdigit() or int(units) <= 0:
            return f"{item!r}: the units after = must be a positive whole number"
        parts.setdefault(po, {})[sku.strip()] = int(units)
    return tuple(numbers), parts


def _build_booking(state: _RowState, metadata: dict[str, list[str]]) -> Booking | None:
    v = state.values

    def text(key: str) -> str | None:
        return _opt_str(v, key)

    def count(key: str) -> int:
        n = v.get(key)
        return n if isinstance(n, int) else 0

    def flag(key: str) -> bool:
        return v.get(key) is True

    def maybe_flag(key: str) -> bool | None:
        f = v.get(key)
        return f if isinstance(f, bool) else None

    def decimal(key: str) -> Decimal | None:
        d = v.get(key)
        return d if isinstance(d, Decimal) else None

    name, mode = text("booking_name"), text("freight_type")
    ready = v.get("cargo_ready_date")
    description, hs = text("product_description"), text("hs_code")
    if not (name and mode and isinstance(ready, dt.date) and description and hs):
        return None
    delivery = v.get("delivery_date")
    unit_count, unit_type = v.get("unit_count"), text("unit_type")
    atomic = v.get("atomic_count")
    units = (
        ShippingUnits(unit_count, unit_type, atomic if isinstance(atomic, int) else None)
        if isinstance(unit_count, int) and unit_type else None
    )
    pos = v.get("po_numbers")
    line_units = v.get("po_line_units")
    packing = v.get("li_ion_packing")
    is_ltl = maybe_flag("is_ltl")
    load = v.get("load_type")
    return Booking(
        row=state.number,
        name=name,
        freight_type=mode,
        cargo_ready_date=ready,
        product_description=description,
        hs_code=hs,
        incoterm=text("incoterm"),
        origin_port=text("origin_port"),
        destination_port=text("destination_port"),
        delivery_date=delivery if isinstance(delivery, dt.date) else None,
        po_numbers=pos if isinstance(pos, tuple) else (),
        po_line_units=line_units if isinstance(line_units, dict) else {},
        shipper_entity_ref=text("shipper_entity_ref"),
        consignee_entity_ref=text("consignee_entity_ref"),
        origin_location_ref=text("origin_location_ref"),
        destination_location_ref=text("destination_location_ref"),
        is_lcl=load == "LCL",
        containers=ContainerCounts(count("containers_20"), count("containers_40"),
                                   count("containers_40hc"), count("containers_45hc")),
        wants_pickup=flag("wants_pickup"),
        wants_delivery=flag("wants_delivery"),
        wants_export_customs=maybe_flag("export_customs"),
        wants_import_customs=maybe_flag("import_customs"),
        export_description_zh=text("export_description_zh"),
        weight_kg=decimal("weight_kg"),
        volume_cbm=decimal("volume_cbm"),
        shipping_units=units,
        dangerous_goods=DangerousGoods(
            hazmat=flag("hazmat"), magnets=flag("magnets"),
            other_dangerous_goods=flag("other_dangerous_goods"), li_ion=flag("li_ion"),
            non_li_ion_battery=flag("non_li_ion_battery"),
            li_ion_packing=packing if isinstance(packing, tuple) else (),
        ),
        is_ltl=True if is_ltl is None else is_ltl,
        payment_terms=text("payment_terms"),
        special_instructions=text("special_instructions"),
        metadata=metadata,
    )

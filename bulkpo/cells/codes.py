"""Coded cells: yes/no, enum values, countries, currencies, HS codes, ports and lists."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable

from bulkpo.cells.base import (
    CellType,
    Converter,
    Problem,
    article,
    cached,
    cell_text,
    excel_error,
    fixed,
    warn,
)
from bulkpo.cells.text import number_as_text
from bulkpo.columns import HS_CODE_RULE
from bulkpo.issues import IssueCode
from bulkpo.ports import seaport_by_name
from bulkpo.reference import (
    COUNTRIES,
    COUNTRIES_ISO3,
    COUNTRY_ALIASES,
    COUNTRY_NAMES_EXTRA,
    CURRENCIES,
    CURRENCY_ALIASES,
    EXCEL_ERRORS,
    FALSE_WORDS,
    HISTORICAL_INCOTERMS,
    INCOTERM_NAMES,
    NO_INCOTERM,
    TRUE_WORDS,
    VALUE_QUESTIONS,
    VALUE_WORDS,
    fold_word,
)
from bulkpo.table import CellValue


class BooleanCell(CellType):
    """Yes or no, in the words people write."""

    def reader(self) -> Converter:
        header = self.header
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
                return excel_error(s)
            return Problem(IssueCode.BAD_BOOLEAN, f'"{s}" is not yes or no',
                            f"write yes or no in {header}")

        return convert


def _fold_enum(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).lower()


def _listing(values: Iterable[str], limit: int = 12) -> str:
    values = list(values)
    shown = ", ".join(values[:limit])
    return shown + (", ..." if len(values) > limit else "")


class PlacedCode(str):
    """An Incoterm with the named place written beside it ("FOB Shanghai"): the code, which
    remembers its place; two rows agree only when code and place do."""

    place: str

    def __new__(cls, code: str, place: str) -> PlacedCode:
        self = super().__new__(cls, code)
        self.place = place
        return self

    def __eq__(self, other: object) -> bool:
        return str.__eq__(self, other) is True and getattr(other, "place", "") == self.place

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__


_ODOO_CODE = re.compile(r"\[\s*([A-Za-z]{3})\s*\]\s*(.*)")
_PLACE_GLUE = re.compile(r"^[\s,;:\-–/()]+|[\s,;:\-–/()]+$")
_EDITION = re.compile(r"\b(?:incoterms?\s*)?(?:19|20)\d\d\b|\bincoterms?\b", re.IGNORECASE)


def _incoterm(s: str, values: tuple[str, ...], header: str) -> object:
    """FOB, [FOB] FREE ON BOARD, Free On Board, F.O.B., FOB Shanghai, DDU ... or None."""
    text = _EDITION.sub(" ", s).strip()
    m = _ODOO_CODE.fullmatch(text)
    if m:
        code, rest = m.group(1).upper(), m.group(2)
        named = INCOTERM_NAMES.get(fold_word(rest)) if rest else code
        if named != code and code not in HISTORICAL_INCOTERMS:
            return None  # "[FOB] Ex Works" says two things
        text = code
    words = text.split()
    # The code is the first word (dots dropped: F.O.B.) or the name the words start with.
    code, place = "", ""
    for n in range(min(len(words), 6), 0, -1):
        head = fold_word(" ".join(words[:n]))
        upper = head.upper()
        if upper in values or upper in HISTORICAL_INCOTERMS:
            code = upper
        elif head in INCOTERM_NAMES:
            code = INCOTERM_NAMES[head]
        elif head in ("cf", "cnf") or " ".join(words[:n]).upper() in ("C&F", "C & F", "C+F"):
            code = "CFR"
        if code:
            place = _PLACE_GLUE.sub("", " ".join(words[n:]))
            break
    if not code:
        return None
    historical = HISTORICAL_INCOTERMS.get(code)
    value: str = PlacedCode(historical or code, place) if place else historical or code
    if historical:
        return fixed(value, IssueCode.HISTORICAL_INCOTERM,
                     f'"{s}" is an Incoterms 2000 term the 2010 rules replaced; read as '
                     f"{historical}" + (f", named place {place}" if place else ""),
                     f"write {historical} (or the term your contract names) if that is not "
                     "what was agreed", key=s)
    if place:
        return fixed(value, IssueCode.READ_AS,
                     f'"{s}" read as {value}, named place {place}', key=s)
    if s != code:
        return fixed(value, IssueCode.READ_AS, f'"{s}" read as {value}', key=s)
    return value


def enum_lookup(
    values: tuple[str, ...], header: str, key: str = ""
) -> Callable[[str], object]:
    folded = {_fold_enum(v): v for v in values}
    words = {
        word: next(m for m in meanings if m in values)
        for word, meanings in VALUE_WORDS.get(key, {}).items()
        if any(m in values for m in meanings)
    }

    def lookup(s: str) -> object:
        found = folded.get(_fold_enum(s))
        if found is not None:
            return found
        if key == "incoterm":
            read = _incoterm(s, values, header)
            if read is not None:
                return read
            if NO_INCOTERM.fullmatch(s):
                # the file itself says no Incoterm applies: blank is what it means
                return fixed(None, IssueCode.READ_AS, f'"{s}" says there is no Incoterm: '
                             "left blank", key=s)
        meaning = words.get(fold_word(s))
        if meaning is not None:
            return fixed(meaning, IssueCode.READ_AS, f'"{s}" read as {meaning}', key=s)
        if s in EXCEL_ERRORS:
            return excel_error(s)
        question = VALUE_QUESTIONS.get(key, {}).get(fold_word(s))
        if question is not None:
            what, ask, example = question
            return Problem(IssueCode.BAD_ENUM, f'"{s}" is {what}, no one {header} value: {ask}',
                           f'say which in the mapping\'s [values.{key}] table, e.g. '
                           f'"{s}" = "{example}"')
        close = difflib.get_close_matches(_fold_enum(s), list(folded), n=1, cutoff=0.6)
        hint = f"did you mean {folded[close[0]]}?" if close else f"use one of {_listing(values)}"
        return Problem(IssueCode.BAD_ENUM, f'"{s}" is not {article(header)} {header} value; '
                        f"expected one of {_listing(values)}", hint)

    return lookup


class EnumCell(CellType):
    """One of the column's values, matched ignoring case, spaces and dashes."""

    def reader(self) -> Converter:
        col, header = self.col, self.header
        lookup = cached(enum_lookup(col.enum_values, header, col.key))

        def convert(v: CellValue) -> object:
            if type(v) is str:
                return lookup(v.strip()) if v.strip() else None
            return None if v is None else lookup(cell_text(v))

        return convert


_COUNTRY_BY_NAME = {
    **{fold_word(name): code for code, name in COUNTRIES.items()},
    **COUNTRY_NAMES_EXTRA,
    **{fold_word(alias): code for alias, code in COUNTRY_ALIASES.items()},
}


def _country(s: str) -> object:
    code = s.upper()
    if code in COUNTRIES:
        return code
    if s in EXCEL_ERRORS:
        return excel_error(s)
    alpha2 = COUNTRIES_ISO3.get(code) or _COUNTRY_BY_NAME.get(fold_word(s))
    if alpha2 is not None:
        return fixed(alpha2, IssueCode.READ_AS, f'"{s}" read as {alpha2} ({COUNTRIES[alpha2]})',
                     key=s)
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
        return excel_error(s)
    if code in CURRENCY_ALIASES:
        hint = f"write {CURRENCY_ALIASES[code]}"
    else:
        close = difflib.get_close_matches(code, sorted(CURRENCIES), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "write the ISO 4217 code, e.g. USD"
    return Problem(IssueCode.BAD_CURRENCY, f'"{s}" is not an ISO 4217 currency code', hint)


def _code_converter(check: Callable[[str], object]) -> Converter:
    lookup = cached(check)

    def convert(v: CellValue) -> object:
        if type(v) is str:
            s = v.strip()
            return lookup(s) if s else None
        return None if v is None else lookup(cell_text(v))

    return convert


class CountryCell(CellType):
    """ISO 3166 two-letter country codes, upper-cased."""

    def reader(self) -> Converter:
        return _code_converter(_country)


class CurrencyCell(CellType):
    """ISO 4217 currency codes, upper-cased."""

    def reader(self) -> Converter:
        return _code_converter(_currency)


_HS = re.compile(r"\d+(?:\.\d+)*")


def _hs_code(s: str) -> object:
    compact = s.replace(" ", "")
    digits = compact.replace(".", "")
    if _HS.fullmatch(compact) and 4 <= len(digits) <= 10:
        return compact
    if s in EXCEL_ERRORS:
        return excel_error(s)
    return Problem(IssueCode.BAD_HS_CODE, f'"{s}" is not an HS code',
                    f"write {HS_CODE_RULE}, such as 9405.20 or 8309.90.10.00")


class HsCodeCell(CellType):
    """HS codes: 4 to 10 digits, dots allowed, kept as text."""

    def reader(self) -> Converter:
        lookup = cached(_hs_code)

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


class PortCell(CellType):
    """Port codes, folded only: whether one fits the row's mode is a row rule."""

    def reader(self) -> Converter:
        def convert(v: CellValue) -> object:
            if v is None:
                return None
            s = v.strip() if isinstance(v, str) else cell_text(v)
            if not s:
                return None
            if s in EXCEL_ERRORS:
                return excel_error(s)
            return by_name(s)

        return convert


def _port_name(s: str) -> object:
    """A port's name ("Yantian", "Port of Shanghai") that means one seaport -> its code."""
    if len(s) <= 5 and s.replace(" ", "").isalnum() and s.upper() == s:
        return s  # a code (right or wrong, the PO rule says)
    code = seaport_by_name(s)
    if code is None:
        return s
    return fixed(code, IssueCode.PORT_NAME, f'"{s}" read as the seaport {code}',
                 "write the code if another port of that name was meant", key=s)


by_name = cached(_port_name)
_LIST_SPLIT = re.compile(r"[,;\n\r]+")


class ListCell(CellType):
    """Several values in one cell, split on , ; or newline."""

    def reader(self) -> Converter:
        col, header, counter = self.col, self.header, self.context.counter
        item_lookup = cached(enum_lookup(col.enum_values, header)) if col.enum_values else None
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

        text_conv = cached(from_text)

        def convert(v: CellValue) -> object:
            if type(v) is str:
                s = v.strip()
                return text_conv(s) if s else None
            single = number_as_text(v, is_id, counter)
            if isinstance(single, Problem):
                return warn((str(single.value),), single.code, single.message, single.suggestion)
            return None if single is None else text_conv(str(single))

        return convert

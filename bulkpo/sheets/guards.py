"""Hostile workbooks refused before calamine reads them: zip bombs and sheets whose
cells reach so far that reading them would exhaust memory (limits are settings).

Calamine makes a sheet one block of cells from its first to its last, and a failed
allocation aborts the whole process (no exception to catch): a 5 KB file naming one cell
at XFD1048576 would take 500 GB. So every format whose sheets can reach that far is
measured first: xlsx/xlsm by their cell references, xlsb by its row and cell records, xls
by its cell records and the DIMENSIONS record calamine sizes the sheet from. (ods has a
cell limit of calamine's own, which the reader reports.)
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import olefile
from lxml import etree

from bulkpo.config import ReadLimits
from bulkpo.errors import UnreadableFileError
from bulkpo.table import column_letter


def check_zip(path: Path, limits: ReadLimits) -> None:
    """Name what a zip file holds when it is clearly another kind of document, and
    refuse one that would inflate past ``limits``.

    Anything else goes on to calamine: workbooks written by odd tools put their parts
    in odd places (backslashes, no ``xl/`` folder) and still read fine.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            _check_zip_sizes(path, zf.infolist(), limits)
            names = {n.replace("\\", "/").lower() for n in zf.namelist()}
            mimetype = zf.read("mimetype")[:100] if "mimetype" in zf.namelist() else b""
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableFileError(
            str(path), f"damaged workbook: not a valid zip archive ({one_line(exc)})"
        ) from None
    if not names:
        raise UnreadableFileError(str(path), "damaged workbook: an empty zip archive")
    has_workbook = any(n.endswith(("workbook.xml", "workbook.bin", "content.xml")) for n in names)
    if has_workbook and (not mimetype or b"spreadsheet" in mimetype):
        return
    if "word/document.xml" in names or b"opendocument.text" in mimetype:
        what = "looks like a word-processor document"
    elif any(n.startswith("ppt/") for n in names) or b"presentation" in mimetype:
        what = "looks like a presentation"
    else:
        what = "a zip archive without a workbook inside"
    raise UnreadableFileError(str(path), f"not a spreadsheet ({what})")


# Below this a member cannot hurt whatever its ratio, and small XML parts of real
# workbooks (styles, empty sheets) deflate far beyond any sheet of data.
_RATIO_FLOOR_BYTES = 16 << 20


def _check_zip_sizes(path: Path, infos: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    """Refuse a zip bomb from its directory: total inflated size and each big part's ratio."""
    total = sum(i.file_size for i in infos)
    biggest = max(infos, key=lambda i: i.file_size, default=None)
    if biggest is None:
        return
    if total > limits.max_uncompressed_bytes:
        raise UnreadableFileError(
            str(path),
            f"inflates to {_size(total)} (its largest part {biggest.filename} to "
            f"{_size(biggest.file_size)}), over the limit of "
            f"{_size(limits.max_uncompressed_bytes)} (max_uncompressed_bytes under [limits] "
            "in bulkpo.toml)",
        )
    for info in infos:
        if info.file_size < _RATIO_FLOOR_BYTES:
            continue
        ratio = info.file_size / max(info.compress_size, 1)
        if ratio > limits.max_compression_ratio:
            raise UnreadableFileError(
                str(path),
                f"looks like a zip bomb: its part {info.filename} inflates "
                f"{ratio:,.0f} times, from {_size(info.compress_size)} to "
                f"{_size(info.file_size)} (the limit is {limits.max_compression_ratio:g} times, "
                "max_compression_ratio under [limits] in bulkpo.toml)",
            )


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def sheet_part(zf: zipfile.ZipFile, name: str) -> str | None:
    """The zip member holding sheet ``name`` (xlsx/xlsm: XML, xlsb: binary), from the
    workbook part and its relationships."""
    names = {n.replace("\\", "/").lower(): n for n in zf.namelist()}
    workbook = next((f"xl/workbook.{x}" for x in ("xml", "bin") if f"xl/workbook.{x}" in names),
                    None)
    if workbook is None:
        workbook = next((n for n in names if n.endswith(("workbook.xml", "workbook.bin"))), None)
    if workbook is None:
        return None
    folder = PurePosixPath(workbook).parent
    rid = None
    if workbook.endswith(".bin"):  # xlsb
        rid = _xlsb_sheet_rid(zf.read(names[workbook]), name)
    else:
        for el in ElementTree.fromstring(zf.read(names[workbook])).iter():
            if _local(el.tag) == "sheet" and el.get("name") == name:
                rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
                break
    rels = names.get(str(folder / "_rels" / f"{PurePosixPath(workbook).name}.rels").lower())
    if rid is None or rels is None:
        return None
    for el in ElementTree.fromstring(zf.read(rels)).iter():
        if _local(el.tag) == "Relationship" and el.get("Id") == rid:
            target = (el.get("Target") or "").replace("\\", "/")
            full = target.lstrip("/") if target.startswith("/") else str(folder / target)
            return names.get(full.lower())
    return None


@dataclass(frozen=True)
class Corner:
    """The last cell of a sheet's extent from A1: 1-based column and row."""

    col: int
    row: int

    @property
    def cells(self) -> int:
        return self.col * self.row

    def __str__(self) -> str:
        return f"{column_letter(self.col - 1)}{self.row}"


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch & 0xDF) - 64  # a-z as A-Z: calamine reads both
    return n


_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s[^>]*?\bref=\"(?:[^\":]*:)?\$?([A-Za-z]{1,4})\$?([0-9]{1,10})\""
)


@functools.cache
def _cells_beyond(letters: int, digits: int) -> re.Pattern[bytes]:
    """A cell tag whose reference has more than ``letters`` letters or ``digits`` digits, or
    that does not start with a plain reference (<c>, <c/>, <c s="1" r="A1">: calamine may
    place it by counting). One regex a chunk: the literal start '<c' lets the engine skip
    from cell to cell, and a cell within the bounds fails at its reference."""
    return re.compile(rb'<c(?! r="[A-Za-z]{1,%d}[0-9]{1,%d}")[\s>/]' % (letters, digits))


_CELL_START = re.compile(rb'<c r="([A-Za-z]+)([0-9]+)"')


@dataclass(frozen=True)
class SheetScan:
    """What one streamed pass over an xlsx sheet's XML finds before calamine reads it."""

    too_far: tuple[Corner, Corner | None] | None
    """(last cell, declared last cell) when the cells reach past ``max_cells``."""
    hidden_rows: frozenset[int]
    """The 1-based numbers of the rows hidden in Excel (by a filter or Hide Rows)."""
    hidden_cols: frozenset[int] = frozenset()
    """The 0-based columns hidden in Excel (Hide Columns)."""
    unmeasured: bool = False
    """Cells placed by counting, beside comments or CDATA: how far they reach is unknown."""


# A row or column hidden in Excel: the attribute is rare, so its literal is sought first
# and the <row> or <col> tag around it read only where it is found.
_HIDDEN = re.compile(rb'hidden="(?:1|true)"')  # a literal start: no \b, which is slow
_ROW_TAG = re.compile(rb'<(?:\w+:)?row\s[^>]*?\br="([0-9]{1,10})"')
_COL_TAG = re.compile(rb"<(?:\w+:)?col\s")  # a <cols> entry: columns min to max (1-based)
_COL_MIN = re.compile(rb'\bmin="([0-9]{1,5})"')
_COL_MAX = re.compile(rb'\bmax="([0-9]{1,5})"')
_TAIL = 1024  # bytes carried into the next chunk: a reference, or a whole row tag


def scan_sheet(zf: zipfile.ZipFile, part: str, max_cells: int) -> SheetScan:
    """One streamed pass over a sheet's XML: how far its cells reach, and its hidden rows
    and columns (a :class:`SheetScanner` fed the whole part)."""
    scanner = SheetScanner(max_cells)
    with zf.open(part) as fh:
        while chunk := fh.read(SCAN_CHUNK):
            scanner.feed(chunk)
    return scanner.finish(zf, part)


SCAN_CHUNK = 1 << 22
"""Bytes of inflated sheet XML scanned at a time."""


def _widest(letters: int) -> int:
    """The columns references of up to ``letters`` letters reach (26, 702, ...)."""
    return sum(26**n for n in range(1, letters + 1))


class SheetScanner:
    """The pass that measures an xlsx sheet before calamine reads it, fed its XML a chunk
    at a time, so that a reader may hand calamine the part scanned so far.

    The ``<dimension>`` a writer declares is no guide: calamine sizes the sheet from the
    cells themselves. So the pass bounds the last cell from how many letters and digits
    the longest references have (the first letter or digit of the longest too, once the
    lengths alone allow too much: a 60-column sheet's BH needs it); only past that bound
    is the exact last cell sought (:meth:`finish`). Each bound is one regex search a chunk,
    on a literal start, so a 100,000-row sheet costs a few quick passes.
    """

    def __init__(self, max_cells: int) -> None:
        self.max_cells = max_cells
        self.letters = self.digits = 1
        # Of the references with ``letters`` letters (``digits`` digits), the greatest
        # first letter (0 = A) or first digit any has; -1: none seen yet. Tracked only
        # for sheets past Z, and the digit's is of use only when tracked on every chunk
        # since ``digits`` was reached (``_rows_led``).
        self._lead_col = self._lead_digit = -1
        self._rows_led = False
        self.counted = False
        """Some cell has no reference: calamine places it by counting rows and cells, so
        only the exact pass of :meth:`finish` can say how far it reaches."""
        self.declared: Corner | None = None
        self.hidden_rows: set[int] = set()
        self.hidden_cols: set[int] = set()
        self._tail = b""
        self._first = True
        self._ended = False

    def feed(self, chunk: bytes) -> None:
        """Scan the next chunk of the sheet's XML."""
        buf = self._tail + chunk
        if self._first:
            self._first = False
            if m := _DIMENSION.search(buf, 0, 4096):
                self.declared = Corner(_col_number(m.group(1)), int(m.group(2)))
        self._measure(buf, final=False)
        self._find_hidden(buf)
        self._tail = buf[-_TAIL:]

    def end(self) -> None:
        """The XML is all fed: measure the end that each chunk holds back for the next."""
        if not self._ended:
            self._ended = True
            self._measure(self._tail, final=True)

    def _measure(self, buf: bytes, final: bool) -> None:
        letters, digits = self.letters, self.digits
        # Cells past the bounds so far (or without a plain reference) raise them; a tag cut
        # at the chunk's end (<c r="A1) is looked at again with the next chunk, or by end().
        cut, at = len(buf) if final else len(buf) - 32, 0
        while not self.counted and (m := _cells_beyond(letters, digits).search(buf, at)):
            if m.start() >= cut:
                break
            ref = _CELL_START.match(buf, m.start())
            if ref is None:
                self.counted = True
                break
            letters = max(letters, len(ref.group(1)))
            digits = max(digits, len(ref.group(2)))
            at = m.start()
        if not self.counted and _PREFIXED_CELL.search(buf, 0, max(cut, 0)):
            self.counted = True  # calamine ignores tag prefixes: counted, to be sure
        if letters != self.letters:
            # The chunks before held no reference this long: the lead starts afresh here.
            self.letters, self._lead_col = letters, -1
        if digits != self.digits:
            self.digits, self._lead_digit, self._rows_led = digits, -1, letters >= 2
        if letters >= 2:  # narrow sheets (A-Z) never need the leads
            while self._lead_col < 25 and _lead_letter(self._lead_col + 1, letters).search(buf):
                self._lead_col += 1
            while self._lead_digit < 9 and _lead_number(self._lead_digit + 1, digits).search(buf):
                self._lead_digit += 1

    def _find_hidden(self, buf: bytes) -> None:
        for m in _HIDDEN.finditer(buf):
            start = buf.rfind(b"<", max(0, m.start() - _TAIL), m.start())
            end = buf.find(b">", m.end())
            if start < 0 or end < 0:
                continue
            if row := _ROW_TAG.match(buf, start, end):
                self.hidden_rows.add(int(row.group(1)))
            elif _COL_TAG.match(buf, start, end):
                lo, hi = _COL_MIN.search(buf, start, end), _COL_MAX.search(buf, start, end)
                if lo and hi and int(hi.group(1)) - int(lo.group(1)) < 16_384:
                    self.hidden_cols.update(range(int(lo.group(1)) - 1, int(hi.group(1))))

    @property
    def within(self) -> bool:
        """True when no cell seen so far can reach past ``max_cells``."""
        if self.counted:
            return False
        letters, digits = self.letters, self.digits
        cols: int = _widest(letters)
        rows: int = 10**digits - 1
        if letters >= 2:  # the leads were tracked since these lengths were reached
            cols = _widest(letters - 1) + (self._lead_col + 1) * 26 ** (letters - 1)
            if self._rows_led:  # none of these digits (-1): they were not references
                rows = max(self._lead_digit + 1, 1) * 10 ** (digits - 1) - 1
        return cols * rows <= self.max_cells

    def finish(self, zf: zipfile.ZipFile, part: str) -> SheetScan:
        """What the pass found, once every chunk is fed; past the bound, the exact last
        cell is sought in a second pass over ``part``."""
        self.end()
        too_far = None
        if not self.within:
            corner = (_counted_corner(zf, part) if self.counted
                      else _last_cell(zf, part, self.letters, self.digits))
            if corner is None:
                return SheetScan(None, frozenset(), frozenset(), unmeasured=True)
            too_far = (corner, self.declared) if corner.cells > self.max_cells else None
        return SheetScan(too_far, frozenset(self.hidden_rows), frozenset(self.hidden_cols))


# A cell tag without a reference as its first attribute (<c>, <c/>, <c s="1">) is placed
# by calamine by counting, and a few bytes a row (<row/>) or a cell (<c/>) reach any
# distance; so is a prefixed one (<x:c>: calamine ignores prefixes) taken, to be sure.
# Excel and every writer seen write <c r= first, so only such sheets pay for the exact
# pass that counts as calamine does.
_PREFIXED_CELL = re.compile(rb":c[\s>/]")
_ROW_OR_CELL = re.compile(rb"<(/?)(?:[^\s<>/:]+:)?(row|c)(?=[\s>/])([^>]*)>")
_CELL_REF = re.compile(rb'(?:^|\s)r="([A-Za-z]*)([0-9]+)"')


def _counted_corner(zf: zipfile.ZipFile, part: str) -> Corner | None:
    """The last cell of a sheet as calamine places its cells: by a cell's reference where
    it has one, else by counting (the row's own number or one past the last row, the
    column one past the last cell), every cell tag counted as if it held a value, a row
    number never taken as lower than the count (so the bound can only be too high).

    None when the sheet holds comments, CDATA or a DOCTYPE (``<!``): text there could read
    as tags to this count and not to calamine, so such a sheet cannot be measured."""
    row = col = top = right = 0  # 0-based, as calamine counts
    inside = started = False
    for buf in _whole_tags(zf, part):
        if b"<!" in buf:
            return None
        at = 0
        if not started:  # calamine counts from the start of <sheetData>
            found = _SHEET_DATA_START.search(buf)
            if found is None:
                continue
            started, at = True, found.end()
        for closing, name, attrs in _ROW_OR_CELL.findall(buf, at):
            if name == b"c":
                if closing:  # calamine ends a cell at the first </c>, and skips others
                    if inside:
                        col, inside = col + 1, False
                elif not inside:
                    ref = _CELL_REF.search(attrs)
                    if ref is not None and ref.group(1):
                        at_row, col = int(ref.group(2)) - 1, _col_number(ref.group(1)) - 1
                    else:
                        at_row = row
                    top, right = max(top, at_row), max(right, col)
                    if attrs.endswith(b"/"):
                        col += 1
                    else:
                        inside = True
            elif not inside:  # a row; inside a cell calamine reads past it
                if closing:
                    row, col = row + 1, 0
                    continue
                ref = _CELL_REF.search(attrs)
                if ref is not None:
                    row = max(row, int(ref.group(2)) - 1)
                if attrs.endswith(b"/"):
                    row, col = row + 1, 0
    return Corner(right + 1, top + 1)


def _whole_tags(zf: zipfile.ZipFile, member: str) -> Iterator[bytes]:
    """``member``'s bytes in chunks that each end where a tag begins: a tag (or a ``<!``)
    cut by a chunk's end goes whole into the next."""
    carry = b""
    with zf.open(member) as fh:
        while chunk := fh.read(SCAN_CHUNK):
            buf = carry + chunk
            end = max(buf.rfind(b"<"), 0)
            carry = buf[end:]
            yield buf[:end]
    yield carry


_SHEET_DATA_START = re.compile(rb"<(?:[^\s<>/:]+:)?sheetData(?=[\s>/])[^>]*>")


@functools.cache
def _lead_letter(first: int, letters: int) -> re.Pattern[bytes]:
    """References of ``letters`` letters whose first is the ``first``-th letter or later."""
    return re.compile(rb'r="[%c-Z%c-z][A-Za-z]{%d}[0-9]' % (65 + first, 97 + first, letters - 1))


@functools.cache
def _lead_number(first: int, digits: int) -> re.Pattern[bytes]:
    """References of ``digits`` digits whose first is ``first`` or more."""
    return re.compile(rb'r="[A-Za-z]{0,4}[%c-9][0-9]{%d}"' % (48 + first, digits - 1))


# What calamine's ods reader reads of a table: its rows (repeated up to 1,048,576 rows in
# all) and their cells (repeated up to 16,384 columns a row), by these exact tag names.
_ODS_TOKEN = re.compile(
    rb"<table:table-row(?=[\s/>])([^>]*)>|</table:table-row>"
    rb"|<table:(?:covered-)?table-cell(?=[\s/>])([^>]*)>"
    rb"|<table:table(?=[\s/>])([^>]*)>")
_ODS_ROWS = re.compile(rb'table:number-rows-repeated="([0-9]+)"')
_ODS_COLS = re.compile(rb'table:number-columns-repeated="([0-9]+)"')
_ODS_VALUE = re.compile(rb"office:[a-z-]*value|table:formula")
_ODS_NAME = re.compile(rb'table:name="([^"]*)"')
_ODS_MAX_ROWS, _ODS_MAX_COLS = 1_048_576, 16_384


def ods_extents(zf: zipfile.ZipFile) -> dict[str, Corner]:
    """The last cell each table (sheet) of an ods document reaches, by name, as calamine
    expands it: a row or cell with a value, repeated N times, is N rows or cells, and
    empty cells count only up to the last value of their row. Calamine refuses past 100
    million cells, but allocates up to that many (5 GB) first: an 11 KB file of one cell
    repeated 10,000 times in a row repeated 10,000 times kills a smaller machine.

    Counted from A1 (calamine crops empty rows and columns at the start: the bound is
    never short), every cell that is not a bare ``<table:table-cell/>`` taken to hold a value.
    """
    extents: dict[str, Corner] = {}
    name = ""
    rows = width = last_row = pos = row_width = repeats = 0
    in_row = False
    for buf in _whole_tags(zf, "content.xml"):
        for m in _ODS_TOKEN.finditer(buf):
            row_attrs, cell_attrs, table_attrs = m.groups()
            if cell_attrs is not None:
                if not in_row:
                    continue
                found = _ODS_COLS.search(cell_attrs)
                pos = min(pos + (int(found.group(1)) if found else 1), _ODS_MAX_COLS)
                if not cell_attrs.endswith(b"/") or _ODS_VALUE.search(cell_attrs):
                    row_width = pos
            elif row_attrs is not None:
                found = _ODS_ROWS.search(row_attrs)
                repeats = min(int(found.group(1)) if found else 1, _ODS_MAX_ROWS - rows)
                in_row, pos, row_width = True, 0, 0
                if row_attrs.endswith(b"/"):  # a row with no cells
                    rows += repeats
                    in_row = False
            elif table_attrs is not None:
                if name:
                    extents[name] = Corner(max(width, 1), max(last_row, 1))
                found = _ODS_NAME.search(table_attrs)
                name = _xml_text(found.group(1)) if found else ""
                rows = width = last_row = 0
                in_row = False
            elif in_row:  # </table:table-row>
                if row_width:
                    last_row, width = rows + repeats, max(width, row_width)
                rows += repeats
                in_row = False
    if name:
        extents[name] = Corner(max(width, 1), max(last_row, 1))
    return extents


def check_ods(path: Path, limits: ReadLimits) -> None:
    """Refuse an ods document one of whose tables reaches past ``max_cells``: calamine
    reads every table of an ods document as it opens it, so all are measured first."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = {n.replace("\\", "/").lower() for n in zf.namelist()}
            if "content.xml" not in names or any(
                    n.endswith(("workbook.xml", "workbook.bin")) for n in names):
                return
            extents = ods_extents(zf)
    except Exception:  # odd packaging: calamine's own reading decides
        return
    for sheet, corner in extents.items():
        if corner.cells > limits.max_cells:
            raise UnreadableFileError(str(path), too_far(sheet, "has", corner, limits))


def _xml_text(raw: bytes) -> str:
    return ElementTree.fromstring(b"<a>" + raw + b"</a>").text or ""


_ODS_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def ods_hidden(zf: zipfile.ZipFile, sheet: str) -> tuple[frozenset[int], frozenset[int]]:
    """The 1-based rows and 0-based columns of an ods sheet hidden by a filter, Hide Rows
    or Hide Columns (``table:visibility`` of ``filter`` or ``collapse``; repeated rows and
    columns count as many).

    The document is parsed only when it says so somewhere, streamed, and a run of more
    than 10,000 repeated hidden rows or columns (the empty rest of a sheet) is not listed.
    """
    with zf.open("content.xml") as fh:
        data = fh.read()
    if b'visibility="filter"' not in data and b'visibility="collapse"' not in data:
        return frozenset(), frozenset()
    table, row_tag = f"{_ODS_TABLE}table", f"{_ODS_TABLE}table-row"
    col_tag = f"{_ODS_TABLE}table-column"
    hidden: dict[str, set[int]] = {row_tag: set(), col_tag: set()}
    at = {row_tag: 0, col_tag: 0}
    first = {row_tag: 1, col_tag: 0}  # rows are 1-based, columns 0-based
    inside = False
    for event, el in etree.iterparse(io.BytesIO(data), events=("start", "end"),
                                     tag=(table, row_tag, col_tag)):
        if el.tag == table:
            if event == "start":
                inside = el.get(f"{_ODS_TABLE}name") == sheet
                at = {row_tag: 0, col_tag: 0}
            elif inside:
                break
            continue
        if event != "end" or not inside:
            continue
        kind = str(el.tag)
        count = int(el.get(f"{_ODS_TABLE}number-{'rows' if kind == row_tag else 'columns'}"
                           "-repeated", "1"))
        if el.get(f"{_ODS_TABLE}visibility") in ("filter", "collapse") and count <= 10_000:
            start = at[kind] + first[kind]
            hidden[kind].update(range(start, start + count))
        at[kind] += count
        el.clear()
        while el.getprevious() is not None:  # what was read is let go
            del el.getparent()[0]
    return frozenset(hidden[row_tag]), frozenset(hidden[col_tag])


def _last_cell(zf: zipfile.ZipFile, part: str, letters: int, digits: int) -> Corner:
    """The greatest column and row any reference of the sheet names (each the longest
    of its kind, so equal-length bytes compare as numbers)."""
    cols = re.compile(rb'r="([A-Za-z]{%d})[0-9]' % letters)
    rows = re.compile(rb'r="[A-Za-z]{0,4}([0-9]{%d})"' % digits)
    col, row = b"", b""
    with zf.open(part) as fh:
        tail = b""
        while chunk := fh.read(1 << 22):
            buf = tail + chunk
            col = max(col, max(map(bytes.upper, cols.findall(buf)), default=b""))
            row = max(row, max(rows.findall(buf), default=b""))
            tail = buf[-32:]
    return Corner(_col_number(col) or 1, int(row or b"1"))


def _xlsb_records(data: bytes, pos: int = 0) -> Iterator[tuple[int, int, int]]:
    """(type, body offset, body size) of each record of an xlsb part from ``pos``: the type
    in 1-2 bytes and the size in 1-4, seven bits a byte, the high bit saying another follows."""
    end = len(data)
    while pos < end:
        kind = data[pos]
        pos += 1
        if kind & 0x80:
            kind = (kind & 0x7F) | ((data[pos] & 0x7F) << 7)
            pos += 1
        size = shift = 0
        for _ in range(4):
            byte = data[pos]
            pos += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        yield kind, pos, size
        pos += size


_BRT_BUNDLE_SH = 0x9C  # a sheet of workbook.bin: state, tab id, relationship id, name


def _xlsb_sheet_rid(workbook: bytes, name: str) -> str | None:
    """The relationship id of sheet ``name`` in an xlsb workbook part."""
    u32 = struct.Struct("<I").unpack_from
    try:
        for kind, pos, _size in _xlsb_records(workbook):
            if kind != _BRT_BUNDLE_SH:
                continue
            at = pos + 8
            count = u32(workbook, at)[0]
            rid = "" if count == 0xFFFFFFFF else workbook[at + 4:at + 4 + 2 * count].decode(
                "utf-16-le")
            at += 4 + (0 if count == 0xFFFFFFFF else 2 * count)
            count = u32(workbook, at)[0]
            if workbook[at + 4:at + 4 + 2 * count].decode("utf-16-le") == name:
                return rid or None
    except (IndexError, struct.error, UnicodeDecodeError):
        return None
    return None


def xlsb_extent(data: bytes) -> tuple[Corner, frozenset[int]]:
    """The last cell an xlsb sheet part's records reach (its dimension record is no guide),
    and the 1-based rows hidden in the sheet.

    A row header (type 0, BrtRowHdr) starts with its 0-based row; its byte 11 holds the
    row's flags, 0x10 (fDyZero) when a filter or Hide Rows hides it. A cell record (types
    1-11, and 62 for rich text) starts with its 0-based column on the row of the last row
    header. Records are framed as :func:`_xlsb_records` reads them; the common one-byte
    type and size are read inline, since a large sheet has millions of records.
    """
    pos, end = 0, len(data)
    row = top = right = -1
    hidden: set[int] = set()
    u32 = struct.Struct("<I").unpack_from
    try:
        while pos < end:
            kind = data[pos]
            size = data[pos + 1]
            if kind < 0x80 and size < 0x80:
                pos += 2
            else:
                kind, pos, size = next(_xlsb_records(data, pos))
            if 0 < kind < 12 or kind == 62:
                if row > top:
                    top = row
                col = u32(data, pos)[0]
                if col > right:
                    right = col
            elif kind == 0:
                row = u32(data, pos)[0]
                if size >= 12 and data[pos + 11] & 0x10:
                    hidden.add(row + 1)
            pos += size
    except (IndexError, struct.error):
        pass  # a cut record ends the sheet here, as it ends calamine's reading
    return Corner(right + 1 if right >= 0 else 1, top + 1 if top >= 0 else 1), frozenset(hidden)


# BIFF5/BIFF8 (xls) records. A cell record starts with its row and column (u16 each); a
# run of cells on one row (MULRK, MULBLANK) with the row and first column, and ends with
# its last column. DIMENSIONS declares the sheet's extent, which calamine sizes it from.
_BIFF_CELL = frozenset({0x0006, 0x00D6, 0x00FD, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E})
_BIFF_RUN = frozenset({0x00BD, 0x00BE})
_BIFF_BOF, _BIFF_SHEET, _BIFF_DIMENSIONS, _BIFF_FILEPASS = 0x0809, 0x0085, 0x0200, 0x002F
_BIFF_ROW = 0x0208  # a row's format: row, columns, height, ..., flags (0x20: hidden) at 12
_BIFF_COLINFO = 0x007D  # columns' format: first, last, width, format, options (0x01: hidden)


@dataclass
class XlsExtent:
    """How far one sheet of an xls workbook reaches: by its cells and by its declaration."""

    name: str
    cells: Corner
    declared: Corner | None
    hidden_rows: set[int] = field(default_factory=set)
    """1-based rows hidden in Excel (a ROW record's fDyZero flag: a filter or Hide Rows)."""
    hidden_cols: set[int] = field(default_factory=set)
    """0-based columns hidden in Excel (a COLINFO record's fHidden flag)."""

    @property
    def corner(self) -> Corner:
        """The larger of the two: calamine allocates for either."""
        if self.declared is not None and self.declared.cells > self.cells.cells:
            return self.declared
        return self.cells


def xls_stream(path: Path) -> bytes | None:
    """The workbook stream of an xls file ('Workbook', or 'Book' in BIFF5), None when the
    compound file or the stream cannot be found (calamine's own reading then says why)."""
    try:
        with olefile.OleFileIO(str(path)) as ole:
            for entry in ole.listdir(streams=True, storages=False):
                if len(entry) == 1 and entry[0].lower() in ("workbook", "book"):
                    data: bytes = ole.openstream(entry).read()
                    return data
    except Exception:  # olefile raises many kinds for a damaged file
        return None
    return None


def xls_extents(stream: bytes) -> list[XlsExtent]:
    """Each sheet of an xls workbook stream with how far it reaches, in workbook order."""
    u16 = struct.Struct("<H").unpack_from
    u32 = struct.Struct("<I").unpack_from
    # A record's type and size, and the first two u16 of its body: a cell's row and column.
    quad = struct.Struct("<HHHH").unpack_from
    sheets: dict[int, XlsExtent] = {}  # by the stream offset of the sheet's BOF record
    order: list[XlsExtent] = []
    current: XlsExtent | None = None
    biff8 = True
    top = right = -1  # of the current sheet: the last row and column (0-based) of its cells

    def close() -> None:
        if current is not None and top >= 0:
            current.cells = Corner(right + 1, top + 1)

    pos, end = 0, len(stream) - 8
    while pos <= end:
        kind, size, row, col = quad(stream, pos)
        if kind in _BIFF_CELL:  # nearly every record of a sheet: kept to two tests
            if row > top:
                top = row
            if col > right:
                right = col
        elif kind in _BIFF_RUN:
            if size >= 6:
                if row > top:
                    top = row
                right = max(right, u16(stream, pos + 2 + size)[0])
        elif kind == _BIFF_BOF:
            if pos == 0:
                biff8 = row >= 0x0600  # the version, the BOF's first field
            if pos in sheets:  # a sheet starts; a BOF elsewhere is a chart inside one
                close()
                current = sheets[pos]
                top = right = -1
        elif kind == _BIFF_SHEET and size >= 8:
            body = stream[pos + 4:pos + 4 + size]
            extent = XlsExtent(_biff_sheet_name(body, biff8, len(order)), Corner(1, 1), None)
            sheets[u32(body, 0)[0]] = extent
            order.append(extent)
        elif kind == _BIFF_COLINFO:
            if size >= 10 and current is not None and u16(stream, pos + 12)[0] & 0x0001:
                current.hidden_cols.update(range(row, min(col, row + 16_384) + 1))
        elif kind == _BIFF_ROW:
            if size >= 16 and current is not None and u16(stream, pos + 16)[0] & 0x20:
                current.hidden_rows.add(row + 1)
        elif kind == _BIFF_DIMENSIONS and current is not None:
            if size >= 14:  # BIFF8: rows as u32, columns as u16, last ones exclusive
                rows, cols = u32(stream, pos + 8)[0], u16(stream, pos + 14)[0]
            elif size >= 10:  # BIFF5: all u16
                rows, cols = u16(stream, pos + 6)[0], u16(stream, pos + 10)[0]
            else:
                rows = cols = 0
            if rows and cols:
                current.declared = Corner(cols, rows)
        elif kind == _BIFF_FILEPASS:
            break  # encrypted past here: calamine refuses the file for its password
        pos += 4 + size
    close()
    return order


def _biff_sheet_name(record: bytes, biff8: bool, index: int) -> str:
    """A BOUNDSHEET record's sheet name (its position when it cannot be read)."""
    try:
        count = record[6]
        if biff8:
            wide = record[7] & 1
            raw = record[8:8 + count * (2 if wide else 1)]
            return raw.decode("utf-16-le" if wide else "latin-1")
        return record[7:7 + count].decode("cp1252")
    except (IndexError, UnicodeDecodeError):
        return f"sheet {index + 1}"


def check_xls(path: Path, limits: ReadLimits) -> list[XlsExtent]:
    """Refuse an xls workbook one of whose sheets reaches past ``max_cells`` cells from A1,
    by its cells or by its declared dimensions, before calamine allocates it; else its
    sheets as measured (with their hidden rows)."""
    stream = xls_stream(path)
    if stream is None:
        return []
    sheets = xls_extents(stream)
    for sheet in sheets:
        corner = sheet.corner
        if corner.cells <= limits.max_cells:
            continue
        if corner is sheet.declared and sheet.cells.cells <= limits.max_cells:
            # Only the DIMENSIONS record says so: saving the file again rewrites it.
            raise UnreadableFileError(str(path), (
                f"sheet '{sheet.name}' declares cells up to {corner} "
                f"({count_text(corner.cells)} cells), over the limit of {limits.max_cells:,} "
                f"cells, though its cells reach only {sheet.cells}; open it in Excel or "
                "LibreOffice and save it as .xlsx"))
        verb = "declares" if corner is sheet.declared else "has"
        raise UnreadableFileError(str(path), too_far(sheet.name, verb, corner, limits))
    return sheets


def too_far(sheet: str, verb: str, corner: Corner, limits: ReadLimits) -> str:
    """The one line for a sheet reaching past ``max_cells``."""
    return (
        f"sheet '{sheet}' {verb} cells up to {corner} ({count_text(corner.cells)} cells), "
        f"over the limit of {limits.max_cells:,} cells; delete what lies below or right of the "
        "data (Ctrl+End in Excel goes to the last cell) or raise max_cells under "
        "[limits] in bulkpo.toml"
    )


def count_text(n: int) -> str:
    if n >= 10**9:
        return f"{n / 10**9:,.0f} billion"
    if n >= 10**6:
        return f"{n / 10**6:,.0f} million"
    return f"{n:,}"


def one_line(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"

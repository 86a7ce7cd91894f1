"""Hostile workbooks refused before calamine reads them: zip bombs and sheets whose
cells reach so far that reading them would exhaust memory (limits are settings)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

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


def xlsx_sheet_part(zf: zipfile.ZipFile, name: str) -> str | None:
    """The zip member holding sheet ``name``, from workbook.xml and its relationships."""
    names = {n.replace("\\", "/").lower(): n for n in zf.namelist()}
    workbook = "xl/workbook.xml" if "xl/workbook.xml" in names else None
    if workbook is None:
        workbook = next((n for n in names if n.endswith("workbook.xml")), None)
    if workbook is None:
        return None
    folder = PurePosixPath(workbook).parent
    rid = None
    for el in ElementTree.fromstring(zf.read(names[workbook])).iter():
        if _local(el.tag) == "sheet" and el.get("name") == name:
            rid = next((v for k, v in el.attrib.items() if _local(k) == "id"), None)
            break
    rels = names.get(str(folder / "_rels" / "workbook.xml.rels").lower())
    if rid is None or rels is None:
        return None
    for el in ElementTree.fromstring(zf.read(rels)).iter():
        if _local(el.tag) == "Relationship" and el.get("Id") == rid:
            target = (el.get("Target") or "").replace("\\", "/")
            full = target.lstrip("/") if target.startswith("/") else str(folder / target)
            return names.get(full.lower())
    return None


@dataclass(frozen=True)
class _Corner:
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
        n = n * 26 + ch - 64
    return n


_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s[^>]*?\bref=\"(?:[^\":]*:)?\$?([A-Z]{1,4})\$?([0-9]{1,10})\""
)


_MAX_LETTERS, _MAX_DIGITS = 4, 10


# Cell references (and row numbers) longer than the longest seen so far; the literal
# 'r="' start lets the regex engine skip ahead fast, so each test costs one quick pass.
# They also match inside other attributes (paper="9"): that can only raise the bound,
# which the exact pass below then settles.
_MORE_LETTERS = [re.compile(rb'r="[A-Z]{%d}' % n) for n in range(_MAX_LETTERS + 2)]


_MORE_DIGITS = [re.compile(rb'r="[A-Z]{0,4}[0-9]{%d}' % n) for n in range(_MAX_DIGITS + 2)]


def sheet_extent(
    zf: zipfile.ZipFile, part: str, max_cells: int
) -> tuple[_Corner, _Corner | None] | None:
    """(last cell, declared last cell) of a sheet whose cells reach past ``max_cells``
    cells from A1, else None.

    The ``<dimension>`` a writer declares is no guide: calamine sizes the sheet from the
    cells themselves. So the sheet XML is streamed once counting only how many letters
    and digits the longest references have, a bound that a 100,000-row sheet passes at
    the cost of two regex passes; only past that bound is the exact last cell sought.
    """
    letters, digits = 1, 1
    declared: _Corner | None = None
    with zf.open(part) as fh:
        tail = b""
        first = True
        while chunk := fh.read(1 << 22):
            buf = tail + chunk
            if first:
                first = False
                if m := _DIMENSION.search(buf, 0, 4096):
                    declared = _Corner(_col_number(m.group(1)), int(m.group(2)))
            while letters <= _MAX_LETTERS and _MORE_LETTERS[letters + 1].search(buf):
                letters += 1
            while digits <= _MAX_DIGITS and _MORE_DIGITS[digits + 1].search(buf):
                digits += 1
            tail = buf[-32:]
    widest = sum(26**n for n in range(1, letters + 1))
    if widest * (10**digits - 1) <= max_cells:
        return None
    corner = _last_cell(zf, part, letters, digits)
    return (corner, declared) if corner.cells > max_cells else None


def _last_cell(zf: zipfile.ZipFile, part: str, letters: int, digits: int) -> _Corner:
    """The greatest column and row any reference of the sheet names (each the longest
    of its kind, so equal-length bytes compare as numbers)."""
    cols = re.compile(rb'r="([A-Z]{%d})[0-9]' % letters)
    rows = re.compile(rb'r="[A-Z]{0,4}([0-9]{%d})"' % digits)
    col, row = b"", b""
    with zf.open(part) as fh:
        tail = b""
        while chunk := fh.read(1 << 22):
            buf = tail + chunk
            col = max(col, max(cols.findall(buf), default=b""))
            row = max(row, max(rows.findall(buf), default=b""))
            tail = buf[-32:]
    return _Corner(_col_number(col) or 1, int(row or b"1"))


def count_text(n: int) -> str:
    if n >= 10**9:
        return f"{n / 10**9:,.0f} billion"
    if n >= 10**6:
        return f"{n / 10**6:,.0f} million"
    return f"{n:,}"


def one_line(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"

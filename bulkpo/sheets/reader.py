"""Read one sheet of a spreadsheet file (xlsx, xlsm, xls, xlsb, ods, csv, tsv, txt) into a
:class:`~bulkpo.table.Table` whose every value keeps its sheet position.

Anything that cannot be read ends in one :class:`~bulkpo.errors.UnreadableFileError`
line naming the file and the reason, never in a traceback. Hostile workbooks are
refused first (:mod:`bulkpo.sheets.guards`) and text is decoded by
:mod:`bulkpo.sheets.encodings`. About 700 lines: the two sources (workbooks through
calamine, delimited text) share the header search and the sheet choice here, and
splitting them apart would cut that shared core in two.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from python_calamine import CalamineSheet, CalamineWorkbook, PasswordError, SheetVisibleEnum

from bulkpo.collector import paused
from bulkpo.config import ReadLimits
from bulkpo.errors import UnreadableFileError
from bulkpo.issues import Issue, IssueCode, Severity
from bulkpo.sheets.encodings import (
    SNIFF_BYTES,
    bom_encoding,
    decode,
    mixed_encoding_issue,
    sniff_delimiter,
    utf16_without_bom,
)
from bulkpo.sheets.guards import (
    Corner,
    check_ods,
    check_xls,
    check_zip,
    ods_hidden,
    one_line,
    scan_sheet,
    sheet_part,
    too_far,
    xlsb_extent,
)
from bulkpo.sheets.parts import part_count, read_in_parts
from bulkpo.table import CellRef, CellValue, Row, Table, merged_cells_issue
from bulkpo.templates import skip_template_example  # the one hook: an untouched example row

HeaderScorer = Callable[[Sequence[str]], float]
"""How well a candidate header row's texts match a kind of file (0 = not at all)."""

__all__ = ["HeaderScorer", "list_sheets", "read_table", "read_tables"]

WORKBOOK_SUFFIXES = frozenset(
    {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlt", ".xlsb", ".ods", ".ots"}
)

# Delimited text is read whole; this keeps a mislabelled multi-GB dump from exhausting memory.
MAX_TEXT_BYTES = 1 << 30


# --------------------------------------------------------------------------- public API


def list_sheets(path: Path, *, limits: ReadLimits | None = None) -> list[str]:
    """The sheet names of a workbook, in workbook order (a text file has one, its stem)."""
    source = _open(Path(path), limits)
    return list(source.sheet_names)


@paused
def read_table(
    path: Path,
    *,
    sheet: str | None = None,
    score_headers: HeaderScorer | None = None,
    preferred_sheets: Sequence[str] = (),
    max_header_scan: int = 30,
    expected_headers: Sequence[str] = (),
    limits: ReadLimits | None = None,
    header_row: int | None = None,
) -> Table:
    """Read the data rows of one sheet under its header row (``header_row``, 1-based, if given).

    The sheet is ``sheet`` (by name, any case), else the first of ``preferred_sheets``
    present, else the one whose header row scores best with ``score_headers``, else the
    first non-empty sheet. ``expected_headers`` only feeds the "no header row" message.
    A file over ``limits`` (default: :class:`~bulkpo.config.ReadLimits`) is refused unread.
    """
    path = Path(path)
    source = _open(path, limits)
    name = _choose_sheet(source, sheet, score_headers, preferred_sheets, max_header_scan)
    return skip_template_example(
        source.table(name, score_headers, max_header_scan, expected_headers, header_row)
    )


@paused
def read_tables(
    path: Path,
    *,
    score_headers: HeaderScorer | None = None,
    max_header_scan: int = 30,
    limits: ReadLimits | None = None,
    skip: Collection[str] = (),
) -> dict[str, Table]:
    """Every sheet whose best header row scores above 0 (without a scorer: every sheet
    with a header row), by sheet name in workbook order; the sheets named in ``skip``
    (read already) are not read."""
    path = Path(path)
    source = _open(path, limits)
    tables: dict[str, Table] = {}
    for name in source.sheet_names:
        if name in skip:
            continue
        head = source.head(name, max_header_scan)
        if not head.rows:
            continue
        if score_headers is not None:
            if _best_header(head, score_headers)[1] <= 0:
                continue
        elif _first_header_row(head) is None:
            continue
        tables[name] = skip_template_example(
            source.table(name, score_headers, max_header_scan, ()))
    return tables


# --------------------------------------------------------------------------- sources


@dataclass
class _Head:
    """The first rows of a sheet, for choosing sheet and header row.

    ``rows`` hold raw values by absolute column; ``first_row`` is the 0-based sheet row
    of ``rows[0]``; merged header cells are already filled in.
    """

    rows: list[list[Any]]
    first_row: int


class _Source:
    """A readable file: its sheet names and a way to get a sheet's head and table."""

    path: Path
    sheet_names: list[str]
    hidden_sheets: frozenset[str] = frozenset()

    def head(self, name: str, nrows: int) -> _Head:
        raise NotImplementedError

    def table(
        self,
        name: str,
        score: HeaderScorer | None,
        max_header_scan: int,
        expected: Sequence[str],
        header_row: int | None = None,
    ) -> Table:
        raise NotImplementedError

    def fail(self, reason: str) -> UnreadableFileError:
        return UnreadableFileError(str(self.path), reason)


def _open(path: Path, limits: ReadLimits | None) -> _Source:
    limits = limits or ReadLimits()
    kind = _sniff(path, limits)
    if kind == "text":
        return _TextSource(path)
    if kind == "xls":
        sheets = check_xls(path, limits)
        return _WorkbookSource(path, limits, {
            s.name: (frozenset(s.hidden_rows), frozenset(s.hidden_cols)) for s in sheets})
    check_ods(path, limits)  # calamine reads every table of an ods as it opens it
    return _WorkbookSource(path, limits)


# --------------------------------------------------------------------------- sniffing

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "not a spreadsheet (looks like a PDF document)"),
    (b"\x89PNG", "not a spreadsheet (looks like a PNG image)"),
    (b"\xff\xd8\xff", "not a spreadsheet (looks like a JPEG image)"),
    (b"GIF8", "not a spreadsheet (looks like a GIF image)"),
    (b"{\\rtf", "not a spreadsheet (looks like an RTF document)"),
    (b"\x1f\x8b", "not a spreadsheet (looks like a gzip archive)"),
    (b"Rar!", "not a spreadsheet (looks like a RAR archive)"),
    (b"7z\xbc\xaf", "not a spreadsheet (looks like a 7-Zip archive)"),
    (b"SQLite format 3", "not a spreadsheet (looks like an SQLite database)"),
)
# BIFF2-4 worksheets begin with a BOF record and no OLE2 container; calamine cannot read them.
_OLD_BIFF = (b"\x09\x00\x04\x00", b"\x09\x02", b"\x09\x04")
_HTML = re.compile(rb"<\s*(!doctype\s+html|html|head|body|table|meta)\b", re.IGNORECASE)


def _sniff(path: Path, limits: ReadLimits) -> str:
    """``"workbook"``, ``"xls"`` or ``"text"`` from the file's first bytes, or a clear error."""
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except IsADirectoryError:
        raise UnreadableFileError(str(path), "is a folder, not a file") from None
    except FileNotFoundError:
        raise UnreadableFileError(str(path), "no such file") from None
    except OSError as exc:
        raise UnreadableFileError(str(path), f"cannot open the file ({exc.strerror})") from None
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise UnreadableFileError(str(path), "the file is empty")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        check_zip(path, limits)
        return "workbook"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"  # measured by _open before calamine reads it
    for magic, reason in _MAGIC:
        if head.startswith(magic):
            raise UnreadableFileError(str(path), reason)
    if head.startswith(_OLD_BIFF):
        raise UnreadableFileError(
            str(path), "an Excel 2.x-4.x worksheet, too old to read; save it as .xlsx"
        )
    text_reason = _text_kind(head)
    if text_reason:
        raise UnreadableFileError(str(path), text_reason)
    if path.suffix.lower() in WORKBOOK_SUFFIXES:
        raise UnreadableFileError(
            str(path),
            f"not a {path.suffix.lower()} workbook: the file is plain text "
            "(a CSV file with the wrong extension?); rename it to .csv to import it",
        )
    return "text"


def _text_kind(head: bytes) -> str:
    """Why a text-or-binary head is not delimited text ("" when it may be)."""
    encoding = bom_encoding(head) or utf16_without_bom(head)
    if encoding:
        sample = head.decode(encoding, errors="ignore").lstrip("\ufeff").encode("utf-8")
    else:
        sample = head
        # Delimited text has no NUL bytes; most binary formats are full of them.
        if b"\x00" in head:
            return "not a spreadsheet (unrecognised binary file)"
    start = sample.lstrip()[:2048]
    if start.startswith(b"<"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in sample:
            return (
                "an Excel 2003 XML spreadsheet, which cannot be read; "
                "open it in Excel and save it as .xlsx"
            )
        if _HTML.search(start):
            return "not a spreadsheet (looks like HTML); open it in Excel and save it as .xlsx"
        return "not a spreadsheet (looks like XML)"
    return ""


# --------------------------------------------------------------------------- cell values

_datetime = dt.datetime
_date = dt.date
_DAY = dt.timedelta(days=1)


def _odd_cell(v: object) -> CellValue:
    """The rare cell types, off the fast path of :func:`_convert_rows`."""
    if isinstance(v, dt.datetime):
        if v.hour or v.minute or v.second or v.microsecond:
            return v
        return v.date()
    if isinstance(v, dt.timedelta):
        # Durations ([h]:mm formats) have no CellValue type: under a day they read as a
        # time of day, longer ones as the text Excel shows.
        if dt.timedelta(0) <= v < _DAY:
            return (_datetime.min + v).time()
        seconds = int(v.total_seconds())
        sign = "-" if seconds < 0 else ""
        hours, rest = divmod(abs(seconds), 3600)
        return f"{sign}{hours}:{rest // 60:02d}:{rest % 60:02d}"
    if isinstance(v, str | int | float | bool | dt.date | dt.time) and v != "":
        return v
    return None


Prepared: TypeAlias = tuple[list[list[Any]], int]
"""A part's rows converted as it was read, and the index of the last with a blank text."""


def _convert_rows(
    rows: list[list[Any]], seen: dict[str, str] | None = None
) -> tuple[list[list[CellValue]], int]:
    """Calamine values -> CellValues, in calamine's own row lists: '' -> None, whole
    floats -> int, midnight -> date.

    A sheet's rows repeat a few shapes (the types of their cells, in order), so each shape
    says once which cells need a look: the texts, and anything that is not an int, bool or
    date. Equal texts become one object (calamine makes one a cell): a sheet repeats its
    PO numbers, statuses, codes and places on every line, so the table is smaller and
    each later look at a text finds its hash already made (``seen``: the texts met so far,
    shared by a sheet's parts). Also says which is the last row with a blank text cell
    ('', calamine's error cells too), -1 when none.
    """
    last: list[Any] | None = None
    share = ({} if seen is None else seen).setdefault
    shapes: dict[tuple[type, ...], tuple[tuple[int, ...], tuple[int, ...]]] = {}
    for raw in rows:
        kinds = tuple(map(type, raw))
        shape = shapes.get(kinds)
        if shape is None:
            shape = shapes[kinds] = (
                tuple(i for i, t in enumerate(kinds) if t is str),
                tuple(i for i, t in enumerate(kinds) if t not in _KEPT),
            )
        texts, others = shape
        for i in texts:
            v = raw[i]
            if v:
                raw[i] = share(v, v)
            else:
                raw[i] = None
                last = raw
        for i in others:
            v = raw[i]
            raw[i] = (int(v) if v.is_integer() else v) if type(v) is float else _odd_cell(v)
    if last is None:
        return rows, -1
    at = len(rows) - 1
    while rows[at] is not last:  # the last blank row is near the end, as a rule
        at -= 1
    return rows, at


_KEPT = frozenset({str, int, bool, _date})
"""Cell types calamine hands over as they stay (texts are shared, and '' read as None)."""


def _is_empty(values: Sequence[CellValue]) -> bool:
    # Short-circuits at the first real value, which for data rows is usually the first cell.
    return not any(v is not None and (type(v) is not str or v.strip()) for v in values)


def _header_text(v: Any) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (_datetime, _date)):
        return v.isoformat()
    return str(v).strip()


# --------------------------------------------------------------------------- header row


def _best_header(head: _Head, score: HeaderScorer) -> tuple[int, float]:
    """(index into head.rows, score) of the best-scoring row; the earliest wins ties."""
    best_i, best = -1, 0.0
    for i, raw in enumerate(head.rows):
        texts = [_header_text(v) for v in raw]
        if sum(1 for t in texts if t) == 0:
            continue
        s = score(texts)
        if s > best:
            best_i, best = i, s
    return best_i, best


def _first_header_row(head: _Head) -> int | None:
    """Without a scorer: the first row with two different texts (one, in a one-column sheet)."""
    # Distinct texts, so a title merged across the sheet does not pass for a header.
    counts = [
        len({v.strip() for v in raw if isinstance(v, str) and v.strip()}) for raw in head.rows
    ]
    for i, n in enumerate(counts):
        if n >= 2:
            return i
    widest = max((sum(1 for v in raw if v is not None and v != "") for raw in head.rows), default=0)
    if widest == 1:
        for i, n in enumerate(counts):
            if n == 1:
                return i
    return None


def _find_header(
    source: _Source,
    name: str,
    head: _Head,
    score: HeaderScorer | None,
    max_header_scan: int,
    expected: Sequence[str],
    header_row: int | None = None,
) -> int:
    """The index into ``head.rows`` of the header row, or a clear error."""
    if header_row is not None:
        index = header_row - 1 - head.first_row
        if not 0 <= index < len(head.rows):
            raise source.fail(
                f"header row {header_row} is outside sheet '{name}' (or beyond the first "
                f"{max_header_scan} rows bulkpo looks at)")
        return index
    if score is not None:
        index, best = _best_header(head, score)
        found = index if best > 0 else None
    else:
        found = _first_header_row(head)
    if found is not None:
        return found
    if not head.rows:
        raise source.fail(f"sheet '{name}' is empty")
    such_as = (
        "column names such as " + ", ".join(f'"{h}"' for h in expected[:4])
        if expected
        else "a row of column names"
    )
    likely = _first_header_row(head)
    hint = ""
    if likely is not None:
        cells = ", ".join(_header_text(v) for v in head.rows[likely] if _header_text(v))
        cells = cells if len(cells) <= 120 else cells[:117] + "..."
        hint = (
            f"; row {head.first_row + likely + 1} looks like the header ({cells}) but names "
            "none of them: give the header row (--header-row N) and a mapping "
            "(bulkpo map FILE -o mapping.toml) saying which column is which"
        )
    raise source.fail(
        f"no header row found in sheet '{name}' "
        f"(looked at the first {max_header_scan} rows for {such_as}){hint}"
    )


# --------------------------------------------------------------------------- sheet choice


def _choose_sheet(
    source: _Source,
    sheet: str | None,
    score: HeaderScorer | None,
    preferred: Sequence[str],
    max_header_scan: int,
) -> str:
    names = source.sheet_names
    by_fold = {n.casefold(): n for n in reversed(names)}
    if sheet is not None:
        found = by_fold.get(sheet.casefold()) or by_fold.get(sheet.strip().casefold())
        if found is None:
            listed = ", ".join(f"'{n}'" for n in names) or "none"
            raise source.fail(f"has no sheet named '{sheet}' (its sheets: {listed})")
        return found
    for want in preferred:
        found = by_fold.get(want.casefold())
        if found is not None and found not in source.hidden_sheets:
            return found
    if not names:
        raise source.fail("the workbook has no sheets")
    if len(names) == 1:
        return names[0]
    first_nonempty: str | None = None
    best_name, best = "", 0.0
    hidden = source.hidden_sheets
    # A hidden sheet (lists, lookups, an old copy) is never chosen over a visible one.
    for name in [n for n in names if n not in hidden]:
        head = source.head(name, max_header_scan)
        if not head.rows:
            continue
        if first_nonempty is None:
            first_nonempty = name
            if score is None:
                break
        if score is not None:
            s = _best_header(head, score)[1]
            if s > best:
                best_name, best = name, s
    if best > 0:
        return best_name
    if score is not None:
        for name in [n for n in names if n in hidden]:
            head = source.head(name, max_header_scan)
            if head.rows and _best_header(head, score)[1] > 0:
                raise source.fail(
                    f"the sheet with the column names, '{name}', is hidden in the workbook: "
                    f"unhide it, or name it (sheet='{name}', --sheet '{name}') to read it")
    if first_nonempty is None:
        raise source.fail("every sheet in the workbook is empty")
    return first_nonempty


# --------------------------------------------------------------------------- workbooks


Hidden: TypeAlias = dict[str, tuple[frozenset[int], frozenset[int]]]
"""By sheet name: the 1-based rows and 0-based columns hidden in the sheet."""
_NONE_HIDDEN: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())


class _WorkbookSource(_Source):
    """A workbook read through python-calamine."""

    def __init__(self, path: Path, limits: ReadLimits, hidden: Hidden | None = None) -> None:
        self.path = path
        self.limits = limits
        self._zipped = zipfile.is_zipfile(path)
        self.workbook = self._guard(lambda: CalamineWorkbook.from_path(str(path)))
        self.sheet_names = list(self.workbook.sheet_names)
        self.hidden_sheets = self._guard(lambda: frozenset(
            m.name for m in self.workbook.sheets_metadata
            if m.visible is not SheetVisibleEnum.Visible))
        self._sheets: dict[str, list[CalamineSheet]] = {}
        # (rows, columns) hidden in the sheet, by sheet: an xls's from _open, the others'
        # from the pass that measures the sheet before calamine reads it.
        self._hidden: Hidden = dict(hidden or {})
        # A sheet read in parts: each part's rows, converted as it was read.
        self._prepared: dict[str, list[Prepared | None]] = {}
        self._texts: dict[str, str] = {}

    def _guard(self, call: Callable[[], Any]) -> Any:
        """Run one calamine call, mapping whatever it raises to one clear line."""
        try:
            return call()
        except PasswordError:
            raise self.fail(
                "password-protected (encrypted) workbook; remove the password in Excel "
                "(File > Info > Protect Workbook) and save it again"
            ) from None
        except MemoryError:
            raise self.fail("too large to read in memory") from None
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # pyo3 panics derive from BaseException
            message = one_line(exc)
            if "Cell limit exceeded" in message:
                raise self.fail(
                    f"damaged workbook: a sheet declares more cells than can be read ({message})"
                ) from None
            if "Cannot detect file format" in message:
                raise self.fail("not a spreadsheet (unrecognised file format)") from None
            raise self.fail(f"damaged workbook: {message}") from None

    def _sheet(self, name: str) -> list[CalamineSheet]:
        """Sheet ``name`` as calamine read it: whole, or a large xlsx sheet in parts."""
        sheets = self._sheets.get(name)
        if sheets is None:
            sheets = self._check_extent(name) if self._zipped else None
            if sheets is None:
                sheet = self._guard(lambda: self.workbook.get_sheet_by_name(name))
                assert sheet is not None
                sheets = [sheet]
            height, width = _extent(sheets)
            if height * width > self.limits.max_cells:
                # Building Python lists for a sheet this large would take many GB.
                raise self.fail(
                    f"sheet '{name}' is too large to read: {height} rows x "
                    f"{width} columns (more than {self.limits.max_cells:,} cells)"
                )
            self._sheets[name] = sheets
        return sheets

    def _read_in_parts(self, zf: zipfile.ZipFile, name: str) -> list[CalamineSheet] | None:
        """A large xlsx sheet read in parts on the machine's cores (:mod:`.parts`), each
        measured by the guard first; None when it is read whole."""
        try:
            part = sheet_part(zf, name)
            if part is None or not part.lower().endswith(".xml"):
                return None
            count = part_count(zf.getinfo(part).file_size)
            found = read_in_parts(zf, part, name, self.limits.max_cells, count,
                                  prepare=self._prepare_part)
        except Exception:  # odd packaging: the whole read says what is wrong
            return None
        if found is None:
            return None
        self._hidden[name] = (found.scan.hidden_rows, found.scan.hidden_cols)
        self._prepared[name] = found.prepared
        return found.sheets

    def _prepare_part(self, sheet: CalamineSheet) -> Prepared | None:
        """A part's rows converted on its own thread as soon as calamine has read it,
        while the later parts are still being read (their texts shared with the others')."""
        if sheet.start is None:
            return None
        return _convert_rows(sheet.to_python(skip_empty_area=True), self._texts)

    def _check_extent(self, name: str) -> list[CalamineSheet] | None:
        """Refuse an xlsx/xlsm/xlsb sheet whose cells reach past ``max_cells`` before calamine
        reads it: calamine allocates every cell from A1 to the last one at once, and a
        failed allocation aborts the whole process. The same pass notes the sheet's hidden
        rows and columns, and reads a large sheet in parts as it measures it (returned;
        None: calamine reads the sheet whole)."""
        try:
            zf = zipfile.ZipFile(self.path)
        except Exception:  # odd packaging: calamine's own reading decides
            return None
        with zf:
            sheets = self._read_in_parts(zf, name)
            if sheets is not None:
                return sheets
            found = self._scan(zf, name)
        if found is None:
            return None
        corner, declared = found
        raise self.fail(too_far(name, "declares" if declared == corner else "has", corner,
                                self.limits))

    def _scan(self, zf: zipfile.ZipFile, name: str) -> tuple[Corner, Corner | None] | None:
        """(last cell, declared last cell) of sheet ``name`` when it reaches too far."""
        try:
            part = sheet_part(zf, name)
            if part is None and "content.xml" in zf.namelist():
                # ods: measured as it was opened (check_ods); its hidden rows and columns.
                self._hidden[name] = ods_hidden(zf, name)
        except Exception:  # odd packaging: calamine's own reading decides
            return None
        if part is None or not part.lower().endswith((".xml", ".bin")):
            return None
        max_cells = self.limits.max_cells
        try:
            if part.lower().endswith(".bin"):  # xlsb: binary records
                corner, rows = xlsb_extent(zf.read(part))
                self._hidden[name] = (rows, frozenset())
                return (corner, None) if corner.cells > max_cells else None
            scan = scan_sheet(zf, part, max_cells)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
            raise self.fail(f"damaged workbook: {part} cannot be read ({one_line(exc)})") from None
        if scan.unmeasured:
            raise self.fail(
                f"sheet '{name}' has cells without a cell reference among comments or CDATA, "
                "so how far it reaches cannot be measured safely; open it in Excel and save "
                "it as .xlsx (Excel writes every cell's reference)")
        self._hidden[name] = (scan.hidden_rows, scan.hidden_cols)
        return scan.too_far

    def head(self, name: str, nrows: int) -> _Head:
        sheets = self._sheet(name)
        raw, first_row, first_col = self._guard(lambda: _to_python(sheets, nrows))
        if not raw:
            return _Head([], 0)
        return self._shape_head(sheets[-1], raw, nrows, first_row, first_col)

    def _shape_head(self, sheet: CalamineSheet, raw: list[list[Any]], nrows: int,
                    first_row: int, first_col: int) -> _Head:
        """Absolute columns and merged header cells filled from their merged range
        (``sheet`` holds the sheet's merged cells)."""
        pad = [""] * first_col
        rows = [pad + list(r) for r in raw[:nrows]]
        merges = self._guard(lambda: sheet.merged_cell_ranges) or []
        last = first_row + len(rows)
        for (r0, c0), (r1, c1) in merges:
            if r0 >= last or r1 < first_row or not (0 <= c0 <= c1):
                continue
            top = r0 - first_row
            value = rows[top][c0] if 0 <= top < len(rows) and c0 < len(rows[top]) else ""
            if value == "" or value is None:
                continue
            for r in range(max(r0, first_row), min(r1 + 1, last)):
                cells = rows[r - first_row]
                for c in range(c0, min(c1 + 1, len(cells))):
                    if cells[c] == "" or cells[c] is None:
                        cells[c] = value
        return _Head(rows, first_row)

    def table(
        self,
        name: str,
        score: HeaderScorer | None,
        max_header_scan: int,
        expected: Sequence[str],
        header_row: int | None = None,
    ) -> Table:
        sheets = self._sheet(name)
        head = self.head(name, max_header_scan)
        header_i = _find_header(self, name, head, score, max_header_scan, expected, header_row)
        headers = [_header_text(v) for v in head.rows[header_i]]
        prepared = self._prepared.pop(name, None)
        raw, first_row, first_col = self._guard(lambda: _to_python(sheets, None, prepared))
        self._sheets.pop(name, None)  # let calamine free the sheet as soon as we are done
        # Calamine hands Excel error cells over as "", so without a "" at or below the
        # header row there is no error cell to look for and the sheet XML is not re-read.
        if prepared is None:
            body, last_blank = _convert_rows(raw[header_i + 1 :])
            may_hold_errors = last_blank >= 0 or (header_i < len(raw) and "" in raw[header_i])
        else:  # converted as each part was read: "" is None, and the blank rows are known
            body = raw[header_i + 1 :]
            may_hold_errors = any(
                done is not None and done[1] >= 0 and sheet.start is not None
                and sheet.start[0] + done[1] >= first_row + header_i
                for sheet, done in zip(sheets, prepared, strict=True))
        del raw
        pad: list[CellValue] = [None] * first_col
        rows: list[Row] = []
        number = first_row + header_i + 1  # 1-based number of the header row
        append = rows.append
        for values in body:
            number += 1
            # Most rows start with a value, which settles it without the full check.
            v0 = values[0] if values else None
            if (v0 is None or (type(v0) is str and not v0.strip())) and _is_empty(values):
                continue
            append(Row(number, pad + values if first_col else values))
        errors = self._error_cells(name) if may_hold_errors else {}
        merges = self._guard(lambda: sheets[-1].merged_cell_ranges) or []
        merged = _fill_merged_down(rows, merges, first_row + header_i + 1) if merges else {}
        table = Table(
            path=str(self.path),
            sheet=name,
            header_row=first_row + header_i + 1,
            headers=headers,
            rows=rows,
            sheet_names=list(self.sheet_names),
            hidden_rows=self._hidden.get(name, _NONE_HIDDEN)[0],
            hidden_cols=self._hidden.get(name, _NONE_HIDDEN)[1],
            hidden_sheet=name in self.hidden_sheets,
            merged=merged,
        )
        if merged:
            table.issues.append(merged_cells_issue(table, merged))
        if errors:
            _apply_error_cells(table, errors)
        return table

    def _error_cells(self, name: str) -> dict[tuple[int, int], str]:
        """Excel error cells (#N/A, #DIV/0!...) of an xlsx/xlsm sheet.

        Calamine hands them over as empty cells, which would silently drop a damaged
        value; the sheet XML names them, so scan it (streamed, bounded memory).
        """
        try:
            if not zipfile.is_zipfile(self.path):
                return {}
            with zipfile.ZipFile(self.path) as zf:
                part = sheet_part(zf, name)
                if part is None or not part.lower().endswith(".xml"):
                    return {}  # xlsb: binary records, not scanned for errors
                return _scan_error_cells(zf, part)
        except Exception:  # best effort: calamine already read the sheet
            return {}


def _extent(sheets: Sequence[CalamineSheet]) -> tuple[int, int]:
    """Rows and columns of a sheet read whole or in parts, from its first cell to its last."""
    live = [s for s in sheets if s.start is not None and s.end is not None]
    if not live:
        return 0, 0
    rows = live[-1].end[0] - live[0].start[0] + 1  # type: ignore[index]
    cols = (max(s.end[1] for s in live)  # type: ignore[index]
            - min(s.start[1] for s in live) + 1)  # type: ignore[index]
    return rows, cols


def _to_python(
    sheets: Sequence[CalamineSheet], nrows: int | None = None,
    prepared: Sequence[Prepared | None] | None = None,
) -> tuple[list[list[Any]], int, int]:
    """Calamine's rows of a sheet read whole or in parts, from its first row and column
    (0-based, returned with them); ``nrows`` of them at most. Each part's rows go to their
    place: rows between two parts are blank, and every row spans the sheet's columns.
    With ``prepared`` (each part's rows converted as it was read), those rows, blank
    cells None."""
    live = [(i, s) for i, s in enumerate(sheets) if s.start is not None and s.end is not None]
    if not live:
        return [], 0, 0

    def rows_of(i: int, sheet: CalamineSheet, limit: int | None) -> list[list[Any]]:
        if prepared is not None:
            done = prepared[i]
            assert done is not None
            return done[0]
        if limit is None:
            return sheet.to_python(skip_empty_area=True)
        return sheet.to_python(skip_empty_area=True, nrows=limit)

    if len(live) == 1:
        i, sheet = live[0]
        assert sheet.start is not None
        return rows_of(i, sheet, nrows), *sheet.start
    blank = "" if prepared is None else None
    first_row = live[0][1].start[0]  # type: ignore[index]
    first_col = min(s.start[1] for _, s in live)  # type: ignore[index]
    width = max(s.end[1] for _, s in live) - first_col + 1  # type: ignore[index]
    rows: list[list[Any]] = []
    for i, sheet in live:
        (top, left), (_, right) = sheet.start, sheet.end  # type: ignore[misc]
        at = top - first_row
        if nrows is not None and at >= nrows:
            break
        rows.extend([blank] * width for _ in range(at - len(rows)))
        raw = rows_of(i, sheet, None if nrows is None else nrows - at)
        before, after = left - first_col, width - (right - first_col + 1)
        if before or after:
            raw = [[blank] * before + r + [blank] * after for r in raw]
        rows.extend(raw)
    return rows, first_row, first_col


def _fill_merged_down(
    rows: list[Row], merges: Sequence[Any], header_number: int
) -> dict[int, list[tuple[int, int]]]:
    """Cells merged down over several data rows: each covered cell reads the merged value,
    as a person reading the sheet does (calamine gives it to the first cell only). Only
    one-column merges: one across columns is a heading or a note, not a value of each.
    Returns the spans filled, by column: (first, last) 1-based sheet rows."""
    spans: dict[int, list[tuple[int, int]]] = {}
    by_number: dict[int, Row] | None = None
    for (r0, c0), (r1, c1) in merges:
        if c0 != c1 or r1 <= r0 or r0 + 1 <= header_number:
            continue
        if by_number is None:
            by_number = {row.number: row for row in rows}
        top = by_number.get(r0 + 1)
        value = top.get(c0) if top is not None else None
        if value is None or (type(value) is str and not value.strip()):
            continue
        for number in range(r0 + 2, r1 + 2):
            row = by_number.get(number)
            if row is not None and row.get(c0) is None:
                row.set(c0, value)
        spans.setdefault(c0, []).append((r0 + 1, r1 + 1))
    return spans


def _apply_error_cells(table: Table, errors: dict[tuple[int, int], str]) -> None:
    by_number = {row.number: row for row in table.rows}
    for (number, col), code in sorted(errors.items()):
        if number == table.header_row and col < len(table.headers) and not table.headers[col]:
            table.headers[col] = code
            continue
        row = by_number.get(number)
        if number < table.header_row:
            continue
        if row is None:
            # A row holding only errors looked empty; it is data all the same.
            row = Row(number, [])
            by_number[number] = row
            table.rows.append(row)
        if row.get(col) is None:
            row.set(col, code)
        header = table.headers[col] if col < len(table.headers) else ""
        table.issues.append(
            Issue(
                ref=CellRef(table.sheet, number, col),
                header=header,
                value=code,
                code=IssueCode.EXCEL_ERROR,
                severity=Severity.WARNING,
                message=f"the cell holds the Excel error {code}, not a value",
                suggestion="fix the formula or type the value in the workbook",
            )
        )
    table.rows.sort(key=lambda r: r.number)


_ERROR_CELL = re.compile(rb"<(?:\w+:)?c\s([^>]*?\bt=\"e\"[^>]*)>(.*?)</(?:\w+:)?c>", re.DOTALL)
_CELL_REF = re.compile(rb"\br=\"([A-Z]{1,3})([0-9]+)\"")
_CELL_V = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _scan_error_cells(zf: zipfile.ZipFile, part: str) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    tail = b""
    with zf.open(part) as fh:
        while chunk := fh.read(1 << 20):
            buf = tail + chunk
            # A cheap substring test first: almost every chunk of a sheet has no error.
            if b't="e"' in buf:
                for match in _ERROR_CELL.finditer(buf):
                    ref = _CELL_REF.search(match.group(1))
                    value = _CELL_V.search(match.group(2))
                    if ref is None or value is None:
                        continue
                    col = 0
                    for ch in ref.group(1):
                        col = col * 26 + ch - 64
                    code = value.group(1).decode("utf-8", "replace").strip()
                    if code:
                        found[(int(ref.group(2)), col - 1)] = code
            # Keep enough for a cell element cut in two by the chunk boundary.
            tail = buf[-4096:]
    return found


# --------------------------------------------------------------------------- delimited text


class _TextSource(_Source):
    """A csv/tsv/txt file: one sheet named after the file, every cell text."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sheet_names = [path.stem]
        self._rows: list[tuple[str, ...]] | None = None
        self._cp1252_lines: list[int] = []

    def _records(self) -> list[tuple[str, ...]]:
        if self._rows is None:
            self._rows = self._parse()
        return self._rows

    def _parse(self) -> list[tuple[str, ...]]:
        try:
            size = self.path.stat().st_size
            if size > MAX_TEXT_BYTES:
                raise self.fail(f"too large for a text file ({size:,} bytes)")
            data = self.path.read_bytes()
        except OSError as exc:
            raise self.fail(f"cannot read the file ({exc.strerror})") from None
        text, self._cp1252_lines = decode(data)
        del data
        if "\x00" in text:
            raise self.fail("not a spreadsheet (unrecognised binary file)")
        delimiter = sniff_delimiter(text[:SNIFF_BYTES], self.path.suffix.lower())
        # Read back through a TextIOWrapper, which splits lines as StringIO(newline="")
        # does but decodes a chunk at a time: StringIO would hold the whole text again
        # at four bytes a character.
        lines = io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), "utf-8", newline="")
        del text
        # A sheet repeats its texts (a PO's number on each line, statuses, codes, dates):
        # each distinct text is kept once, which makes a large file's cells a fraction
        # of what one string object per cell would take.
        seen: dict[str, str] = {}
        share = seen.setdefault
        old_limit = csv.field_size_limit()
        try:
            # One cell may hold a long memo; the default 128 KiB cap would refuse it.
            csv.field_size_limit(64 * 1024 * 1024)
            # A tuple a record: smaller than a list, and never traced by the collector.
            return [tuple(map(share, record, record))
                    for record in csv.reader(lines, delimiter=delimiter)]
        except csv.Error as exc:
            raise self.fail(f"damaged text file: {one_line(exc)}") from None
        finally:
            csv.field_size_limit(old_limit)

    def head(self, name: str, nrows: int) -> _Head:
        return _Head([list(r) for r in self._records()[:nrows]], 0)

    def table(
        self,
        name: str,
        score: HeaderScorer | None,
        max_header_scan: int,
        expected: Sequence[str],
        header_row: int | None = None,
    ) -> Table:
        records = self._records()
        head = self.head(name, max_header_scan)
        header_i = _find_header(self, name, head, score, max_header_scan, expected, header_row)
        rows: list[Row] = []
        append = rows.append
        for number, record in enumerate(records[header_i + 1 :], start=header_i + 2):
            # A record with no empty cell (most of them) is kept as csv.reader made it,
            # not copied: a large file's cells are held once.
            values: tuple[CellValue, ...] = (
                tuple([v or None for v in record]) if "" in record else record)
            v0 = record[0] if record else ""
            if not v0.strip() and _is_empty(values):
                continue
            append(Row(number, values))
        table = Table(
            path=str(self.path),
            sheet=name,
            header_row=header_i + 1,
            headers=[_header_text(v) for v in records[header_i]],
            rows=rows,
            sheet_names=list(self.sheet_names),
        )
        if self._cp1252_lines:
            table.issues.append(mixed_encoding_issue(self._cp1252_lines))
        return table



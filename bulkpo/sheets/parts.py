"""A large xlsx sheet read by calamine in parts, side by side on the machine's cores.

Calamine reads a sheet in one call that lets go of Python's lock, on one core, and only
after the guard pass (:class:`~bulkpo.sheets.guards.SheetScanner`) has measured the sheet.
A sheet's XML is a run of ``<row>`` elements, so a large one is cut at row tags into
parts, each made a workbook of its own (the sheet's head and tail around its rows, with
the original's other parts, stored) in a private temporary file as the guard measures
it, and each part goes to calamine on a thread of its own as soon as it is complete:
measuring the next part overlaps reading this one, and the parts are read side by side.
Calamine never sees bytes the guard has not passed, and memory holds a chunk of the XML
at a time; each file is deleted once calamine has read it.

A sheet is cut only where that changes nothing: plain ``<sheetData>`` whose rows carry
their number (``<row r="...">``, which is where calamine takes a row's place from), no
CDATA or comments (where a row tag could be text), parts that do not share a row. Any
doubt, and any error, gives ``None``: the sheet is then read whole, as before.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from python_calamine import CalamineSheet, CalamineWorkbook

from bulkpo.sheets.guards import SCAN_CHUNK, SheetScan, SheetScanner

MIN_PART_BYTES = 8 << 20
"""Sheet XML per part, at least: below it a second workbook costs more than it saves."""

MAX_PARTS = 4
MAX_SPLIT_BYTES = 1 << 30
"""Sheet XML above which the sheet is read whole: the parts go through temporary files,
which together take the sheet's XML size on disk."""

OTHER_PARTS_WEIGHT = 2
"""A part must carry at least this many times the bytes of the workbook's other parts
(its shared strings, above all), which calamine parses again for each part."""

_ROW_START = b'<row r="'
_MAX_HEAD = 1 << 20
_SHEET_DATA = b"<sheetData>"
_CLOSE = b"</sheetData></worksheet>"
# Parts calamine does not read for a sheet's values: other sheets, pictures and the like
# are left out of each part's workbook.
_LEFT_OUT = re.compile(
    r"(?:^|/)(?:worksheets|chartsheets|dialogsheets|macrosheets|media|drawings|charts|"
    r"embeddings|printerSettings|pivotCache|pivotTables|externalLinks|customXml)/"
    r"|calcChain\.xml$|vbaProject\.bin$", re.IGNORECASE)


def usable_cpus() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def part_count(xml_bytes: int, cpus: int | None = None) -> int:
    """How many parts a sheet of ``xml_bytes`` of XML is read in: two a core, each at
    least :data:`MIN_PART_BYTES`, at most :data:`MAX_PARTS`; one (whole) on one core or
    past :data:`MAX_SPLIT_BYTES`.

    Two a core, because the first part then reaches calamine sooner and the parts that
    wait for a core keep the cores busy while the guard measures the rest (measured on
    two cores, 100,000 rows, median of five: 2.78 s in two parts, 2.32 s in four)."""
    cpus = usable_cpus() if cpus is None else cpus
    if xml_bytes > MAX_SPLIT_BYTES or cpus < 2:
        return 1
    return max(1, min(2 * cpus, MAX_PARTS, xml_bytes // MIN_PART_BYTES))


@dataclass
class Parts:
    """A sheet read in parts: calamine's sheets in row order (no two share a row; the last
    holds the sheet's tail, its merged cells), what ``prepare`` made of each (on the part's
    own thread, while later parts were still being read), and what the guard pass found."""

    sheets: list[CalamineSheet]
    prepared: list[Any]
    scan: SheetScan


class _NoCut(Exception):
    """The sheet is read whole."""


def read_in_parts(
    zf: zipfile.ZipFile, part: str, name: str, max_cells: int, count: int,
    *, open_part: Callable[[str], CalamineWorkbook] = CalamineWorkbook.from_path,
    prepare: Callable[[CalamineSheet], Any] = lambda sheet: None,
) -> Parts | None:
    """Sheet ``name`` (the zip member ``part``) read in ``count`` parts, each measured by the
    guard before calamine reads it; None when it is better read whole (too small, not
    safely cut, past the guard's bound, or any error: the whole read then says why).
    ``prepare`` runs on each part as soon as calamine has read it."""
    kept = [info for info in zf.infolist()
            if info.filename != part and not _LEFT_OUT.search(info.filename)]
    size = zf.getinfo(part).file_size
    # Every part's workbook carries the other parts calamine reads (the shared strings,
    # above all), and calamine parses them again for each: a sheet whose shared strings
    # are as large as half its XML reads no faster in parts (measured: 33 MB of rows, 15 MB
    # of strings, 1.45-1.66 s in four parts against 1.41-1.55 s whole).
    count = min(count, size // max(OTHER_PARTS_WEIGHT * sum(i.file_size for i in kept), 1))
    if count < 2:
        return None
    others = [(info.filename, zf.read(info)) for info in kept]
    scanner = SheetScanner(max_cells)
    pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="bulkpo-sheet-part")
    futures: list[Future[tuple[CalamineSheet, Any]]] = []
    files: list[_PartFile] = []
    try:
        head = tail = b""
        held = 0
        cutting = True
        with zf.open(part) as fh:
            while chunk := fh.read(SCAN_CHUNK):
                scanner.feed(chunk)
                if not scanner.within:
                    raise _NoCut  # the whole read's exact pass settles it
                start = 0
                if not head:  # the sheet's head, up to its rows, may span chunks
                    chunk = tail + chunk
                    at = chunk.find(_SHEET_DATA)
                    if at < 0:
                        if len(chunk) > _MAX_HEAD:
                            raise _NoCut
                        tail = chunk
                        continue
                    if b"<worksheet" not in chunk[:at]:
                        raise _NoCut
                    start = at + len(_SHEET_DATA)
                    head, tail = chunk[:start], b""
                    files.append(_PartFile(others, part, head))
                # Text that could hold a row tag (comments, CDATA), or the end of the rows
                # (also across the last chunk's end): no more cuts. Literal searches (a
                # regex of alternatives would stop at every tag), and only until the last
                # cut: what follows it is read as one piece, as the whole read reads it.
                cutting = cutting and len(futures) < count - 1
                if cutting:
                    edge = tail + chunk[start:start + 16]
                    if b"<!" in edge or chunk.find(b"<!", start) >= 0:
                        raise _NoCut
                    cutting = b"</sheetData" not in edge and chunk.find(b"</sheetData",
                                                                         start) < 0
                tail = chunk[-16:]
                view = memoryview(chunk)
                if cutting and held + len(chunk) - start >= (size - len(head)) // count:
                    cut = chunk.rfind(_ROW_START, start)
                    if cut > start or (cut == start and held):
                        files[-1].write(view[start:cut])
                        files[-1].close(_CLOSE)
                        futures.append(pool.submit(_read_part, files[-1].path, name,
                                                   open_part, prepare))
                        files.append(_PartFile(others, part, head))
                        held, start = 0, cut
                files[-1].write(view[start:])
                held += len(chunk) - start
        scanner.end()
        if not futures or not scanner.within:
            raise _NoCut
        files[-1].close(b"")
        futures.append(pool.submit(_read_part, files[-1].path, name, open_part, prepare))
        done = [f.result() for f in futures]
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        _give_up(pool, files)
        raise
    except BaseException:  # any doubt (pyo3 panics included): the whole read decides
        _give_up(pool, files)
        return None
    pool.shutdown(wait=True)
    sheets = [sheet for sheet, _ in done]
    live = [s for s in sheets if s.start is not None]
    for before, after in itertools.pairwise(live):
        assert before.end is not None and after.start is not None
        if after.start[0] <= before.end[0]:
            return None  # parts that share rows (cells out of order): read whole
    return Parts(sheets, [prepared for _, prepared in done], scanner.finish(zf, part))


class _PartFile:
    """One part's workbook, written to a private temporary file as the sheet is scanned:
    the original's other parts, then the sheet's head, rows and end, stored (calamine
    has nothing to inflate)."""

    def __init__(self, others: list[tuple[str, bytes]], part: str, head: bytes) -> None:
        fd, self.path = tempfile.mkstemp(prefix="bulkpo-part-", suffix=".xlsx")
        self._raw = os.fdopen(fd, "wb")
        self._zip = zipfile.ZipFile(self._raw, "w", zipfile.ZIP_STORED)
        for filename, data in others:
            self._zip.writestr(filename, data)
        self._entry = self._zip.open(part, "w", force_zip64=True)
        self._entry.write(head)

    def write(self, data: bytes | memoryview) -> None:
        self._entry.write(data)

    def close(self, end: bytes) -> None:
        """End the sheet with ``end`` and the workbook; the file is then ready to read."""
        self._entry.write(end)
        self._entry.close()
        self._zip.close()
        self._raw.close()

    def discard(self) -> None:
        for done in (self._entry.close, self._zip.close, self._raw.close):
            with contextlib.suppress(Exception):
                done()
        with contextlib.suppress(OSError):
            os.unlink(self.path)


def _give_up(pool: ThreadPoolExecutor, files: list[_PartFile]) -> None:
    """Let the parts being read finish (calamine cannot be stopped), delete every file."""
    pool.shutdown(wait=True, cancel_futures=True)
    for file in files:
        file.discard()


def _read_part(
    path: str, name: str, open_part: Callable[[str], CalamineWorkbook],
    prepare: Callable[[CalamineSheet], Any],
) -> tuple[CalamineSheet, Any]:
    """One part read by calamine (without Python's lock) and prepared, its file then
    closed (Windows deletes no open file) and deleted."""
    workbook = None
    try:
        workbook = open_part(path)
        sheet = workbook.get_sheet_by_name(name)
        assert sheet is not None
        return sheet, prepare(sheet)
    finally:
        if workbook is not None:
            with contextlib.suppress(Exception):
                workbook.close()
        with contextlib.suppress(OSError):
            os.unlink(path)

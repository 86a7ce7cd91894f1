"""Small files that would take the whole machine are refused before calamine reads them."""

from __future__ import annotations

import os
import re
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import olefile
import openpyxl
import pytest

from bulkpo.config import ReadLimits
from bulkpo.errors import UnreadableFileError
from bulkpo.sheets import list_sheets, read_table
from bulkpo.sheets.guards import Corner, ods_extents, scan_sheet, xls_extents, xls_stream
from bulkpo.table import column_letter
from tests.conftest import shared_path

MEMORY_CAP = 1536 << 20  # address space of the bulkpo process under test
SHEET = "xl/worksheets/sheet1.xml"


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def validate_capped(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`bulkpo validate FILE` in its own process, under a 1.5 GB address-space cap."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLEXPORT_", "BULKPO_"))}
    return subprocess.run(
        [sys.executable, "-m", "bulkpo.cli", "validate", str(path)],
        cwd=cwd, env=env, preexec_fn=_capped, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def assert_refused_in_one_line(done: subprocess.CompletedProcess[str], path: Path) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])  # not killed (< 0)
    assert "Traceback" not in done.stderr and "memory allocation" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert str(path) in line
    return line


def xfd_workbook(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Purchase Orders"
    ws.append(["PO Number", "SKU", "Quantity"])
    ws.append(["PO-1", "A-1", 5])
    ws["XFD1048576"] = "x"
    wb.save(path)
    return path


def rewrite_sheet(src: Path, dst: Path, sheet_xml: bytes) -> Path:
    """``src`` with its first sheet's XML replaced."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, sheet_xml if info.filename == SHEET else zin.read(info))
    return dst


def sheet_xml(cells: Iterable[tuple[str, str]], dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = "".join(
        f'<row r="{re.sub("[A-Z]", "", ref)}"><c r="{ref}" t="inlineStr"><is><t>{text}</t></is>'
        "</c></row>"
        for ref, text in cells
    )
    return (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{body}</sheetData></worksheet>"
    ).encode()


def write_bomb(path: Path, template: Path, inflated: int) -> Path:
    """``template`` whose sheet XML inflates to ``inflated`` bytes of real rows.

    One full-flushed deflate block of rows repeats, so a GB-sized member is written in
    well under a second (zipfile would deflate the whole GB); the CRC is the true one.
    """
    head = sheet_xml([("A1", "PO Number"), ("B1", "SKU")], "A1:B2")
    head, tail = head.split(b"</sheetData>")
    piece = b"<row><c><v>1</v></c></row>" * 32768
    count = (inflated - len(head)) // len(piece) + 1
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflater.compress(piece) + deflater.flush(zlib.Z_FULL_FLUSH)
    again = deflater.compress(piece) + deflater.flush(zlib.Z_FULL_FLUSH)
    assert again == block  # a full flush resets the window: each piece deflates alike
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = first.compress(head) + first.flush(zlib.Z_FULL_FLUSH)
    end_text = b"</sheetData>" + tail
    end = first.compress(end_text) + first.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(piece, crc)
    crc = zlib.crc32(end_text, crc)
    size = len(head) + count * len(piece) + len(end_text)
    compressed = len(start) + count * len(block) + len(end)
    assert size < 1 << 32  # no zip64 needed

    with zipfile.ZipFile(template) as zin:
        others = [(i.filename, zin.read(i)) for i in zin.infolist() if i.filename != SHEET]
    central = b""
    with open(path, "wb") as out:

        def member(name: bytes, crc: int, csize: int, usize: int, chunks: Iterable[bytes]) -> None:
            nonlocal central
            offset = out.tell()
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc,
                                  csize, usize, len(name), 0) + name)  # fmt: skip
            for chunk in chunks:
                out.write(chunk)
            entry = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21,
                                crc, csize, usize, len(name), 0, 0, 0, 0, 0, offset)  # fmt: skip
            central += entry + name

        for name, data in others:
            packed = zlib.compress(data, 9)[2:-4]
            member(name.encode(), zlib.crc32(data), len(packed), len(data), [packed])
        member(SHEET.encode(), crc, compressed, size, [start, *([block] * count), end])
        where = out.tell()
        out.write(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(others) + 1, len(others) + 1,
                              len(central), where, 0))  # fmt: skip
    return path


# --------------------------------------------------------------------------- the CLI, capped


def test_cell_at_xfd1048576_is_refused_in_one_line(tmp_path: Path) -> None:
    path = xfd_workbook(tmp_path / "xfd.xlsx")
    assert path.stat().st_size < 10_000
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert (
        f"{path}: sheet 'Purchase Orders' declares cells up to XFD1048576 (17 billion cells), "
        "over the limit of 40,000,000 cells; "
    ) in line


def test_zip_bomb_is_refused_in_one_line(tmp_path: Path) -> None:
    template = xfd_workbook(tmp_path / "template.xlsx")
    path = write_bomb(tmp_path / "bomb.xlsx", template, inflated=(1 << 30) + (1 << 20))
    assert path.stat().st_size < 4 << 20
    with zipfile.ZipFile(path) as zf:  # a sound zip: its sheet really inflates past 1 GB
        assert zf.getinfo(SHEET).file_size > 1 << 30
        with zf.open(SHEET) as fh:
            assert fh.read(200).startswith(b"<worksheet")
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert f"{path}: looks like a zip bomb: its part {SHEET} inflates " in line
    assert "(the limit is 200 times, max_compression_ratio under [limits]" in line


def test_limits_come_from_bulkpo_toml(tmp_path: Path) -> None:
    path = xfd_workbook(tmp_path / "small.xlsx")
    path = rewrite_sheet(path, path.with_name("ok.xlsx"),
                         sheet_xml([("A1", "PO Number"), ("C40", "x")], "A1:C40"))  # fmt: skip
    (tmp_path / "bulkpo.toml").write_text("[limits]\nmax_cells = 100\n")
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert "declares cells up to C40 (120 cells), over the limit of 100 cells" in line


# --------------------------------------------------------------------------- the reader


def test_dimension_that_lies_small_is_not_trusted(tmp_path: Path) -> None:
    template = xfd_workbook(tmp_path / "template.xlsx")
    cells = [("A1", "PO Number"), ("B1", "SKU"), ("A2", "PO-1"), ("ZZ900000", "far")]
    path = rewrite_sheet(template, tmp_path / "lie.xlsx", sheet_xml(cells, "A1:B2"))
    with pytest.raises(UnreadableFileError) as caught:
        read_table(path)
    assert "has cells up to ZZ900000 (632 million cells), over the limit" in str(caught.value)


def test_dimension_that_lies_big_alone_does_not_refuse(tmp_path: Path) -> None:
    """Calamine sizes a sheet by its cells, not by the declared dimension."""
    template = xfd_workbook(tmp_path / "template.xlsx")
    cells = [("A1", "PO Number"), ("B1", "SKU"), ("A2", "PO-1"), ("B2", "A-1")]
    path = rewrite_sheet(template, tmp_path / "big.xlsx", sheet_xml(cells, "A1:XFD1048576"))
    table = read_table(path)
    assert [row.values for row in table.rows] == [["PO-1", "A-1"]]


@pytest.mark.parametrize(
    ("last", "refused"),
    [("AD1000001", False), ("Z1048576", False), ("AM1048576", True), ("AO1000000", True)],
)
def test_extent_bound_lets_a_million_rows_by_30_columns_through(
    tmp_path: Path, last: str, refused: bool
) -> None:
    path = tmp_path / "s.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("s.xml", sheet_xml([("A1", "h"), ("B1", "h"), ("C5", "x"), (last, "x")]))
    with zipfile.ZipFile(path) as zf:
        found = scan_sheet(zf, "s.xml", ReadLimits().max_cells).too_far
    assert (found is not None) is refused
    if found is not None:
        assert str(found[0]) == last and found[1] is None


def test_total_inflated_size_is_a_setting(tmp_path: Path) -> None:
    path = xfd_workbook(tmp_path / "x.xlsx")
    with pytest.raises(UnreadableFileError) as caught:
        list_sheets(path, limits=ReadLimits(max_uncompressed_bytes=5000))
    assert "inflates to " in str(caught.value)
    assert "over the limit of 4.9 KB (max_uncompressed_bytes under [limits]" in str(caught.value)


# --------------------------------------------------------------------------- xls and xlsb

# Calamine sizes an xls sheet from its cell records and its DIMENSIONS record, and an
# xlsb sheet from its row and cell records; both abort the process when that is too
# much. These files are corpus files with one record changed, a few KB each.


def _biff_records(stream: bytes) -> Iterable[tuple[int, int, int]]:
    pos = 0
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        yield kind, pos + 4, size
        pos += 4 + size


def patched_xls(dst: Path, patch: Callable[[int, int, bytearray], bool]) -> Path:
    """The corpus's date.xls with its workbook stream changed by ``patch`` (record type,
    body offset, stream) at the first record it accepts; same size, so it is written back
    in place."""
    src = shared_path("data", "excel-corpus", "date.xls")
    dst.write_bytes(src.read_bytes())
    with olefile.OleFileIO(str(dst), write_mode=True) as ole:
        stream = bytearray(ole.openstream("Workbook").read())
        assert any(patch(kind, body, stream) for kind, body, _ in _biff_records(bytes(stream)))
        ole.write_stream("Workbook", bytes(stream))
    return dst


def test_xls_cell_far_away_is_refused_in_one_line(tmp_path: Path) -> None:
    def far_cell(kind: int, body: int, stream: bytearray) -> bool:
        if kind not in (0x0203, 0x00FD, 0x027E):  # NUMBER, LABELSST, RK
            return False
        struct.pack_into("<HH", stream, body, 0xFFF0, 0xFFF0)
        return True

    path = patched_xls(tmp_path / "far.xls", far_cell)
    assert path.stat().st_size < 20_000
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert (
        f"{path}: sheet 'Sheet1' has cells up to CRXA65521 (4 billion cells), over the limit "
        "of 40,000,000 cells; delete what lies below or right of the data"
    ) in line


def test_xls_declared_dimensions_alone_are_refused_with_the_fix(tmp_path: Path) -> None:
    def huge_dimensions(kind: int, body: int, stream: bytearray) -> bool:
        if kind != 0x0200:  # DIMENSIONS (BIFF8): first/last+1 row u32, first/last+1 col u16
            return False
        struct.pack_into("<IIHH", stream, body, 0, 1_000_000, 0, 0xFFF0)
        return True

    path = patched_xls(tmp_path / "dims.xls", huge_dimensions)
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert (
        f"{path}: sheet 'Sheet1' declares cells up to CRWZ1000000 (66 billion cells), over the "
        "limit of 40,000,000 cells, though its cells reach only B3; open it in Excel or "
        "LibreOffice and save it as .xlsx"
    ) in line


def test_xls_guard_reads_the_sheets_calamine_reads(tmp_path: Path) -> None:
    # Names and extents of an untouched multi-sheet workbook, chart sheet included: the
    # guard must not refuse what reads fine.
    path = shared_path("data", "excel-corpus", "any_sheets.xls")
    stream = xls_stream(path)
    assert stream is not None
    extents = xls_extents(stream)
    assert [e.name for e in extents] == list_sheets(path)
    assert str(extents[0].cells) == "B5"
    assert read_table(path, sheet="Visible", header_row=1).rows  # and reading it is not refused


def test_xlsb_cell_far_away_is_refused_in_one_line(tmp_path: Path) -> None:
    src = shared_path("data", "excel-corpus", "date.xlsb")
    part = "xl/worksheets/sheet1.bin"
    with zipfile.ZipFile(src) as zf:
        data = bytearray(zf.read(part))
    # The third row header (record type 0, 25 bytes) and the cell after it.
    rows = [m.start() for m in re.finditer(rb"\x00\x19", bytes(data))]
    struct.pack_into("<I", data, rows[2] + 2, 1_000_000)
    cell = rows[2] + 2 + 25
    assert data[cell] in range(1, 12)  # a cell record: type, size, then its column
    struct.pack_into("<I", data, cell + 2, 16_000)
    path = tmp_path / "far.xlsb"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, bytes(data) if info.filename == part else zin.read(info))
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert (
        f"{path}: sheet 'Sheet1' has cells up to WQK1000001 (16 billion cells), over the limit "
        "of 40,000,000 cells"
    ) in line
    assert read_table(src, header_row=1).rows  # the untouched file reads


# ------------------------------------------------------------------ cells placed by counting


def _with_sheet_data(tmp_path: Path, name: str, body: bytes) -> Path:
    """xfd_workbook's file with its <sheetData> replaced by ``body``."""
    src = xfd_workbook(tmp_path / f"src-{name}")
    with zipfile.ZipFile(src) as zf:
        xml = zf.read(SHEET)
    xml = re.sub(rb"<sheetData>.*</sheetData>|<sheetData/>", lambda _: body, xml, flags=re.S)
    return rewrite_sheet(src, tmp_path / name, xml)


def test_rows_and_cells_without_references_are_counted_as_calamine_counts(
    tmp_path: Path,
) -> None:
    """28 KB: a row of 16,384 cells and a million empty rows, none with a reference.
    Calamine places such cells by counting and would allocate 17 billion cells."""
    body = (b"<sheetData><row>" + b"<c><v>1</v></c>" * 16_384 + b"</row>"
            + b"<row></row>" * 1_048_000
            + b'<row><c t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
    path = _with_sheet_data(tmp_path, "counted.xlsx", body)
    assert path.stat().st_size < 40_000
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert "has cells up to XFD1048002 (17 billion cells)" in line


@pytest.mark.parametrize("body, last", [
    # calamine reads lower-case references too
    (b'<sheetData><row r="1"><c r="a1"><v>1</v></c><c r="xfd1048576"><v>2</v></c></row>'
     b"</sheetData>", "XFD1048576"),
    # and ignores tag prefixes: a prefixed cell without a reference counts from its row
    (b'<sheetData><x:row r="1048576"><x:c><v>1</v></x:c><x:c r="XFD1"><v>2</v></x:c>'
     b"</x:row></sheetData>", "XFD1048576"),
    # <row/> and <c/> each move the count on
    (b"<sheetData>" + b"<row/>" * 70_000 + b"<row>" + b"<c/>" * 1000 + b"<c><v>1</v></c></row>"
     b"</sheetData>", "ALM70001"),
])
def test_references_calamine_reads_are_measured(
    tmp_path: Path, body: bytes, last: str
) -> None:
    path = _with_sheet_data(tmp_path, "odd.xlsx", body)
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert f"cells up to {last} (" in line


def test_cells_without_references_among_comments_cannot_be_measured(tmp_path: Path) -> None:
    body = b"<sheetData><row><c><v>1</v></c></row><!-- <row r='1'/> --></sheetData>"
    path = _with_sheet_data(tmp_path, "commented.xlsx", body)
    with pytest.raises(UnreadableFileError) as caught:
        read_table(path)
    assert ("cells without a cell reference among comments or CDATA, so how far it reaches "
            "cannot be measured safely; open it in Excel and save it as .xlsx") in str(caught.value)


def test_the_count_is_never_short_of_calamines_own(tmp_path: Path) -> None:
    """Random sheets mixing cells with and without references, rows with and without
    numbers, empty cells and rows: the guard's count reaches at least as far as the range
    calamine builds, and exactly as far when rows go in order and every cell holds a value."""
    from python_calamine import CalamineWorkbook

    from bulkpo.sheets.guards import _counted_corner

    rng = __import__("random").Random(11)
    exact = 0
    for case in range(150):
        ordered = case % 2 == 0
        rows, number = [], 0
        for _ in range(rng.randint(1, 12)):
            number = number + rng.randint(1, 3) if ordered else rng.randint(1, 40)
            tag = f'<row r="{number}">' if rng.random() < 0.5 else "<row>"
            cells = []
            for _ in range(rng.randint(0, 6)):
                ref = (f' r="{column_letter(rng.randint(0, 30))}{number}"'
                       if not ordered and rng.random() < 0.3 else "")
                empty = not ordered and rng.random() < 0.2
                cells.append(f"<c{ref}/>" if empty else f"<c{ref}><v>1</v></c>")
            rows.append(tag + "".join(cells) + "</row>" if cells or rng.random() < 0.5
                        else tag.replace(">", "/>"))
        body = ("<sheetData>" + "".join(rows) + "</sheetData>").encode()
        path = _with_sheet_data(tmp_path, f"r{case}.xlsx", body)
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Purchase Orders")
        with zipfile.ZipFile(path) as zf:
            corner = _counted_corner(zf, SHEET)
        assert corner is not None
        if sheet.end is None:
            continue
        real_rows, real_cols = sheet.end[0] + 1, sheet.end[1] + 1
        assert corner.row >= real_rows and corner.col >= real_cols, (body, corner, sheet.end)
        if ordered:
            exact += 1
            assert (corner.row, corner.col) == (real_rows, real_cols), (body, corner, sheet.end)
    assert exact > 50


# ------------------------------------------------------------------ ods tables and their repeats


def _ods_with_table(tmp_path: Path, name: str, table: bytes) -> Path:
    """The corpus's date.ods with its first table replaced by ``table``."""
    src = shared_path("data", "excel-corpus", "date.ods")
    with zipfile.ZipFile(src) as zin:
        content = zin.read("content.xml")
        start = content.index(b"<table:table ")
        end = content.index(b"</table:table>") + len(b"</table:table>")
        content = content[:start] + table + content[end:]
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in zin.infolist():
                zout.writestr(info, content if info.filename == "content.xml"
                              else zin.read(info))
    return path


def _ods_cell(value: int | None, repeat: int = 1) -> bytes:
    rep = b' table:number-columns-repeated="%d"' % repeat if repeat > 1 else b""
    if value is None:
        return b"<table:table-cell%s/>" % rep
    return (b'<table:table-cell%s office:value-type="float" office:value="%d">'
            b"<text:p>%d</text:p></table:table-cell>" % (rep, value, value))


def _ods_row(cells: bytes, repeat: int = 1) -> bytes:
    rep = b' table:number-rows-repeated="%d"' % repeat if repeat > 1 else b""
    return b"<table:table-row%s>%s</table:table-row>" % (rep, cells)


def test_an_ods_cell_repeated_a_hundred_million_times_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    """11 KB: one value repeated over 10,000 columns, in a row repeated 9,999 times. Below
    calamine's own limit of 100 million cells, which it allocates first (5 GB)."""
    table = (b'<table:table table:name="Sheet1">'
             + _ods_row(_ods_cell(1, 10_000), 9_999) + b"</table:table>")
    path = _ods_with_table(tmp_path, "repeated.ods", table)
    assert path.stat().st_size < 20_000
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert "sheet 'Sheet1' has cells up to NTP9999 (100 million cells)" in line


def test_the_empty_rest_of_an_ods_sheet_is_not_counted(tmp_path: Path) -> None:
    """LibreOffice writes the rest of a sheet as empty cells and rows repeated to its
    edges: that is no extent."""
    table = (b'<table:table table:name="Purchase Orders">'
             b'<table:table-column table:number-columns-repeated="1024"/>'
             + _ods_row(b'<table:table-cell office:value-type="string"><text:p>PO Number'
                        b'</text:p></table:table-cell>' + _ods_cell(None, 1023))
             + _ods_row(_ods_cell(7) + _ods_cell(None, 1023), 3)
             + _ods_row(_ods_cell(None, 1024), 1_048_572) + b"</table:table>")
    path = _ods_with_table(tmp_path, "libreoffice.ods", table)
    with zipfile.ZipFile(path) as zf:
        assert ods_extents(zf)["Purchase Orders"] == Corner(1, 4)
    assert [r.values for r in read_table(path).rows] == [[7], [7], [7]]


def test_the_ods_count_is_never_short_of_calamines_own(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    rng = __import__("random").Random(5)
    for case in range(120):
        rows = []
        for _ in range(rng.randint(1, 6)):
            cells = b"".join(_ods_cell(rng.choice([None, None, rng.randint(1, 9)]),
                                       rng.choice([1, 1, 2, 5])) for _ in range(rng.randint(0, 5)))
            rows.append(_ods_row(cells, rng.choice([1, 1, 3])))
        table = b'<table:table table:name="Sheet1">' + b"".join(rows) + b"</table:table>"
        path = _ods_with_table(tmp_path, f"t{case}.ods", table)
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Sheet1")
        with zipfile.ZipFile(path) as zf:
            corner = ods_extents(zf)["Sheet1"]
        if sheet.end is not None:
            assert corner.row >= sheet.end[0] + 1 and corner.col >= sheet.end[1] + 1, table


def test_a_far_cell_in_the_last_bytes_of_the_sheet_is_measured(tmp_path: Path) -> None:
    """Each chunk holds its last bytes back for the next (a tag may be cut there); the last
    chunk's are measured at the end like any others: a far reference right before
    </sheetData>, with nothing after it, counts as it would anywhere else in the sheet."""
    xml = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>PO Number</t></is></c></row>'
           b'<c r="XFD1048576"/></sheetData>')
    path = rewrite_sheet(xfd_workbook(tmp_path / "src.xlsx"), tmp_path / "end.xlsx", xml)
    line = assert_refused_in_one_line(validate_capped(path, tmp_path), path)
    assert "cells up to XFD1048576 (17 billion cells)" in line

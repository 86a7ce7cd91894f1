"""A large xlsx sheet read in parts (bulkpo/sheets/parts.py) reads exactly as it reads whole,
and no part reaches calamine before the guard has measured it.

Parts are forced on small files by making every file "large" (three parts, small scan
chunks); the comparison is always against the same file read whole.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import bulkpo.sheets.parts as parts_module
import bulkpo.sheets.reader as reader_module
from bulkpo.config import ReadLimits
from bulkpo.errors import UnreadableFileError
from bulkpo.sheets import read_table
from bulkpo.sheets.guards import SheetScanner, _col_number
from bulkpo.table import Table, column_letter
from tests.conftest import SHARED, shared_path
from tests.test_reader_limits import _capped, rewrite_sheet

CORPUS = SHARED / "data" / "excel-corpus"
ERP_FILES = Path(__file__).parent / "erp_corpus" / "files"


class PartsSpy:
    """Counts how each read went: in parts, or back to the whole read."""

    def __init__(self) -> None:
        self.in_parts = 0
        self.whole = 0


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> Iterator[PartsSpy]:
    """Every xlsx sheet cut into three parts, scanned 256 bytes at a time."""
    spy = PartsSpy()
    real = parts_module.read_in_parts

    def counted(*args: Any, **kwargs: Any) -> parts_module.Parts | None:
        found = real(*args, **kwargs)
        if args[4] < 2:
            pass  # the whole read of the comparison
        elif found is None:
            spy.whole += 1
        else:
            spy.in_parts += 1
        return found

    monkeypatch.setattr(reader_module, "part_count", lambda size: 3)
    monkeypatch.setattr(reader_module, "read_in_parts", counted)
    monkeypatch.setattr(parts_module, "SCAN_CHUNK", 256)
    monkeypatch.setattr(parts_module, "OTHER_PARTS_WEIGHT", 0)  # small files' styles weigh
    yield spy


def whole(path: Path, **kwargs: Any) -> Table | str:
    """The file read whole, as before parts existed (or its one error line)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reader_module, "part_count", lambda size: 1)
        return outcome(path, **kwargs)


def outcome(path: Path, **kwargs: Any) -> Table | str:
    try:
        return read_table(path, **kwargs)
    except UnreadableFileError as exc:
        return str(exc)


def same(a: Table | str, b: Table | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    fields = [f.name for f in dataclasses.fields(Table) if f.name != "issues"]
    return all(getattr(a, f) == getattr(b, f) for f in fields) and (
        [str(i) for i in a.issues] == [str(i) for i in b.issues])


def po_workbook(path: Path, rows: int) -> Path:
    """Every kind of cell calamine hands over, blanks, a hidden row in two parts, a price
    merged down over two lines at the end (the merge list is in the sheet's tail), a blank
    row, and a second sheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Purchase Orders"
    ws.append(["PO Number", "SKU", "Quantity", "Unit Cost", "Cargo Ready Date", "Note",
               "Confirmed", "Loaded At"])
    for i in range(rows):
        ws.append([
            f"PO-{i // 3:05d}", f"SKU-{i % 97}", 1 + i % 50, round(1 + i % 1000 / 7, 4),
            dt.date(2026, 1, 1) + dt.timedelta(days=i % 300),
            None if i % 5 else f"note {i}", i % 2 == 0,
            dt.datetime(2026, 1, 1, 8, 30) + dt.timedelta(hours=i),
        ])
    ws.append([])
    ws.append(["PO-99999", "SKU-1", 3, "#N/A", dt.date(2026, 5, 1), "last", True, None])
    ws.append(["PO-99999", "SKU-2", 4, None, dt.date(2026, 5, 1), "last", True, None])
    last = ws.max_row
    ws.merge_cells(f"D{last - 1}:D{last}")
    ws[f"D{last - 1}"] = 9.5
    for hidden in (rows // 3, rows - 5):
        ws.row_dimensions[hidden].hidden = True
    other = wb.create_sheet("Notes")
    other.append(["a", "b"])
    wb.save(path)
    return path


def test_a_sheet_read_in_parts_is_the_sheet_read_whole(
    tmp_path: Path, forced: PartsSpy
) -> None:
    path = po_workbook(tmp_path / "pos.xlsx", 2000)
    in_parts = read_table(path)
    assert forced.in_parts == 1
    assert same(in_parts, whole(path))
    # What a person reads, not only what the two reads agree on.
    assert in_parts.rows[0].values[:4] == ["PO-00000", "SKU-0", 1, 1]
    assert in_parts.hidden_rows == {2000 // 3, 2000 - 5}
    assert in_parts.merged == {3: [(2003, 2004)]}
    assert [r.values[3] for r in in_parts.rows[-2:]] == [9.5, 9.5]
    assert in_parts.rows[-3].number == 2001  # the blank row 2002 is not a row


def test_a_header_below_a_part_boundary_is_found(tmp_path: Path, forced: PartsSpy) -> None:
    """A title block of empty formatted rows first: the head may come from a later part."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r in range(1, 400):  # formatted but empty: in the XML, not in calamine's range
        ws.cell(r, 1).number_format = "0.00"
        ws.cell(r, 2).number_format = "0.00"
    ws.append(["PO Number", "SKU", "Quantity"])
    for i in range(300):
        ws.append([f"PO-{i}", f"S-{i}", i + 1])
    path = tmp_path / "late_header.xlsx"
    wb.save(path)
    in_parts = read_table(path)
    assert forced.in_parts == 1
    assert in_parts.header_row == 400 and len(in_parts.rows) == 300
    assert same(in_parts, whole(path))


def test_rows_out_of_order_across_parts_are_read_whole(tmp_path: Path, forced: PartsSpy) -> None:
    """A writer that puts a cell of row 2 after all the others: the parts would share a
    row, so the sheet is read whole."""
    src = po_workbook(tmp_path / "src.xlsx", 600)
    with zipfile.ZipFile(src) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    late = b'<row r="2"><c r="Z2" t="inlineStr"><is><t>late</t></is></c></row>'
    xml = xml.replace(b"</sheetData>", late + b"</sheetData>")
    path = rewrite_sheet(src, tmp_path / "late.xlsx", xml)
    in_parts = read_table(path)
    assert (forced.in_parts, forced.whole) == (0, 1)
    assert same(in_parts, whole(path))
    assert in_parts.rows[0].values[25] == "late"


@pytest.mark.parametrize("text", [b"<!-- <row r=\"5\"> -->", b"<![CDATA[x]]>"])
def test_a_sheet_with_comments_or_cdata_is_read_whole(
    tmp_path: Path, forced: PartsSpy, text: bytes
) -> None:
    src = po_workbook(tmp_path / "src.xlsx", 600)
    with zipfile.ZipFile(src) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    at = xml.index(b'<row r="300"')
    path = rewrite_sheet(src, tmp_path / "odd.xlsx", xml[:at] + text + xml[at:])
    assert same(read_table(path), whole(path))
    assert (forced.in_parts, forced.whole) == (0, 1)


def test_a_far_cell_in_a_later_part_is_refused_before_calamine_reads_it(
    tmp_path: Path,
) -> None:
    """The first parts go to calamine while the rest is measured; the far cell at the end
    stops the reading in one line, under a memory cap that the allocation would break."""
    src = po_workbook(tmp_path / "src.xlsx", 3000)
    with zipfile.ZipFile(src) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    path = rewrite_sheet(src, tmp_path / "far.xlsx", xml.replace(b"</sheetData>",
                                                                  far + b"</sheetData>"))
    code = (
        "import sys, bulkpo.sheets.parts as p, bulkpo.sheets.reader as r\n"
        "from bulkpo.errors import UnreadableFileError\n"
        "from bulkpo.sheets import read_table\n"
        "r.part_count = lambda size: 3\n"
        "p.SCAN_CHUNK = 4096\n"
        "p.OTHER_PARTS_WEIGHT = 0\n"
        "real = p.read_in_parts\n"
        "def spy(*a, **k):\n"
        "    found = real(*a, **k)\n"
        "    print('parts submitted before the refusal:', found)\n"
        "    return found\n"
        "r.read_in_parts = spy\n"
        "try:\n"
        "    read_table(sys.argv[1])\n"
        "except UnreadableFileError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(path)], preexec_fn=_capped,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "parts submitted before the refusal: None" in done.stdout
    assert "has cells up to XFD1048576" in done.stdout


def test_the_real_split_reads_a_large_sheet_as_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No forcing but the cores: a sheet of 25 MB of XML on two cores, read in three parts
    (two a core, 8 MB each at least), scanned in 4 MB chunks."""
    monkeypatch.setattr(parts_module, "usable_cpus", lambda: 2)
    src = po_workbook(tmp_path / "src.xlsx", 10)
    with zipfile.ZipFile(src) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    head, tail = xml[: xml.index(b"<sheetData>") + 11], xml[xml.index(b"</sheetData>"):]
    rows = [b'<row r="1"><c r="A1" t="inlineStr"><is><t>PO Number</t></is></c>'
            b'<c r="B1" t="inlineStr"><is><t>SKU</t></is></c>'
            b'<c r="C1" t="inlineStr"><is><t>Quantity</t></is></c></row>']
    for r in range(2, 160_002):
        rows.append(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>PO-%d</t></is></c>'
                    b'<c r="B%d" t="inlineStr"><is><t>S-%d</t></is></c>'
                    b'<c r="C%d"><v>%d</v></c></row>' % (r, r, r // 4, r, r % 89, r, r))
    body = b"".join(rows)
    assert len(body) > 16 << 20
    path = rewrite_sheet(src, tmp_path / "big.xlsx", head + body + tail)
    with zipfile.ZipFile(path) as zf:
        assert parts_module.part_count(zf.getinfo("xl/worksheets/sheet1.xml").file_size) == 3
    calls: list[object] = []
    real = reader_module.read_in_parts
    monkeypatch.setattr(reader_module, "read_in_parts",
                        lambda *a, **k: calls.append(found := real(*a, **k)) or found)
    in_parts = read_table(path)
    assert len(calls) == 1 and calls[0] is not None
    assert len(calls[0].sheets) == 3  # type: ignore[attr-defined]
    assert len(in_parts.rows) == 160_000
    assert in_parts.rows[-1].number == 160_001
    assert in_parts.rows[-1].values == ["PO-40000", f"S-{160_001 % 89}", 160_001]
    assert same(in_parts, whole(path))


def test_a_huge_sheet_is_read_whole() -> None:
    assert parts_module.part_count(parts_module.MAX_SPLIT_BYTES + 1, cpus=8) == 1
    assert parts_module.part_count(parts_module.MIN_PART_BYTES * 2, cpus=1) == 1
    assert parts_module.part_count(parts_module.MIN_PART_BYTES * 3, cpus=8) == 3
    assert parts_module.part_count(parts_module.MIN_PART_BYTES * 9, cpus=2) == 4


XLSX_FILES = sorted(
    [p for p in CORPUS.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm")]
    if CORPUS.is_dir() else [CORPUS]
) + sorted(ERP_FILES.glob("*.xlsx"))


def test_every_corpus_workbook_reads_in_parts_as_it_reads_whole(forced: PartsSpy) -> None:
    """The real-world corpus (odd writers, damaged files) and the ERP exports: the same
    table or the same error line, whichever way they are read."""
    shared_path("data", "excel-corpus")
    differ = []
    for path in XLSX_FILES:
        if not same(outcome(path), whole(path)):
            differ.append(path.name)
    assert differ == []
    # The cut is tried on all of them and made where it is safe: most real files.
    assert forced.in_parts >= 20, (forced.in_parts, forced.whole)


# --------------------------------------------------------------------------- the guard's bound


def _sheet_xml(refs: list[str]) -> bytes:
    cells = "".join(f'<row r="{re.sub("[A-Z]", "", ref)}"><c r="{ref}"><v>1</v></c></row>'
                    for ref in refs)
    return (f'<worksheet xmlns="x"><sheetData>{cells}</sheetData></worksheet>').encode()


def _extent(refs: list[str]) -> int:
    cols = max(_col_number(re.sub("[0-9]", "", r).encode()) for r in refs)
    rows = max(int(re.sub("[A-Z]", "", r)) for r in refs)
    return cols * rows


def test_the_guards_bound_is_never_short_of_the_last_cell() -> None:
    """Random sheets fed in random chunks: whenever the scanner says the cells stay within
    the limit, they do (the exact pass is then skipped; the parts go to calamine)."""
    rng = random.Random(20261128)
    said_within = 0
    for _ in range(400):
        widest = rng.choice([26, 80, 702, 16384])
        longest = rng.choice([99, 9_999, 99_999, 1_048_576])
        refs = [f"{column_letter(rng.randint(1, widest) - 1)}{rng.randint(1, longest)}"
                for _ in range(rng.randint(1, 40))]
        max_cells = rng.choice([10_000, 1_000_000, 40_000_000])
        xml = _sheet_xml(refs)
        scanner = SheetScanner(max_cells)
        at = 0
        while at < len(xml):
            step = rng.randint(8, 400)
            scanner.feed(xml[at:at + step])
            at += step
        if scanner.within:
            said_within += 1
            assert _extent(refs) <= max_cells, refs
    assert said_within > 50


@pytest.mark.parametrize("last, within", [
    ("BH150000", True),   # 60 columns x 150,000 rows: bounded without the exact pass
    ("AZ600000", True),   # 52 columns x 600,000 rows
    ("BH700000", False),  # 42 million: the exact pass decides
    ("ZZ99", True),
])
def test_wide_sheets_are_bounded_by_their_leading_letter_and_digit(last: str, within: bool) -> None:
    refs = [f"{c}{r}" for r in (1, 2, 3) for c in ("A", "B", "AA")] + [last]
    scanner = SheetScanner(ReadLimits().max_cells)
    scanner.feed(_sheet_xml(refs))
    assert scanner.within is within
    assert _extent(refs) <= ReadLimits().max_cells or not scanner.within


def test_a_leading_digit_seen_before_the_sheet_grew_wide_still_counts() -> None:
    """Row 900,000 in column A, then a column AZ: the first digit was not tracked while the
    sheet was narrow, so the bound falls back to the digits alone (52 x 999,999)."""
    scanner = SheetScanner(ReadLimits().max_cells)
    filler = [f"B{r}" for r in range(2, 100)]  # past the bytes a chunk carries over
    xml = _sheet_xml(["A1", "A900000", *filler, "AZ100000"])
    cut = xml.index(b'<row r="100000"')
    scanner.feed(xml[:cut])
    assert scanner.within  # 26 x 999,999
    scanner.feed(xml[cut:])
    assert not scanner.within  # 52 x 900,000 is past 40 million
    assert _extent(["A900000", "AZ100000"]) > ReadLimits().max_cells


def test_no_part_file_is_left_behind(
    tmp_path: Path, forced: PartsSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each part goes through a private temporary file, deleted once read, or once the
    read gives up (here calamine fails on the second part: the sheet is read whole)."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(parts_module.tempfile, "tempdir", str(temp))
    path = po_workbook(tmp_path / "pos.xlsx", 1500)
    read_table(path)
    assert forced.in_parts == 1 and list(temp.iterdir()) == []

    opened: list[str] = []

    def failing(part_path: str) -> Any:
        opened.append(part_path)
        if len(opened) == 2:
            raise RuntimeError("calamine failed")
        return parts_module.CalamineWorkbook.from_path(part_path)

    real = parts_module.read_in_parts
    monkeypatch.setattr(reader_module, "read_in_parts",
                        lambda *a, **k: real(*a, **k, open_part=failing))
    assert same(read_table(path), whole(path))
    assert len(opened) >= 2 and all(Path(p).parent == temp for p in opened)
    assert list(temp.iterdir()) == []


def _with_shared_strings(src: Path, dst: Path, rows: list[list[str]]) -> Path:
    """``src`` with its first sheet holding ``rows`` as Excel writes texts: each cell an
    index into xl/sharedStrings.xml (openpyxl writes its texts inline)."""
    texts = list(dict.fromkeys(t for row in rows for t in row))
    index = {t: i for i, t in enumerate(texts)}
    body = "".join(
        f'<row r="{r}">' + "".join(
            f'<c r="{column_letter(c)}{r}" t="s"><v>{index[t]}</v></c>' for c, t in enumerate(row))
        + "</row>" for r, row in enumerate(rows, start=1))
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f"<sheetData>{body}</sheetData></worksheet>")
    strings = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
               f'count="{len(texts)}" uniqueCount="{len(texts)}">'
               + "".join(f"<si><t>{t}</t></si>" for t in texts) + "</sst>")
    rel = ('<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://schemas.'
           'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>')
    kind = ('<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            elif info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            elif info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", kind.encode() + b"</Types>")
            zout.writestr(info.filename, data)
        zout.writestr("xl/sharedStrings.xml", strings)
    return dst


def test_a_sheet_with_large_shared_strings_is_read_whole(
    tmp_path: Path, forced: PartsSpy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every part carries the shared strings and calamine parses them again for each:
    with strings half the size of the rows, parts gain nothing, so the sheet is read whole
    (and with the usual few strings, it is cut)."""
    monkeypatch.setattr(parts_module, "OTHER_PARTS_WEIGHT", 2)
    src = po_workbook(tmp_path / "src.xlsx", 1)
    header = ["PO Number", "SKU", "Description"]
    unique = [header] + [[f"PO-{i}", f"S-{i % 9}", f"a description of line {i} that no other "
                          "line of this order has, as long as a real one"] for i in range(3000)]
    path = _with_shared_strings(src, tmp_path / "unique.xlsx", unique)
    table = read_table(path)
    assert (forced.in_parts, forced.whole) == (0, 1)
    assert same(table, whole(path)) and table.rows[5].values[2].startswith("a description")
    repeated = [header] + [[f"PO-{i // 4}", f"S-{i % 9}", "LED desk lamp"] for i in range(3000)]
    path = _with_shared_strings(src, tmp_path / "repeated.xlsx", repeated)
    table = read_table(path)
    assert (forced.in_parts, forced.whole) == (1, 1)
    assert same(table, whole(path)) and table.rows[-1].values == ["PO-749", "S-2", "LED desk lamp"]

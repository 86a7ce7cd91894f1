"""bulkpo.sheets.reader: values come through exactly, each in its place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import openpyxl
import pytest

from bulkpo.errors import UnreadableFileError
from bulkpo.issues import Severity
from bulkpo.sheets import list_sheets, read_table, read_tables

PO_HEADERS = {"po number", "sku", "quantity", "cargo ready date", "unit cost", "country"}
BOOKING_HEADERS = {"booking name", "freight type", "origin port"}


def po_score(texts: Sequence[str]) -> float:
    return float(sum(1 for t in texts if t.strip().lower() in PO_HEADERS))


def booking_score(texts: Sequence[str]) -> float:
    return float(sum(1 for t in texts if t.strip().lower() in BOOKING_HEADERS))


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --------------------------------------------------------------------------- workbooks


@pytest.fixture
def offset_xlsx(tmp_path: Path) -> Path:
    """Title rows, header at C5, data from row 6 with an empty row between."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Purchase Orders"
    ws["C1"] = "ACME purchase orders"
    ws["C2"] = "exported 2025-03-01"
    for col, name in zip(
        "CDEFG", ["PO Number", "SKU", "Quantity", "Cargo Ready Date", "Unit Cost"], strict=True
    ):
        ws[f"{col}5"] = name
    ws.append([])
    ws["C6"], ws["D6"], ws["E6"], ws["F6"], ws["G6"] = (
        "PO-1",
        "00123",
        500.0,
        dt.date(2025, 3, 4),
        1.5,
    )
    ws["C7"], ws["D7"], ws["E7"] = "PO-1", "1E5", 12
    ws["F7"] = dt.datetime(2025, 3, 4, 0, 0)
    ws["G7"] = dt.datetime(2025, 3, 4, 10, 30)
    ws["C9"], ws["D9"], ws["E9"] = "PO-2", "NA", True
    ws["C10"] = "   "  # whitespace only: an empty row
    path = tmp_path / "orders.xlsx"
    wb.save(path)
    return path


def test_values_come_through_exactly(offset_xlsx: Path) -> None:
    table = read_table(offset_xlsx, score_headers=po_score)
    assert table.sheet == "Purchase Orders"
    assert table.header_row == 5
    assert table.headers[2:7] == ["PO Number", "SKU", "Quantity", "Cargo Ready Date", "Unit Cost"]
    assert [r.number for r in table.rows] == [6, 7, 9]
    first, second, third = table.rows
    assert first.values[2:7] == ["PO-1", "00123", 500, dt.date(2025, 3, 4), 1.5]
    assert type(first.values[4]) is int
    assert second.values[3] == "1E5"
    assert second.values[5] == dt.date(2025, 3, 4) and type(second.values[5]) is dt.date
    assert second.values[6] == dt.datetime(2025, 3, 4, 10, 30)
    assert third.values[3] == "NA" and third.values[4] is True
    assert third.get(6) is None and third.get(99) is None


def test_cell_refs_use_real_sheet_columns(offset_xlsx: Path) -> None:
    table = read_table(offset_xlsx, score_headers=po_score)
    second = table.rows[1]
    assert str(table.ref(second, 3)) == "Purchase Orders!D7"
    assert table.ref(second, 3).a1 == "D7"
    assert table.rows[0].values[:2] == [None, None]


def test_header_without_scorer_skips_title_rows(offset_xlsx: Path) -> None:
    assert read_table(offset_xlsx).header_row == 5


def test_sheet_chosen_by_name_score_and_preference(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    notes = wb.active
    assert notes is not None
    notes.title = "Notes"
    notes.append(["Read me", "first please"])
    bookings = wb.create_sheet("Bookings")
    bookings.append(["Booking Name", "Freight Type", "Origin Port"])
    bookings.append(["B-1", "ocean", "CNSHG"])
    orders = wb.create_sheet("POs")
    orders.append(["PO Number", "SKU", "Quantity"])
    orders.append(["PO-1", "A", 1])
    path = tmp_path / "both.xlsx"
    wb.save(path)

    assert list_sheets(path) == ["Notes", "Bookings", "POs"]
    assert read_table(path, score_headers=po_score).sheet == "POs"
    assert read_table(path, score_headers=booking_score).sheet == "Bookings"
    assert read_table(path, sheet="bookings").sheet == "Bookings"
    assert read_table(path, preferred_sheets=["Purchase Orders", "pos"]).sheet == "POs"
    assert read_table(path).sheet == "Notes"
    assert set(read_tables(path, score_headers=po_score)) == {"POs"}
    with pytest.raises(UnreadableFileError) as err:
        read_table(path, sheet="Orders")
    assert str(err.value) == (
        f"{path}: has no sheet named 'Orders' (its sheets: 'Notes', 'Bookings', 'POs')"
    )


def test_no_header_row_is_one_clear_line(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["just", "some", "words"])
    path = tmp_path / "nothing.xlsx"
    wb.save(path)
    with pytest.raises(UnreadableFileError) as err:
        read_table(path, score_headers=po_score, expected_headers=["PO Number", "SKU"])
    assert str(err.value) == (
        f"{path}: no header row found in sheet 'Sheet' (looked at the first 30 rows "
        'for column names such as "PO Number", "SKU"); row 1 looks like the header (just, '
        "some, words) but names none of them: give the header row (--header-row N) and a "
        "mapping (bulkpo map FILE -o mapping.toml) saying which column is which"
    )


def test_merged_header_cells_are_filled(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["PO Number", "Origin", None, "Quantity"])
    ws.append([None, "Port", "Date", None])
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:C1")
    ws.merge_cells("D1:D2")
    ws.append(["PO-1", "CNSHG", dt.date(2025, 1, 2), 3])
    path = tmp_path / "merged.xlsx"
    wb.save(path)
    table = read_table(path, score_headers=lambda t: float(len({x for x in t if x})))
    assert table.header_row == 2
    assert table.headers == ["PO Number", "Port", "Date", "Quantity"]
    assert table.rows[0].values == ["PO-1", "CNSHG", dt.date(2025, 1, 2), 3]


def test_horizontally_merged_header_spreads(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["PO Number", "Address", None, "SKU"])
    ws.merge_cells("B1:C1")
    ws.append(["PO-1", "1 Main St", "Springfield", "A"])
    path = tmp_path / "merged2.xlsx"
    wb.save(path)
    assert read_table(path).headers == ["PO Number", "Address", "Address", "SKU"]


def test_excel_error_cells_become_text_with_a_warning(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Purchase Orders"
    ws.append(["PO Number", "Unit Cost"])
    ws.append(["PO-1", "#N/A"])  # openpyxl stores this as an error cell (t="e")
    ws.append(["PO-2", 3])
    path = tmp_path / "errors.xlsx"
    wb.save(path)
    table = read_table(path)
    assert table.rows[0].values == ["PO-1", "#N/A"]
    [issue] = table.issues
    assert issue.code == "excel_error" and issue.severity is Severity.WARNING
    assert str(issue.ref) == "Purchase Orders!B2" and issue.header == "Unit Cost"


def test_empty_sheet_and_workbook(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(UnreadableFileError, match=r"sheet 'Sheet' is empty$"):
        read_table(path)


# --------------------------------------------------------------------------- csv


CSV_TEXT = "PO Number,SKU,Country,Qty,Flag\r\nPO-1,00123,NA,1E5,TRUE\r\n,,,,\r\nPO-2,,DE,  7 ,\r\n"


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-16-le", "cp1252"]
)
def test_csv_encodings(tmp_path: Path, encoding: str) -> None:
    text = CSV_TEXT.replace("PO-2", "Müller €")
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    if encoding == "utf-16-le":
        data = b"\xff\xfe" + data
    path = tmp_path / "orders.csv"
    path.write_bytes(data)
    table = read_table(path)
    assert table.headers == ["PO Number", "SKU", "Country", "Qty", "Flag"]
    assert [r.number for r in table.rows] == [2, 4]
    assert list(table.rows[0].values) == ["PO-1", "00123", "NA", "1E5", "TRUE"]
    assert list(table.rows[1].values) == ["Müller €", None, "DE", "  7 ", None]
    assert str(table.ref(table.rows[1], 3)) == "orders!D4"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters(tmp_path: Path, delimiter: str) -> None:
    rows = [["PO Number", "Unit Cost", "Memo"], ["PO-1", "1,5", "a; b | c"], ["PO-2", "2", "x"]]
    lines = []
    for row in rows:
        cells = [f'"{c}"' if delimiter in c or "," in c else c for c in row]
        lines.append(delimiter.join(cells))
    path = write_csv(tmp_path / "orders.txt", "\n".join(lines) + "\n")
    table = read_table(path)
    assert table.headers == rows[0]
    assert [list(r.values) for r in table.rows] == [rows[1], rows[2]]


def test_csv_header_below_title_and_one_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "po.csv", "Orders for March\n\nPO Number;SKU\nPO-1;A\n")
    table = read_table(path, score_headers=po_score)
    assert table.header_row == 3 and [r.number for r in table.rows] == [4]
    single = write_csv(tmp_path / "single.csv", "PO Number\nPO-1\nPO-2\n")
    assert [list(r.values) for r in read_table(single)] == [["PO-1"], ["PO-2"]]


# --------------------------------------------------------------------------- not spreadsheets


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("orders.xlsx", b"PO Number,SKU\nPO-1,A\n", "not a .xlsx workbook: the file is plain text"),
        ("orders.xls", b"<html><body><table><tr><td>1</td></tr></table>", "looks like HTML"),
        ("orders.csv", b"<!DOCTYPE html>\n<html></html>", "looks like HTML"),
        ("orders.xlsx", b"", "the file is empty"),
        ("orders.csv", b"  \r\n", "the file is empty"),
        ("orders.xlsx", b"%PDF-1.4 ...", "looks like a PDF document"),
        ("orders.xlsx", b"PK\x03\x04garbage", "damaged workbook: not a valid zip archive"),
        ("orders.bin", b"\x00\x01\x02\x03binary\x00", "unrecognised binary file"),
        ("orders.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "damaged workbook"),
    ],
)
def test_unreadable_files_get_one_clear_line(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError) as err:
        read_table(path)
    message = str(err.value)
    assert message.startswith(f"{path}: ")
    assert reason in message
    assert "\n" not in message


def test_word_document_in_a_zip(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "orders.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(UnreadableFileError, match="looks like a word-processor document"):
        read_table(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        read_table(tmp_path / "nope.xlsx")


def test_cp1252_punctuation_is_not_mistaken_for_another_code_page() -> None:
    from tests.conftest import SAMPLES

    table = read_table(SAMPLES / "erp-export.csv")
    texts = {v for row in table.rows for v in row.values if isinstance(v, str)}
    assert "Rechargeable LED lantern – 3 modes" in texts
    assert "Women’s knit cardigan – écru" in texts


def test_multi_byte_encoding_is_detected(tmp_path: Path) -> None:
    text = "PO Number,Product Name,Qty\n" + "".join(
        f"PO-{i},台灯 型号 {i} 黑色 金属底座,{i}\n" for i in range(1, 40)
    )
    path = tmp_path / "gb.csv"
    path.write_bytes(text.encode("gb18030"))
    table = read_table(path)
    assert table.rows[0].values[1] == "台灯 型号 1 黑色 金属底座"


def test_csv_mixing_utf8_and_cp1252_lines_reads_each_right(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"PO Number,SKU,Product\n"
        + "PO-1,A1,Café Ñandú\n".encode()
        + "PO-2,A2,Crème brûlée\n".encode("cp1252")
        + b"PO-3,A3,plain\n"
        + "PO-4,A4,Ça coûte 5 €\n".encode("cp1252")
    )
    table = read_table(path)
    assert [row.values[2] for row in table.rows] == [
        "Café Ñandú", "Crème brûlée", "plain", "Ça coûte 5 €"]  # fmt: skip
    [issue] = table.issues
    assert issue.severity is Severity.WARNING and issue.code == "mixed_encoding"
    assert "lines 3, 5 read as Windows-1252" in issue.message


def test_csv_wholly_cp1252_has_no_mixed_warning(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "w.csv", "PO Number,Product\nPO-1,Crème brûlée\n", "cp1252")
    table = read_table(path)
    assert table.rows[0].values[1] == "Crème brûlée" and table.issues == []

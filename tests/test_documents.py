"""Downloading shipment documents from the sandbox: hostile names stay inside DIR,
sizes are verified, the index lists everything, and a re-run fetches only what is missing."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.cli.track import documents_command, track_command
from bulkpo.config import Settings
from bulkpo.engine.pacing import caller_for
from bulkpo.flexport.client import FlexportClient
from bulkpo.flexport.models import Document
from bulkpo.sandbox import HOSTILE_FILE_NAME_KEY, SandboxServer
from bulkpo.shipments.documents import (
    MAX_NAME_BYTES,
    DocumentStatus,
    _local_names,
    download_documents,
    safe_file_name,
)
from tests.sandbox_fixtures import ocean_fcl_booking
from tests.test_track import _in_tmp, invoke, post_booking

__all__ = ["_in_tmp"]  # the fixture, used here too


def _shipment(sandbox: SandboxServer, name: str, file_name: str | None = None) -> int:
    body = ocean_fcl_booking(name)
    if file_name is not None:
        body["metadata"][HOSTILE_FILE_NAME_KEY] = [file_name]
    booking = post_booking(sandbox, body)
    sandbox.advance(30)
    response = httpx.get(
        f"{sandbox.base_url}/bookings/{booking['id']}",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    shipment_id: int = response.json()["data"]["shipment"]["id"]
    return shipment_id


def _index(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize(
    ("server_name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\evil.dll", "evil.dll"),
        ("/abs/path/invoice.pdf", "invoice.pdf"),
        ("..", "fallback"),
        (".hidden.pdf", "hidden.pdf"),
        ("CON", "_CON"),
        ("con.pdf", "_con.pdf"),
        ("LPT1.txt", "_LPT1.txt"),
        ("bad\x00name\x1f.pdf", "bad_name_.pdf"),
        ('a<b>c:d"e|f?g*.pdf', "a_b_c_d_e_f_g_.pdf"),
        ("trailing. . ", "trailing"),
        ("", "fallback"),
        (None, "fallback"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
    ],
)
def test_safe_file_name(server_name: str | None, safe: str) -> None:
    assert safe_file_name(server_name, "fallback") == safe


@pytest.mark.parametrize("server_name", ["é" * 300 + ".pdf", "日本" * 150 + ".pdf",
                                         "x" * 400 + ".pdf", "😀" * 100 + ".tar.gz"])
def test_safe_file_name_fits_255_bytes_whole_characters_and_extension(server_name: str) -> None:
    name = safe_file_name(server_name, "fallback")
    encoded = name.encode("utf-8")  # raises if a character was cut in two
    assert 200 < len(encoded) <= MAX_NAME_BYTES <= 255 or name == "x" * 146 + ".pdf"
    assert name.endswith("." + server_name.rpartition(".")[2])
    assert server_name.startswith(name.rpartition(".")[0])


def test_long_names_cut_alike_stay_unique() -> None:
    same_start = "é" * 300
    docs = [Document(id=f"doc-{n}", file_name=f"{same_start}{n}.pdf", document_type="invoice")
            for n in range(3)] + [Document(id="d" * 200, file_name=f"{same_start}.pdf")]
    names = _local_names(docs)
    assert len({n.casefold() for n in names}) == 4
    assert all(len(n.encode("utf-8")) <= 255 and n.endswith(".pdf") for n in names)
    assert names[1].endswith("-doc-1.pdf")


def test_name_over_255_bytes_is_saved(sandbox: SandboxServer, tmp_path: Path) -> None:
    server_name = "請求書 Ünïcödé " * 25 + ".pdf"  # 154 chars, 600 bytes
    sid = _shipment(sandbox, "BK-LONG", server_name)
    result = invoke(sandbox, documents_command, [str(sid), "-d", "docs"])
    assert result.exit_code == 0, result.output
    rows = _index(tmp_path / "docs" / "index.csv")
    assert [r["status"] for r in rows] == ["downloaded"] * 3
    assert rows[0]["server_file_name"] == server_name
    saved = tmp_path / rows[0]["path"]
    assert saved.read_bytes().startswith(b"%PDF") and saved.name.endswith(".pdf")
    assert len(saved.name.encode("utf-8")) <= 255


def test_hostile_name_stays_inside_dir_and_index_lists_all(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    sid = _shipment(sandbox, "BK-H", "../../etc/passwd")
    result = invoke(sandbox, documents_command, [str(sid), "-d", "docs"])
    assert result.exit_code == 0, result.output
    assert "3 documents: 3 downloaded, 0 already there, 0 failed" in result.stdout
    folder = tmp_path / "docs" / str(sid)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["passwd", f"packing_list_{sid - 1200000 + 540000}.pdf",
         f"flexport_bill_of_lading_{sid - 1200000 + 540000}.pdf"])  # fmt: skip
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and "docs" not in p.parts]
    assert all(p.name.startswith("sandbox.sqlite") for p in outside)
    rows = _index(tmp_path / "docs" / "index.csv")
    assert [r["document_type"] for r in rows] == [
        "commercial_invoice", "packing_list", "flexport_bill_of_lading"]  # fmt: skip
    hostile = rows[0]
    assert hostile["server_file_name"] == "../../etc/passwd"
    assert hostile["file_name"] == "passwd" and hostile["status"] == "downloaded"
    assert Path(hostile["path"]) == Path("docs") / str(sid) / "passwd"
    for row in rows:
        assert (tmp_path / row["path"]).stat().st_size == int(row["size"])
        assert (tmp_path / row["path"]).read_bytes().startswith(b"%PDF")


def test_rerun_downloads_only_what_is_missing(sandbox: SandboxServer, tmp_path: Path) -> None:
    first, second = _shipment(sandbox, "BK-R1"), _shipment(sandbox, "BK-R2")
    tracked = invoke(sandbox, track_command, ["--booking", "BK-R1", "--booking", "BK-R2",
                                              "-o", "tracking.xlsx"])  # fmt: skip
    assert tracked.exit_code == 0
    args = ["--from", "tracking.xlsx", "-d", "docs", "--type", "commercial_invoice,packing_list"]
    result = invoke(sandbox, documents_command, args)
    assert "4 documents: 4 downloaded" in result.stdout, result.output
    assert {p.parent.name for p in (tmp_path / "docs").rglob("*.pdf")} == {str(first), str(second)}

    again = invoke(sandbox, documents_command, args)
    assert again.exit_code == 0
    assert "4 documents: 0 downloaded, 4 already there, 0 failed" in again.stdout
    assert {r["status"] for r in _index(tmp_path / "docs" / "index.csv")} == {"skipped"}

    gone = next((tmp_path / "docs" / str(second)).glob("packing_list_*.pdf"))
    gone.unlink()
    third = invoke(sandbox, documents_command, args)
    assert "4 documents: 1 downloaded, 3 already there" in third.stdout
    downloaded = [r for r in _index(tmp_path / "docs" / "index.csv") if r["status"] == "downloaded"]
    assert [Path(r["path"]).name for r in downloaded] == [gone.name] and gone.exists()


def test_no_overwrite_without_the_flag(sandbox: SandboxServer, tmp_path: Path) -> None:
    sid = _shipment(sandbox, "BK-O")
    target = tmp_path / "docs" / str(sid) / f"packing_list_{sid - 1200000 + 540000}.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"my own notes")
    result = invoke(sandbox, documents_command, [str(sid), "-d", "docs"])
    assert result.exit_code == 1
    assert "a different file (12 bytes) is there; --overwrite replaces it" in result.stderr
    assert target.read_bytes() == b"my own notes"
    result = invoke(sandbox, documents_command, [str(sid), "-d", "docs", "--overwrite"])
    assert result.exit_code == 0 and target.read_bytes().startswith(b"%PDF")


class _Truncating(httpx.AsyncBaseTransport):
    """Real HTTP to the sandbox, with every download's body cut short (a fault to verify)."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if not request.url.path.endswith("/download"):
            return response
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body[:-7])

    async def aclose(self) -> None:
        await self._inner.aclose()


def test_size_mismatch_fails_the_row_and_leaves_no_file(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    sid = _shipment(sandbox, "BK-S")

    async def run() -> list[Any]:
        async with FlexportClient(sandbox_settings, transport=_Truncating()) as api:
            return await download_documents(
                api, caller_for(sandbox_settings), [sid], tmp_path / "docs",
                types=["packing_list"],
            )  # fmt: skip

    rows = asyncio.run(run())
    assert [(r.shipment_id, r.status) for r in rows] == [(sid, DocumentStatus.FAILED)]
    assert rows[0].message.startswith("size mismatch: got")
    assert "the partial file was removed" in rows[0].message
    assert list((tmp_path / "docs" / str(sid)).iterdir()) == []


def _check_pdf(data: bytes) -> None:
    """A PDF a viewer opens: header, every xref offset at its object, trailer, EOF."""
    import re

    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    start = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    assert data[start:].startswith(b"xref")
    header = re.match(rb"xref\s+0 (\d+)\s+", data[start:])
    assert header is not None
    count = int(header.group(1))
    entries = re.findall(rb"(\d{10}) (\d{5}) ([nf]) ?\r?\n", data[start:])[:count]
    assert len(entries) == count
    for number, (offset, _gen, kind) in enumerate(entries):
        if kind == b"n":
            assert data[int(offset):].startswith(f"{number} 0 obj".encode()), number
    assert re.search(rb"trailer\s*<<[^>]*/Root 1 0 R", data)


def test_sandbox_documents_are_valid_pdfs_naming_the_document(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    import shutil
    import subprocess

    sid = _shipment(sandbox, "BK-PDF")
    result = invoke(sandbox, documents_command, [str(sid), "-d", "docs"])
    assert result.exit_code == 0, result.output
    pdfs = sorted((tmp_path / "docs" / str(sid)).glob("*.pdf"))
    assert [p.name.split("_")[0] for p in pdfs] == ["commercial", "flexport", "packing"]
    for pdf in pdfs:
        _check_pdf(pdf.read_bytes())
        if shutil.which("pdftotext"):
            text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                  check=True, text=True)  # fmt: skip
            assert text.stderr == "" and "for booking BK-PDF" in text.stdout

"""Download shipments' documents into DIR/<shipment id>/ under safe names, verified, resumably.

A file name comes from the server and may be hostile (``../../etc/passwd``, ``CON``,
control characters); :func:`safe_file_name` makes it a plain name inside the
shipment's folder. Each file is streamed to a temporary file beside its target,
its size checked against ``file_metadata.size``, and only then renamed into place,
so a failed or interrupted download never leaves a partial file under the real
name. A file already there with the server's size is skipped, which makes a
re-run download only what is missing; another file there is kept unless
``overwrite``. Every document ends in one index row.

Example::

    rows = asyncio.run(download_shipment_documents(settings, [1200000], Path("docs")))
    write_index(Path("docs/index.csv"), rows)
"""

from __future__ import annotations

import asyncio
import enum
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath

from bulkpo.config import Settings
from bulkpo.engine.pacing import Caller, caller_for, paced
from bulkpo.errors import ApiError
from bulkpo.flexport.client import FlexportClient
from bulkpo.flexport.models import Document
from bulkpo.sheets.formats import CSV
from bulkpo.sheets.writer import Column, atomic_path

__all__ = [
    "INDEX_HEADERS",
    "DocumentRow",
    "DocumentStatus",
    "download_documents",
    "download_shipment_documents",
    "safe_file_name",
    "write_index",
]

MAX_NAME_CHARS = 150
# ext4, APFS and most other file systems refuse a name over 255 bytes, and 150
# characters of Chinese or Arabic are 300-450 bytes in UTF-8. The download is first
# written under atomic_path's temporary name, 18 bytes longer ('.', '.<8 hex>.partial'),
# so the cap leaves room for that and a little more.
MAX_NAME_BYTES = 255 - 32
# Names Windows reserves for devices, with any extension (CON.txt is the console too).
_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", "conin$", "conout$"}
    | {f"{dev}{n}" for dev in ("com", "lpt") for n in (*"123456789", "¹", "²", "³")}
)
# Characters that some file system refuses or that a shell or Excel link misreads.
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


class DocumentStatus(enum.StrEnum):
    """How a document ended: fetched now, already there, or not fetched (see message)."""

    DOWNLOADED = "downloaded"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class DocumentRow:
    """One document of one shipment and what happened to it (a line of the index)."""

    shipment_id: int
    document_id: str | None
    document_type: str | None
    file_name: str | None  # the safe local name
    server_file_name: str | None
    size: int | None
    status: DocumentStatus
    path: Path | None
    message: str = ""

    def values(self) -> list[object]:
        return [
            self.shipment_id, self.document_id, self.document_type, self.file_name,
            self.server_file_name, self.size, self.status.value,
            None if self.path is None else str(self.path), self.message,
        ]  # fmt: skip


INDEX_HEADERS = (
    "shipment_id", "document_id", "document_type", "file_name", "server_file_name",
    "size", "status", "path", "message",
)  # fmt: skip


def _base_name(name: str) -> str:
    # Either separator counts: a name made on Windows arrives with backslashes.
    return PurePath(name.replace("\\", "/")).name


def safe_file_name(server_name: str | None, fallback: str) -> str:
    """A plain file name from a server-supplied one: directories and ``..`` dropped,
    control and reserved characters replaced, no leading dots or trailing dots and
    spaces, Windows device names (``CON``, ``LPT1``...) defused, at most
    :data:`MAX_NAME_CHARS` characters and :data:`MAX_NAME_BYTES` bytes of UTF-8 with
    the extension kept. ``fallback`` when nothing usable is left."""
    name = unicodedata.normalize("NFC", server_name or "")
    name = _UNSAFE.sub("_", _base_name(name)).strip()
    name = name.lstrip(".").rstrip(". ")
    if not name.strip("_"):
        name = fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    if len(ext) > 16:  # not an extension, just a dot in the name
        stem, ext = name, ""
    if stem.split(".")[0].rstrip(" ").casefold() in _RESERVED:
        stem = f"_{stem}"
    return _fit(stem, f".{ext}" if ext else "")


def _fit(stem: str, tail: str) -> str:
    """``stem + tail`` within both name limits, cutting the stem's end (never inside a
    character); the tail (an extension, an id) stays whole."""
    room = MAX_NAME_BYTES - len(tail.encode("utf-8"))
    cut = _cut(stem, MAX_NAME_CHARS - len(tail), room)
    # A cut may leave a trailing dot or space, which Windows drops from names.
    return (cut.rstrip(". ") if cut != stem else cut) + tail


def _cut(text: str, chars: int, nbytes: int) -> str:
    text = text[:chars]
    # Dropping the bytes of a character cut in two leaves whole characters only.
    return text.encode("utf-8")[:nbytes].decode("utf-8", errors="ignore")


def _with_id(name: str, document_id: str) -> str:
    # Only to tell names apart, so a long id is cut to leave room for the name itself.
    document_id = _cut(document_id, 64, 64)
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return _fit(name, f"-{document_id}")
    return _fit(stem, f"-{document_id}.{ext}")


def _local_names(documents: Sequence[Document]) -> list[str]:
    """Safe, unique (case-insensitively: Windows and macOS) names for one shipment's
    documents; a later document whose name is taken gets its id added. Depends only
    on the server's list, so a re-run picks the same names."""
    taken: set[str] = set()
    names = []
    for doc in documents:
        doc_id = safe_file_name(doc.id, "document")
        name = safe_file_name(doc.file_name, f"{doc.document_type or 'document'}-{doc_id}")
        if name.casefold() in taken:
            name = _with_id(name, doc_id)
        n = 1
        while name.casefold() in taken:  # two documents with the same id and name
            n += 1
            name = _with_id(name, str(n))
        taken.add(name.casefold())
        names.append(name)
    return names


class _SizeMismatch(Exception):
    def __init__(self, got: int, expected: int) -> None:
        super().__init__(f"size mismatch: got {got} bytes, the server says {expected}")


async def _fetch(api: FlexportClient, doc_id: str, target: Path, expected: int | None) -> int:
    """Stream a document into ``target`` (a temporary file); the size written."""
    written = 0
    with open(target, "wb") as out:
        async for chunk in api.download_document(doc_id):
            out.write(chunk)
            written += len(chunk)
    if expected is not None and written != expected:
        raise _SizeMismatch(written, expected)
    return written


async def _download_one(
    api: FlexportClient,
    caller: Caller,
    row: DocumentRow,
    *,
    overwrite: bool,
) -> DocumentRow:
    path = row.path
    assert path is not None and row.document_id is not None
    expected = row.size
    if path.is_symlink() or (path.exists() and not path.is_file()):
        row.status = DocumentStatus.FAILED
        row.message = "something other than a file is there; not touched"
        return row
    if path.exists():
        on_disk = path.stat().st_size
        if expected is not None and on_disk == expected:
            row.status = DocumentStatus.SKIPPED
            row.message = "already downloaded (same size)"
            return row
        if not overwrite:
            row.status = DocumentStatus.FAILED
            row.message = f"a different file ({on_disk} bytes) is there; --overwrite replaces it"
            return row
    doc_id = row.document_id
    try:
        with atomic_path(path) as tmp:
            row.size = await paced(caller, lambda: _fetch(api, doc_id, tmp, expected))
    except _SizeMismatch as exc:
        row.status = DocumentStatus.FAILED
        row.message = f"{exc}; the partial file was removed"
        return row
    row.status = DocumentStatus.DOWNLOADED
    row.message = ""
    return row


async def download_documents(
    api: FlexportClient,
    caller: Caller,
    shipment_ids: Sequence[int],
    directory: Path,
    *,
    types: Sequence[str] | None = None,
    overwrite: bool = False,
    concurrency: int = 8,
    on_row: Callable[[DocumentRow], None] = lambda _r: None,
) -> list[DocumentRow]:
    """Every document of each shipment (of ``types`` only, when given) into
    ``directory/<shipment id>/``: one row per document, in the server's order, and
    one failed row for a shipment whose list cannot be fetched."""
    gate = asyncio.Semaphore(concurrency)
    wanted = set(types) if types else None

    async def listing(sid: int) -> list[DocumentRow]:
        try:
            async with gate:
                docs = await paced(caller, lambda: api.documents(sid))
        except ApiError as exc:
            if exc.stops_run:
                raise
            return [DocumentRow(sid, None, None, None, None, None, DocumentStatus.FAILED,
                                None, f"cannot list its documents: {exc}")]  # fmt: skip
        if wanted is not None:
            docs = [d for d in docs if d.document_type in wanted]
        folder = directory / str(sid)
        rows = []
        for doc, name in zip(docs, _local_names(docs), strict=True):
            size = doc.file_metadata.size if doc.file_metadata else None
            rows.append(DocumentRow(sid, doc.id, doc.document_type, name, doc.file_name,
                                    size, DocumentStatus.FAILED, folder / name))  # fmt: skip
        return rows

    async def fetch(row: DocumentRow) -> DocumentRow:
        if row.document_id is None:
            on_row(row)
            return row
        assert row.path is not None
        row.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            async with gate:
                await _download_one(api, caller, row, overwrite=overwrite)
        except ApiError as exc:
            if exc.stops_run:
                raise
            row.status = DocumentStatus.FAILED
            row.message = str(exc)
        except OSError as exc:
            row.status = DocumentStatus.FAILED
            row.message = f"cannot write {row.path}: {exc.strerror or exc}"
        on_row(row)
        return row

    unique_ids = list(dict.fromkeys(shipment_ids))
    listed = await asyncio.gather(*(listing(sid) for sid in unique_ids))
    rows = [row for rows in listed for row in rows]
    return list(await asyncio.gather(*(fetch(row) for row in rows)))


async def download_shipment_documents(
    settings: Settings,
    shipment_ids: Sequence[int],
    directory: Path,
    *,
    types: Sequence[str] | None = None,
    overwrite: bool = False,
    on_row: Callable[[DocumentRow], None] = lambda _r: None,
) -> list[DocumentRow]:
    """:func:`download_documents` against the API ``settings`` name."""
    async with FlexportClient(settings) as api:
        return await download_documents(
            api, caller_for(settings), shipment_ids, directory, types=types,
            overwrite=overwrite, concurrency=settings.concurrency, on_row=on_row,
        )  # fmt: skip


def write_index(path: Path, rows: Sequence[DocumentRow]) -> None:
    """The index CSV: one line per document (written atomically, opened fine by Excel)."""
    # csv whatever the name a library caller gave: the command refuses other suffixes
    # before downloading (the registry's DOCUMENTS_INDEX), a late refusal would lose the index.
    with CSV.open(path, [Column(h) for h in INDEX_HEADERS]) as sink:
        for row in rows:
            sink.append(row.values())

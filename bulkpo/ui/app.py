"""The page's Starlette app: upload, map the columns, fix cells, import, download.

Everything it does is a library call the CLI makes too: the file is read and checked
by :func:`bulkpo.imports.validation_result`, sent by :func:`bulkpo.aio.import_file`,
reported by :mod:`bulkpo.sheets.report_writer`; mappings are the files ``bulkpo map``
writes. Every request must carry the token printed with the URL (a cookie after the
first visit); every change must also send it in a header, which a page of another site
cannot do (no CORS headers are ever sent), so no other site or local user drives it.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import hmac
import io
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from bulkpo import aio
from bulkpo.columns import COLUMN_SETS, Kind
from bulkpo.config import Settings
from bulkpo.engine.exactly_once import OnExisting, UnitResult
from bulkpo.engine.pacing import LiveStats
from bulkpo.errors import BulkpoError, ConfigError, UsageError
from bulkpo.imports import validation_result
from bulkpo.issues import Issue, IssueCode, Severity
from bulkpo.network.rules import KIND_ENTITY, KIND_LOCATION, NetworkValidation
from bulkpo.purchase_orders.submit import KIND_PO
from bulkpo.redact import redact
from bulkpo.report import ImportResult, SheetResult
from bulkpo.saved_mapping import (
    MAPPING_KINDS,
    SavedMapping,
    find_mapping,
    fingerprint,
    read_mapping,
    saved_mapping_toml,
)
from bulkpo.sheets.encodings import decode, sniff_delimiter
from bulkpo.sheets.reader import read_table
from bulkpo.sheets.report_writer import write_errors_file, write_result_report
from bulkpo.table import Table, column_letter
from bulkpo.ui.views import ExtraViews
from bulkpo.validation import ValidationResult

HERE = Path(__file__).parent
TOKEN_HEADER = "X-Bulkpo-Token"
# A page of rows: enough to fix a file by hand, few enough for a browser to draw at once.
GRID_ROWS = 500
SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".csv", ".tsv", ".txt")
EDITABLE = (".xlsx", ".xlsm", ".csv", ".tsv", ".txt")
NOUNS = {Kind.PURCHASE_ORDERS: "POs", Kind.BOOKINGS: "bookings", Kind.NETWORK: "network rows"}
TITLES = {Kind.PURCHASE_ORDERS: "Purchase orders", Kind.BOOKINGS: "Bookings",
          Kind.NETWORK: "Network (company entities and locations)"}
# The report file of each sheet of a combined workbook, as `bulkpo import --report` names them.
SUFFIXES_OF = {Kind.PURCHASE_ORDERS: "", Kind.BOOKINGS: "-bookings", Kind.NETWORK: "-network"}
# The journal's unit kinds of a network row: everything else not a PO is a booking's.
NETWORK_UNITS = {KIND_ENTITY, KIND_LOCATION}


def counted(n: int, kind: Kind) -> str:
    """``1 PO``, ``3 POs``, ``1 booking``: the import button's words."""
    return f"{n} {NOUNS[kind] if n != 1 else NOUNS[kind][:-1]}"


@dataclass
class UiConfig:
    """What the page needs: where to send (``settings``, never shown), where to keep files."""

    settings: Settings
    workdir: Path
    mappings_dir: Path
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    max_upload_bytes: int = 20 << 20
    max_cells: int = 200_000
    """Cells of one sheet the page takes (a grid in a browser); the CLI takes far more."""
    target: str | None = None
    """What the journals name the API (``bulkpo --sandbox ui``: the sandbox's state file)."""


@dataclass
class Run:
    """One import in the background: what the page shows of it while it goes on and after."""

    total: int
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    rows: dict[tuple[str, int], tuple[str, str, str]] = field(default_factory=dict)
    """(sheet's noun, row) -> (status, PO or booking, message): a combined workbook's two
    sheets both have a row 2."""
    finished: bool = False
    error: str = ""
    lines: list[str] = field(default_factory=list)
    downloads: list[tuple[str, str]] = field(default_factory=list)
    elapsed: float = 0.0
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    live: LiveStats = field(default_factory=LiveStats, repr=False)
    """The run's requests, rate and 429 answers as they happen (the library's own counts)."""
    on_existing: OnExisting = OnExisting.SKIP
    """What the run does with what Flexport holds with other values (the page's choice)."""

    def record(self, result: UnitResult) -> None:
        self.done += 1
        noun = NOUNS[_kind_of(result.kind)]
        for row in result.rows:
            self.rows[noun, row] = (result.outcome.value, result.key, page_words(result.message))

    @property
    def seconds(self) -> float:
        return self.elapsed if self.finished else time.monotonic() - self.started

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0

    def figures(self) -> dict[str, Any]:
        """What the progress bar shows, as numbers (the page's JSON for scripts and tests)."""
        live = self.live
        return {
            "total": self.total, "done": self.done, "finished": self.finished,
            "requests": live.requests, "retries": live.retries, "throttled": live.throttled,
            "rate": round(live.rate, 2), "paced_rate": round(live.paced_rate, 2),
            "seconds": round(self.seconds, 1), "error": self.error,
            "statuses": dict(sorted(_count(s for s, _k, _m in self.rows.values()).items())),
        }


def _kind_of(unit_kind: str) -> Kind:
    if unit_kind == KIND_PO:
        return Kind.PURCHASE_ORDERS
    return Kind.NETWORK if unit_kind in NETWORK_UNITS else Kind.BOOKINGS


def units_of(validation: ValidationResult | None) -> int:
    """The rows of a checked sheet that an import sends: POs, bookings or network objects."""
    if validation is None:
        return 0
    objects = validation.objects if isinstance(validation, NetworkValidation) else []
    return len(validation.purchase_orders) + len(validation.bookings) + len(objects)


def _count(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


@dataclass
class Upload:
    """A file dropped on the page: its own copy on disk, the mapping chosen, its run."""

    id: str
    folder: Path
    path: Path
    mapping: SavedMapping | None = None
    booking_mapping: SavedMapping | None = None
    """The mapping of the bookings sheet's columns (``mapping`` is the PO sheet's)."""
    run: Run | None = None
    message: str = ""
    resume: bool = False
    """The last run stopped with the server: the next one resumes it from the journal."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    """Held while the copy is changed or a run starts: a double click starts one run."""

    @property
    def dropped(self) -> str:
        """When the file was dropped, read from its id (``20261128-123541-9d70f8``)."""
        i = self.id
        return f"{i[:4]}-{i[4:6]}-{i[6:8]} {i[9:11]}:{i[11:13]}" if len(i) >= 13 else ""


ON_EXISTING_CHOICES = (
    (OnExisting.SKIP, "leave it as it is"),
    (OnExisting.UPDATE, "update it to the file's values"),
    (OnExisting.FAIL, "count its rows as failed"),
)
"""The page's words for ``--on-existing``: what to do with a PO, booking or network ref
Flexport holds already with other values."""


def page_words(message: str) -> str:
    """A row's message as the page says it: the command-line option becomes the page's choice."""
    return redact(message.replace(
        "use --on-existing update to update it",
        f"choose \u201c{ON_EXISTING_CHOICES[1][1]}\u201d beside Import to update it"))


STATE_FILE = "page.json"
STOPPED = ("the page's server stopped during this import: press Import again to go on "
           "(the journal knows what was sent; nothing is sent twice)")


def save_state(upload: Upload) -> None:
    """What the page knows of an upload, kept beside its copy for the next start of the page."""
    run = upload.run
    data = {
        "file": upload.path.name,
        "mapping": asdict(upload.mapping) if upload.mapping is not None else None,
        "booking_mapping": (
            asdict(upload.booking_mapping) if upload.booking_mapping is not None else None),
        "run": None if run is None else {
            "total": run.total, "done": run.done, "finished": run.finished,
            "error": run.error, "lines": run.lines, "downloads": run.downloads,
            "elapsed": run.seconds, "rows": [[*k, *v] for k, v in run.rows.items()],
            "on_existing": run.on_existing.value,
        },
    }
    temp = upload.folder / (STATE_FILE + ".tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    temp.replace(upload.folder / STATE_FILE)


def load_state(folder: Path) -> Upload | None:
    """An upload as an earlier start of the page left it; a run it was doing has stopped."""
    try:
        data = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        upload = Upload(folder.name, folder, folder / Path(data["file"]).name)
        if data["mapping"] is not None:
            upload.mapping = SavedMapping(**data["mapping"])
        if data.get("booking_mapping") is not None:
            upload.booking_mapping = SavedMapping(**data["booking_mapping"])
        saved = data["run"]
        if saved is not None:
            run = Run(saved["total"], done=saved["done"], finished=True, error=saved["error"],
                      lines=list(saved["lines"]), elapsed=saved["elapsed"],
                      downloads=[(str(a), str(b)) for a, b in saved["downloads"]],
                      rows={(str(noun), int(row)): (str(status), str(key), str(message))
                            for noun, row, status, key, message in saved["rows"]},
                      on_existing=OnExisting(saved.get("on_existing", OnExisting.SKIP.value)))
            if not saved["finished"]:
                run.error, upload.resume = STOPPED, True
            upload.run = run
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None  # a folder not of ours, or damaged: the page starts without it
    return upload if upload.path.is_file() else None


# ---------------------------------------------------------------- the guard


class TokenGuard:
    """Refuse every request without the token, and every change without it in a header."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    def _is_token(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        host = (request.url.hostname or "").lower()
        # A DNS-rebound name reaches 127.0.0.1 with another Host: never answer it.
        if host not in ("127.0.0.1", "localhost"):
            await _refused("this page answers on 127.0.0.1 only")(scope, receive, send)
            return
        cookie = f"bulkpo_ui_{request.url.port or 80}"
        given = request.query_params.get("token")
        if self._is_token(given) and request.method == "GET":
            # Jupyter's way: the link's token becomes a cookie, the address loses it.
            kept = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            query = urlencode(kept)
            answer = RedirectResponse(request.url.path + (f"?{query}" if query else ""), 303)
            answer.set_cookie(cookie, self.token, httponly=True, samesite="strict")
            await answer(scope, receive, send)
            return
        if not self._is_token(request.cookies.get(cookie)):
            await _refused(
                "open the address bulkpo ui printed: it holds this page's key"
            )(scope, receive, send)
            return
        if request.method not in ("GET", "HEAD") and not self._is_token(
            request.headers.get(TOKEN_HEADER)
        ):
            await _refused("a change must come from the page itself")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _refused(why: str) -> Response:
    return HTMLResponse(f"<!doctype html><title>bulkpo</title><p>Refused: {why}.</p>", 403)


# ---------------------------------------------------------------- views of a file


@dataclass
class CellView:
    text: str
    css: str = ""
    title: str = ""


@dataclass
class RowView:
    number: int
    cells: list[CellView]
    status: str
    message: str
    problem: bool


@dataclass
class ColumnView:
    index: int
    letter: str
    header: str
    chosen: str
    css: str = ""
    title: str = ""


@dataclass
class SheetView:
    kind: Kind
    sheet: str
    header_row: int
    columns: list[ColumnView]
    rows: list[RowView]
    shown_of: int
    summary: str
    units: int
    fixed: list[str]
    problems: list[str]
    editable: bool

    @property
    def is_po(self) -> bool:
        return self.kind is Kind.PURCHASE_ORDERS

    @property
    def title(self) -> str:
        return TITLES[self.kind]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _field_choices(kind: Kind) -> list[tuple[str, str]]:
    return [("", "not imported")] + [(c.key, c.header) for c in COLUMN_SETS[kind].columns]


def _marks(issues: list[Issue]) -> tuple[str, str]:
    """A cell's class (error: red; warning: yellow, bulkpo fixed or noted it) and hover text."""
    css = ""
    if any(i.severity is Severity.ERROR for i in issues):
        css = "error"
    elif issues:
        css = "fixed"
    title = "\n".join(_said(i) + (f" ({i.suggestion})" if i.suggestion else "") for i in issues)
    return css, title


# Warnings about columns bulkpo leaves out: noted, not fixed.
LEFT_OUT = {IssueCode.UNKNOWN_COLUMN, IssueCode.DUPLICATE_COLUMN}


def _said(issue: Issue) -> str:
    if issue.severity is Severity.ERROR:
        return issue.message
    return ("left out: " if issue.code in LEFT_OUT else "fixed by bulkpo: ") + issue.message


def sheet_view(part: SheetResult, raw: Table, editable: bool) -> SheetView:
    """The grid of a checked sheet: its cells as typed, each marked with its issues."""
    at: dict[tuple[int, int], list[Issue]] = {}
    on_row: dict[int, list[Issue]] = {}
    for issue in part.issues:
        if issue.ref is None:
            continue
        if 0 <= issue.ref.col < len(raw.headers):
            at.setdefault((issue.ref.row, issue.ref.col), []).append(issue)
        else:
            on_row.setdefault(issue.ref.row, []).append(issue)
    results = {r.row: r for r in part.results}
    rows: list[RowView] = []
    for row in raw.rows:
        result = results.get(row.number)
        cells = []
        for col in range(len(raw.headers)):
            css, title = _marks(at.get((row.number, col), []))
            cells.append(CellView(_text(row.get(col)), css, title))
        status = result.status if result is not None else "skipped"
        problem = status == "invalid" or any(c.css == "error" for c in cells)
        said = [result.message] if result is not None and result.message else []
        message = "; ".join(said + [i.message for i in on_row.get(row.number, [])])
        rows.append(RowView(row.number, cells, status, message, problem))
    chosen = part.mapping.get("columns", {})
    assert isinstance(chosen, dict)
    columns = [
        ColumnView(i, column_letter(i), header, str(chosen.get(header, "")),
                   *_marks(at.get((raw.header_row, i), [])))
        for i, header in enumerate(raw.headers)
    ]
    units = units_of(part.validation)
    fixed: list[str] = []
    for issue in part.issues:
        if issue.severity is Severity.WARNING and len(fixed) < 30:
            place = f"{issue.ref}: " if issue.ref is not None else ""
            fixed.append(place + _said(issue))
    # An error the grid cannot show on a data cell (a missing column) is listed above it,
    # and so is one about whole rows (rows hidden in the sheet), with what to do.
    in_grid = {row.number for row in raw.rows}
    problems = [
        str(i) if i.ref is not None and i.ref.col < 0
        else (f"{i.ref}: " if i.ref is not None else "") + i.message
        for i in part.issues
        if i.severity is Severity.ERROR and (
            i.ref is None or i.ref.row not in in_grid or not 0 <= i.ref.col < len(raw.headers))
    ][:30]
    return SheetView(
        part.kind, raw.sheet, raw.header_row, columns, rows, len(raw.rows),
        part.summary.line(), units, fixed, problems, editable,
    )


# ---------------------------------------------------------------- editing the copy


_PLAIN_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")


def _typed(old: object, text: str) -> str | int | float | None:
    """The edited cell's value: a number when the text is a plain one (no leading zero)
    and the cell did not hold digits as text, as ids and SKUs are kept."""
    if text == "":
        return None
    digits_as_text = isinstance(old, str) and old.strip().isdigit()
    if _PLAIN_NUMBER.fullmatch(text) and not digits_as_text:
        return float(text) if "." in text else int(text)
    return text


def edit_cell(path: Path, sheet: str, row: int, col: int, text: str) -> None:
    """Write one cell of the uploaded copy (row 1-based, col 0-based), as the user typed it."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        workbook = openpyxl.load_workbook(path, keep_vba=suffix == ".xlsm")
        if sheet not in workbook.sheetnames:
            raise UsageError(f"no sheet {sheet!r} in the file")
        cell = workbook[sheet].cell(row=row, column=col + 1)
        cell.value = _typed(cell.value, text)
        workbook.save(path)
        return
    if suffix in (".csv", ".tsv", ".txt"):
        content, _lines = decode(path.read_bytes())
        delimiter = sniff_delimiter(content[:65536], suffix)
        records = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter))
        if not 1 <= row <= len(records):
            raise UsageError(f"no row {row} in the file")
        record = records[row - 1]
        record.extend([""] * (col + 1 - len(record)))
        record[col] = text
        out = io.StringIO(newline="")
        csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(records)
        path.write_text(out.getvalue(), encoding="utf-8", newline="")
        return
    raise UsageError("cells of this kind of file cannot be changed here: fix the file in "
                     "your spreadsheet program and drop it again")


# ---------------------------------------------------------------- the app


class Pages:
    """The uploads and runs of one server, and the handlers that show and change them."""

    def __init__(self, config: UiConfig) -> None:
        self.config = config
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
        self.env.globals["counted"] = counted
        self.env.globals["on_existing_choices"] = ON_EXISTING_CHOICES
        config.workdir.mkdir(parents=True, exist_ok=True)
        # The files and runs of earlier starts of the page: a restart loses nothing.
        found = (load_state(f) for f in sorted(config.workdir.iterdir()) if f.is_dir())
        self.uploads: dict[str, Upload] = {u.id: u for u in found if u is not None}

    @property
    def limits(self) -> Any:
        limits = self.config.settings.limits
        return limits.model_copy(update={"max_cells": min(limits.max_cells, self.config.max_cells)})

    def render(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        page = self.env.get_template(name).render(token=self.config.token, **values)
        return HTMLResponse(page, status)

    def error(self, request: Request, status: int, message: str) -> HTMLResponse:
        """The message alone in the page's message box (htmx), or as a page of its own."""
        page = request.headers.get("HX-Request") != "true"
        answer = self.render("error.html", status, error=message, full=page)
        if not page:
            answer.headers["HX-Retarget"] = "#message"
            answer.headers["HX-Reswap"] = "innerHTML"
        return answer

    def upload_of(self, request: Request) -> Upload:
        upload = self.uploads.get(request.path_params["id"])
        if upload is None:
            raise UsageError("this file is no longer here: drop it again")
        return upload

    # ------------------------------------------------ reading

    def saved(self) -> list[SavedMapping]:
        found = []
        folder = self.config.mappings_dir
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            try:
                found.append(read_mapping(path))
            except ConfigError:
                continue  # a hand-edited file gone wrong must not stop the page
        return found

    def settings_for(self, upload: Upload) -> Settings:
        """The settings with the upload's bookings mapping first among the named mappings,
        picked by its header set as bulkpo.toml's are (``mapping=`` is the PO sheet's)."""
        mapping = upload.booking_mapping
        settings = self.config.settings
        if mapping is None:
            return settings
        data: dict[str, Any] = {
            "kind": mapping.kind, "columns": mapping.columns, "constants": mapping.constants,
            "fingerprint": mapping.fingerprint,
        }
        others = {k: v for k, v in settings.mappings.items() if k != mapping.name}
        return settings.model_copy(update={"mappings": {mapping.name: data, **others}})

    def check(self, upload: Upload) -> tuple[ImportResult, list[SheetView]]:
        """Read and validate the copy as ``bulkpo validate`` does, and the raw cells to show."""
        settings = self.settings_for(upload)
        result = validation_result(
            upload.path, limits=self.limits, mapping=upload.mapping, settings=settings,
        )
        running = upload.run is not None and not upload.run.finished
        views = []
        for part in result.sheets:
            raw = read_table(upload.path, sheet=part.table.sheet,
                             header_row=part.table.header_row, limits=self.limits)
            editable = not running and upload.path.suffix.lower() in EDITABLE
            views.append(sheet_view(part, raw, editable))
        return result, views

    async def work(self, upload: Upload, status: int = 200) -> HTMLResponse:
        try:
            result, views = await run_in_threadpool(self.check, upload)
        except BulkpoError as exc:
            return self.render("work.html", status, upload=upload, views=[],
                               error=redact(str(exc)), **self._common(upload))
        units = sum(v.units for v in views)
        return self.render("work.html", status, upload=upload, views=views, error="",
                           units=units, result=result, **self._common(upload))

    def _common(self, upload: Upload) -> dict[str, Any]:
        # A message is said once: a reload later must not repeat "M5 changed".
        message, upload.message = upload.message, ""
        saved = self.saved()
        return {
            "message": message,
            "choices": {kind: _field_choices(kind) for kind in Kind},
            "saved": {kind: [m.name for m in saved if m.kind == kind] for kind in MAPPING_KINDS},
            "mapping_names": {
                Kind.PURCHASE_ORDERS.value: upload.mapping.name if upload.mapping else "",
                Kind.BOOKINGS.value: upload.booking_mapping.name if upload.booking_mapping
                else "",
            },
            "run": upload.run,
            "grid_rows": GRID_ROWS,
        }

    # ------------------------------------------------ handlers

    async def index(self, request: Request) -> Response:
        recent = sorted(self.uploads.values(), key=lambda u: u.id, reverse=True)
        return self.render("index.html", uploads=recent, error="")

    async def upload(self, request: Request) -> Response:
        limit = self.config.max_upload_bytes
        declared = int(request.headers.get("content-length") or 0)
        too_big = (f"the file is larger than the page takes ({limit >> 20} MB); import it "
                   "with the bulkpo command, which reads files of any size")
        if declared > limit + 64 * 1024:
            return self.error(request, 413, too_big)
        async with request.form(max_files=1, max_fields=4) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile) or not file.filename:
                return self.error(request, 400, "choose a file to import")
            name = _safe_name(file.filename)
            if Path(name).suffix.lower() not in SUFFIXES:
                return self.error(request, 400, (
                    f"{name}: not a spreadsheet bulkpo reads ({', '.join(SUFFIXES)})"))
            upload_id = dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
            folder = self.config.workdir / upload_id
            folder.mkdir(parents=True)
            path = folder / name
            size = 0
            with path.open("wb") as out:
                while block := await file.read(1 << 20):
                    size += len(block)
                    if size > limit:
                        break
                    out.write(block)
            if size > limit:
                path.unlink()
                return self.error(request, 413, too_big)
        upload = Upload(upload_id, folder, path)
        try:
            result, _views = await run_in_threadpool(self.check, upload)
        except BulkpoError as exc:
            said = redact(str(exc)).replace(str(path), name)
            cap = self.limits.max_cells
            if f"{cap:,} cells" in said:
                said += (f". The page shows sheets of up to {cap:,} cells: import a larger "
                         "file with the command, bulkpo import FILE")
            return self.error(request, 400, said)
        fits: list[str] = []
        for part in (result.purchase_orders, result.bookings):
            known = None if part is None else find_mapping(
                part.table.headers, self.saved(), part.kind)
            if part is None or known is None:
                continue
            if part.kind is Kind.BOOKINGS:
                upload.booking_mapping = known
            else:
                upload.mapping = known
            fits.append(f"The saved mapping {known.name!r} fits this file: it is used.")
        upload.message = " ".join(fits)
        self.uploads[upload_id] = upload
        save_state(upload)
        return _go(request, f"/u/{upload_id}")

    async def show(self, request: Request) -> Response:
        upload = self.upload_of(request)
        try:
            result, views = await run_in_threadpool(self.check, upload)
        except BulkpoError as exc:
            result, views, error = None, [], redact(str(exc))
        else:
            error = ""
        return self.render("upload.html", upload=upload, views=views, error=error,
                           units=sum(v.units for v in views), result=result,
                           **self._common(upload))

    async def mapping(self, request: Request) -> Response:
        upload = self.upload_of(request)
        async with request.form() as form:
            values = {k: str(v) for k, v in form.items()}
        kind = values.get("kind") or Kind.PURCHASE_ORDERS.value
        if kind not in MAPPING_KINDS:
            raise UsageError(f"a mapping is for one of {', '.join(MAPPING_KINDS)}, not {kind!r}")
        columns_of = COLUMN_SETS[Kind(kind)]
        table = read_table(upload.path, sheet=values.get("sheet") or None,
                           header_row=int(values.get("header_row") or 0) or None,
                           limits=self.limits, score_headers=columns_of.score,
                           preferred_sheets=(columns_of.sheet_name,))
        if values.get("use"):
            chosen = next((m for m in self.saved()
                           if m.name == values["use"] and m.kind == kind), None)
            if chosen is None:
                raise UsageError(f"no saved {kind} mapping {values['use']!r}")
            if kind == Kind.BOOKINGS.value:
                # Chosen by name, it is picked by this sheet's header set from now on.
                upload.booking_mapping = dataclasses.replace(
                    chosen, fingerprint=fingerprint(table.headers))
            else:
                upload.mapping = chosen
            save_state(upload)
            upload.message = f"Mapping {chosen.name!r} used."
            return await self.work(upload)
        columns = {
            header: values.get(f"col-{i}", "")
            for i, header in enumerate(table.headers) if header and header.strip()
        }
        name = _mapping_name(values.get("name", ""))
        mapping = SavedMapping(columns=columns, header_row=table.header_row,
                               fingerprint=fingerprint(table.headers), name=name or "(this page)",
                               kind=kind)
        if kind == Kind.BOOKINGS.value:
            upload.booking_mapping = mapping
        else:
            upload.mapping = mapping
        upload.message = "Mapping applied."
        save_state(upload)
        if name:
            self.config.mappings_dir.mkdir(parents=True, exist_ok=True)
            target = self.config.mappings_dir / f"{name}.toml"
            target.write_text(saved_mapping_toml(mapping), encoding="utf-8")
            upload.message = (f"Mapping saved as {target} (use it on the command line with "
                              f"--map {target}).")
        return await self.work(upload)

    async def cell(self, request: Request) -> Response:
        upload = self.upload_of(request)
        async with request.form() as form:
            sheet, text = str(form.get("sheet", "")), str(form.get("value", ""))
            row, col = int(str(form.get("row", "0"))), int(str(form.get("col", "0")))
        async with upload.lock:
            if upload.run is not None and not upload.run.finished:
                raise UsageError("the file is being imported: wait for the import to end")
            await run_in_threadpool(edit_cell, upload.path, sheet, row, col, text)
        upload.message = f"{sheet}!{column_letter(col)}{row} changed; the file is checked again."
        return await self.work(upload)

    async def start(self, request: Request) -> Response:
        upload = self.upload_of(request)
        async with request.form() as form:
            chosen = str(form.get("on_existing", OnExisting.SKIP.value))
        if chosen not in {c.value for c, _words in ON_EXISTING_CHOICES}:
            raise UsageError(f"on_existing must be skip, update or fail, not {chosen!r}")
        async with upload.lock:
            if upload.run is None or upload.run.finished:
                result, _views = await run_in_threadpool(self.check, upload)
                total = sum(units_of(p.validation) for p in result.sheets)
                upload.run = Run(total, on_existing=OnExisting(chosen))
                save_state(upload)
                upload.run.task = asyncio.create_task(self._import(upload, upload.run))
        return self.render("run.html", upload=upload, run=upload.run)

    async def progress(self, request: Request) -> Response:
        upload = self.upload_of(request)
        if upload.run is None:
            return HTMLResponse("")
        return self.render("run.html", upload=upload, run=upload.run)

    async def figures(self, request: Request) -> Response:
        """The run's figures as JSON: what the progress bar shows, for a script or a test."""
        upload = self.upload_of(request)
        if upload.run is None:
            return JSONResponse({"error": "no import of this file yet"}, 404)
        return JSONResponse(upload.run.figures())

    async def download(self, request: Request) -> Response:
        upload = self.upload_of(request)
        name = request.path_params["name"]
        if upload.run is None or name not in {n for _label, n in upload.run.downloads}:
            return HTMLResponse("<p>No such file.</p>", 404)
        return FileResponse(upload.folder / name, filename=name)

    # ------------------------------------------------ the run

    async def _import(self, upload: Upload, run: Run) -> None:
        try:
            resume, upload.resume = upload.resume, False
            result = await aio.import_file(
                upload.path, settings=self.settings_for(upload), mapping=upload.mapping,
                journal=upload.folder / "journal.sqlite", on_result=run.record, resume=resume,
                target=self.config.target, live=run.live, on_existing=run.on_existing,
            )
            await run_in_threadpool(self._outputs, upload, run, result)
        except asyncio.CancelledError:
            # The server stops mid-run: kept unfinished, so that its next start resumes it.
            run.elapsed = time.monotonic() - run.started
            save_state(upload)
            raise
        except BulkpoError as exc:
            run.error = redact(str(exc))
        except Exception as exc:  # a bug of ours: said on the page, the server goes on
            run.error = redact(f"internal error: {type(exc).__name__}: {exc}")
        run.live.finish()
        run.elapsed = time.monotonic() - run.started
        run.finished = True
        save_state(upload)

    def _outputs(self, upload: Upload, run: Run, result: ImportResult) -> None:
        stem = upload.path.stem
        combined = len(result.sheets) > 1
        for part in result.sheets:
            for row in part.results:
                run.rows[NOUNS[part.kind], row.row] = (row.status, row.key,
                                                        page_words(row.message))
            label = NOUNS[part.kind]
            run.lines.append(f"{label}: {part.summary.line()}" if combined else part.summary.line())
            suffix = SUFFIXES_OF[part.kind] if combined else ""
            report = f"{stem}-report{suffix}.xlsx"
            write_result_report(upload.folder / report, part.table, part.results,
                                title=f"bulkpo import {upload.path.name}")
            run.downloads.append((f"Result report ({label})", report))
            if not part.summary.all_went_through:
                fix = f"{stem}-fix{suffix}.xlsx"
                count = write_errors_file(upload.folder / fix, part.table, part.results)
                run.downloads.append((f"Rows to fix and upload again: {count}", fix))
        stats = result.stats
        if stats is not None:
            run.lines.append(stats.line())
            run.lines += [f"Note: {notice}" for notice in stats.notices]
        if result.stopped is not None:
            run.error = redact(f"stopped: {result.stopped}")


def _safe_name(filename: str) -> str:
    """The uploaded file's name, kept readable but harmless as a file name here."""
    base = Path(filename.replace("\\", "/")).name
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .") or "upload"
    return base[-120:]


def _mapping_name(text: str) -> str:
    return re.sub(r"[^\w\-]+", "-", text.strip()).strip("-")[:60]


def _go(request: Request, path: str) -> Response:
    """Go to ``path``: htmx follows HX-Redirect, a plain form the 303."""
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": path})
    return RedirectResponse(path, 303)


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(pages: Pages, handler: Handler) -> Handler:
    """A handler whose usage errors become the page's message instead of a 500."""

    async def call(request: Request) -> Response:
        try:
            return await handler(request)
        except BulkpoError as exc:
            return pages.error(request, 400, redact(str(exc)))
        except ValueError as exc:
            return pages.error(request, 400, f"bad request: {exc}")

    return call


def create_app(config: UiConfig) -> ASGIApp:
    """The page as an ASGI app, behind the token guard."""
    pages = Pages(config)
    extra = ExtraViews(pages)
    routes = [
        Route("/", _guarded(pages, pages.index)),
        Route("/upload", _guarded(pages, pages.upload), methods=["POST"]),
        Route("/u/{id}", _guarded(pages, pages.show)),
        Route("/u/{id}/mapping", _guarded(pages, pages.mapping), methods=["POST"]),
        Route("/u/{id}/cell", _guarded(pages, pages.cell), methods=["POST"]),
        Route("/u/{id}/import", _guarded(pages, pages.start), methods=["POST"]),
        Route("/u/{id}/run", _guarded(pages, pages.progress)),
        Route("/u/{id}/run.json", _guarded(pages, pages.figures)),
        Route("/u/{id}/files/{name}", _guarded(pages, pages.download)),
        Route("/export", _guarded(pages, extra.export_page)),
        Route("/export/preview", _guarded(pages, extra.export_preview)),
        Route("/export/download", _guarded(pages, extra.export_download)),
        Route("/track", _guarded(pages, extra.track_page)),
        Route("/track/rows", _guarded(pages, extra.track_rows)),
        Route("/track/shipments/{name}", _guarded(pages, extra.shipments_workbook)),
        Route("/track/documents/{shipment}", _guarded(pages, extra.documents), methods=["POST"]),
        Route("/track/documents/{shipment}/{name}", _guarded(pages, extra.document)),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.pages = pages
    return TokenGuard(app, config.token)


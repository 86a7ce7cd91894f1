"""The page's Export and Track views: the filters of ``bulkpo export purchase-orders`` as
a form, and ``bulkpo track`` / ``bulkpo documents`` for the bookings of an import or the
shipments updated in a date range."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from bulkpo import aio
from bulkpo.errors import UsageError
from bulkpo.purchase_orders.export import purchase_order_rows
from bulkpo.purchase_orders.query import (
    PO_STATUSES,
    ExportQuery,
    build_query,
    now_in,
    parse_moment,
    zone,
)
from bulkpo.redact import redact
from bulkpo.shipments.export import ShipmentQuery
from bulkpo.shipments.track import read_targets, track_columns

if TYPE_CHECKING:
    from bulkpo.ui.app import Pages

PREVIEW_ROWS = 20
FILTERS = ("status", "month", "since", "created_after", "created_before", "updated_after",
           "updated_before", "seller_ref", "buyer_ref", "name", "limit")
"""The export form's fields: ``bulkpo export purchase-orders`` options of the same names."""
FORMATS = ("xlsx", "csv")
SHIPMENTS_FILE = re.compile(r"shipments-[0-9-]+\.xlsx")
TRACK_HIDDEN = {"state", "booking_status_code", "shipment_status_code"}


def export_query(form: Mapping[str, str], tz_name: str | None) -> ExportQuery:
    """The query the CLI builds from the same options (blank fields left out)."""
    options: dict[str, Any] = {k: form[k].strip() for k in FILTERS if form.get(k, "").strip()}
    if "limit" in options:
        try:
            options["limit"] = int(options["limit"])
        except ValueError:
            raise UsageError(f"limit {options['limit']!r}: expected a number of POs") from None
    tz = zone(tz_name)
    query, _window = build_query(options, now=now_in(tz), tz=tz)
    return query


class ExtraViews:
    """Export and Track, sharing the pages' settings, templates and work folder."""

    def __init__(self, pages: Pages) -> None:
        self.pages = pages

    @property
    def tz(self) -> str | None:
        return self.pages.config.settings.timezone

    async def export_page(self, request: Request) -> Response:
        return self.pages.render("export.html", statuses=PO_STATUSES, formats=FORMATS)

    async def export_preview(self, request: Request) -> Response:
        form = dict(request.query_params)
        query = export_query(form, self.tz)
        headers, rows = await purchase_order_rows(self.pages.config.settings, query)
        names = {str(row[0]) for row in rows if row and row[0] is not None}
        shown = [[_cell(v) for v in row] for row in rows[:PREVIEW_ROWS]]
        links = {fmt: "/export/download?" + urlencode({**form, "format": fmt}) for fmt in FORMATS}
        return self.pages.render("export_preview.html", headers=headers, rows=shown,
                                 count=len(names), lines=len(rows), links=links)

    async def export_download(self, request: Request) -> Response:
        form = dict(request.query_params)
        fmt = form.pop("format", "xlsx")
        if fmt not in FORMATS:
            raise UsageError(f"format {fmt!r}: expected one of {', '.join(FORMATS)}")
        query = export_query(form, self.tz)
        folder = self.pages.config.workdir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"purchase-orders-{dt.datetime.now():%Y-%m-%d-%H%M%S}.{fmt}"
        result = await aio.export_purchase_orders(
            folder / name, settings=self.pages.config.settings, query=query)
        return FileResponse(result.path, filename=name)

    # ------------------------------------------------ track

    def _journals(self) -> list[tuple[str, str, Path]]:
        """(upload id, file name, journal) of every import run on this page."""
        return [
            (u.id, u.path.name, u.folder / "journal.sqlite")
            for u in sorted(self.pages.uploads.values(), key=lambda u: u.id, reverse=True)
            if (u.folder / "journal.sqlite").is_file()
        ]

    async def track_page(self, request: Request) -> Response:
        return self.pages.render("track.html", imports=self._journals())

    async def _shipments_updated(self, after: str, before: str) -> tuple[list[int], str]:
        """The ids of the shipments updated in the range, as ``bulkpo export shipments
        --updated-after/--updated-before`` lists them (its workbook kept in the work folder)."""
        tz = zone(self.tz)
        query = ShipmentQuery(
            updated_after=parse_moment(after, tz, "updated after") if after else None,
            updated_before=parse_moment(before, tz, "updated before") if before else None,
        )
        folder = self.pages.config.workdir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"shipments-{dt.datetime.now():%Y-%m-%d-%H%M%S-%f}.xlsx"
        exported = await aio.export_shipments(path, settings=self.pages.config.settings,
                                              query=query)
        if not exported.shipments:
            return [], ""
        found = read_targets(exported.path).targets
        return [t.shipment_id for t in found if t.shipment_id is not None], path.name

    async def track_rows(self, request: Request) -> Response:
        params = request.query_params
        chosen = params.get("import", "")
        names = [n.strip() for n in re.split(r"[,\s]+", params.get("bookings", "")) if n.strip()]
        journal = next((j for i, _n, j in self._journals() if i == chosen), None)
        after, before = params.get("updated_after", "").strip(), params.get("updated_before", "")
        before = before.strip()
        if journal is None and not names and not (after or before):
            raise UsageError("choose an import, a date range, or name the bookings to track")
        shipments, workbook = (
            await self._shipments_updated(after, before) if after or before else ([], ""))
        if journal is None and not names and not shipments:
            return self.pages.render("track_rows.html", headers=[], rows=[], left_out=0,
                                     nothing="No shipment was updated in that range.",
                                     workbook="")
        result = await aio.track(journal, bookings=names, shipments=shipments,
                                 settings=self.pages.config.settings)
        tz = zone(self.tz)
        # People read the plain-language statuses; the API's codes are for the files.
        shown = [i for i, (key, _c) in enumerate(track_columns(tz)) if key not in TRACK_HIDDEN]
        headers = [track_columns(tz)[i][1].header for i in shown]
        rows = []
        for row in result.rows:
            values = row.values(tz)
            rows.append(([_cell(values[i]) for i in shown], row.shipment_id))
        return self.pages.render("track_rows.html", headers=headers, rows=rows,
                                 left_out=result.left_out, nothing="", workbook=workbook)

    async def shipments_workbook(self, request: Request) -> Response:
        """The shipments workbook a date range wrote (Shipments, Legs, Milestones)."""
        name = request.path_params["name"]
        folder = (self.pages.config.workdir / "exports").resolve()
        path = (folder / name).resolve()
        # Only a workbook the range above wrote: never another file or a path out of it.
        if not SHIPMENTS_FILE.fullmatch(name) or path.parent != folder or not path.is_file():
            return HTMLResponse("<p>No such file.</p>", 404)
        return FileResponse(path, filename=name)

    async def documents(self, request: Request) -> Response:
        """Download a shipment's documents here (as ``bulkpo documents``) and list them."""
        try:
            shipment = int(request.path_params["shipment"])
        except ValueError:
            raise UsageError("a shipment id is a number") from None
        folder = self.pages.config.workdir / "documents"
        result = await aio.download_documents(
            [shipment], directory=folder, settings=self.pages.config.settings)
        files = [
            (row.document_type or "document", row.file_name, row.status.value, redact(row.message))
            for row in result.rows
        ]
        return self.pages.render("documents.html", shipment=shipment, files=files)

    async def document(self, request: Request) -> Response:
        shipment, name = request.path_params["shipment"], request.path_params["name"]
        folder = (self.pages.config.workdir / "documents").resolve()
        path = (folder / shipment / name).resolve()
        # Only a file the download above wrote: never a path out of its folder.
        if not shipment.isdigit() or path.parent != folder / shipment or not path.is_file():
            return HTMLResponse("<p>No such document.</p>", 404)
        return FileResponse(path, filename=name)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)

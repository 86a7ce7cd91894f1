"""The ``bulkpo track``, ``bulkpo documents`` and ``bulkpo export shipments`` commands:
parse options, call :mod:`bulkpo.shipments.track`, :mod:`bulkpo.shipments.documents` and
:mod:`bulkpo.shipments.export`, render the outcome.

Registered by the lead in :mod:`bulkpo.cli` (``track_command``, ``documents_command``,
and ``shipments_export_command`` under the ``export`` group).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from bulkpo.cli_options import api_settings, sandbox_option
from bulkpo.errors import ExitCode, UsageError

__all__ = ["documents_command", "shipments_export_command", "track_command"]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _render(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A rich table for a person at a terminal; plain aligned text for pipes and files."""
    cells = [[_cell(v) for v in row] for row in rows]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers, show_lines=False)
        for row in cells:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


# ---------------------------------------------------------------- track

_SHOWN = (
    ("Booking", "booking_name"), ("Booking Status", "booking_status"),
    ("Shipment", "shipment_id"), ("Shipment Status", "shipment_status"),
    ("ETD est.", "etd_estimated"), ("ETD actual", "etd_actual"),
    ("ETA est.", "eta_estimated"), ("ETA actual", "eta_actual"),
    ("Current Leg", "current_leg"), ("Latest Milestone", "milestone"), ("Note", "message"),
)  # fmt: skip


@click.command("track")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--booking", "bookings", multiple=True, help="A booking name (repeatable).")
@click.option(
    "--shipment", "shipments", multiple=True, type=int, help="A shipment id (repeatable)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the rows to a formatted .xlsx, a .csv or a .jsonl file.",
)
@click.option("--wait", is_flag=True, help="Poll until every booking has a shipment.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="Seconds --wait polls at most.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    default=5.0,
    show_default=True,
    help="First pause of --wait in seconds; it doubles up to 60.",
)
@sandbox_option
@click.pass_context
def track_command(
    ctx: click.Context,
    file: Path | None,
    bookings: tuple[str, ...],
    shipments: tuple[int, ...],
    output: Path | None,
    wait: bool,
    timeout: float,
    poll_interval: float,
) -> None:
    """Show where booked freight is: booking status, shipment, ETD/ETA, current leg
    and latest milestone, one row per booking.

    FILE is a bookings import's journal (.sqlite), its result report (.jsonl,
    .csv, .xlsx), a bookings workbook (Booking Name column) or a track -o
    output. A booking Flexport has not confirmed yet shows "submitted — not
    confirmed yet, no shipment"; --wait polls until each has a shipment.

    Exit codes: 0 every row fetched, 1 some could not be fetched, 2 bad input,
    3 API unreachable or auth failure.

    Example:

        bulkpo track .bulkpo/journals/bookings-1a2b.sqlite -o tracking.xlsx

        bulkpo track --booking BK-2026-001 --wait --timeout 900
    """
    from bulkpo.sheets.outputs import Output, check_outputs
    from bulkpo.shipments.track import (
        TrackTarget,
        TrackWait,
        targets_from_file,
        track_bookings,
        write_tracking,
    )

    if output is not None:
        # Not even a track -o file is refreshed in place: FILE may be the user's workbook.
        check_outputs(
            [Output("-o", output, (".xlsx", ".csv", ".jsonl"), "the output")],
            {"the input file": file},
        )
    targets = targets_from_file(file) if file is not None else []
    targets += [TrackTarget(booking_name=name) for name in bookings]
    targets += [TrackTarget(shipment_id=sid) for sid in shipments]
    if not targets:
        raise UsageError("name what to track: a FILE, --booking NAME or --shipment ID")

    def on_poll(waiting: int, pause: float) -> None:
        click.echo(f"{waiting} without a shipment yet; asking again in {pause:.0f}s", err=True)

    policy = TrackWait(timeout=timeout, interval=poll_interval) if wait else None
    with api_settings(ctx) as settings:
        try:
            rows = asyncio.run(track_bookings(settings, targets, wait=policy, on_poll=on_poll))
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            raise SystemExit(ExitCode.INTERRUPTED) from None
    _render(
        [h for h, _ in _SHOWN],
        [[getattr(row, key) for _, key in _SHOWN] for row in rows],
    )
    if output is not None:
        write_tracking(output, rows)
        click.echo(f"Wrote {len(rows)} rows to {output}", err=True)
    failed = sum(not row.fetched for row in rows)
    if failed:
        click.echo(f"{failed} of {len(rows)} could not be fetched (see Note)", err=True)
        raise SystemExit(ExitCode.ROW_FAILURES)


# ---------------------------------------------------------------- documents


@click.command("documents")
@click.argument("shipment_ids", nargs=-1, type=int)
@click.option(
    "--type",
    "types",
    multiple=True,
    help="Only these document types, comma-separated or repeated (commercial_invoice,...).",
)
@click.option(
    "-d",
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("documents"),
    show_default=True,
    help="Folder to download into; each shipment gets DIR/<shipment id>/.",
)
@click.option("--overwrite", is_flag=True, help="Replace files that differ from the server's.")
@click.option(
    "--from",
    "from_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Every shipment of a track -o output or a bookings journal.",
)
@click.option(
    "--index",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Index CSV to write (default DIR/index.csv).",
)
@sandbox_option
@click.pass_context
def documents_command(
    ctx: click.Context,
    shipment_ids: tuple[int, ...],
    types: tuple[str, ...],
    directory: Path,
    overwrite: bool,
    from_file: Path | None,
    index: Path | None,
) -> None:
    """Download shipments' documents into DIR/<shipment id>/, resumably.

    Server file names are made safe (no folders, no "..", no device names);
    each file's size is checked against the server's, and a file already there
    with that size is skipped, so a re-run fetches only what is missing. An
    index CSV lists every document with its status and path.

    Exit codes: 0 every document is there, 1 some failed, 2 bad input,
    3 API unreachable or auth failure.

    Example:

        bulkpo documents 1200000 1200001 --type commercial_invoice,packing_list -d docs

        bulkpo documents --from tracking.xlsx -d docs
    """
    from bulkpo.sheets.outputs import Output, check_outputs
    from bulkpo.shipments.documents import DocumentStatus, download_shipment_documents, write_index
    from bulkpo.shipments.track import TrackState, targets_from_file, track_bookings

    # The default index's folder may not exist yet: it is made before downloading.
    if index is not None or directory.is_dir():
        check_outputs(
            [Output("--index", index or directory / "index.csv", (".csv",), "the index")],
            {"--from": from_file},
        )
    wanted = [t.strip() for text in types for t in text.split(",") if t.strip()]
    ids = list(shipment_ids)
    with api_settings(ctx) as settings:
        if from_file is not None:
            targets = targets_from_file(from_file)
            direct = [t.shipment_id for t in targets if t.shipment_id is not None]
            others = [t for t in targets if t.shipment_id is None]
            ids += direct
            if others:
                for tracked in asyncio.run(track_bookings(settings, others)):
                    if tracked.shipment_id is not None:
                        ids.append(tracked.shipment_id)
                    else:
                        why = "not confirmed yet, no shipment"
                        if tracked.state is TrackState.FAILED:
                            why = tracked.message
                        click.echo(f"{tracked.target.label()}: skipped ({why})", err=True)
        if not ids:
            raise UsageError("name the shipments: SHIPMENT_ID... or --from FILE")
        directory.mkdir(parents=True, exist_ok=True)
        try:
            rows = asyncio.run(
                download_shipment_documents(
                    settings, ids, directory, types=wanted or None, overwrite=overwrite
                )
            )
        except KeyboardInterrupt:
            click.echo("Interrupted; run the same command again to fetch the rest.", err=True)
            raise SystemExit(ExitCode.INTERRUPTED) from None
    index_path = index or directory / "index.csv"
    write_index(index_path, rows)
    counts = {s: sum(r.status is s for r in rows) for s in DocumentStatus}
    for row in rows:
        if row.status is DocumentStatus.FAILED:
            click.echo(f"  {row.shipment_id} {row.document_id or ''}: {row.message}", err=True)
    click.echo(
        f"{len(rows)} documents: {counts[DocumentStatus.DOWNLOADED]} downloaded, "
        f"{counts[DocumentStatus.SKIPPED]} already there, {counts[DocumentStatus.FAILED]} "
        f"failed; index {index_path}"
    )
    if counts[DocumentStatus.FAILED]:
        raise SystemExit(ExitCode.ROW_FAILURES)


# ---------------------------------------------------------------- export shipments


@click.command("shipments")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Workbook to write (default shipments-<date>.xlsx).",
)
@click.option("--status", help="Shipment status, e.g. in_transit_to_arrival_port (f.status).")
@click.option("--transportation-mode", help="ocean, air, truck... (f.transportation_mode).")
@click.option("--updated-after", help="Updated after this date or date-time (f.updated_at.gt).")
@click.option("--updated-before", help="Updated before this (f.updated_at.lt).")
@click.option("--po-number", help="Shipments carrying this PO (f.purchase_order).")
@click.option("--sku", help="Shipments carrying this SKU (f.sku).")
@click.option("--container-number", help="Shipments with this container (f.container_number).")
@click.option(
    "--metadata",
    multiple=True,
    help="KEY=VALUE (f.metadata.KEY); repeatable, the same key repeated matches any value.",
)
@click.option(
    "--tz",
    help="Time zone of bare dates in --updated-* (default: this machine's), e.g. UTC.",
)
@sandbox_option
@click.pass_context
def shipments_export_command(
    ctx: click.Context,
    output: Path | None,
    status: str | None,
    transportation_mode: str | None,
    updated_after: str | None,
    updated_before: str | None,
    po_number: str | None,
    sku: str | None,
    container_number: str | None,
    metadata: tuple[str, ...],
    tz: str | None,
) -> None:
    """Export shipments to a workbook: one row per shipment with its ETD/ETA and
    status, a Legs sheet, a Milestones sheet, a Summary by status and mode, and a
    Query sheet recording the filters and the time of the run.

    Every filter is sent to the API (f.* parameters).

    Example:

        bulkpo export shipments --transportation-mode ocean --metadata po=PO-1001 -o ocean.xlsx
    """
    from bulkpo.purchase_orders.query import now_in, parse_moment, zone
    from bulkpo.sheets.outputs import Output, check_outputs
    from bulkpo.shipments.export import ShipmentQuery, export_shipments, parse_metadata

    tzinfo = zone(tz)

    def moment(value: str | None, option: str) -> dt.datetime | None:
        return None if value is None else parse_moment(value, tzinfo, option)

    query = ShipmentQuery(
        status=status,
        transportation_mode=transportation_mode,
        updated_after=moment(updated_after, "--updated-after"),
        updated_before=moment(updated_before, "--updated-before"),
        po_number=po_number,
        sku=sku,
        container_number=container_number,
        metadata=parse_metadata(metadata),
    )
    path = output or Path(f"shipments-{now_in(tzinfo):%Y-%m-%d}.xlsx")
    check_outputs([Output("-o", path, (".xlsx",), "the shipment export")], {})
    with api_settings(ctx) as settings:
        try:
            result: Any = asyncio.run(export_shipments(settings, query, path))
        except KeyboardInterrupt:
            click.echo(f"Interrupted; nothing was written to {path}.", err=True)
            raise SystemExit(ExitCode.INTERRUPTED) from None
    click.echo(
        f"Wrote {result.shipments} shipments ({result.legs} legs, "
        f"{result.milestones} milestones) to {result.path}"
    )

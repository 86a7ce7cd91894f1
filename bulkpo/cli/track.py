"""``bulkpo track`` and ``bulkpo documents``: where booked freight is, and its papers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from bulkpo.aio import download_documents, track
from bulkpo.cli.options import api_settings, echo_table, interrupted, sandbox_option
from bulkpo.errors import ExitCode, UsageError
from bulkpo.shipments.documents import DocumentStatus
from bulkpo.shipments.track import (
    TrackWait,
    display_zone,
    local_time,
    status_label,
    write_tracking,
    zone_label,
)

__all__ = ["documents_command", "track_command"]


# ---------------------------------------------------------------- track

_SHOWN = (
    ("Booking", "booking_name"), ("Booking Status", "booking_status"),
    ("Shipment", "shipment_id"), ("Shipment Status", "shipment_status"),
    ("POL", "pol"), ("POD", "pod"),
    ("ETD est.", "etd_estimated"), ("ETD actual", "etd_actual"),
    ("ETA est.", "eta_estimated"), ("ETA actual", "eta_actual"),
    ("Current Leg", "current_leg"), ("Latest Milestone", "milestone"), ("Note", "message"),
)  # fmt: skip
_STATUSES = {"booking_status", "shipment_status"}
_TIMES = {"etd_estimated", "etd_actual", "eta_estimated", "eta_actual"}
# Free text may be cut at a narrow terminal; names, ids, statuses and dates never are.
_FREE_TEXT = frozenset({"Current Leg", "Note"})


def _shown(row: object, key: str, tz: object) -> object:
    value = getattr(row, key)
    if key in _STATUSES:
        return status_label(value)
    if key in _TIMES:
        return local_time(value, tz)  # type: ignore[arg-type]
    return value


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
@click.option(
    "--tz",
    help="Time zone of the times shown and written (default: the timezone setting, "
    "else this machine's), e.g. Europe/Berlin.",
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
    tz: str | None,
    wait: bool,
    timeout: float,
    poll_interval: float,
) -> None:
    """Show where booked freight is: booking status, shipment, ETD/ETA, current leg
    and latest milestone, one row per booking.

    FILE is a bookings import's journal (.sqlite), its result report (.jsonl,
    .csv, .xlsx; only the rows that went through), a bookings workbook (Booking
    Name column) or a track -o output. Times are in --tz, to the minute.
    A booking Flexport has not confirmed yet shows "submitted — not
    confirmed yet, no shipment"; --wait polls until each has a shipment.

    Exit codes: 0 every row fetched, 1 some could not be fetched, 2 bad input,
    3 API unreachable or auth failure.

    Example:

        bulkpo track .bulkpo/journals/bookings-1a2b.sqlite -o tracking.xlsx

        bulkpo track --booking BK-2026-001 --wait --timeout 900
    """
    from bulkpo.sheets.formats import TRACKING
    from bulkpo.sheets.outputs import Output, check_outputs

    if output is not None:
        # Not even a track -o file is refreshed in place: FILE may be the user's workbook.
        check_outputs(
            [Output("-o", output, kind=TRACKING)],
            {"the input file": file},
        )
    if file is None and not bookings and not shipments:
        raise UsageError("name what to track: a FILE, --booking NAME or --shipment ID")

    def on_poll(waiting: int, pause: float) -> None:
        click.echo(f"{waiting} without a shipment yet; asking again in {pause:.0f}s", err=True)

    policy = TrackWait(timeout=timeout, interval=poll_interval) if wait else None
    with api_settings(ctx) as settings, interrupted("Interrupted."):
        tzinfo = display_zone(tz or settings.timezone)
        result = asyncio.run(
            track(
                file,
                bookings=bookings,
                shipments=shipments,
                settings=settings,
                wait=policy,
                on_poll=on_poll,
            )
        )
    rows = result.rows
    if result.left_out:
        click.echo(
            f"{result.left_out} {'row' if result.left_out == 1 else 'rows'} of {file} left "
            "out: not imported (Status invalid or failed), so nothing to track",
            err=True,
        )
    echo_table(
        [h for h, _ in _SHOWN],
        [[_shown(row, key, tzinfo) for _, key in _SHOWN] for row in rows],
        whole={h for h, _ in _SHOWN} - _FREE_TEXT,
    )
    click.echo(f"Times in {zone_label(tzinfo)}.", err=True)
    if output is not None:
        write_tracking(output, rows, tzinfo)
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
    from bulkpo.sheets.formats import DOCUMENTS_INDEX
    from bulkpo.sheets.outputs import Output, check_outputs

    # The default index's folder may not exist yet: it is made before downloading.
    if index is not None or directory.is_dir():
        check_outputs(
            [Output("--index", index or directory / "index.csv", kind=DOCUMENTS_INDEX)],
            {"--from": from_file},
        )
    wanted = [t.strip() for text in types for t in text.split(",") if t.strip()]
    if not shipment_ids and from_file is None:
        raise UsageError("name the shipments: SHIPMENT_ID... or --from FILE")
    with (
        api_settings(ctx) as settings,
        interrupted("Interrupted; run the same command again to fetch the rest."),
    ):
        result = asyncio.run(
            download_documents(
                shipment_ids,
                directory=directory,
                source=from_file,
                types=wanted or None,
                overwrite=overwrite,
                index=index,
                settings=settings,
                on_skipped=lambda line: click.echo(line, err=True),
            )
        )
    rows, index_path = result.rows, result.index
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

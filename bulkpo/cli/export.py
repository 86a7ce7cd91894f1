"""``bulkpo export purchase-orders`` and ``bulkpo export shipments``: filtered lists from
Flexport to Excel, csv or JSON lines."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import click

from bulkpo.aio import export_shipments
from bulkpo.cli.options import (
    api_settings,
    interrupted,
    pacing_options,
    progress_bar,
    sandbox_option,
)
from bulkpo.errors import OutputError
from bulkpo.purchase_orders.export import (
    ExportProgress,
    choose_columns,
    export_purchase_orders,
    output_path,
)
from bulkpo.purchase_orders.profiles import load_profile
from bulkpo.purchase_orders.query import build_query, merge_options, now_in, parse_moment, zone
from bulkpo.shipments.export import ShipmentQuery, parse_metadata

__all__ = ["export_group", "shipments_export_command"]


@click.group("export")
def export_group() -> None:
    """Export filtered lists from Flexport to Excel, csv or JSON lines.

    Example:

        bulkpo export purchase-orders --status open -o open-pos.xlsx
    """


@export_group.command("purchase-orders")
@click.option(
    "-o",
    "--output",
    help="File to write: .xlsx (default purchase-orders-<date>.xlsx), .csv or .jsonl. "
    "May use {month} and {date}, e.g. po-report-{month}.xlsx.",
)
@click.option(
    "--profile",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report profile (TOML): filters, columns, window, output name. Options override it.",
)
@click.option("--status", type=click.Choice(["open", "closed", "cancelled"]), help="f.status")
@click.option(
    "--archived/--not-archived",
    default=None,
    help="Only archived POs, or only active ones (f.archived_at.exists); default both.",
)
@click.option("--buyer-ref", help="Buyer entity ref (f.buyer_ref).")
@click.option("--seller-ref", help="Seller entity ref (f.seller_ref).")
@click.option(
    "--role", type=click.Choice(["buyer", "seller"]), help="Your company's role (f.role)."
)
@click.option("--shipment-id", type=int, help="POs on this shipment (f.shipment.id).")
@click.option("--name", help="PO number (f.name).")
@click.option("--created-after", help="Created after this date or date-time (f.created_at.gt).")
@click.option("--created-before", help="Created before this (f.created_at.lt).")
@click.option("--updated-after", help="Updated after this (f.updated_at.gt).")
@click.option("--updated-before", help="Updated before this (f.updated_at.lt).")
@click.option(
    "--month", help="Report window: POs created in this month, e.g. 2026-10 (created_at)."
)
@click.option(
    "--last-month", is_flag=True, help="Report window: POs created last month (created_at)."
)
@click.option(
    "--since", help="Report window: POs created in the last 30d, 12h, 2w, or since a date."
)
@click.option(
    "--tz",
    help="Time zone of bare dates and windows (default: this machine's), e.g. Europe/Berlin.",
)
@click.option(
    "--direction",
    type=click.Choice(["asc", "desc"]),
    help="Order by Flexport id, ascending (the API's default) or descending.",
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many POs.")
@click.option(
    "--columns",
    help="Columns to write, in order, comma-separated keys or headers "
    "(po_number,sku,quantity or metadata.<key>); default all.",
)
@pacing_options(
    rate_help="Requests per second (default from settings).",
    concurrency_help="Line-item requests in flight.",
)
@sandbox_option
@click.pass_context
def export_purchase_orders_cmd(
    ctx: click.Context,
    /,
    output: str | None,
    profile: Path | None,
    tz: str | None,
    columns: str | None,
    rate: float | None,
    concurrency: int | None,
    **filters: Any,
) -> None:
    """Export purchase orders, one row per line item, in the import layout.

    Every filter is sent to the API (f.* parameters). Dates without a time
    mean midnight in --tz (or the local zone); --month, --last-month and
    --since set the created-at bounds. The workbook has the POs (an Excel
    table that re-imports as it is), a Summary with a chart, and a Query
    sheet recording the filters and the time of the run.

    Example:

        bulkpo export purchase-orders --status open --last-month -o po-{month}.xlsx

        bulkpo export purchase-orders --profile samples/monthly-report.toml
    """
    from bulkpo.sheets.formats import EXPORT
    from bulkpo.sheets.outputs import Output, check_outputs

    saved = load_profile(profile) if profile is not None else None
    tzinfo = zone(tz or (saved.tz if saved else None))
    now = now_in(tzinfo)
    options = merge_options(saved.options if saved else {}, filters)
    query, window = build_query(options, now=now, tz=tzinfo)
    chosen = (
        choose_columns([c.strip() for c in columns.split(",") if c.strip()]) if columns else None
    )
    if chosen is None and saved is not None and saved.columns is not None:
        chosen = list(saved.columns)
    pattern = output or (saved.output if saved and saved.output else None)
    pattern = pattern or "purchase-orders-{date}.xlsx"
    month = window.month if window and window.month else now.strftime("%Y-%m")
    path = output_path(pattern, month=month, date=now.strftime("%Y-%m-%d"))
    check_outputs([Output("-o", path, kind=EXPORT)], {"the profile": profile})
    overrides = {"rate": rate, "concurrency": concurrency}
    with (
        api_settings(ctx, **overrides) as settings,
        interrupted(f"Interrupted; nothing was written to {path}."),
        progress_bar("Exporting POs") as bar,
    ):
        on_progress = None
        if bar is not None:

            def on_progress(done: ExportProgress) -> None:
                bar.update(done.pos, done.total, f"page {done.pages}, {done.rows} rows")

        try:
            result = asyncio.run(
                export_purchase_orders(
                    settings,
                    query,
                    path,
                    columns=chosen,
                    on_progress=on_progress,
                    profile=profile,
                )
            )
        except OSError as exc:  # the rows spooled beside the output: a full disk
            raise OutputError(path, exc.strerror or str(exc)) from exc
    click.echo(f"Wrote {result.pos} purchase orders ({result.rows} rows) to {result.path}")


@export_group.command("shipments")
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
    help="Time zone of bare dates in --updated-* and of the times written (default: the "
    "timezone setting, else this machine's), e.g. UTC.",
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
    from bulkpo.sheets.formats import SHIPMENTS_EXPORT
    from bulkpo.sheets.outputs import Output, check_outputs

    with api_settings(ctx) as settings:
        # --tz wins over the timezone setting, for reading --updated-* and writing times.
        tz = tz or settings.timezone
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
        check_outputs([Output("-o", path, kind=SHIPMENTS_EXPORT)], {})
        with interrupted(f"Interrupted; nothing was written to {path}."):
            settings = settings.model_copy(update={"timezone": tz})
            result = asyncio.run(export_shipments(path, settings=settings, query=query))
    click.echo(
        f"Wrote {result.shipments} shipments ({result.legs} legs, "
        f"{result.milestones} milestones) to {result.path}"
    )

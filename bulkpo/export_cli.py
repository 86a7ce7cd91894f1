"""The ``bulkpo export`` commands: parse options and profiles, call :mod:`bulkpo.purchase_orders`.

Registered by the lead in :mod:`bulkpo.cli` with ``cli.add_command(export_group)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from bulkpo.cli_options import api_settings, sandbox_option, show_progress
from bulkpo.errors import ExitCode

__all__ = ["export_group"]


@click.group("export")
def export_group() -> None:
    """Export filtered lists from Flexport to Excel, csv or JSON lines."""


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
@click.option("--rate", type=float, help="Requests per second (default from settings).")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Line-item requests in flight.")
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
    from bulkpo.errors import OutputError, UsageError
    from bulkpo.purchase_orders.export import choose_columns, export_purchase_orders, output_path
    from bulkpo.purchase_orders.profiles import load_profile
    from bulkpo.purchase_orders.query import build_query, merge_options, now_in, zone
    from bulkpo.sheets.outputs import Output, check_outputs

    if rate is not None and rate <= 0:
        raise UsageError(f"--rate {rate}: expected a positive number of requests per second")
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
    check_outputs([Output("-o", path)], {"the profile": profile})
    overrides = {"rate": rate, "concurrency": concurrency}
    with api_settings(ctx, **overrides) as settings, _progress() as on_progress:
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
        except KeyboardInterrupt:
            click.echo(f"Interrupted; nothing was written to {path}.", err=True)
            raise SystemExit(ExitCode.INTERRUPTED) from None
        except OSError as exc:  # the rows spooled beside the output: a full disk
            raise OutputError(path, exc.strerror or str(exc)) from exc
    click.echo(f"Wrote {result.pos} purchase orders ({result.rows} rows) to {result.path}")


@contextmanager
def _progress() -> Iterator[Callable[[Any], None] | None]:
    """Pages and POs done on stderr, only for a person at a terminal (not in pipes or CI)."""

    if not show_progress():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("Exporting POs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        transient=True,
    ) as bar:
        task = bar.add_task("export", total=None, detail="")

        def advance(progress: Any) -> None:
            bar.update(
                task,
                completed=progress.pos,
                total=progress.total,
                detail=f"page {progress.pages}, {progress.rows} rows",
            )

        yield advance

"""``bulkpo template``: a blank import template to fill in."""

from __future__ import annotations

from pathlib import Path

import click

from bulkpo.errors import UsageError
from bulkpo.sheets.template_writer import write_template_file

__all__ = ["template_command"]

KIND_CHOICE = click.Choice(["purchase-orders", "bookings", "network"])


@click.command("template")
@click.argument("kind", type=KIND_CHOICE)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: <kind>.xlsx or .csv in the working directory).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["xlsx", "csv"]),
    help="File format (default: from the -o extension, else xlsx).",
)
@click.option("--force", is_flag=True, help="Replace the file if it exists (else refused).")
def template_command(kind: str, output: Path | None, fmt: str | None, force: bool) -> None:
    """Write a blank import template with dropdowns, hints and an example row.

    An existing file is never replaced without --force: it may be a filled-in one.

    Example:

        bulkpo template purchase-orders -o my-pos.xlsx

    The network template (company entities and locations to create by ref) is a sheet
    to put in the same workbook as the POs that name them.
    """
    if fmt is None and output is not None and output.suffix.lower() not in (".xlsx", ".csv"):
        raise UsageError(f"-o {output}: the template format is xlsx or csv (use --format)")
    path = write_template_file(kind, output, fmt=fmt, force=force, option="-o")
    click.echo(f"Wrote {path}")

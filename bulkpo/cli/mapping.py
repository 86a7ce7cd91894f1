"""``bulkpo map``: write the column mapping bulkpo would use for a file, to edit and reuse."""

from __future__ import annotations

from pathlib import Path

import click

from bulkpo.cli.options import CliState
from bulkpo.config import load_settings
from bulkpo.errors import UsageError

__all__ = ["map_command"]


@click.command("map")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", help="Sheet to read (default: found by its headers).")
@click.option("--header-row", type=click.IntRange(min=1), help="The header row's number.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the mapping here (default: print it).",
)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
def map_command(
    file: Path, sheet: str | None, header_row: int | None, output: Path | None, force: bool
) -> None:
    """Write the mapping bulkpo would use for FILE as TOML.

    Every column it matched, every column it is unsure of (its best guess,
    commented) and every required field it could not find. Edit it, then use it
    with `--map` on validate and import, or keep it in bulkpo.toml as
    [mappings.<name>] (picked for files with the same headers).

    Example:

        bulkpo map sap_export.xlsx -o sap.toml && bulkpo validate sap_export.xlsx --map sap.toml
    """
    from bulkpo.imports import map_file

    state = click.get_current_context().ensure_object(CliState)
    settings = load_settings(state.config_file, **state.overrides)
    text = map_file(file, sheet=sheet, header_row=header_row, limits=settings.limits,
                    settings=settings)
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists() and not force:
        raise UsageError(f"{output} exists; give --force to replace it")
    output.write_text(text, encoding="utf-8")
    click.echo(f"Mapping written to {output}")

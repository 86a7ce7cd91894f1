"""``bulkpo ui``: the import as a local web page, for people who do not use a terminal."""

from __future__ import annotations

from pathlib import Path

import click

from bulkpo.cli.options import CliState, api_settings, sandbox_option, sandbox_target

__all__ = ["ui_command"]


@click.command("ui")
@click.option("--port", type=click.IntRange(0, 65535), default=0,
              help="Port on 127.0.0.1 (default: a free one).")
@click.option("--no-browser", is_flag=True, help="Print the address only; do not open it.")
@click.option(
    "--mappings", "mappings_dir", type=click.Path(file_okay=False, path_type=Path),
    default=Path("mappings"), show_default=True,
    help="Folder of the mapping files the page saves and offers (as `bulkpo map` writes).",
)
@sandbox_option
@click.pass_context
def ui_command(ctx: click.Context, port: int, no_browser: bool, mappings_dir: Path) -> None:
    """Open the import page: drop a file, check its columns, fix cells, import, download.

    The page listens on 127.0.0.1 only; the address printed holds a random key,
    and the page answers nobody without it. The API key stays here: the page
    never sees it. Stop it with Ctrl-C.

    Example:

        bulkpo ui --sandbox
    """
    from bulkpo.ui import UiConfig, serve

    def ready(url: str) -> None:
        click.echo(f"bulkpo ui: open {url}")
        click.echo("Stop it with Ctrl-C.")

    sandbox = ctx.ensure_object(CliState).sandbox
    with api_settings(ctx) as settings:
        config = UiConfig(settings=settings, workdir=Path(".bulkpo") / "ui",
                          mappings_dir=mappings_dir,
                          target=sandbox_target() if sandbox else None)
        serve(config, port=port, open_browser=not no_browser, on_ready=lambda s: ready(s.url))

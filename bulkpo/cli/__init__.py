"""The ``bulkpo`` command: the click group, its error mapping and the entry point.

Every command is a thin shell over a library function, the way sqlite-utils keeps
its CLI over its library: it parses, calls, prints. One module per command family:
:mod:`~bulkpo.cli.sandbox`, :mod:`~bulkpo.cli.templates`, :mod:`~bulkpo.cli.validate`,
:mod:`~bulkpo.cli.imports`, :mod:`~bulkpo.cli.export`, :mod:`~bulkpo.cli.track`,
:mod:`~bulkpo.cli.refs`, :mod:`~bulkpo.cli.ui`; what they share is in :mod:`~bulkpo.cli.options`.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from bulkpo import __version__
from bulkpo.cli.options import CliState
from bulkpo.errors import BulkpoError, ExitCode
from bulkpo.redact import redact

__all__ = ["BulkpoClickError", "CliState", "cli", "main", "run"]


class BulkpoClickError(click.ClickException):
    """A library error as click shows it: ``Error: <message>``, the error's exit code."""

    def __init__(self, error: BulkpoError) -> None:
        super().__init__(redact(str(error)))
        self.error = error

    @property
    def exit_code(self) -> int:  # type: ignore[override]  # click reads it per instance
        return int(self.error.exit_code)


class BulkpoGroup(click.Group):
    """The top-level group: a library error in any command reaches click as a
    ClickException, so click (and CliRunner) print it as they print their own."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BulkpoError as exc:
            raise BulkpoClickError(exc) from exc


@click.group(cls=BulkpoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="bulkpo")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (default: bulkpo.toml in the working directory, or $BULKPO_CONFIG).",
)
@click.option(
    "--sandbox",
    is_flag=True,
    help="Run against bulkpo's local Flexport sandbox (state in .bulkpo/sandbox.sqlite).",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, sandbox: bool) -> None:
    """Move purchase orders and bookings between spreadsheets and the Flexport API.

    The API key comes from FLEXPORT_API_KEY (or api_key_file in bulkpo.toml),
    never from a command argument.

    Example:

        bulkpo --sandbox import samples/purchase-orders.xlsx --report report.xlsx
    """
    state = ctx.ensure_object(CliState)
    state.config_file = config_file
    state.sandbox = state.sandbox or sandbox


# The command families register after the group exists; none imports this module.
from bulkpo.cli.export import export_group  # noqa: E402
from bulkpo.cli.imports import import_command  # noqa: E402
from bulkpo.cli.mapping import map_command  # noqa: E402
from bulkpo.cli.refs import refs_command  # noqa: E402
from bulkpo.cli.sandbox import sandbox_group  # noqa: E402
from bulkpo.cli.templates import template_command  # noqa: E402
from bulkpo.cli.track import documents_command, track_command  # noqa: E402
from bulkpo.cli.ui import ui_command  # noqa: E402
from bulkpo.cli.validate import validate_command  # noqa: E402

for _command in (
    sandbox_group,
    template_command,
    validate_command,
    map_command,
    import_command,
    refs_command,
    export_group,
    track_command,
    documents_command,
    ui_command,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Run the command; map errors to one clear line and an exit code."""
    try:
        code = cli.main(args=argv, prog_name="bulkpo", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return ExitCode.INTERRUPTED
    except BulkpoClickError as exc:
        exc.show()
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return ExitCode.BAD_INPUT
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except SystemExit as exc:  # a command's own exit status
        return int(exc.code or 0) if not isinstance(exc.code, str) else ExitCode.BAD_INPUT
    except BulkpoError as exc:  # raised outside a command: the group's own options
        click.echo(redact(f"Error: {exc}"), err=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug of ours: still one line unless asked for more
        if os.environ.get("BULKPO_DEBUG"):
            click.echo(redact(traceback.format_exc()), err=True, nl=False)
        click.echo(
            redact(
                f"Internal error: {type(exc).__name__}: {exc} "
                "(set BULKPO_DEBUG=1 to see the traceback, and please report it)"
            ),
            err=True,
        )
        return ExitCode.ROW_FAILURES
    return int(code) if isinstance(code, int) else ExitCode.SUCCESS


def run() -> None:
    """The console script ``bulkpo``."""
    sys.exit(main())

"""The ``bulkpo`` command: parse options, call the library, render the outcome.

Nothing here knows spreadsheets or wire formats; every command is a thin shell
over a library function, the way sqlite-utils keeps its CLI over its library.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from bulkpo import __version__
from bulkpo.config import Settings, load_settings
from bulkpo.errors import BulkpoError, ExitCode, UsageError

F = TypeVar("F", bound=Callable[..., Any])

SANDBOX_DB = Path(".bulkpo") / "sandbox.sqlite"


@dataclass
class CliState:
    """What the group's options decided, handed to every command."""

    config_file: Path | None = None
    sandbox: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)


def sandbox_option(fn: F) -> F:
    """``--sandbox`` on a command, same as the group's: run against a local sandbox."""

    def mark(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.ensure_object(CliState).sandbox = True
        return value

    return click.option(
        "--sandbox",
        is_flag=True,
        expose_value=False,
        callback=mark,
        help="Run against bulkpo's local Flexport sandbox (state in .bulkpo/sandbox.sqlite).",
    )(fn)


@contextlib.contextmanager
def api_settings(ctx: click.Context, **overrides: Any) -> Iterator[Settings]:
    """Settings for talking to the API; with --sandbox, a sandbox runs meanwhile."""
    state = ctx.ensure_object(CliState)
    merged = {**state.overrides, **overrides}
    if not state.sandbox:
        yield load_settings(state.config_file, **merged)
        return
    from bulkpo.sandbox import SandboxOptions, running_sandbox

    SANDBOX_DB.parent.mkdir(parents=True, exist_ok=True)
    with running_sandbox(SandboxOptions(db_path=SANDBOX_DB)) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXPORT_")}
        yield load_settings(
            state.config_file,
            env=env,
            **{**merged, "base_url": server.base_url, "api_key": server.api_key},
        )


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


# ---------------------------------------------------------------- sandbox


@cli.group()
def sandbox() -> None:
    """bulkpo's local Flexport look-alike, for trying bulkpo and for tests."""


@sandbox.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8787, show_default=True, type=int, help="Port (0 = any free).")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SANDBOX_DB,
    show_default=True,
    help="SQLite file holding the sandbox's state.",
)
@click.option("--rate-limit", type=float, help="Requests per second per key; beyond it 429.")
@click.option("--latency", "latency_ms", type=float, default=0.0, help="Added latency in ms.")
@click.option("--fault-rate", type=float, default=0.0, help="Share of requests answered 5xx.")
@click.option(
    "--drop-rate", type=float, default=0.0, help="Share of writes committed, then dropped."
)
@click.option("--seed", type=int, help="Seed for the sandbox's randomness.")
def sandbox_serve(
    host: str,
    port: int,
    db: Path,
    rate_limit: float | None,
    latency_ms: float,
    fault_rate: float,
    drop_rate: float,
    seed: int | None,
) -> None:
    """Serve the sandbox until Ctrl-C.

    It accepts the key in FLEXPORT_API_KEY when set, else the documented
    sandbox key (see README). Point bulkpo at it with FLEXPORT_BASE_URL.

    Example:

        bulkpo sandbox serve --port 8787 --rate-limit 50 --latency 100
    """
    from bulkpo.config import is_loopback
    from bulkpo.sandbox import DEFAULT_SANDBOX_KEY, SandboxOptions, serve

    if not is_loopback(host):
        raise UsageError(f"--host {host}: the sandbox binds only to loopback addresses")
    for name, share in (("--fault-rate", fault_rate), ("--drop-rate", drop_rate)):
        if not 0.0 <= share <= 1.0:
            raise UsageError(f"{name} {share}: expected a share between 0 and 1")
    db.parent.mkdir(parents=True, exist_ok=True)
    key = os.environ.get("FLEXPORT_API_KEY") or DEFAULT_SANDBOX_KEY
    click.echo(f"bulkpo sandbox on http://{host}:{port} (state in {db}); Ctrl-C stops it")
    click.echo(f"  export FLEXPORT_BASE_URL=http://{host}:{port}")
    serve(
        SandboxOptions(
            db_path=db,
            host=host,
            port=port,
            api_keys=(key,),
            rate_limit=rate_limit,
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            drop_rate=drop_rate,
            seed=seed,
        )
    )


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run the command; map errors to one clear line and an exit code."""
    try:
        cli.main(args=argv, prog_name="bulkpo", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return ExitCode.BAD_INPUT
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except BulkpoError as exc:
        click.echo(f"Error: {exc}", err=True)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug of ours: still one line unless asked for more
        if os.environ.get("BULKPO_DEBUG"):
            traceback.print_exc()
        click.echo(
            f"Internal error: {type(exc).__name__}: {exc} "
            "(set BULKPO_DEBUG=1 to see the traceback, and please report it)",
            err=True,
        )
        return ExitCode.ROW_FAILURES
    return ExitCode.SUCCESS


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()

"""What every command family shares: state, --sandbox, settings, progress, tables, Ctrl-C."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from bulkpo.aio import SANDBOX_DB, Sandbox
from bulkpo.config import Settings, find_config_file, load_settings
from bulkpo.errors import ExitCode, UsageError

__all__ = [
    "SANDBOX_DB",
    "CliState",
    "ProgressBar",
    "api_settings",
    "config_used",
    "echo_issues",
    "echo_table",
    "gc_paused",
    "input_options",
    "interrupted",
    "pacing_options",
    "progress_bar",
    "sandbox_option",
    "sandbox_target",
    "show_progress",
]

F = TypeVar("F", bound=Callable[..., Any])


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


def sandbox_target() -> str:
    """The journal's API target for a sandbox run: the sandbox's port changes every
    run, its state file is what it is."""
    return f"sandbox:{SANDBOX_DB.resolve()}"


def config_used(state: CliState) -> str | None:
    """The config file this command reads, as an absolute path (None: defaults only)."""
    path = state.config_file or find_config_file()
    return str(path.resolve()) if path is not None else None


@contextlib.contextmanager
def api_settings(ctx: click.Context, **overrides: Any) -> Iterator[Settings]:
    """Settings for talking to the API; with --sandbox, a sandbox runs meanwhile."""
    state = ctx.ensure_object(CliState)
    merged = {**state.overrides, **overrides}
    if not state.sandbox:
        yield _checked(load_settings(state.config_file, **merged))
        return
    # The sandbox has its own URL and key: the user's FLEXPORT_* must not leak into it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXPORT_")}
    with Sandbox(SANDBOX_DB, base=load_settings(state.config_file, env=env, **merged)) as box:
        yield _checked(box.settings)


def _checked(settings: Settings) -> Settings:
    """Settings whose URL and key are fit to use: a bad key stops the command at once,
    not after the input was read and reported on."""
    settings.check_transport()
    settings.check_auth()
    return settings


# ---------------------------------------------------------------- shared options

DATE_ORDER = click.Choice(["dmy", "mdy"])


def input_options(fn: F) -> F:
    """Options every command reading an input file shares."""
    fn = click.option(
        "--date-order",
        type=DATE_ORDER,
        help="How to read text dates like 03/04/2026: dmy or mdy (asked when the file "
        "does not tell).",
    )(fn)
    fn = click.option("--sheet", help="Sheet to read (default: found by its headers).")(fn)
    fn = click.option(
        "--decimal-comma/--decimal-point",
        "decimal_comma",
        default=None,
        help="How to read numbers like 1,250: --decimal-comma (1.25) or --decimal-point "
        "(1250); without either the file's other numbers tell, else a question.",
    )(fn)
    return fn


def mapping_options(fn: F) -> F:
    """``--map``, ``--header-row`` and ``--headers``: how an ERP export's columns are read."""
    fn = click.option(
        "--headers", "headers_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A file of PO headers (EKKO, D365 headers) joined to these lines on the PO number.",
    )(fn)
    fn = click.option(
        "--header-row", type=click.IntRange(min=1),
        help="The header row's number (default: the row naming the most required columns).",
    )(fn)
    fn = click.option(
        "--map", "map_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="A mapping file (written by `bulkpo map`): which column is which field.",
    )(fn)
    return fn


def _positive_rate(_ctx: click.Context, _param: click.Parameter, value: float | None) -> Any:
    if value is not None and value <= 0:
        raise UsageError(f"--rate {value}: expected a positive number of requests per second")
    return value


def pacing_options(rate_help: str, concurrency_help: str) -> Callable[[F], F]:
    """``--rate`` (positive requests per second) and ``--concurrency`` (1 to 64)."""

    def decorate(fn: F) -> F:
        fn = click.option("--concurrency", type=click.IntRange(1, 64), help=concurrency_help)(fn)
        fn = click.option("--rate", type=float, callback=_positive_rate, help=rate_help)(fn)
        return fn

    return decorate


# ---------------------------------------------------------------- reading policy


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector off while a sheet is read and validated, and
    freeze what was built.

    The library pauses the collector for the length of each read (:mod:`bulkpo.collector`);
    freezing is a CLI-only policy: the command's process does nothing else, so freezing
    what was built is safe here, which a library must not do to its host program.
    Reading and validating allocate a few objects per cell and keep most of them;
    the collector's passes over that growing heap cost more than the work itself
    (ARCHITECTURE §8). Nothing built under the pause forms reference cycles, so
    reference counting still frees all garbage at once.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Re-enabled as is, the collector's next pass would trace every object made
        # here (0.15 s for 100,000 validated rows), and each later full pass would
        # again for as long as the POs are kept. Frozen, they are left out of all
        # passes; they hold no cycles, so reference counting still frees them.
        gc.freeze()
        if was_enabled:
            gc.enable()


# ---------------------------------------------------------------- output


@contextlib.contextmanager
def interrupted(message: str) -> Iterator[None]:
    """Ctrl-C in the block: say ``message`` (what was kept, how to go on) and exit 130."""
    try:
        yield
    except KeyboardInterrupt:
        click.echo(message, err=True)
        raise SystemExit(ExitCode.INTERRUPTED) from None


def echo_issues(issues: Sequence[Any], limit: int = 10, *, err: bool = False) -> None:
    """The first ``limit`` issues, one a line, and how many more the report holds."""
    for issue in issues[:limit]:
        click.echo(f"  {issue.severity.value}: {issue}", err=err)
    if len(issues) > limit:
        click.echo(f"  ... and {len(issues) - limit} more (see the report)", err=err)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # A naive time is already the reader's wall clock (see shipments.track.local_time).
        moment = value.astimezone(dt.UTC) if value.tzinfo is not None else value
        return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def rich_table(
    headers: Sequence[str], cells: Sequence[Sequence[str]], whole: Collection[str] = ()
) -> Any:
    """A rich table of text cells; the columns headed in ``whole`` (names, ids, dates)
    are never cut or wrapped, the others wrap or shrink to fit the terminal."""
    from rich.table import Table

    table = Table(show_lines=False)
    for i, header in enumerate(headers):
        if header in whole:
            widest = max([len(header), *(len(row[i]) for row in cells)])
            table.add_column(header, no_wrap=True, min_width=widest)
        else:
            table.add_column(header, no_wrap=True, overflow="ellipsis", max_width=40)
    for row in cells:
        table.add_row(*row)
    return table


def echo_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    rich_at_terminal: bool = True,
    whole: Collection[str] = (),
) -> None:
    """Rows as aligned columns on stdout; a rich table instead for a person at a terminal
    when ``rich_at_terminal`` (``whole``: headers of columns never cut, see :func:`rich_table`)."""
    cells = [[_cell(v) for v in row] for row in rows]
    if rich_at_terminal and sys.stdout.isatty():
        from rich.console import Console

        Console().print(rich_table(headers, cells, whole))
        return
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def show_progress() -> bool:
    """A progress bar only for a person at a terminal: quiet in pipes and CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


class ProgressBar:
    """One task on a rich progress display: ``advance`` by units done, or ``update``
    with a count, a total found on the way and a detail text."""

    def __init__(self, bar: Any, task: Any, rate: bool) -> None:
        self._bar = bar
        self._task = task
        self._rate = rate

    def advance(self, n: int) -> None:
        self._bar.advance(self._task, n)
        if self._rate:
            speed = self._bar.tasks[0].speed
            self._bar.update(self._task, detail=f"{speed:.1f}/s" if speed else "")

    def update(self, completed: int, total: int | None, detail: str) -> None:
        self._bar.update(self._task, completed=completed, total=total, detail=detail)


@contextlib.contextmanager
def progress_bar(label: str, total: int | None = None) -> Iterator[ProgressBar | None]:
    """Done/total, rate and ETA on stderr for a person at a terminal; None elsewhere
    (and for nothing to do). Without ``total``, the work says it through ``update``."""
    if not show_progress() or total == 0:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=total, detail="")
        yield ProgressBar(bar, task, rate=total is not None)

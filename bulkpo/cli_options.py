"""What every command family shares: the group's state, --sandbox, settings, progress.

Kept apart from :mod:`bulkpo.cli` so that the command families in their own
modules (export, track) can use it without importing the CLI they are part of.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from bulkpo.config import Settings, load_settings

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
        yield _checked(load_settings(state.config_file, **merged))
        return
    from bulkpo.sandbox import SandboxOptions, running_sandbox

    SANDBOX_DB.parent.mkdir(parents=True, exist_ok=True)
    with running_sandbox(SandboxOptions(db_path=SANDBOX_DB)) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXPORT_")}
        yield _checked(
            load_settings(
                state.config_file,
                env=env,
                **{**merged, "base_url": server.base_url, "api_key": server.api_key},
            )
        )


def _checked(settings: Settings) -> Settings:
    """Settings whose URL and key are fit to use: a bad key stops the command at once,
    not after the input was read and reported on."""
    settings.check_transport()
    settings.key()
    return settings


def show_progress() -> bool:
    """A progress bar only for a person at a terminal: quiet in pipes and CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextlib.contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``; draws done/total, rate and ETA on a terminal."""
    if not show_progress() or total == 0:
        yield lambda _n: None
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
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=total, rate="")

        def advance(n: int) -> None:
            bar.advance(task, n)
            speed = bar.tasks[0].speed
            bar.update(task, rate=f"{speed:.1f}/s" if speed else "")

        yield advance

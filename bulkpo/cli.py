"""The ``bulkpo`` command: parse options, call the library, render the outcome.

Nothing here knows spreadsheets or wire formats; every command is a thin shell
over a library function, the way sqlite-utils keeps its CLI over its library.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bulkpo import __version__
from bulkpo.cli_options import (
    SANDBOX_DB,
    CliState,
    F,
    api_settings,
    progress_bar,
    sandbox_option,
)
from bulkpo.config import Settings, find_config_file, load_settings
from bulkpo.errors import BulkpoError, ExitCode, UsageError
from bulkpo.redact import redact

if TYPE_CHECKING:  # imported when used: the CLI starts without the sheets package
    from bulkpo.sheets.outputs import Output


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

    def ready(server: Any) -> None:
        click.echo(f"bulkpo sandbox on {server.base_url} (state in {db}); Ctrl-C stops it")
        click.echo(f"  export FLEXPORT_BASE_URL={server.base_url}")

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
        ),
        on_ready=ready,
    )


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``6h``, ``3d`` or plain seconds -> seconds."""
    text = text.strip().lower()
    unit = DURATION_UNITS.get(text[-1:]) if text else None
    number = text[:-1] if unit else text
    try:
        seconds = float(number) * (unit or 1)
    except ValueError:
        raise UsageError(
            f"{text!r} is no duration: use e.g. 90s, 15m, 6h or 3d"
        ) from None
    if seconds <= 0:
        raise UsageError(f"{text!r}: the sandbox clock only moves forward")
    return seconds


@sandbox.command("advance")
@click.argument("duration")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SANDBOX_DB,
    show_default=True,
    help="SQLite file holding the sandbox's state.",
)
def sandbox_advance(duration: str, db: Path) -> None:
    """Move the sandbox's clock forward: bookings become shipments, which then sail.

    A booking is confirmed 30 sandbox seconds after it was made; its shipment
    then moves one status a sandbox day (departing on day 3, arriving day 4).

    Example:

        bulkpo sandbox advance 3d && bulkpo --sandbox track result.jsonl
    """
    import datetime as dt

    from bulkpo.sandbox.store import Store

    seconds = parse_duration(duration)
    if not db.is_file():
        raise UsageError(f"{db}: no sandbox state here yet (run a command with --sandbox first)")
    store = Store(db, seed=None, shipment_delay_s=30.0)
    try:
        now = store.advance(seconds)
    finally:
        store.close()
    when = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"Sandbox clock moved {duration} forward: it is now {when}")


# ---------------------------------------------------------------- templates

KIND_CHOICE = click.Choice(["purchase-orders", "bookings"])


@cli.command("template")
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
def template_cmd(kind: str, output: Path | None, fmt: str | None, force: bool) -> None:
    """Write a blank import template with dropdowns, hints and an example row.

    An existing file is never replaced without --force: it may be a filled-in one.

    Example:

        bulkpo template purchase-orders -o my-pos.xlsx
    """
    from bulkpo.sheets.template_writer import write_template_file

    if fmt is None and output is not None and output.suffix.lower() not in (".xlsx", ".csv"):
        raise UsageError(f"-o {output}: the template format is xlsx or csv (use --format)")
    path = write_template_file(kind, output, fmt=fmt, force=force, option="-o")
    click.echo(f"Wrote {path}")


# ---------------------------------------------------------------- validate

DATE_ORDER = click.Choice(["dmy", "mdy"])


def input_options(fn: F) -> F:
    """Options every command reading an input file shares."""
    fn = click.option(
        "--date-order",
        type=DATE_ORDER,
        help="How to read text dates like 03/04/2026: dmy or mdy (else a warning).",
    )(fn)
    fn = click.option("--sheet", help="Sheet to read (default: found by its headers).")(fn)
    return fn


def echo_issues(issues: list[Any], limit: int = 10, *, err: bool = False) -> None:
    for issue in issues[:limit]:
        click.echo(f"  {issue.severity.value}: {issue}", err=err)
    if len(issues) > limit:
        click.echo(f"  ... and {len(issues) - limit} more (see the report)", err=err)


@cli.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@input_options
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a copy of the workbook with bad cells marked (.xlsx, .csv or .jsonl).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Summary on stdout as text or JSON.",
)
def validate_cmd(
    file: Path, sheet: str | None, date_order: str | None, report: Path | None, fmt: str
) -> None:
    """Check a purchase-order file without sending anything.

    Every problem names its cell (Purchase Orders!D7), the value, what was
    expected and a fix where one is known. Exit 0 when clean (warnings alone
    do not fail), 1 with errors.

    Example:

        bulkpo validate orders.xlsx --report checked.xlsx
    """
    import json

    from bulkpo.imports import load_purchase_orders, validation_row_results
    from bulkpo.sheets.outputs import REPORT_SUFFIXES, Output, check_outputs
    from bulkpo.table import Severity

    state = click.get_current_context().ensure_object(CliState)
    limits = load_settings(state.config_file, **state.overrides).limits
    if report is not None:
        check_outputs(
            [Output("--report", report, REPORT_SUFFIXES, "a report")], {"the input file": file}
        )
    table, validation = load_purchase_orders(
        file, sheet=sheet, date_order=date_order, limits=limits  # type: ignore[arg-type]
    )
    errors = [i for i in validation.issues if i.severity is Severity.ERROR]
    warnings = [i for i in validation.issues if i.severity is Severity.WARNING]
    lines = sum(len(po.lines) for po in validation.purchase_orders)
    if report is not None:
        from bulkpo.sheets.report_writer import write_result_report

        results = validation_row_results(table, validation)
        write_result_report(report, table, results, title=f"bulkpo validate {file.name}")
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "file": str(file),
                    "sheet": table.sheet,
                    "rows": len(table.rows),
                    "purchase_orders": len(validation.purchase_orders),
                    "lines": lines,
                    "errors": len(errors),
                    "warnings": len(warnings),
                    "issues": [
                        {
                            "cell": str(i.ref) if i.ref else None,
                            "header": i.header,
                            "value": i.value,
                            "code": i.code,
                            "severity": i.severity.value,
                            "message": i.message,
                            "suggestion": i.suggestion,
                        }
                        for i in validation.issues
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo(
            f"{file.name} [{table.sheet}]: {len(table.rows)} rows, "
            f"{len(validation.purchase_orders)} valid POs with {lines} lines; "
            f"{len(errors)} errors, {len(warnings)} warnings"
        )
        echo_issues(errors + warnings)
        if report is not None:
            click.echo(f"Report: {report}")
    if errors:
        raise SystemExit(ExitCode.ROW_FAILURES)


# ---------------------------------------------------------------- import


def import_outputs(
    report: Path | None, errors: Path | None, dry_run_output: Path | None, kinds: int = 1
) -> list[Output]:
    """The files an import writes, as :func:`check_outputs` checks them; with two sheet
    kinds, the bookings' own report and errors file too."""
    from bulkpo.sheets.outputs import ERRORS_SUFFIXES, REPORT_SUFFIXES, Output

    outputs: list[Output] = []
    for suffix in ("", "-bookings")[:kinds]:
        for option, path, suffixes, what in (
            ("--report", report, REPORT_SUFFIXES, "a result report"),
            ("--errors", errors, ERRORS_SUFFIXES, "an errors file"),
        ):
            named = kind_path(path, suffix)
            if named is not None:
                outputs.append(Output(option, named, suffixes, what))
    if dry_run_output is not None:
        outputs.append(Output("--dry-run-output", dry_run_output))
    return outputs


def write_outputs(outcome: Any, report: Path | None, errors: Path | None, title: str) -> bool:
    """Write the report and the errors file; False when one could not be written (said
    on stderr): the other is still written."""
    from bulkpo.errors import OutputError
    from bulkpo.sheets.report_writer import write_errors_file, write_result_report

    written = True
    if report is not None:
        try:
            write_result_report(report, outcome.table, outcome.results, title=title)
            click.echo(f"Report: {report}")
        except OutputError as exc:
            click.echo(f"Error: {exc}", err=True)
            written = False
    if errors is not None:
        try:
            count = write_errors_file(errors, outcome.table, outcome.results)
            click.echo(f"Rows to fix and re-upload: {count} in {errors}")
        except OutputError as exc:
            click.echo(f"Error: {exc}", err=True)
            written = False
    return written


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@input_options
@click.option(
    "--on-existing",
    type=click.Choice(["skip", "update", "fail"]),
    default="skip",
    show_default=True,
    help="A PO whose name Flexport holds already: leave it, update what differs, or fail.",
)
@click.option("--dry-run", is_flag=True, help="Send nothing; write the exact request bodies.")
@click.option(
    "--dry-run-output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where --dry-run writes its JSON lines (default: stdout).",
)
@click.option("--rate", type=float, help="Requests per second (default 5, from settings).")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Requests in flight at most.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Result report: a copy of the workbook with Status columns (.xlsx, .csv, .jsonl).",
)
@click.option(
    "--errors",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Only the rows that did not go through, in the input's layout, to fix and re-upload.",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Run journal (SQLite; default .bulkpo/journals/<file>-<hash>.sqlite).",
)
@click.option("--resume", is_flag=True, help="Continue the journal's last run after a stop.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@sandbox_option
@click.pass_context
def import_cmd(
    ctx: click.Context,
    file: Path,
    sheet: str | None,
    date_order: str | None,
    on_existing: str,
    dry_run: bool,
    dry_run_output: Path | None,
    rate: float | None,
    concurrency: int | None,
    report: Path | None,
    errors: Path | None,
    journal: Path | None,
    resume: bool,
    yes: bool,
) -> None:
    """Create purchase orders and bookings from a spreadsheet, exactly once.

    The file may hold a Purchase Orders sheet, a Bookings sheet, or both (POs
    are sent first). Rows are validated first; invalid rows are never sent. A
    booking's blank shipper, consignee and location refs come from [bookings]
    in bulkpo.toml, else from the PO it names; once created, every line of its
    POs is linked to it. Every data row ends with one status: created, updated,
    unchanged, skipped, invalid or failed. A killed run is resumed with
    --resume and never creates anything twice.

    With both sheets, --report and --errors write the POs' file and a second
    one for the bookings, named with -bookings (result.xlsx, result-bookings.xlsx).

    No output may name the input or another output; each is checked (extension,
    folder) before anything is sent, and written whole or not at all.

    Exit codes: 0 all rows went through, 1 some invalid or failed, 2 bad
    input or an output that could not be written (re-run with --resume to write
    it without sending), 3 API unreachable or auth failure, 130 interrupted.

    Example:

        bulkpo import orders.xlsx --report result.xlsx --errors fix-me.xlsx
    """
    import asyncio

    from bulkpo.columns import Kind
    from bulkpo.engine.exactly_once import OnExisting
    from bulkpo.engine.journal import journal_lock
    from bulkpo.imports import (
        ImportOptions,
        default_journal_path,
        dry_run_bodies,
        dump_jsonl,
        import_workbook,
        load_workbook,
    )
    from bulkpo.sheets.outputs import atomic_path, check_outputs

    if rate is not None and rate <= 0:
        raise UsageError(f"--rate {rate}: expected a positive number of requests per second")
    inputs = {"the input file": file, "the journal": journal}
    check_outputs(import_outputs(report, errors, dry_run_output), inputs)
    state = ctx.ensure_object(CliState)
    journal_path = journal or default_journal_path(file)
    run_options: dict[str, Any] = {
        "date_order": date_order, "sheet": sheet, "on_existing": on_existing, "rate": rate,
        "concurrency": concurrency, "sandbox": state.sandbox, "config": _config_used(state),
    }
    if not dry_run:
        # Held until the command ends, so a second run fails before reading anything.
        ctx.with_resource(journal_lock(journal_path))
        if resume:
            run_options = _resumed(ctx, state, journal_path, run_options)
            date_order, sheet, on_existing = (
                run_options["date_order"], run_options["sheet"], run_options["on_existing"]
            )
            rate, concurrency = run_options["rate"], run_options["concurrency"]
    settings = load_settings(state.config_file, **state.overrides)
    defaults = settings.bookings
    workbook = load_workbook(
        file,
        sheet=sheet,
        date_order=date_order,  # type: ignore[arg-type]
        defaults=defaults,
        limits=settings.limits,
    )
    sheets = [part for part in (workbook.purchase_orders, workbook.bookings) if part is not None]
    if len(sheets) > 1:  # the bookings' own files are known only now
        check_outputs(import_outputs(report, errors, dry_run_output, kinds=2), inputs)
    if dry_run:
        bodies = (record for _t, v in sheets for record in dry_run_bodies(v, defaults))
        if dry_run_output is not None:
            with atomic_path(dry_run_output) as tmp:
                n = dump_jsonl(bodies, tmp)
            click.echo(f"Dry run: {n} request bodies in {dry_run_output}; nothing sent")
        else:
            import json

            for record in bodies:
                click.echo(json.dumps(record, ensure_ascii=False, default=str))
        # Messages go to stderr: stdout carries the JSON lines only.
        invalid = sum(len(v.invalid_rows) for _t, v in sheets)
        if invalid:
            click.echo(f"{invalid} rows are invalid and would not be sent", err=True)
            echo_issues(
                [i for _t, v in sheets for i in v.issues if i.severity.value == "error"],
                err=True,
            )
        raise SystemExit(ExitCode.ROW_FAILURES if invalid else ExitCode.SUCCESS)

    options = ImportOptions(
        on_existing=OnExisting(on_existing),
        rate=rate,
        concurrency=concurrency,
        journal=journal_path,
        resume=resume,
        # The sandbox's port changes every run; its state file is what it is.
        target=f"sandbox:{SANDBOX_DB.resolve()}" if state.sandbox else None,
        recorded=run_options,
    )
    nouns = {Kind.PURCHASE_ORDERS: "POs", Kind.BOOKINGS: "bookings"}
    counts = {
        kind: len(v.purchase_orders) + len(v.bookings)
        for kind, (_t, v) in zip(workbook.kinds, sheets, strict=True)
    }
    with api_settings(ctx) as settings:
        total = sum(counts.values())
        if not yes and sys.stdin.isatty() and not state.sandbox:
            what = " and ".join(
                f"{n} {'purchase orders' if k is Kind.PURCHASE_ORDERS else 'bookings'}"
                for k, n in counts.items()
            )
            click.confirm(f"Send {what} to {settings.base_url}?", abort=True, err=True)
        for kind, (table, validation) in zip(workbook.kinds, sheets, strict=True):
            click.echo(
                f"{file.name} [{table.sheet}]: {len(table.rows)} rows, {counts[kind]} valid "
                f"{nouns[kind]}, {len(validation.invalid_rows)} invalid rows",
                err=True,
            )
        resume_hint = resume_command(file, journal_path, run_options, report, errors)
        label = "Importing " + " and ".join(nouns[k] for k in workbook.kinds)
        try:
            with progress_bar(total, label) as advance:
                outcome = asyncio.run(
                    import_workbook(
                        workbook, settings, options, on_result=lambda _r: advance(1)
                    )
                )
        except KeyboardInterrupt:
            click.echo(
                f"Interrupted; the journal is saved. Resume with:\n  {resume_hint}", err=True
            )
            raise SystemExit(ExitCode.INTERRUPTED) from None
    combined = len(outcome.parts) > 1
    titles = {Kind.PURCHASE_ORDERS: "Purchase orders", Kind.BOOKINGS: "Bookings"}
    for kind, part in outcome.parts:
        line = part.summary.line()
        click.echo(f"{titles[kind]}: {line}" if combined else line)
    stats = outcome.stats
    assert stats is not None, "a run always counts its requests"
    for notice in stats.notices:
        click.echo(f"Note: {notice}", err=True)
    click.echo(
        f"{stats.requests} requests in {stats.elapsed:.1f}s ({stats.achieved_rate:.1f}/s), "
        f"{stats.retries} retries, {stats.throttled} throttled",
        err=True,
    )
    written = True
    for kind, part in outcome.parts:
        suffix = "-bookings" if combined and kind is Kind.BOOKINGS else ""
        written &= write_outputs(
            part,
            kind_path(report, suffix),
            kind_path(errors, suffix),
            title=f"bulkpo import {file.name}",
        )
    if outcome.stopped is None and not written:
        # Every unit is settled in the journal, so a resumed run sends nothing.
        click.echo(
            f"Every row's result is kept in the journal {journal_path}. Once the problem "
            "is fixed, run the same command again with --resume: it writes the files "
            "without sending anything.",
            err=True,
        )
        raise SystemExit(ExitCode.BAD_INPUT)
    if outcome.stopped is not None:
        click.echo(f"Error: stopped: {outcome.stopped}", err=True)
        click.echo(f"Fix it, then resume with:\n  {resume_hint}", err=True)
        raise SystemExit(ExitCode.API_UNAVAILABLE)
    if not outcome.all_went_through:
        raise SystemExit(ExitCode.ROW_FAILURES)


def _config_used(state: CliState) -> str | None:
    path = state.config_file or find_config_file()
    return str(path.resolve()) if path is not None else None


def _resumed(
    ctx: click.Context, state: CliState, journal: Path, given: dict[str, Any]
) -> dict[str, Any]:
    """The run's options as its journal recorded them; a given one that differs is refused."""
    from bulkpo.imports import resumed_options, stored_run_options

    explicit = {
        name
        for name in ("date_order", "sheet", "on_existing", "rate", "concurrency")
        if ctx.get_parameter_source(name) is click.core.ParameterSource.COMMANDLINE
    }
    explicit |= {name for name in ("sandbox",) if state.sandbox}
    explicit |= {name for name in ("config",) if state.config_file is not None}
    merged = resumed_options(stored_run_options(journal), given, explicit)
    state.sandbox = bool(merged["sandbox"])
    state.config_file = Path(merged["config"]) if merged["config"] else None
    return merged


def resume_command(
    file: Path, journal: Path, options: dict[str, Any], report: Path | None, errors: Path | None
) -> str:
    """The command that resumes this run exactly as it was started."""
    import shlex

    args = ["bulkpo"] + (["--config", options["config"]] if options["config"] else [])
    args += ["import", str(file), "--resume", "--journal", str(journal)]
    args += ["--sandbox"] if options["sandbox"] else []
    for name in ("date_order", "sheet", "on_existing", "rate", "concurrency"):
        if options[name] is not None:
            args += ["--" + name.replace("_", "-"), str(options[name])]
    for flag, path in (("--report", report), ("--errors", errors)):
        args += [flag, str(path)] if path is not None else []
    return shlex.join(args)


def kind_path(path: Path | None, suffix: str) -> Path | None:
    """``result.xlsx`` -> ``result-bookings.xlsx``: one report file per sheet kind."""
    if path is None or not suffix:
        return path
    return path.with_name(f"{path.stem}{suffix}{path.suffix}")


# ---------------------------------------------------------------- refs


@cli.command("refs")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people or JSON for machines.",
)
@sandbox_option
@click.pass_context
def refs_cmd(ctx: click.Context, fmt: str) -> None:
    """List the company entity and location refs bookings can name.

    Shipper and consignee refs are company entities; origin and destination
    location refs are network locations (from /network/company_entities and
    /network/locations). Put the ones you use on every booking under
    [bookings] in bulkpo.toml.

    Example:

        bulkpo --sandbox refs --format json
    """
    import asyncio
    import dataclasses
    import json

    from bulkpo.bookings import network_refs
    from bulkpo.engine.pacing import caller_for
    from bulkpo.flexport.client import FlexportClient

    async def fetch(settings: Settings) -> list[Any]:
        async with FlexportClient(settings) as api:
            return await network_refs(api, caller_for(settings))

    with api_settings(ctx) as settings:
        refs = asyncio.run(fetch(settings))
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(r) for r in refs], ensure_ascii=False, indent=2))
        return
    header = ("kind", "ref", "name", "city", "country")
    rows = [header] + [(r.kind, r.ref, r.name, r.city, r.country) for r in refs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


# ---------------------------------------------------------------- other command families

from bulkpo.export_cli import export_group  # noqa: E402  (after the helpers it uses)
from bulkpo.track_cli import (  # noqa: E402
    documents_command,
    shipments_export_command,
    track_command,
)

cli.add_command(export_group)
export_group.add_command(shipments_export_command)
cli.add_command(track_command)
cli.add_command(documents_command)


# ---------------------------------------------------------------- entry point


def main(argv: list[str] | None = None) -> int:
    """Run the command; map errors to one clear line and an exit code."""
    try:
        code = cli.main(args=argv, prog_name="bulkpo", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Interrupted.", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        exc.show()
        return ExitCode.BAD_INPUT
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except SystemExit as exc:  # a command's own exit status
        return int(exc.code or 0) if not isinstance(exc.code, str) else ExitCode.BAD_INPUT
    except BulkpoError as exc:
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
    sys.exit(main())


if __name__ == "__main__":
    run()

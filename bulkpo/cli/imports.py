"""``bulkpo import``: create purchase orders and bookings from a spreadsheet, exactly once."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bulkpo.cli.options import (
    CliState,
    api_settings,
    config_used,
    echo_issues,
    gc_paused,
    input_options,
    interrupted,
    mapping_options,
    pacing_options,
    progress_bar,
    sandbox_option,
    sandbox_target,
)
from bulkpo.config import load_settings
from bulkpo.errors import ExitCode
from bulkpo.issues import Issue, Severity

if TYPE_CHECKING:  # imported when used: the CLI starts without the sheets package
    from bulkpo.sheets.outputs import Output

__all__ = ["import_command", "kind_path", "kind_suffix", "resume_command"]


# By the kinds' values: the CLI starts without importing the column specs.
KIND_SUFFIXES = {"purchase-orders": "", "bookings": "-bookings", "network": "-network"}
"""With several sheets, each kind's report and errors files are named with its suffix."""


def kind_suffix(kind: str, combined: bool) -> str:
    """The file-name suffix of a kind's report (none for a file of one sheet)."""
    return KIND_SUFFIXES[kind] if combined else ""


def import_outputs(
    report: Path | None, errors: Path | None, dry_run_output: Path | None, kinds: int = 1,
    *, suffixes: Sequence[str] | None = None,
) -> list[Output]:
    """The files an import writes, as :func:`check_outputs` checks them; with two sheet
    kinds, the bookings' own report and errors file too (``suffixes``: each sheet's)."""
    from bulkpo.sheets.formats import DRY_RUN, ERRORS, REPORT
    from bulkpo.sheets.outputs import Output

    outputs: list[Output] = []
    for suffix in suffixes if suffixes is not None else ("", "-bookings")[:kinds]:
        for option, path, kind in (("--report", report, REPORT), ("--errors", errors, ERRORS)):
            named = kind_path(path, suffix)
            if named is not None:
                outputs.append(Output(option, named, kind=kind))
    if dry_run_output is not None:
        outputs.append(Output("--dry-run-output", dry_run_output, kind=DRY_RUN))
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


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@input_options
@mapping_options
@click.option(
    "--on-existing",
    type=click.Choice(["skip", "update", "fail"]),
    default="skip",
    show_default=True,
    help="A PO, booking or network ref Flexport holds already with other values: leave it, "
    "update what differs, or fail.",
)
@click.option("--dry-run", is_flag=True, help="Send nothing; write the exact request bodies.")
@click.option(
    "--dry-run-output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where --dry-run writes its JSON lines (default: stdout).",
)
@pacing_options(
    rate_help="Requests per second (default 5, from settings).",
    concurrency_help="Requests in flight at most.",
)
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
def import_command(
    ctx: click.Context,
    file: Path,
    sheet: str | None,
    date_order: str | None,
    decimal_comma: bool | None,
    map_file: Path | None,
    header_row: int | None,
    headers_file: Path | None,
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

    from bulkpo import OnExisting  # the public name: the engine behind it may move
    from bulkpo.columns import Kind
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

    inputs = {"the input file": file, "the journal": journal}
    check_outputs(import_outputs(report, errors, dry_run_output), inputs)
    state = ctx.ensure_object(CliState)
    journal_path = journal or default_journal_path(file)
    run_options: dict[str, Any] = {
        "date_order": date_order, "decimal_comma": decimal_comma, "sheet": sheet,
        "header_row": header_row, "map_file": _absolute(map_file),
        "headers_file": _absolute(headers_file), "on_existing": on_existing, "rate": rate,
        "concurrency": concurrency, "sandbox": state.sandbox, "config": config_used(state),
    }
    if not dry_run:
        # Held until the command ends, so a second run fails before reading anything.
        ctx.with_resource(journal_lock(journal_path))
        if resume:
            run_options = _resumed(ctx, state, journal_path, run_options)
            date_order, sheet, on_existing = (
                run_options["date_order"], run_options["sheet"], run_options["on_existing"]
            )
            decimal_comma, header_row = run_options["decimal_comma"], run_options["header_row"]
            map_file = _path_or_none(run_options["map_file"])
            headers_file = _path_or_none(run_options["headers_file"])
            rate, concurrency = run_options["rate"], run_options["concurrency"]
    settings = load_settings(state.config_file, **state.overrides)
    defaults = settings.bookings
    with gc_paused():
        workbook = load_workbook(
            file,
            sheet=sheet,
            date_order=date_order,  # type: ignore[arg-type]
            defaults=defaults,
            limits=settings.limits,
            header_row=header_row,
            mapping=map_file,
            headers=headers_file,
            settings=settings,
            decimal_comma=decimal_comma,
        )
    sheets = workbook.parts
    if len(sheets) > 1:  # the other sheets' own files are known only now
        suffixes = [kind_suffix(kind, True) for kind in workbook.kinds]
        check_outputs(import_outputs(report, errors, dry_run_output, suffixes=suffixes), inputs)
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
        target=sandbox_target() if state.sandbox else None,
        recorded=run_options,
    )
    nouns = {Kind.PURCHASE_ORDERS: "POs", Kind.BOOKINGS: "bookings",
             Kind.NETWORK: "entities and locations"}
    counts = {
        kind: len(v.purchase_orders) + len(v.bookings) + len(getattr(v, "objects", ()))
        for kind, (_t, v) in zip(workbook.kinds, sheets, strict=True)
    }
    with api_settings(ctx) as settings:
        total = sum(counts.values())
        if not yes and sys.stdin.isatty() and not state.sandbox:
            what = " and ".join(
                f"{n} {'purchase orders' if k is Kind.PURCHASE_ORDERS else nouns[k]}"
                for k, n in counts.items()
            )
            click.confirm(f"Send {what} to {settings.base_url}?", abort=True, err=True)
        for kind, (table, validation) in zip(workbook.kinds, sheets, strict=True):
            invalid_rows = len(validation.invalid_rows)
            # Bookings are valid only once their PO numbers are found in Flexport: said after.
            valid = (f"{counts[kind]} valid {nouns[kind]}" if kind is not Kind.BOOKINGS
                     else f"{counts[kind]} bookings to check against their POs in Flexport")
            click.echo(
                f"{file.name} [{table.sheet}]: {validation.data_rows} rows, {valid}, "
                f"{invalid_rows} invalid rows",
                err=True,
            )
            echo_issues(_errors(validation.issues), err=True)
        resume_hint = resume_command(file, journal_path, run_options, report, errors)
        label = "Importing " + " and ".join(nouns[k] for k in workbook.kinds)
        with (
            interrupted(f"Interrupted; the journal is saved. Resume with:\n  {resume_hint}"),
            progress_bar(label, total) as bar,
        ):
            outcome = asyncio.run(
                import_workbook(
                    workbook,
                    settings,
                    options,
                    on_result=lambda _r: bar.advance(1) if bar is not None else None,
                )
            )
    combined = len(outcome.parts) > 1
    titles = {Kind.PURCHASE_ORDERS: "Purchase orders", Kind.BOOKINGS: "Bookings",
              Kind.NETWORK: "Network"}
    before = dict(zip(workbook.kinds, sheets, strict=True))
    for kind, part in outcome.parts:
        checked = part.validation
        if kind is Kind.PURCHASE_ORDERS or checked is None or checked is before[kind][1]:
            continue
        # The online recheck: the problems it found that the file alone could not show.
        known = set(before[kind][1].issues)
        found = [i for i in _errors(checked.issues) if i not in known]
        if not found and kind is Kind.NETWORK:
            continue
        n_valid = len(checked.bookings) + len(getattr(checked, "objects", ()))
        what = ("after reading your network, {} valid entities and locations"
                if kind is Kind.NETWORK else "after checking their POs in Flexport, "
                "{} valid bookings")
        click.echo(
            f"{file.name} [{part.table.sheet}]: {what.format(n_valid)}, "
            f"{len(part.table.rows) - n_valid} invalid rows",
            err=True,
        )
        echo_issues(found, err=True)
    for kind, part in outcome.parts:
        line = part.summary.line()
        click.echo(f"{titles[kind]}: {line}" if combined else line)
    stats = outcome.stats
    assert stats is not None, "a run always counts its requests"
    for notice in stats.notices:
        click.echo(f"Note: {notice}", err=True)
    click.echo(stats.line(), err=True)
    written = True
    for kind, part in outcome.parts:
        suffix = kind_suffix(kind, combined)
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


def _resumed(
    ctx: click.Context, state: CliState, journal: Path, given: dict[str, Any]
) -> dict[str, Any]:
    """The run's options as its journal recorded them; a given one that differs is refused."""
    from bulkpo.imports import resumed_options, stored_run_options

    explicit = {
        name
        for name in (
            "date_order", "decimal_comma", "sheet", "header_row", "map_file", "headers_file",
            "on_existing", "rate", "concurrency",
        )
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

    from bulkpo.imports import option_flag

    args = ["bulkpo"] + (["--config", options["config"]] if options["config"] else [])
    args += ["import", str(file), "--resume", "--journal", str(journal)]
    args += ["--sandbox"] if options["sandbox"] else []
    if options.get("decimal_comma") is not None:
        args += ["--decimal-comma" if options["decimal_comma"] else "--decimal-point"]
    for name in (
        "date_order", "sheet", "header_row", "map_file", "headers_file", "on_existing", "rate",
        "concurrency",
    ):
        if options.get(name) is not None:
            args += [option_flag(name), str(options[name])]
    for flag, path in (("--report", report), ("--errors", errors)):
        args += [flag, str(path)] if path is not None else []
    return shlex.join(args)


def _absolute(path: Path | None) -> str | None:
    """A file option as the journal keeps it: absolute, so a resume from elsewhere finds it."""
    return None if path is None else str(path.resolve())


def _path_or_none(text: str | None) -> Path | None:
    return None if text is None else Path(text)


def kind_path(path: Path | None, suffix: str) -> Path | None:
    """``result.xlsx`` -> ``result-bookings.xlsx``: one report file per sheet kind."""
    if path is None or not suffix:
        return path
    return path.with_name(f"{path.stem}{suffix}{path.suffix}")


def _errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity is Severity.ERROR]

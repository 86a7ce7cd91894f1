"""``bulkpo validate``: check a file of purchase orders, bookings or both, send nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import click

from bulkpo.cli.imports import kind_path, kind_suffix
from bulkpo.cli.options import (
    CliState,
    api_settings,
    echo_issues,
    gc_paused,
    input_options,
    mapping_options,
    sandbox_option,
)
from bulkpo.columns import Kind
from bulkpo.config import load_settings
from bulkpo.errors import ExitCode
from bulkpo.imports import DateOrder, po_numbers_left_to_import, validation_result
from bulkpo.issues import Issue, Severity
from bulkpo.report import SheetResult

__all__ = ["validate_command"]


@click.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@input_options
@mapping_options
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a copy of the workbook with bad cells marked (.xlsx, .csv or .jsonl); with "
    "both sheets, the bookings' in a second file (result-bookings.xlsx).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Summary on stdout as text or JSON.",
)
@click.option(
    "--online",
    is_flag=True,
    help="Also check every entity and location ref against your Flexport network "
    "(read once; refs the file's network sheet creates count as known).",
)
@sandbox_option
def validate_command(
    file: Path,
    sheet: str | None,
    date_order: str | None,
    decimal_comma: bool | None,
    map_file: Path | None,
    header_row: int | None,
    headers_file: Path | None,
    report: Path | None,
    fmt: str,
    online: bool,
) -> None:
    """Check a file of purchase orders, bookings or both without sending anything.

    Every problem names its cell (Purchase Orders!D7), the value, what was
    expected and a fix where one is known. A booking's PO numbers are checked
    against the file's POs; the others are looked up in Flexport by the import.
    With --online (it reads your network, sends nothing) an unknown buyer, seller,
    shipper, consignee or location ref is an error naming its cells, with the
    nearest refs you have. Exit 0 when clean (warnings alone do not fail), 1 with
    errors.

    Example:

        bulkpo validate orders.xlsx --report checked.xlsx
        bulkpo --sandbox validate migration.xlsx --online
    """
    from bulkpo.sheets.formats import REPORT
    from bulkpo.sheets.outputs import Output, check_outputs

    order = cast("DateOrder | None", date_order)  # click.Choice checked it
    state = click.get_current_context().ensure_object(CliState)
    settings = load_settings(state.config_file, **state.overrides)
    if report is not None:
        check_outputs(
            [Output("--report", report, kind=REPORT)], {"the input file": file}
        )
    with gc_paused():
        result = validation_result(
            file, sheet=sheet, date_order=order, limits=settings.limits, header_row=header_row,
            mapping=map_file, headers=headers_file, settings=settings,
            decimal_comma=decimal_comma,
        )
    if online:
        import asyncio

        from bulkpo.network.online import check_refs, read_network

        with api_settings(click.get_current_context()) as api:
            check_refs(result, asyncio.run(read_network(api)))
    combined = len(result.sheets) > 1
    if report is not None and combined:  # the bookings' own file is known only now
        check_outputs([Output("--report", kind_path(report, kind_suffix(c.kind, True)) or report,
                              kind=REPORT) for c in result.sheets[1:]],
                      {"the input file": file})
    later = po_numbers_left_to_import(result)
    errors: list[Issue] = []
    parts = []
    for checked in result.sheets:
        part = _sheet_summary(checked)
        parts.append(part)
        errors += [i for i in checked.issues if i.severity is Severity.ERROR]
        if report is not None:
            from bulkpo.sheets.report_writer import write_result_report

            suffix = kind_suffix(checked.kind, combined)
            path = kind_path(report, suffix) or report
            write_result_report(path, checked.table, checked.results,
                                title=f"bulkpo validate {file.name}")
            part["report"] = str(path)
    if fmt == "json":
        first = parts[0]
        everything = [i for p in parts for i in cast("list[object]", p["issues"])]
        click.echo(
            json.dumps(
                {
                    # The first sheet's fields at the top, as for a file of one sheet.
                    **first,
                    "file": str(file),
                    "rows": sum(cast("int", p["rows"]) for p in parts),
                    "errors": sum(cast("int", p["errors"]) for p in parts),
                    "warnings": sum(cast("int", p["warnings"]) for p in parts),
                    "issues": everything,
                    "sheets": parts,
                    "po_numbers_checked_at_import": later,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for checked, part in zip(result.sheets, parts, strict=True):
            if checked.kind is Kind.BOOKINGS:
                what = f"{part['bookings']} valid bookings"
            elif checked.kind is Kind.NETWORK:
                what = f"{part['network']} valid entities and locations"
            else:
                what = f"{part['purchase_orders']} valid POs with {part['lines']} lines"
            click.echo(
                f"{file.name} [{checked.table.sheet}]: {part['rows']} rows, {what}; "
                f"{part['errors']} errors, {part['warnings']} warnings"
            )
            issues = checked.issues
            echo_issues([i for i in issues if i.severity is Severity.ERROR]
                        + [i for i in issues if i.severity is Severity.WARNING])
            if checked.kind is Kind.BOOKINGS and later:
                shown = ", ".join(later[:5]) + (f" and {len(later) - 5} more"
                                                if len(later) > 5 else "")
                click.echo(f"  {len(later)} PO numbers are not in this file ({shown}): "
                           "import looks them up in Flexport")
            if "report" in part:
                click.echo(f"Report: {part['report']}")
    if errors:
        raise SystemExit(ExitCode.ROW_FAILURES)


def _sheet_summary(checked: SheetResult) -> dict[str, object]:
    """One sheet's counts, mapping and issues, as ``--format json`` gives them."""
    validation = checked.validation
    assert validation is not None, "a validation keeps what it found"
    issues = validation.issues
    return {
        "kind": checked.kind.value,
        "sheet": checked.table.sheet,
        "rows": validation.data_rows,
        "purchase_orders": len(validation.purchase_orders),
        "lines": sum(len(po.lines) for po in validation.purchase_orders),
        "bookings": len(validation.bookings),
        "network": len(getattr(validation, "objects", ())),
        "errors": sum(1 for i in issues if i.severity is Severity.ERROR),
        "warnings": sum(1 for i in issues if i.severity is Severity.WARNING),
        # The header row used, each column's field and why: for front ends.
        "mapping": checked.mapping,
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
            for i in issues
        ],
    }

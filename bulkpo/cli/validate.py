"""``bulkpo validate``: check a purchase-order file, send nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import click

from bulkpo.cli.options import (
    CliState,
    echo_issues,
    gc_paused,
    input_options,
    mapping_options,
)
from bulkpo.config import load_settings
from bulkpo.errors import ExitCode
from bulkpo.imports import DateOrder, validation_result
from bulkpo.issues import Severity

__all__ = ["validate_command"]


@click.command("validate")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@input_options
@mapping_options
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
) -> None:
    """Check a purchase-order file without sending anything.

    Every problem names its cell (Purchase Orders!D7), the value, what was
    expected and a fix where one is known. Exit 0 when clean (warnings alone
    do not fail), 1 with errors.

    Example:

        bulkpo validate orders.xlsx --report checked.xlsx
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
    (checked,) = result.sheets
    table, validation = checked.table, checked.validation
    assert validation is not None, "a validation keeps what it found"
    errors = [i for i in validation.issues if i.severity is Severity.ERROR]
    warnings = [i for i in validation.issues if i.severity is Severity.WARNING]
    lines = sum(len(po.lines) for po in validation.purchase_orders)
    if report is not None:
        from bulkpo.sheets.report_writer import write_result_report

        write_result_report(report, table, checked.results, title=f"bulkpo validate {file.name}")
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

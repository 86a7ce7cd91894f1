"""The public Python API: what ``import bulkpo`` offers, guarded, and each job end to end."""

from __future__ import annotations

import asyncio
import inspect
import types
from pathlib import Path

import pandas
import pytest

import bulkpo
from tests.factories import po_row, po_rows, write_po_workbook

JOBS = (
    "validate_file",
    "import_file",
    "export_purchase_orders",
    "purchase_orders_frame",
    "export_shipments",
    "track",
    "download_documents",
)


def test_all_is_exactly_the_public_names() -> None:
    # Submodules become attributes of the package once imported; only aio is offered.
    public = {
        name
        for name, value in vars(bulkpo).items()
        if not name.startswith("_")
        and (not isinstance(value, types.ModuleType) or name == "aio")
        and name not in ("annotations", "P", "T")
    }
    assert set(bulkpo.__all__) == public | {"__version__"}
    assert len(bulkpo.__all__) == len(set(bulkpo.__all__))


def test_every_job_is_a_plain_call_and_a_coroutine_with_one_signature() -> None:
    for name in JOBS:
        plain, coroutine = getattr(bulkpo, name), getattr(bulkpo.aio, name)
        assert not inspect.iscoroutinefunction(plain), name
        assert inspect.iscoroutinefunction(coroutine), name
        assert inspect.signature(plain) == inspect.signature(coroutine), name
        assert "Example" in (plain.__doc__ or "") or ">>>" in (plain.__doc__ or "") or "::" in (
            plain.__doc__ or ""
        ), f"{name} has no example in its docstring"


def test_every_error_is_a_bulkpo_error() -> None:
    for name in bulkpo.__all__:
        value = getattr(bulkpo, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, bulkpo.BulkpoError), name


def test_validate_file_needs_no_settings(tmp_path: Path) -> None:
    path = write_po_workbook(
        tmp_path / "orders.xlsx", [*po_rows(2), po_row(3, 1, quantity=-5)]
    )
    result = bulkpo.validate_file(path)
    assert result.summary.counts["invalid"] == 1
    assert result.summary.total == result.purchase_orders.summary.total
    assert any(str(issue).startswith("Purchase Orders!") for issue in result.issues)


def test_import_file_against_the_sandbox_then_again(tmp_path: Path) -> None:
    path = write_po_workbook(tmp_path / "orders.xlsx", po_rows(3))
    with bulkpo.Sandbox(tmp_path / "sandbox.sqlite") as sandbox:
        first = bulkpo.import_file(
            path, settings=sandbox.settings, journal=tmp_path / "journal.sqlite"
        )
        again = bulkpo.import_file(
            path, settings=sandbox.settings, journal=tmp_path / "journal.sqlite"
        )
        frame = bulkpo.purchase_orders_frame(settings=sandbox.settings)
    assert set(first.summary.counts.items()) >= {("created", first.summary.total)}
    assert again.summary.counts["unchanged"] == again.summary.total
    assert frame["PO Number"].nunique() == 3
    assert pandas.api.types.is_numeric_dtype(frame["Quantity"])
    assert pandas.api.types.is_datetime64_any_dtype(frame["Cargo Ready Date"])


def test_dry_run_sends_nothing_and_returns_the_bodies(tmp_path: Path) -> None:
    path = write_po_workbook(tmp_path / "orders.xlsx", po_rows(2))
    result = bulkpo.import_file(path, dry_run=True, settings=bulkpo.Settings())
    assert [r["path"] for r in result.requests] == ["/purchase_orders"] * 2
    assert result.stats is None


async def test_plain_calls_work_inside_a_running_event_loop(tmp_path: Path) -> None:
    """A notebook runs an event loop already: the plain call must not refuse."""
    path = write_po_workbook(tmp_path / "orders.xlsx", po_rows(1))
    assert asyncio.get_running_loop() is not None
    result = bulkpo.validate_file(path)
    assert result.summary.counts["valid"] == result.summary.total


def test_filters_and_query_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(bulkpo.UsageError):
        bulkpo.export_purchase_orders(
            tmp_path / "x.xlsx", query=bulkpo.ExportQuery(), status="open",
            settings=bulkpo.Settings(),
        )

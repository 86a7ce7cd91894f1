"""The ERP corpus is consistent: each file has one expectation; make_corpus.py reproduces both."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openpyxl import load_workbook

CORPUS = Path(__file__).resolve().parent / "erp_corpus"
FILES = CORPUS / "files"
EXPECTED = CORPUS / "expected"
DATA_FILES = sorted(p.name for p in FILES.iterdir())
EXPECTED_FILES = sorted(p.name for p in EXPECTED.iterdir())

PO_KEYS = {
    "name", "seller_name", "seller_entity_ref", "incoterm", "incoterm_place", "origin_port",
    "destination_port", "transportation_mode", "cargo_ready_date", "must_arrive_date", "status",
    "lines",
}
LINE_KEYS = {"line", "sku", "product_name", "quantity", "unit_of_measure", "unit_price", "currency"}
DATE_KEYS = {"cargo_ready_date", "must_arrive_date"}


@cache
def generator() -> ModuleType:
    """make_corpus.py loaded from its path: the corpus folder is data, not a package."""
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus written again, from scratch, into a temporary folder."""
    root = tmp_path_factory.mktemp("erp_corpus")
    generator().write(root)
    return root


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXPECTED / f"{Path(name).stem}.json").read_text("utf-8"))
    return data


def test_corpus_size_and_breadth() -> None:
    systems = {expected(name)["system"] for name in DATA_FILES}
    assert len(DATA_FILES) >= 14
    assert len(systems) >= 10
    assert sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file()) < 1_000_000
    outcomes = [expected(name)["outcome"] for name in DATA_FILES]
    assert outcomes.count("question") >= 3
    line_counts = [
        sum(len(po["lines"]) for po in expected(name)["purchase_orders"])
        for name in DATA_FILES
        if expected(name)["outcome"] in {"import", "partial"}
    ]
    assert max(line_counts) >= 150


def test_every_file_has_exactly_one_expectation_and_back() -> None:
    assert sorted(f"{Path(n).stem}.json" for n in DATA_FILES) == EXPECTED_FILES
    assert len({Path(n).stem for n in DATA_FILES}) == len(DATA_FILES)


@pytest.mark.parametrize("name", DATA_FILES)
def test_expectation_names_existing_files(name: str) -> None:
    data = expected(name)
    assert data["file"] == name
    for key in ("headers_file", "lines_file"):
        if key in data:
            assert (FILES / data[key]).is_file(), data[key]
    if "lines_file" in data:
        # a headers-only file points at its lines, and the lines point back
        assert expected(data["lines_file"])["headers_file"] == name


@pytest.mark.parametrize("name", DATA_FILES)
def test_expectation_shape(name: str) -> None:
    data = expected(name)
    assert data["outcome"] in {"import", "question", "partial"}
    assert data["system"] and data["export"]
    if data["outcome"] == "question":
        assert isinstance(data["about"], str) and data["about"].endswith("?")
        assert "purchase_orders" not in data
        return
    assert data["purchase_orders"]
    assert len({po["name"] for po in data["purchase_orders"]}) == len(data["purchase_orders"])
    for po in data["purchase_orders"]:
        assert set(po) <= PO_KEYS, set(po) - PO_KEYS
        for key in DATE_KEYS & set(po):
            dt.date.fromisoformat(po[key])
        assert po["lines"], po["name"]
        numbers = [line["line"] for line in po["lines"]]
        assert len(set(numbers)) == len(numbers), po["name"]
        for line in po["lines"]:
            assert LINE_KEYS <= set(line) <= LINE_KEYS | DATE_KEYS
            assert isinstance(line["line"], int)
            assert line["sku"] is None or (line["sku"] and "[" not in line["sku"])
            assert line["product_name"]
            assert isinstance(line["quantity"], int | float) and line["quantity"] > 0
            assert isinstance(line["unit_price"], int | float) and line["unit_price"] > 0
    for skipped in data["skipped_rows"]:
        assert isinstance(skipped["row"], int) and skipped["row"] >= 2 and skipped["why"]
    assert all(isinstance(note, str) and note for note in data["needs_mapping"])
    if data["outcome"] == "partial":
        # the stopped rows name their PO, column, value and candidates; their POs are not
        # expected among the imported ones, and each stopped row is told once per column
        assert data["stopped_rows"]
        names = {po["name"] for po in data["purchase_orders"]}
        keys = [(s["row"], s["column"]) for s in data["stopped_rows"]]
        assert len(set(keys)) == len(keys)
        for stop in data["stopped_rows"]:
            assert set(stop) == {"row", "po", "column", "value", "candidates"}
            assert isinstance(stop["row"], int) and stop["row"] >= 2 and stop["value"]
            assert stop["po"] not in names and stop["candidates"]
    else:
        assert "stopped_rows" not in data


def xlsx_values(path: Path) -> list[tuple[str, list[tuple[Any, ...]]]]:
    wb = load_workbook(path)
    return [(ws.title, [tuple(row) for row in ws.iter_rows(values_only=True)]) for ws in wb]


@pytest.mark.parametrize("name", DATA_FILES)
def test_generator_reproduces_the_committed_file(fresh: Path, name: str) -> None:
    committed, again = FILES / name, fresh / "files" / name
    assert again.read_bytes() == committed.read_bytes()
    if name.endswith(".xlsx"):
        # the bytes could match while the workbook is unreadable; the values must load too
        assert xlsx_values(again) == xlsx_values(committed)
    stem = f"{Path(name).stem}.json"
    assert (fresh / "expected" / stem).read_bytes() == (EXPECTED / stem).read_bytes()


def test_sources_names_every_file() -> None:
    sources = (CORPUS / "SOURCES.md").read_text("utf-8")
    assert [name for name in DATA_FILES if f"**{name}**" not in sources] == []


def test_generator_writes_nothing_else(fresh: Path) -> None:
    assert sorted(p.name for p in (fresh / "files").iterdir()) == DATA_FILES
    assert sorted(p.name for p in (fresh / "expected").iterdir()) == EXPECTED_FILES

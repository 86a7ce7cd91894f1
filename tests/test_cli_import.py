"""`bulkpo import` as users run it: files written, exit codes, and the key nowhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from bulkpo.sheets.reader import read_table
from tests.factories import PO_KEYS, po_row, po_rows, write_po_workbook

SECRET = "sk-live-5ecret-Zq81-do-not-print"


@pytest.fixture
def keyed_sandbox(tmp_path: Path) -> SandboxServer:
    with running_sandbox(
        SandboxOptions(db_path=tmp_path / "sandbox.sqlite", api_keys=(SECRET,))
    ) as server:
        yield server  # type: ignore[misc]


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FLEXPORT_")}
    return subprocess.run(
        [sys.executable, "-m", "bulkpo.cli", *args],
        cwd=cwd, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def readable_bytes(path: Path) -> bytes:
    """A file's bytes as a reader would see them (xlsx members unzipped)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return b"".join(zf.read(name) for name in zf.namelist())
    return path.read_bytes()


def mixed_workbook(tmp_path: Path) -> Path:
    rows = po_rows(3)
    rows[2] = po_row(2, 1, quantity="lots")  # invalid: never sent
    rows.append(po_row(9, 1, seller_ref="sup-nowhere"))  # refused by the API
    return write_po_workbook(tmp_path / "orders.xlsx", rows, keys=(*PO_KEYS, "seller_ref"))


@pytest.mark.slow
def test_key_never_appears_in_outputs_reports_or_journal(
    tmp_path: Path, keyed_sandbox: SandboxServer
) -> None:
    path = mixed_workbook(tmp_path)
    outputs = [tmp_path / n for n in ("r.xlsx", "r.csv", "r.jsonl", "fix.xlsx", "fix.csv")]
    results = []
    for report, errors in ((outputs[0], outputs[3]), (outputs[1], outputs[4]), (outputs[2], None)):
        args = ["import", str(path), "--yes", "--journal", str(tmp_path / "j.sqlite"),
                "--report", str(report)] + (["--errors", str(errors)] if errors else [])
        results.append(run(args, tmp_path, FLEXPORT_API_KEY=SECRET,
                           FLEXPORT_BASE_URL=keyed_sandbox.base_url, BULKPO_DEBUG="1"))
    assert [r.returncode for r in results] == [1, 1, 1]
    files = [*outputs, tmp_path / "j.sqlite", *tmp_path.glob("j.sqlite*")]
    for file in files:
        assert file.exists() or file.name.startswith("j.sqlite-"), file
        if file.exists():
            assert SECRET.encode() not in readable_bytes(file), file
    for result in results:
        assert SECRET not in result.stdout + result.stderr
        assert "Traceback" not in result.stderr


def test_report_and_errors_file_round_trip(tmp_path: Path, keyed_sandbox: SandboxServer) -> None:
    path = mixed_workbook(tmp_path)
    result = run(
        ["import", str(path), "--yes", "--journal", str(tmp_path / "j.sqlite"),
         "--report", "r.jsonl", "--errors", "fix.xlsx"],
        tmp_path, FLEXPORT_API_KEY=SECRET, FLEXPORT_BASE_URL=keyed_sandbox.base_url,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0] == "7 rows: 4 created, 2 invalid, 1 failed"
    # the problems are listed with their cells, as validate lists them
    assert "  error: Purchase Orders!Q4 (Quantity): " in result.stderr
    rows = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["status"] for r in rows] == ["created", "created", "invalid", "invalid",
                                            "created", "created", "failed"]
    assert any(i["cell"] == "Purchase Orders!Q4" for i in rows[2]["issues"])
    fix = read_table(tmp_path / "fix.xlsx")
    assert len(fix.rows) == 3
    assert fix.headers[:2] == ["What to fix", "Original row"]
    assert fix.headers[2 : 2 + len(PO_KEYS)] == read_table(path).headers[: len(PO_KEYS)]
    assert [r.values[1] for r in fix.rows] == [r["row"] for r in rows if r["status"] != "created"]


def test_dry_run_sends_nothing_and_prints_the_bodies(
    tmp_path: Path, keyed_sandbox: SandboxServer
) -> None:
    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(2))
    result = run(["import", str(path), "--dry-run"], tmp_path)
    assert result.returncode == 0, result.stderr
    bodies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [b["body"]["name"] for b in bodies] == ["PO-00001", "PO-00002"]
    assert bodies[0]["rows"] == [2, 3] and bodies[0]["path"] == "/purchase_orders"
    assert bodies[0]["body"]["line_items"][1]["units"] == 200


def test_wrong_key_stops_with_exit_3_and_a_resume_hint(
    tmp_path: Path, keyed_sandbox: SandboxServer
) -> None:
    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(3))
    wrong = "sk-wrong-key-also-secret"
    result = run(["import", str(path), "--yes", "--journal", str(tmp_path / "j.sqlite")],
                 tmp_path, FLEXPORT_API_KEY=wrong, FLEXPORT_BASE_URL=keyed_sandbox.base_url)
    assert result.returncode == 3
    assert "FLEXPORT_API_KEY" in result.stderr and "--resume" in result.stderr
    assert wrong not in result.stdout + result.stderr


def test_unreachable_api_exits_3(tmp_path: Path) -> None:
    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(4))
    (tmp_path / "bulkpo.toml").write_text("max_retries = 1\n")
    result = run(
        ["import", str(path), "--yes", "--journal", str(tmp_path / "j.sqlite")],
        tmp_path, FLEXPORT_API_KEY="k", FLEXPORT_BASE_URL="http://127.0.0.1:9",
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert "cannot connect to 127.0.0.1" in result.stderr
    assert "--resume" in result.stderr
    assert result.stdout.startswith("8 rows: 8 failed")


def test_resume_of_a_changed_file_checks_every_row_again(
    tmp_path: Path, keyed_sandbox: SandboxServer
) -> None:
    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(2, lines=1))
    args = ["import", str(path), "--yes", "--journal", str(tmp_path / "j.sqlite"),
            "--report", "r.jsonl"]
    env = {"FLEXPORT_API_KEY": SECRET, "FLEXPORT_BASE_URL": keyed_sandbox.base_url}
    assert run(args, tmp_path, **env).returncode == 0
    rows = po_rows(2, lines=1)
    rows[1]["quantity"] = 5
    write_po_workbook(path, rows)
    result = run([*args, "--resume"], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    assert "Note: o.xlsx changed since the run it resumes; every row is checked again" in (
        result.stderr
    )
    report = (tmp_path / "r.jsonl").read_text().splitlines()
    statuses = [json.loads(line)["status"] for line in report]
    assert statuses == ["unchanged", "skipped"]


def test_the_cost_line_counts_one_request_in_the_singular() -> None:
    from bulkpo.report import ImportStats

    one = ImportStats(requests=1, retries=1, throttled=0, elapsed=0.5)
    many = ImportStats(requests=1200, retries=0, throttled=3, elapsed=2.0)
    assert one.line() == "1 request in 0.5s (2.0/s), 1 retry, 0 throttled"
    assert many.line() == "1,200 requests in 2.0s (600.0/s), 0 retries, 3 throttled"

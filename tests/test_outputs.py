"""Output files: never an input, checked before anything is sent, a write failure said
in one line, and dry-run stdout that is JSON lines only."""

from __future__ import annotations

import builtins
import errno
import gc
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bulkpo.cli import main
from bulkpo.sandbox import SandboxServer
from bulkpo.sheets.reader import read_table
from tests.conftest import REPO, listing
from tests.factories import po_row, po_rows, write_po_workbook


class Requests:
    """Requests that reached the sandbox: it refreshes its store once for each."""

    def __init__(self, server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        refresh = server.store.refresh

        def counted() -> None:
            self.count += 1
            refresh()

        monkeypatch.setattr(server.store, "refresh", counted)


@pytest.fixture
def api(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Requests:
    """The CLI, run in this process, pointed at the sandbox from ``tmp_path``."""
    monkeypatch.setenv("FLEXPORT_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("FLEXPORT_API_KEY", sandbox.api_key)
    monkeypatch.chdir(tmp_path)
    return Requests(sandbox, monkeypatch)


def bulkpo(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@contextmanager
def read_only_folder(path: Path) -> Iterator[Path]:
    """A folder no file can be created in. Permissions do not stop root, so as root it
    is a read-only tmpfs mount instead (a read-only disk, as root meets one)."""
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)],
                   check=True)  # fmt: skip
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


# ------------------------------------------------------------------ outputs naming inputs


@pytest.mark.parametrize("link", ["same", "symlink", "hardlink"])
@pytest.mark.parametrize(
    "command",
    [
        ["import", "{in}", "--yes", "--report", "{out}"],
        ["import", "{in}", "--yes", "--errors", "{out}"],
        ["import", "{in}", "--dry-run", "--dry-run-output", "{out}"],
        ["validate", "{in}", "--report", "{out}"],
    ],
    ids=["report", "errors", "dry-run-output", "validate-report"],
)
def test_an_output_naming_the_input_is_refused_and_the_input_kept(
    tmp_path: Path,
    api: Requests,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    link: str,
) -> None:
    source = write_po_workbook(tmp_path / "orders.xlsx", po_rows(2))
    before = source.read_bytes()
    out = source
    if link == "symlink":
        out = tmp_path / "link.xlsx"
        out.symlink_to(source)
    elif link == "hardlink":
        out = tmp_path / "hard.xlsx"
        out.hardlink_to(source)
    option = next(a for a in command if a.startswith("--") and a not in ("--yes", "--dry-run"))
    args = [str(source) if a == "{in}" else str(out) if a == "{out}" else a for a in command]
    code, stdout, stderr = bulkpo(capsys, *args)
    assert code == 2, stdout + stderr
    assert stderr.startswith(f"Error: {option} {out}: that is the input file"), stderr
    assert "Traceback" not in stderr
    assert source.read_bytes() == before
    assert api.count == 0 and listing(sandbox, "/purchase_orders") == []


def test_report_and_errors_naming_one_file_are_refused(
    tmp_path: Path, api: Requests, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_po_workbook(tmp_path / "orders.xlsx", po_rows(1))
    (tmp_path / "out.xlsx").symlink_to(tmp_path / "same.xlsx")
    code, _, stderr = bulkpo(capsys, "import", str(source), "--yes",
                             "--report", "same.xlsx", "--errors", "out.xlsx")  # fmt: skip
    assert code == 2
    assert "Error: --errors out.xlsx: --report same.xlsx writes that file too" in stderr
    assert api.count == 0


def test_a_track_output_naming_its_input_is_refused(
    tmp_path: Path, api: Requests, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "tracking.csv"
    source.write_text("Booking Name\nBK-1\n")
    code, _, stderr = bulkpo(capsys, "track", str(source), "-o", str(source))
    assert code == 2
    assert f"-o {source}: that is the input file" in stderr
    assert source.read_text() == "Booking Name\nBK-1\n" and api.count == 0


def test_template_never_replaces_a_file_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    filled = write_po_workbook(tmp_path / "purchase-orders.xlsx", po_rows(3))
    before = filled.read_bytes()
    code, _, stderr = bulkpo(capsys, "template", "purchase-orders")
    assert code == 2
    assert "purchase-orders.xlsx: the file exists; add --force to replace it" in stderr
    assert filled.read_bytes() == before
    code, _, stderr = bulkpo(capsys, "template", "purchase-orders", "-o", str(filled))
    assert code == 2 and f"-o {filled}: the file exists" in stderr
    assert filled.read_bytes() == before
    code, stdout, _ = bulkpo(capsys, "template", "purchase-orders", "--force")
    assert code == 0 and stdout == "Wrote purchase-orders.xlsx\n"
    assert filled.read_bytes() == (REPO / "templates" / "purchase-orders.xlsx").read_bytes()
    assert [p.name for p in tmp_path.iterdir() if ".partial" in p.name] == []


# ------------------------------------------------------------------ checked before sending


@pytest.mark.parametrize("problem", ["missing folder", "read-only folder", "bad extension"])
@pytest.mark.parametrize("option", ["--report", "--errors"])
def test_an_output_that_cannot_be_written_is_refused_before_any_request(
    tmp_path: Path,
    api: Requests,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    problem: str,
    option: str,
) -> None:
    source = write_po_workbook(tmp_path / "orders.xlsx", po_rows(2))
    with read_only_folder(tmp_path / "locked") as locked:
        out = {
            "missing folder": tmp_path / "nowhere" / "r.xlsx",
            "read-only folder": locked / "r.xlsx",
            "bad extension": tmp_path / "r.pdf",
        }[problem]
        code, stdout, stderr = bulkpo(capsys, "import", str(source), "--yes", option, str(out))
    assert code == 2, stdout + stderr
    expected = {
        "missing folder": f"the folder {out.parent} does not exist",
        "read-only folder": f"cannot write in the folder {out.parent} (",
        "bad extension": " is .xlsx",
    }[problem]
    line = stderr.strip()
    assert line.startswith(f"Error: {option} {out}: ") and expected in line, stderr
    assert "\n" not in line and "Internal error" not in line
    assert api.count == 0 and listing(sandbox, "/purchase_orders") == []


def test_an_export_into_a_read_only_folder_is_refused_before_any_request(
    tmp_path: Path, api: Requests, capsys: pytest.CaptureFixture[str]
) -> None:
    with read_only_folder(tmp_path / "locked") as locked:
        out = locked / "pos.xlsx"
        code, _, stderr = bulkpo(capsys, "export", "purchase-orders", "-o", str(out))
    assert code == 2
    assert stderr.startswith(f"Error: -o {out}: cannot write in the folder {locked}")
    assert api.count == 0


# ------------------------------------------------------------------ a full disk at the end


def test_a_full_disk_at_the_end_says_so_and_resume_writes_the_files_sending_nothing(
    tmp_path: Path,
    api: Requests,
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_po_workbook(tmp_path / "orders.xlsx", [*po_rows(3), po_row(9, 1, quantity="x")])
    args = ["import", str(source), "--yes", "--journal", "j.sqlite",
            "--report", "r.xlsx", "--errors", "fix.csv"]  # fmt: skip
    real_replace = os.replace

    def full_disk(src: str | Path, dst: str | Path) -> None:
        # The disk fills while the files are saved: the renames of their temps fail.
        if Path(dst).name in ("r.xlsx", "fix.csv"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk)
    code, stdout, stderr = bulkpo(capsys, *args)
    monkeypatch.setattr(os, "replace", real_replace)
    assert code == 2, stdout + stderr
    lines = stderr.splitlines()
    assert "Error: could not write r.xlsx: No space left on device" in lines
    assert "Error: could not write fix.csv: No space left on device" in lines
    assert "--resume" in stderr and "j.sqlite" in stderr
    assert "Traceback" not in stderr and "Internal error" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix in (".xlsx", ".csv")) == [
        "orders.xlsx"
    ]  # neither output nor any half-written temp is left
    created = listing(sandbox, "/purchase_orders")
    assert len(created) == 3 and (tmp_path / "j.sqlite").exists()

    sent = api.count
    code, stdout, stderr = bulkpo(capsys, *args, "--resume")
    assert code == 1, stdout + stderr  # the invalid row, as in the first run
    assert api.count == sent, "the resumed run sent requests"
    assert listing(sandbox, "/purchase_orders") == created
    report = read_table(tmp_path / "r.xlsx")
    assert [row.values[-3] for row in report.rows] == ["created"] * 6 + ["invalid"]
    fix = (tmp_path / "fix.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(fix) == 2 and "PO-00009" in fix[1]


def test_validate_says_in_one_line_when_its_report_cannot_be_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_po_workbook(tmp_path / "orders.xlsx", po_rows(1))

    def full_disk(src: str | Path, dst: str | Path) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full_disk)
    out = tmp_path / "checked.csv"
    code, _, stderr = bulkpo(capsys, "validate", str(source), "--report", str(out))
    assert code == 2
    assert stderr == f"Error: could not write {out}: No space left on device\n"


class FillingDisk:
    """A file whose disk fills after ``room`` bytes: writes and the final flush fail with
    ENOSPC, as on a real full disk (the write layer under openpyxl and csv)."""

    def __init__(self, real: Any, room: int) -> None:
        self._real = real
        self._room = room

    def write(self, data: Any) -> int:
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return int(self._real.write(data))

    def close(self) -> None:
        self._real.close()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> FillingDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.mark.parametrize("name", ["checked.xlsx", "checked.csv"])
def test_a_disk_filling_mid_file_gives_one_line_no_traceback_and_no_temp(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
) -> None:
    source = write_po_workbook(tmp_path / "orders.xlsx", po_rows(40))
    real_open = io.open

    def filling_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        return FillingDisk(handle, 2048) if ".partial" in str(file) else handle

    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    monkeypatch.setattr(io, "open", filling_open)
    monkeypatch.setattr(builtins, "open", filling_open)
    out = tmp_path / name
    code, _, stderr = bulkpo(capsys, "validate", str(source), "--report", str(out))
    monkeypatch.setattr(io, "open", real_open)
    monkeypatch.setattr(builtins, "open", real_open)
    gc.collect()
    assert code == 2
    assert stderr == f"Error: could not write {out}: No space left on device\n"
    assert unraisable == []  # nothing printed "Exception ignored ... Traceback" later
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.xlsx"]


# ------------------------------------------------------------------ dry run


def test_dry_run_stdout_is_json_lines_only(tmp_path: Path) -> None:
    rows = [*po_rows(2), po_row(3, 1, quantity="lots")]
    source = write_po_workbook(tmp_path / "orders.xlsx", rows)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FLEXPORT_")}
    result = subprocess.run(
        [sys.executable, "-m", "bulkpo.cli", "import", str(source), "--dry-run"],
        cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    bodies = [json.loads(line) for line in result.stdout.splitlines()]
    assert [b["body"]["name"] for b in bodies] == ["PO-00001", "PO-00002"]
    assert "1 rows are invalid and would not be sent" in result.stderr
    assert "Purchase Orders!Q" in result.stderr  # the issue, with its cell

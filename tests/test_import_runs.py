"""A run of `bulkpo import` as a whole: it locks its journal, and --resume resumes it as it was."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bulkpo.errors import UsageError
from bulkpo.imports import resumed_options
from bulkpo.sandbox import SandboxOptions, running_sandbox
from tests.factories import po_row, po_rows, write_po_workbook
from tests.test_cli_import import run
from tests.test_import import sandbox_pos
from tests.test_import_kill import bulkpo, cli_env, done_units, wait_for


@pytest.mark.slow
def test_a_second_import_of_the_same_file_fails_at_once(tmp_path: Path) -> None:
    path = write_po_workbook(tmp_path / "orders.xlsx", po_rows(30, lines=1))
    journal = tmp_path / "j.sqlite"
    with running_sandbox(
        SandboxOptions(db_path=tmp_path / "sandbox.sqlite", latency_ms=5)
    ) as server:
        env = cli_env(server)
        args = ["import", str(path), "--journal", str(journal), "--yes", "--rate", "30"]
        first = bulkpo(args, env, tmp_path)
        wait_for(lambda: done_units(journal) > 0, "the first run to send")
        # Held mid-run, so that it is still running however long the second
        # process takes to start on a loaded machine.
        first.send_signal(signal.SIGSTOP)
        try:
            second = subprocess.run(
                [sys.executable, "-m", "bulkpo.cli", *args], env=env, cwd=tmp_path,
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            still_running = first.poll() is None
        finally:
            first.send_signal(signal.SIGCONT)
        _out, err = first.communicate(timeout=60)
        held = Counter(po["name"] for po in sandbox_pos(server))
    assert second.returncode == 2, second.stderr
    assert f"another import of this file is running (pid {first.pid}, started 20" in (
        second.stderr
    )
    assert still_running, "the second run waited for the first instead of failing at once"
    assert first.returncode == 0, err
    assert len(held) == 30 and set(held.values()) == {1}


@pytest.mark.slow
def test_resume_after_ctrl_c_keeps_the_date_order_and_the_sandbox(tmp_path: Path) -> None:
    # 03/04/2026 is 3 April read dmy, 4 March read mdy.
    rows = [po_row(n, 1, cargo_ready_date="03/04/2026", must_arrive_date="03/05/2026")
            for n in range(1, 41)]  # fmt: skip
    path = write_po_workbook(tmp_path / "orders.xlsx", rows)
    journal = tmp_path / "j.sqlite"
    # Were a resume to leave the sandbox, it would reach this "production" and fail.
    prod = {"FLEXPORT_API_KEY": "sk-prod", "FLEXPORT_BASE_URL": "http://127.0.0.1:9"}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("FLEXPORT_")}, **prod}
    first = bulkpo(
        ["import", str(path), "--journal", str(journal), "--yes", "--rate", "20",
         "--date-order", "dmy", "--sandbox", "--on-existing", "update"],
        env, tmp_path,
    )  # fmt: skip
    wait_for(lambda: done_units(journal) >= 5, "the first run to send")
    first.send_signal(signal.SIGINT)
    _out, err = first.communicate(timeout=30)
    assert first.returncode == 130, err
    assert "Traceback" not in err
    printed = err.split("Resume with:\n", 1)[1].strip().splitlines()[0]
    assert shlex.split(printed) == [
        "bulkpo", "import", str(path), "--resume", "--journal", str(journal), "--sandbox",
        "--date-order", "dmy", "--on-existing", "update", "--rate", "20.0",
    ]  # fmt: skip

    conflict = run(["import", str(path), "--resume", "--journal", str(journal),
                    "--date-order", "mdy"], tmp_path, **prod)  # fmt: skip
    assert conflict.returncode == 2
    assert "--date-order mdy conflicts with --date-order dmy of the run being resumed" in (
        conflict.stderr
    )

    # The bare resume takes the run's own options: dmy, the sandbox, update (a new
    # pace is allowed: it changes nothing that is sent).
    bare = run(["import", str(path), "--resume", "--journal", str(journal), "--yes",
                "--rate", "300"], tmp_path, **prod)  # fmt: skip
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout.startswith("40 rows: 40 created"), bare.stdout
    # The printed command runs as it is (the run is complete by now: nothing to send).
    again = run([*shlex.split(printed)[1:], "--yes"], tmp_path, **prod)
    assert again.returncode == 0, again.stderr
    with running_sandbox(SandboxOptions(db_path=tmp_path / ".bulkpo" / "sandbox.sqlite")) as box:
        held = sandbox_pos(box)
    assert Counter(po["name"] for po in held) == {f"PO-{n:05d}": 1 for n in range(1, 41)}
    assert {po["cargo_ready_date"] for po in held} == {"2026-04-03"}


def test_resumed_options_come_from_the_run_and_conflicts_are_refused() -> None:
    stored = {"date_order": "dmy", "sheet": None, "on_existing": "update", "sandbox": True,
              "config": None, "rate": 20.0, "concurrency": None}  # fmt: skip
    given = {"date_order": None, "sheet": None, "on_existing": "skip", "sandbox": False,
             "config": None, "rate": 50.0, "concurrency": None}  # fmt: skip
    merged = resumed_options(stored, given, explicit={"rate"})
    assert merged == {**stored, "rate": 50.0}
    for name, value, text in [
        ("on_existing", "fail", "--on-existing fail conflicts with --on-existing update"),
        ("sandbox", False, "no --sandbox conflicts with --sandbox"),
        ("sheet", "Other", "--sheet Other conflicts with no --sheet"),
    ]:
        with pytest.raises(UsageError, match=re.escape(text)):
            resumed_options(stored, {**given, name: value}, explicit={name})


def test_how_the_file_was_read_is_part_of_the_run(tmp_path: Path) -> None:
    """A resume reads the file as the run did: mapping, header row, headers file, decimal comma."""
    from bulkpo.cli.imports import resume_command
    from bulkpo.errors import UsageError
    from bulkpo.imports import resumed_options

    stored = {
        "date_order": "dmy", "decimal_comma": True, "sheet": None, "header_row": 3,
        "map_file": str(tmp_path / "sap.toml"), "headers_file": str(tmp_path / "ekko.csv"),
        "on_existing": "skip", "rate": None, "concurrency": None, "sandbox": True,
        "config": None,
    }
    given = {name: None for name in stored} | {"on_existing": "skip", "sandbox": False}
    merged = resumed_options(stored, given, explicit=set())
    assert merged["decimal_comma"] is True and merged["header_row"] == 3
    assert merged["map_file"] == stored["map_file"]
    command = resume_command(tmp_path / "lines.csv", tmp_path / "j.sqlite", merged, None, None)
    assert "--decimal-comma" in command and "--header-row 3" in command
    assert f"--map {tmp_path / 'sap.toml'}" in command
    assert f"--headers {tmp_path / 'ekko.csv'}" in command
    with pytest.raises(UsageError, match="--decimal-point conflicts with --decimal-comma"):
        resumed_options(stored, {**given, "decimal_comma": False}, explicit={"decimal_comma"})
    with pytest.raises(UsageError, match=r"--map other.toml conflicts with --map "):
        resumed_options(stored, {**given, "map_file": "other.toml"}, explicit={"map_file"})

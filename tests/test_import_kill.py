"""kill -9 an import at random moments, resume it: no duplicate, no lost row."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.conftest import DUPLICATE_NAMES, names_mode
from tests.factories import po_rows, write_po_workbook
from tests.test_import import sandbox_pos

PO_COUNT = 240


def _default_sigint() -> None:
    """In the child, before exec: SIGINT handled by default and not blocked.

    Ignored and blocked signals survive exec, so a pytest started as a background
    job (which ignores SIGINT) would hand that on, and the Ctrl-C sent by a test
    would never arrive.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def bulkpo(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """``bulkpo args`` as its own process group: a Ctrl-C at pytest's terminal does
    not reach it, the signals a test sends do, whatever pytest's own dispositions."""
    return subprocess.Popen(
        [sys.executable, "-m", "bulkpo.cli", *args],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=_default_sigint,
    )


def cli_env(server: SandboxServer) -> dict[str, str]:
    """The environment of a bulkpo process talking to ``server``."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLEXPORT_")},
        "FLEXPORT_BASE_URL": server.base_url,
        "FLEXPORT_API_KEY": server.api_key,
    }


def wait_for(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def done_units(journal: Path) -> int:
    if not journal.exists():
        return 0
    try:
        with sqlite3.connect(journal) as db:
            return int(db.execute("SELECT COUNT(*) FROM units WHERE state = 'done'").fetchone()[0])
    except sqlite3.OperationalError:  # the tables are not there yet
        return 0


def kill_then_resume(
    args: list[str], env: dict[str, str], cwd: Path, chance: random.Random,
    window: tuple[float, float],
) -> tuple[int, Path]:
    """Run ``bulkpo args``, kill -9 it up to three times at random moments within
    ``window`` seconds, resume each time, then resume to the end with a jsonl
    report. Returns how many kills landed and the report's path."""
    kills = 0
    for _ in range(3):
        proc = bulkpo(args + (["--resume"] if kills else []), env, cwd)
        time.sleep(chance.uniform(*window))
        if proc.poll() is not None:
            proc.communicate()
            break
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        kills += 1
    report = cwd / "r.jsonl"
    final = bulkpo([*args, "--resume", "--report", str(report)], env, cwd)
    _out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    return kills, report


@pytest.mark.slow
@pytest.mark.parametrize("mode", DUPLICATE_NAMES)
@pytest.mark.parametrize("seed", [1, 2])
def test_kill_and_resume_never_duplicates_or_loses(tmp_path: Path, seed: int, mode: str) -> None:
    chance = random.Random(seed)
    path = write_po_workbook(tmp_path / "orders.xlsx", po_rows(PO_COUNT, lines=2))
    with running_sandbox(SandboxOptions(
        db_path=tmp_path / "sandbox.sqlite", seed=seed, latency_ms=5, **names_mode(mode)
    )) as server:
        common = ["import", str(path), "--journal", str(tmp_path / "j.sqlite"), "--yes",
                  "--rate", "150", "--concurrency", "8"]
        kills, report = kill_then_resume(common, cli_env(server), tmp_path, chance, (0.4, 1.2))
        held = Counter(po["name"] for po in sandbox_pos(server))
    assert kills >= 1, "the import finished before it could be killed; slow it down"
    assert len(held) == PO_COUNT and set(held.values()) == {1}
    rows = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(rows) == PO_COUNT * 2
    assert Counter(row["status"] for row in rows) == {"created": PO_COUNT * 2}


@pytest.mark.slow
def test_ctrl_c_saves_the_journal_and_prints_the_resume_command(tmp_path: Path) -> None:
    path = write_po_workbook(tmp_path / "orders.xlsx", po_rows(150, lines=1))
    with running_sandbox(
        SandboxOptions(db_path=tmp_path / "sandbox.sqlite", latency_ms=5)
    ) as server:
        env = cli_env(server)
        common = ["import", str(path), "--journal", str(tmp_path / "j.sqlite"), "--yes",
                  "--rate", "60"]
        proc = bulkpo(common, env, tmp_path)
        # Not a fixed sleep: on a loaded machine the run may not have sent anything yet.
        wait_for(lambda: done_units(tmp_path / "j.sqlite") > 0, "the run to send")
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "Traceback" not in err
        assert f"bulkpo import {path} --resume --journal {tmp_path / 'j.sqlite'}" in err
        partial = len(sandbox_pos(server))
        assert 0 < partial < 150
        final = bulkpo([*common, "--resume"], env, tmp_path)
        _out, err = final.communicate(timeout=60)
        assert final.returncode == 0, err
        held = Counter(po["name"] for po in sandbox_pos(server))
    assert len(held) == 150 and set(held.values()) == {1}

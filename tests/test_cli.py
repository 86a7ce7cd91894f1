"""The CLI shell: help, versions, exact error lines and exit codes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from bulkpo import __version__
from bulkpo.cli import cli, main
from bulkpo.errors import ExitCode
from bulkpo.sandbox import SandboxServer
from tests.conftest import REPO


def all_commands(group: click.Group = cli, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        found.append((full, command))
        if isinstance(command, click.Group):
            found += all_commands(command, f"{full} ")
    return found


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"bulkpo, version {__version__}\n"


@pytest.mark.parametrize(("name", "command"), all_commands())
def test_every_command_has_help_and_is_in_the_readme(name: str, command: click.Command) -> None:
    assert command.help, f"bulkpo {name} has no help text"
    result = CliRunner().invoke(cli, [*name.split(), "-h"])
    assert result.exit_code == 0
    # sqlite-utils' rule: every command's help ends in an example of the same command.
    example = result.output.partition("Example:")[2]
    assert re.search(rf"^\s+bulkpo (--sandbox )?{re.escape(name)}\b", example, re.M), name
    readme = (REPO / "README.md").read_text()
    assert re.search(rf"bulkpo (--sandbox )?{re.escape(name)}\b", readme), name


def test_unreadable_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "orders.xlsx"
    bogus.write_text("<html><body>not a workbook</body></html>")
    code = main(["validate", str(bogus)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("Error: ") and "orders.xlsx" in err
    assert "Traceback" not in err


def test_missing_key_says_how_to_set_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.factories import po_rows, write_po_workbook

    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(1))
    code = main(["import", str(path), "--yes", "--journal", str(tmp_path / "j.sqlite")])
    err = capsys.readouterr().err
    assert code == 2
    assert "FLEXPORT_API_KEY" in err and "Traceback" not in err


def test_plain_http_to_a_remote_host_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import po_rows, write_po_workbook

    monkeypatch.setenv("FLEXPORT_API_KEY", "sekrit-123")
    monkeypatch.setenv("FLEXPORT_BASE_URL", "http://api.example.com")
    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(1))
    code = main(["import", str(path), "--yes", "--journal", str(tmp_path / "j.sqlite")])
    out = capsys.readouterr()
    assert code == 2
    assert "refusing to send the API key over plain http" in out.err
    assert "sekrit-123" not in out.err + out.out


def test_bad_option_value_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sandbox", "serve", "--host", "10.0.0.5"]) == 2
    assert capsys.readouterr().err == (
        "Error: --host 10.0.0.5: the sandbox binds only to loopback addresses\n"
    )


@pytest.mark.parametrize("name", ["purchase-orders.xlsx", "purchase-orders.csv",
                                  "bookings.xlsx", "bookings.csv"])  # fmt: skip
def test_committed_templates_are_what_the_template_command_writes(
    tmp_path: Path, name: str
) -> None:
    kind = name.split(".")[0]
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["template", kind, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"Wrote {out}\n"
    assert out.read_bytes() == (REPO / "templates" / name).read_bytes()


def test_template_refuses_an_unknown_format(tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    result = CliRunner().invoke(cli, ["template", "bookings", "-o", str(out)])
    # A library error reaches click as a ClickException: its line and exit code, as in main.
    assert result.exit_code == 2
    assert result.output == (
        f"Error: -o {out}: the template format is xlsx or csv (use --format)\n"
    )


def test_sandbox_advance_moves_the_clock_and_refuses_nonsense(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bulkpo.sandbox import SandboxOptions, running_sandbox
    from bulkpo.sandbox.store import Store

    db = tmp_path / "s.sqlite"
    with running_sandbox(SandboxOptions(db_path=db)):
        pass
    before = Store(db, None, 30.0)
    start = before.now()
    before.close()
    assert main(["sandbox", "advance", "2d", "--db", str(db)]) == 0
    assert capsys.readouterr().out.startswith("Sandbox clock moved 2d forward: it is now ")
    after = Store(db, None, 30.0)
    assert after.now() - start >= 2 * 86400
    after.close()
    assert main(["sandbox", "advance", "soon", "--db", str(db)]) == 2
    assert "'soon' is no duration" in capsys.readouterr().err


def test_python_dash_m_bulkpo_is_the_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    for module in ("bulkpo", "bulkpo.cli"):
        done = subprocess.run(
            [sys.executable, "-m", module, "sandbox", "serve", "--host", "10.0.0.5"],
            capture_output=True, text=True, cwd=tmp_path, timeout=60,
        )  # fmt: skip
        assert (done.returncode, done.stdout) == (2, ""), module
        assert done.stderr == (
            "Error: --host 10.0.0.5: the sandbox binds only to loopback addresses\n"
        )


def test_a_library_error_reaches_click_with_its_message_and_exit_code(
    sandbox: SandboxServer,
) -> None:
    """CliRunner sees what a user sees: the one ``Error:`` line and the error's own code."""
    from bulkpo.cli import BulkpoClickError
    from bulkpo.errors import AuthError

    env = {"FLEXPORT_BASE_URL": sandbox.base_url, "FLEXPORT_API_KEY": "not-the-key"}
    result = CliRunner().invoke(cli, ["refs"], env=env)
    assert result.exit_code == ExitCode.API_UNAVAILABLE == 3
    assert result.output.startswith("Error: HTTP 401")
    assert result.output.count("\n") == 1 and "not-the-key" not in result.output
    assert isinstance(result.exception, SystemExit)
    # Through main the same error is the same line and code.
    assert BulkpoClickError(AuthError("x")).exit_code == 3


@pytest.mark.parametrize("command", [["import", "orders.xlsx"], ["export", "purchase-orders"]])
def test_rate_must_be_positive(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orders.xlsx").write_bytes(b"")
    assert main([*command, "--rate", "0"]) == 2
    assert capsys.readouterr().err == (
        "Error: --rate 0.0: expected a positive number of requests per second\n"
    )
    assert main([*command, "--concurrency", "65"]) == 2
    assert "65 is not in the range 1<=x<=64" in capsys.readouterr().err


def test_interrupted_says_what_was_kept_and_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    from bulkpo.cli.options import interrupted

    with pytest.raises(SystemExit) as stopped, interrupted("Interrupted; nothing was written."):
        raise KeyboardInterrupt
    assert stopped.value.code == ExitCode.INTERRUPTED
    assert capsys.readouterr().err == "Interrupted; nothing was written.\n"
    with interrupted("never said"):
        pass
    assert capsys.readouterr().err == ""


def test_only_the_cli_freezes_what_it_built(tmp_path: Path) -> None:
    """A library must not freeze its host program's objects (it only pauses the collector
    for the length of a call); the CLI's own process may."""
    import gc

    import bulkpo
    from tests.factories import po_rows, write_po_workbook

    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(3))
    frozen = gc.get_freeze_count()
    try:
        assert bulkpo.validate_file(path).summary.line() == "6 rows: 6 valid"
        assert gc.get_freeze_count() == frozen and gc.isenabled()
        result = CliRunner().invoke(cli, ["validate", str(path)])
        assert result.exit_code == 0, result.output
        assert gc.get_freeze_count() > frozen and gc.isenabled()
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(("args", "po", "booking"), [
    ([], "refuse", "accept"),
    (["--duplicate-names", "accept", "--duplicate-booking-names", "refuse"], "accept", "refuse"),
])  # fmt: skip
def test_sandbox_serve_passes_the_duplicate_names_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], po: str, booking: str
) -> None:
    import bulkpo.sandbox

    served: list[Any] = []
    monkeypatch.setattr(bulkpo.sandbox, "serve", lambda options, **_kw: served.append(options))
    assert main(["sandbox", "serve", "--db", str(tmp_path / "s.db"), *args]) == 0
    assert (served[0].duplicate_po_names, served[0].duplicate_booking_names) == (po, booking)
    assert served[0].amendment_review_s == 0.0
    help_text = CliRunner().invoke(cli, ["sandbox", "serve", "--help"]).output
    assert "--duplicate-names [refuse|accept]" in help_text
    assert "No Flexport document says PO names are unique" in " ".join(help_text.split())


def test_sandbox_serve_refuses_an_unknown_duplicate_names_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sandbox", "serve", "--duplicate-names", "maybe"]) == 2
    assert "'maybe' is not one of 'refuse', 'accept'" in capsys.readouterr().err


def test_sandbox_serve_holds_amendments_for_the_review_time_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import bulkpo.sandbox

    served: list[Any] = []
    monkeypatch.setattr(bulkpo.sandbox, "serve", lambda options, **_kw: served.append(options))
    assert main(["sandbox", "serve", "--db", str(tmp_path / "s.db"),
                 "--amendment-review", "6h"]) == 0
    assert served[0].amendment_review_s == 6 * 3600
    assert main(["sandbox", "serve", "--amendment-review", "soon"]) == 2
    assert "'soon' is no duration" in capsys.readouterr().err

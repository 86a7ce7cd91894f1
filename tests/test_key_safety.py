"""The API key: refused at load if it cannot be a header, never retried into a loop, never shown."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bulkpo.cli import main
from bulkpo.config import load_settings
from bulkpo.engine.exactly_once import UnitResult, run_units
from bulkpo.engine.journal import Journal, UnitState
from bulkpo.engine.pacing import Caller, Pacer, RetryPolicy
from bulkpo.errors import ConfigError, LocalRequestError, RunStopped, TransportError
from bulkpo.flexport import FlexportClient
from bulkpo.redact import REDACTED, redact
from bulkpo.report import RowResult
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from bulkpo.sandbox.network import SEEDED_REFS
from bulkpo.sheets.reader import read_table
from bulkpo.sheets.report_writer import write_errors_file, write_result_report
from tests.factories import po_rows, write_po_workbook

SECRET = "sk-live-5ecret-Zq81-do-not-print"

# What a transport does with the n-th request (0-based): answer it, raise, or None
# to send it on to the real server.
Fault = Callable[[int], httpx.Response | Exception | None]


@pytest.fixture
def keyed_sandbox(tmp_path: Path) -> Iterator[SandboxServer]:
    options = SandboxOptions(db_path=tmp_path / "sandbox.sqlite", api_keys=(SECRET,))
    with running_sandbox(options) as server:
        yield server


def on_the_wire(monkeypatch: pytest.MonkeyPatch, fault: Fault) -> list[httpx.Request]:
    """Every request bulkpo hands to its HTTP transport; ``fault`` may replace the real send.

    The CLI builds its own client, so the fault goes in at the transport class.
    """
    real = httpx.AsyncHTTPTransport.handle_async_request
    sent: list[httpx.Request] = []

    async def handle(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        sent.append(request)
        forced = fault(len(sent) - 1)
        if isinstance(forced, Exception):
            raise forced
        return forced if forced is not None else await real(self, request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle)
    return sent


def readable_bytes(path: Path) -> bytes:
    """A file's bytes as a reader would see them (xlsx members unzipped)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return b"".join(zf.read(name) for name in zf.namelist())
    return path.read_bytes()


# -- refused at load ---------------------------------------------------------


def test_a_two_line_key_file_stops_with_exit_2_before_any_request(
    tmp_path: Path,
    keyed_sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = tmp_path / "flexport.key"
    key_file.write_bytes(f"{SECRET}\r\n# production key\r\n".encode())
    monkeypatch.setenv("FLEXPORT_API_KEY_FILE", str(key_file))
    monkeypatch.setenv("FLEXPORT_BASE_URL", keyed_sandbox.base_url)
    sent = on_the_wire(monkeypatch, lambda _n: None)
    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(20, lines=1))
    code = main(["import", str(path), "--yes", "--journal", str(tmp_path / "j.sqlite")])
    out = capsys.readouterr()
    assert code == 2
    assert out.err == (
        f"Error: the API key file {key_file} has more than one line; "
        "keep only the key on its first line\n"
    )
    assert sent == []
    assert SECRET not in out.out + out.err


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (f"{SECRET[:8]} {SECRET[8:]}", "contains a space or control character"),
        (f"{SECRET[:8]}\t{SECRET[8:]}", "contains a space or control character"),
        (f"{SECRET[:8]}\x00{SECRET[8:]}", "contains a space or control character"),
        (f"{SECRET[:8]}\x7f{SECRET[8:]}", "contains a space or control character"),
        (f"{SECRET}\n# production key", "has more than one line"),
        (f"{SECRET[:8]}é{SECRET[8:]}", "contains a non-ASCII character"),
        (f"{SECRET[:8]}\u00a0{SECRET[8:]}", "contains a non-ASCII character"),
    ],
)
def test_a_key_that_cannot_be_a_header_is_refused_without_showing_it(
    tmp_path: Path, value: str, problem: str
) -> None:
    key_file = tmp_path / "flexport.key"
    key_file.write_text(value, encoding="utf-8")
    for settings, where in (
        (load_settings(env={"FLEXPORT_API_KEY": value}), "the API key (FLEXPORT_API_KEY)"),
        (load_settings(env={"FLEXPORT_API_KEY_FILE": str(key_file)}),
         f"the API key file {key_file}"),
    ):  # fmt: skip
        with pytest.raises(ConfigError) as caught:
            settings.key()
        message = str(caught.value)
        assert message.startswith(f"{where} {problem}"), message
        assert SECRET[:8] not in message and SECRET[8:] not in message


def test_surrounding_whitespace_and_a_bom_are_still_stripped(tmp_path: Path) -> None:
    key_file = tmp_path / "flexport.key"
    key_file.write_bytes(b"\xef\xbb\xbf  " + SECRET.encode() + b"\r\n")
    assert load_settings(env={"FLEXPORT_API_KEY_FILE": str(key_file)}).key() == SECRET
    assert load_settings(env={"FLEXPORT_API_KEY": f" {SECRET}\n"}).key() == SECRET


def test_a_non_ascii_key_is_a_message_not_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEXPORT_API_KEY", "sk-live-clé-Zq81")
    monkeypatch.setenv("FLEXPORT_BASE_URL", "http://127.0.0.1:9")
    assert main(["refs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: the API key (FLEXPORT_API_KEY) contains a non-ASCII character")
    assert "clé" not in err and "Internal error" not in err


# -- a request that cannot be sent -------------------------------------------


def _h11_refusal(_n: int) -> Exception:
    # What h11 says of a header it will not write: it quotes the header, key and all.
    return httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET}\\r\\n'")


@pytest.mark.parametrize(
    "raised",
    [
        httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET}'"),
        UnicodeEncodeError("ascii", f"Bearer {SECRET}", 7, 8, "ordinal not in range(128)"),
    ],
)
def test_a_local_protocol_error_is_one_attempt_that_stops_the_run(raised: Exception) -> None:
    attempts = []

    def refuse(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        raise raised

    async def go() -> RunStopped:
        settings = load_settings(env={}, api_key=SECRET, base_url="https://api.example.com")
        caller = Caller(Pacer(1000.0), RetryPolicy(max_retries=6, backoff=0.0))
        async with FlexportClient(settings, transport=httpx.MockTransport(refuse)) as api:
            with pytest.raises(RunStopped) as caught:
                await caller.call(lambda: api.request("POST", "/purchase_orders", json={}))
        return caught.value

    stopped = asyncio.run(go())
    assert len(attempts) == 1
    assert isinstance(stopped.cause, LocalRequestError)
    assert isinstance(stopped.cause, TransportError) and not stopped.cause.retryable
    assert not stopped.cause.reached_server
    assert "nothing was sent" in str(stopped.cause)
    assert SECRET not in str(stopped.cause) and SECRET not in repr(stopped.cause.args)


def test_workers_waiting_for_their_turn_send_nothing_once_the_run_stopped() -> None:
    attempts = []

    async def refuse_after_connecting(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        await asyncio.sleep(0.05)  # h11 refuses the header once the connection is up
        raise _h11_refusal(0)

    async def go() -> RunStopped | None:
        settings = load_settings(env={}, api_key=SECRET, base_url="https://api.example.com")
        transport = httpx.MockTransport(refuse_after_connecting)
        caller = Caller(Pacer(5.0), RetryPolicy(backoff=0.0))
        async with FlexportClient(settings, transport=transport) as api:

            async def submit(n: int) -> UnitResult:
                await caller.call(lambda: api.request("POST", "/purchase_orders", json={}))
                raise AssertionError(f"unit {n} went through")

            return await run_units(range(8), submit, concurrency=8, on_result=print)

    stopped = asyncio.run(go())
    assert stopped is not None and isinstance(stopped.cause, LocalRequestError)
    # The pacer lets its bucket of requests leave at once; every later one sees the stop.
    assert 1 <= len(attempts) <= Pacer.BUCKET


def test_a_protocol_error_quoting_the_key_reaches_no_output(
    tmp_path: Path,
    keyed_sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEXPORT_API_KEY", SECRET)
    monkeypatch.setenv("FLEXPORT_BASE_URL", keyed_sandbox.base_url)
    sent = on_the_wire(monkeypatch, _h11_refusal)
    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(20, lines=1))
    journal = tmp_path / "j.sqlite"
    outputs = [tmp_path / n for n in ("r.xlsx", "fix.xlsx", "r.csv", "fix.csv", "r.jsonl")]
    results = []
    for report, errors in ((outputs[0], outputs[1]), (outputs[2], outputs[3]), (outputs[4], None)):
        sent.clear()
        args = ["import", str(path), "--yes", "--journal", str(journal), "--report", str(report)]
        args += ["--errors", str(errors)] if errors else []
        code = main(args)
        results.append((code, len(sent), capsys.readouterr()))
    for code, attempts, out in results:
        assert (code, attempts) == (3, 1), out.err
        assert SECRET not in out.out + out.err
        assert "Error: stopped: bulkpo could not send the request" in out.err
        assert f"Bearer {REDACTED}" in out.err
    for file in [*outputs, journal, *tmp_path.glob("j.sqlite-*")]:
        assert SECRET.encode() not in readable_bytes(file), file
    # Every row still ends with one status, the unsent ones saying why.
    rows = [json.loads(line) for line in outputs[4].read_text().splitlines()]
    assert len(rows) == 20 and {r["status"] for r in rows} == {"failed"}
    assert len(read_table(outputs[1]).rows) == 20, "the errors file lists the failed rows"
    # Nothing was sent: every unit is still pending (the first request is the
    # lookup by name before the first create, so no write was ever attempted).
    with sqlite3.connect(journal) as db:
        states = {state for (state,) in db.execute("SELECT state FROM units")}
    assert states == {"pending"}


def test_redact_hides_the_key_in_the_spellings_exceptions_use() -> None:
    key = "sk'live\\Zq81"  # a quote and a backslash: reprs escape both
    load_settings(env={}, api_key=key).key()
    assert redact(key) == REDACTED
    assert redact(repr(key)) == f'"{REDACTED}"'
    assert redact(repr(key.encode())) == f'b"{REDACTED}"'
    assert redact(f"Illegal header value b'Bearer {key}'") == (
        f"Illegal header value b'Bearer {REDACTED}'"
    )


def test_the_journal_and_the_report_redact_a_message_whatever_made_it(tmp_path: Path) -> None:
    # Messages reach these files from errors (redacted when built) and from
    # plain strings; the files redact again, for the strings.
    load_settings(env={}, api_key=SECRET).key()
    leaked = f"upstream said: Bearer {SECRET}"
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run("o.xlsx", "digest")
        journal.register(run_id, "purchase_order", [("PO-1", "d", [2])])
        journal.mark("purchase_order", "PO-1", UnitState.FAILED, message=leaked, code=SECRET)
        record = journal.get("purchase_order", "PO-1")
    assert record is not None and record.message == f"upstream said: Bearer {REDACTED}"
    path = write_po_workbook(tmp_path / "o.xlsx", po_rows(1, lines=1))
    table = read_table(path)
    results = [RowResult(2, "failed", message=leaked, key="PO-00001")]
    files = [tmp_path / n for n in ("r.xlsx", "r.csv", "r.jsonl", "fix.xlsx", "fix.csv")]
    for report in files[:3]:
        write_result_report(report, table, results)
    for errors in files[3:]:
        write_errors_file(errors, table, results)
    for file in [*files, tmp_path / "j.sqlite", *tmp_path.glob("j.sqlite-*")]:
        assert SECRET.encode() not in readable_bytes(file), file
    assert REDACTED in files[2].read_text()


# -- refs goes through the paced, retried caller ------------------------------


def test_refs_waits_out_one_server_error(
    keyed_sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLEXPORT_API_KEY", SECRET)
    monkeypatch.setenv("FLEXPORT_BASE_URL", keyed_sandbox.base_url)
    error = {"_object": "/api/error", "status": 500, "code": "server_error", "message": "boom"}
    sent = on_the_wire(
        monkeypatch, lambda n: httpx.Response(500, json={"error": error}) if n == 0 else None
    )
    code = main(["refs", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    refs = {r["ref"] for r in json.loads(out.out)}
    assert set(SEEDED_REFS["company_entities"]) | set(SEEDED_REFS["locations"]) <= refs
    assert sent[0].url.path == sent[1].url.path == "/network/company_entities"
    assert len(sent) == 3

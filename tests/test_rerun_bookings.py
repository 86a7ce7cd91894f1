"""Bookings re-runs read Flexport in list pages: no request per booking, exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from bulkpo.bookings import pages, plan_bookings
from bulkpo.config import BookingDefaults
from bulkpo.engine.exactly_once import OnExisting, UnitResult
from bulkpo.imports import ImportOptions, import_workbook, load_workbook
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.conftest import DUPLICATE_NAMES, listing, names_mode, settings_for
from tests.test_bookings import booking_row, links_by_booking, pos_with_lines, run, write_workbook
from tests.test_rerun_pages import RefusingLists, requests_in

BOOKINGS = 20


def booking_requests(log: Path) -> Counter[str]:
    """The requests of one run by kind: list pages, per-booking or per-PO reads, writes."""
    kinds: Counter[str] = Counter()
    for line in requests_in(log):
        path, query = line["path"], line["query"]
        if line["method"] == "POST":
            kinds[f"write {path}"] += 1
        elif "f.name=" in query:
            kinds[f"lookup {path}"] += 1
        elif path.rstrip("0123456789") != path:
            kinds[f"read {path.rstrip('0123456789')}"] += 1
        elif ".id=" in query:
            kinds[f"one {path}"] += 1  # the links or lines of one booking or PO
        else:
            kinds[f"page {path}"] += 1
    return kinds


def per_unit(sent: Counter[str]) -> int:
    """Requests that name one booking or PO (lookups, reads by id, their links or lines)."""
    return sum(n for kind, n in sent.items() if kind.split()[0] in ("lookup", "read", "one"))


@pytest.fixture
def recorded(tmp_path: Path) -> Any:
    log = tmp_path / "requests.jsonl"
    options = SandboxOptions(db_path=tmp_path / "s.sqlite", seed=2, record_path=log)
    with running_sandbox(options) as server:
        yield server, log


def create_elsewhere(server: SandboxServer, path: Path) -> None:
    """Someone creates in Flexport, outside bulkpo, the bookings of this file."""
    workbook = load_workbook(path)
    assert workbook.bookings is not None
    headers = {"Authorization": f"Bearer {server.api_key}"}
    for unit in plan_bookings(workbook.bookings[1].bookings, BookingDefaults()):
        httpx.post(server.base_url + "/bookings", json=unit.body, headers=headers
                   ).raise_for_status()


@pytest.mark.parametrize("with_pos", [True, False], ids=["with POs", "bookings alone"])
def test_rerun_of_unchanged_bookings_sends_no_request_per_booking(
    tmp_path: Path, recorded: Any, with_pos: bool
) -> None:
    server, log = recorded
    settings = settings_for(server, rate=500.0, concurrency=4)
    bookings = [booking_row(n) for n in range(1, BOOKINGS + 1)]
    pos = pos_with_lines(BOOKINGS)
    if not with_pos:  # the POs come from an earlier file
        run(write_workbook(tmp_path / "pos.xlsx", pos, []), settings)
    path = write_workbook(tmp_path / "b.xlsx", pos if with_pos else None, bookings)
    first = run(path, settings)
    assert first.bookings is not None
    assert first.bookings.summary.counts["created"] == BOOKINGS
    sent = booking_requests(log)
    # A booking this run creates is neither looked up nor are its (no) links read.
    assert per_unit(sent) == 0, sent
    assert sent["write /bookings"] == BOOKINGS and sent["write /booking_line_items"] == 40

    for journal in (None, tmp_path / "another-machine.sqlite"):
        again = run(path, settings, **({"journal": journal} if journal else {}))
        assert again.bookings is not None
        assert again.bookings.summary.counts["unchanged"] == BOOKINGS, again.bookings.results
        sent = booking_requests(log)
        assert per_unit(sent) == 0 and not any(k.startswith("write") for k in sent), sent
        assert sum(sent.values()) <= 5, sent
    assert len(listing(server, "/bookings")) == BOOKINGS
    assert sorted(set(links_by_booking(server).values())) == [2]


def test_the_old_path_is_a_lookup_per_booking(tmp_path: Path, recorded: Any) -> None:
    server, log = recorded
    settings = settings_for(server, rate=500.0, concurrency=4)
    path = write_workbook(tmp_path / "b.xlsx", pos_with_lines(5),
                          [booking_row(n) for n in range(1, 6)])
    run(path, settings)
    requests_in(log)
    again = run(path, settings, read_pages=False)
    assert again.bookings is not None and again.bookings.summary.counts["unchanged"] == 5
    sent = booking_requests(log)
    assert sent["read /bookings/"] == 5 and sent["one /booking_line_items"] == 5, sent


@pytest.mark.parametrize("mode", DUPLICATE_NAMES)
def test_a_booking_created_elsewhere_between_two_runs_is_not_created_again(
    tmp_path: Path, mode: str
) -> None:
    log = tmp_path / "requests.jsonl"
    options = SandboxOptions(db_path=tmp_path / "s.sqlite", record_path=log, **names_mode(mode))
    pos = pos_with_lines(BOOKINGS)
    bookings = [booking_row(n) for n in range(1, BOOKINGS + 1)]
    with running_sandbox(options) as server:
        settings = settings_for(server, rate=500.0, concurrency=4)
        journal = tmp_path / "j.sqlite"
        run(write_workbook(tmp_path / "a.xlsx", pos, bookings[:-1]), settings, journal=journal)
        # Between two runs someone creates the booking the next file adds.
        create_elsewhere(server, write_workbook(tmp_path / "x.xlsx", None, bookings[-1:]))
        requests_in(log)
        again = run(write_workbook(tmp_path / "a.xlsx", pos, bookings), settings,
                    journal=journal)
        sent = booking_requests(log)
        names = Counter(b["name"] for b in listing(server, "/bookings"))
        links = links_by_booking(server)
    assert again.bookings is not None
    statuses = {r.key: r.status for r in again.bookings.results}
    last = f"BK-{BOOKINGS:05d}"
    assert Counter(statuses.values()) == {"unchanged": BOOKINGS - 1, "updated": 1}, statuses
    assert "linked PO-00020 lines 1, 2" in next(
        r.message for r in again.bookings.results if r.key == last)
    assert set(names.values()) == {1} and len(names) == BOOKINGS
    assert sent["write /bookings"] == 0 and sent["write /booking_line_items"] == 2, sent
    assert sorted(set(links.values())) == [2]
    # Read from the pages, not looked up; a list read that fails (seen once, on an
    # overloaded machine) leaves the new name to one lookup, said in the run's events.
    assert again.stats is not None
    failed = again.stats.events.get("booking_pages_failed", 0)
    assert sent["lookup /bookings"] == failed, (sent, again.stats.events)


def test_a_changed_booking_still_gets_its_amendment(tmp_path: Path, recorded: Any) -> None:
    server, log = recorded
    settings = settings_for(server, rate=500.0, concurrency=4)
    pos = pos_with_lines(BOOKINGS)
    bookings = [booking_row(n) for n in range(1, BOOKINGS + 1)]
    run(write_workbook(tmp_path / "b.xlsx", pos, bookings), settings)
    requests_in(log)
    bookings[6] = booking_row(7, cargo_ready_date="2026-12-15")
    path = write_workbook(tmp_path / "b.xlsx", pos, bookings)

    skipped = run(path, settings)
    assert skipped.bookings is not None
    assert skipped.bookings.summary.counts["unchanged"] == BOOKINGS
    assert per_unit(booking_requests(log)) == 0

    updated = run(path, settings, on_existing=OnExisting.UPDATE)
    assert updated.bookings is not None
    statuses = {r.key: r.status for r in updated.bookings.results}
    assert Counter(statuses.values()) == {"unchanged": BOOKINGS - 1, "updated": 1}, statuses
    assert statuses["BK-00007"] == "updated"
    sent = booking_requests(log)
    # The changed booking alone is read afresh before its amendment.
    assert sent["read /bookings/"] == 1 and sent["write /booking_amendments"] == 1, sent
    assert per_unit(sent) == 1, sent
    held = {b["name"]: b for b in listing(server, "/bookings")}
    assert held["BK-00007"]["cargo_ready_date"] == "2026-12-15"


@pytest.mark.parametrize("mode", DUPLICATE_NAMES)
def test_a_booking_created_elsewhere_while_the_run_lasts_is_not_created_again(
    tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pages stand for lookups only so long: here, not at all after the first booking.
    monkeypatch.setattr(pages, "REFRESH_AFTER", 0.0)
    import bulkpo.imports

    made: list[pages.BookingPages | None] = []
    read = bulkpo.imports._booking_pages

    async def keep(*args: Any, **kwargs: Any) -> pages.BookingPages | None:
        made.append(await read(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(bulkpo.imports, "_booking_pages", keep)
    pos = pos_with_lines(BOOKINGS)
    bookings = [booking_row(n) for n in range(1, BOOKINGS + 1)]
    last = f"BK-{BOOKINGS:05d}"
    log = tmp_path / "requests.jsonl"
    options = SandboxOptions(db_path=tmp_path / "s.sqlite", record_path=log, **names_mode(mode))
    with running_sandbox(options) as server:
        settings = settings_for(server, rate=500.0, concurrency=1)
        run(write_workbook(tmp_path / "pos.xlsx", pos, []), settings)
        requests_in(log)
        later = write_workbook(tmp_path / "x.xlsx", None, bookings[-1:])

        def meanwhile(result: UnitResult) -> None:
            if result.key == "BK-00001":  # the pages were read before anything was sent
                create_elsewhere(server, later)

        path = write_workbook(tmp_path / "b.xlsx", None, bookings)
        workbook = load_workbook(path, defaults=settings.bookings)
        outcome = asyncio.run(import_workbook(
            workbook, settings, ImportOptions(journal=tmp_path / "j.sqlite"),
            on_result=meanwhile))
        names = Counter(b["name"] for b in listing(server, "/bookings"))
        sent = booking_requests(log)
    assert outcome.bookings is not None
    statuses = {r.key: r.status for r in outcome.bookings.results}
    assert statuses[last] == "updated"  # found, and its PO lines linked to it
    # Found by the pages of bookings created since, read again before each create.
    assert sent["lookup /bookings"] == 0 and sent["page /bookings"] > 1, sent
    assert set(names.values()) == {1} and len(names) == BOOKINGS
    # Read back before each create, the run's own bookings were let go once done with.
    read_pages = made[-1]
    assert read_pages is not None and read_pages.named == {} and read_pages.names == set()


# The sandbox, except that a bookings list without a name filter is refused (400).
REFUSING_BOOKING_LISTS = ("/bookings", "sort: unsupported value")


def test_a_refused_bookings_list_falls_back_to_a_lookup_per_booking(
    tmp_path: Path, recorded: Any
) -> None:
    server, log = recorded
    settings = settings_for(server, rate=500.0, concurrency=4)
    path = write_workbook(tmp_path / "b.xlsx", pos_with_lines(5),
                          [booking_row(n) for n in range(1, 6)])
    first = run(path, settings, transport=RefusingLists(*REFUSING_BOOKING_LISTS))
    assert first.bookings is not None and first.bookings.summary.counts["created"] == 5
    assert first.stats.events["booking_pages_failed"] == 1
    sent = booking_requests(log)
    assert sent["lookup /bookings"] == 5 and sent["write /bookings"] == 5, sent
    again = run(path, settings, transport=RefusingLists(*REFUSING_BOOKING_LISTS))
    assert again.bookings is not None and again.bookings.summary.counts["unchanged"] == 5
    assert booking_requests(log)["read /bookings/"] == 5
    assert len(listing(server, "/bookings")) == 5


def test_a_few_bookings_against_a_larger_account_are_looked_up_one_by_one(
    tmp_path: Path, recorded: Any
) -> None:
    server, log = recorded
    settings = settings_for(server, rate=1000.0, concurrency=8)
    many = [booking_row(n) for n in range(1, 121)]
    run(write_workbook(tmp_path / "many.xlsx", pos_with_lines(120, lines=1), many), settings)
    requests_in(log)
    # 2 pages of the account's 120 bookings cost no less than looking up 2 names.
    few = [booking_row(n, booking_name=f"BK-NEW-{n}") for n in (1, 2)]
    outcome = run(write_workbook(tmp_path / "few.xlsx", None, few), settings)
    assert outcome.bookings is not None and outcome.bookings.summary.counts["created"] == 2
    sent = booking_requests(log)
    assert (sent["page /bookings"], sent["lookup /bookings"], sent["write /bookings"]) == (
        1, 2, 2), sent

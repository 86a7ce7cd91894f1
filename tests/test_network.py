"""The network sheet over real HTTP: entities and locations created once by ref, then the POs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

import bulkpo
from bulkpo.cli import main
from bulkpo.columns import Kind
from bulkpo.config import Settings
from bulkpo.network.rules import KIND_ENTITY, KIND_LOCATION, NetworkObject
from bulkpo.sandbox import SandboxOptions, SandboxServer, running_sandbox
from tests.conftest import listing, settings_for
from tests.factories import (
    NEW_ENTITY,
    NEW_LOCATION,
    OWN_LOCATION,
    network_pos,
    workbook_with_network,
)


def _refs(server: SandboxServer, path: str) -> list[str]:
    return sorted(item["ref"] for item in listing(server, path))


def _statuses(result: bulkpo.ImportResult, kind: Kind) -> list[str]:
    sheet = result.sheet(kind)
    assert sheet is not None
    return [r.status for r in sheet.results]


def test_network_sheet_is_created_once_then_the_pos_that_name_it(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    path = workbook_with_network(tmp_path / "migration.xlsx",
                                 [NEW_ENTITY, NEW_LOCATION, OWN_LOCATION], network_pos())
    journal = tmp_path / "journal.sqlite"
    first = bulkpo.import_file(path, settings=sandbox_settings, journal=journal)
    assert _statuses(first, Kind.NETWORK) == ["created"] * 3
    assert _statuses(first, Kind.PURCHASE_ORDERS) == ["created"] * 4
    entities = listing(sandbox, "/network/company_entities?f.ref=sup-foshan-ceramics")
    assert [e["mailing_address"]["unlocode"] for e in entities] == ["CNDGG"]
    assert entities[0]["vat_numbers"][0]["number"] == "CN 91441900"
    locations = {loc["ref"]: loc for loc in listing(sandbox, "/network/locations")}
    assert locations["loc-dongguan-factory"]["company"]["id"] == str(entities[0]["id"])
    pos = listing(sandbox, "/purchase_orders")
    assert {po["seller"]["ref"] for po in pos} == {"sup-foshan-ceramics"}
    before = (_refs(sandbox, "/network/company_entities"), _refs(sandbox, "/network/locations"))

    # Again with the journal, then with a new journal: nothing is created twice.
    again = bulkpo.import_file(path, settings=sandbox_settings, journal=journal)
    fresh = bulkpo.import_file(path, settings=sandbox_settings, journal=tmp_path / "new.sqlite")
    for result in (again, fresh):
        assert _statuses(result, Kind.NETWORK) == ["unchanged"] * 3
        assert _statuses(result, Kind.PURCHASE_ORDERS) == ["unchanged"] * 4
    after = (_refs(sandbox, "/network/company_entities"), _refs(sandbox, "/network/locations"))
    assert after == before
    assert before[0].count("sup-foshan-ceramics") == 1


def test_a_run_killed_after_the_entity_post_adopts_it_on_resume(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    """The journal says the entity was sent with no answer: the resumed run finds it by ref."""
    path = workbook_with_network(tmp_path / "m.xlsx", [NEW_ENTITY], [])
    journal = tmp_path / "journal.sqlite"
    first = bulkpo.import_file(path, settings=sandbox_settings, journal=journal)
    assert _statuses(first, Kind.NETWORK) == ["created"]
    from bulkpo.engine.journal import Journal, UnitState

    with Journal(journal) as opened:
        opened.mark("company_entity", "sup-foshan-ceramics", UnitState.SENT)
    resumed = bulkpo.import_file(path, settings=sandbox_settings, journal=journal, resume=True)
    assert _statuses(resumed, Kind.NETWORK) == ["created"]  # adopted: ours from the lost answer
    assert _refs(sandbox, "/network/company_entities").count("sup-foshan-ceramics") == 1


def test_bad_network_cells_are_named_and_nothing_of_them_is_sent(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    rows = [
        NEW_ENTITY,
        ("entity", "sup-x", "X Co", None, "1 Road", "Shenzhen", "Narnia", None, None),
        ("location", "loc-y", "Y", None, "2 Road", "Ningbo", "CN", None, None),
        ("location", "loc-z", "Z", "sup-foshan-ceramic", "3 Road", "Ningbo", "CN", None, None),
        ("entity", "sup-foshan-ceramics", "Again", None, "4 Road", "Dongguan", "CN", None, None),
    ]
    path = workbook_with_network(tmp_path / "bad.xlsx", rows, [])
    checked = bulkpo.validate_file(path)
    cells = {str(i.ref): i.code.value for i in checked.issues if i.severity.value == "error"}
    assert cells["Suppliers!G3"] == "bad_country"
    assert cells["Suppliers!D4"] == "required"  # a location needs its owner
    assert cells["Suppliers!B2"] == cells["Suppliers!B6"] == "duplicate_ref"
    result = bulkpo.import_file(path, settings=sandbox_settings, journal=tmp_path / "j.sqlite")
    statuses = _statuses(result, Kind.NETWORK)
    assert statuses[:4] == ["invalid", "invalid", "invalid", "invalid"]
    # The owner typo is found once the account is known: invalid, not sent.
    assert statuses[4] == "invalid"
    sheet = result.sheet(Kind.NETWORK)
    assert sheet is not None
    assert "did you mean sup-foshan-ceramics" in " ".join(
        i.suggestion for r in sheet.results for i in r.issues)
    assert "loc-z" not in _refs(sandbox, "/network/locations")
    assert "sup-x" not in _refs(sandbox, "/network/company_entities")


def test_cli_template_and_import_report_the_network_sheet(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["template", "network", "-o", "network.xlsx"]) == 0
    template = bulkpo.validate_file(tmp_path / "network.xlsx")
    assert template.sheet(Kind.NETWORK) is not None
    monkeypatch.setenv("FLEXPORT_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("FLEXPORT_API_KEY", sandbox.api_key)
    workbook_with_network(tmp_path / "m.xlsx", [NEW_ENTITY, NEW_LOCATION, OWN_LOCATION],
                          network_pos())
    code = main(["import", "m.xlsx", "--rate", "500", "--report", "r.xlsx"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Network: 3 rows: 3 created" in out.out
    assert (tmp_path / "r-network.xlsx").is_file() and (tmp_path / "r.xlsx").is_file()


def test_dry_run_lists_the_network_bodies_first(tmp_path: Path) -> None:
    path = workbook_with_network(tmp_path / "m.xlsx", [NEW_LOCATION, NEW_ENTITY], network_pos())
    result = bulkpo.import_file(path, dry_run=True)
    paths = [r["path"] for r in result.requests]
    assert paths[:2] == ["/network/company_entities", "/network/locations"]
    assert set(paths[2:]) == {"/purchase_orders"}
    assert result.requests[1]["body"]["company_id"] == "(id of sup-foshan-ceramics)"


def test_lost_answers_and_faults_never_create_a_ref_twice(tmp_path: Path) -> None:
    """Half the writes commit and then drop their connection; a fifth of requests fail 5xx."""
    options = SandboxOptions(db_path=tmp_path / "s.sqlite", seed=5, drop_rate=0.5,
                             fault_rate=0.2)
    suppliers = [
        ("entity", f"sup-{n}", f"Supplier {n} Ltd", None, f"{n} Road", "Ningbo", "CN", None,
         None) for n in range(8)
    ] + [
        ("location", f"loc-{n}", f"Factory {n}", f"sup-{n}", f"{n} Lane", "Ningbo", "CN",
         None, None) for n in range(8)
    ]
    path = workbook_with_network(tmp_path / "m.xlsx", suppliers, [])
    with running_sandbox(options) as server:
        settings = settings_for(server, rate=500.0, concurrency=4, max_retries=10)
        result = bulkpo.import_file(path, settings=settings, journal=tmp_path / "j.sqlite")
    # Retried until each went through: every row created, each ref once.
    assert _statuses(result, Kind.NETWORK) == ["created"] * 16
    assert result.stats is not None and result.stats.events.get("adopted", 0) > 0
    # Read back from the same state without faults.
    with running_sandbox(SandboxOptions(db_path=options.db_path)) as calm:
        entities = _refs(calm, "/network/company_entities")
        locations = _refs(calm, "/network/locations")
    for refs in (entities, locations):
        assert len(refs) == len(set(refs))  # never twice, whatever was lost
    wanted = {f"sup-{n}" for n in range(8)} | {f"loc-{n}" for n in range(8)}
    assert set(entities + locations) >= wanted


def test_cli_import_says_the_owner_the_account_lacks_with_its_cell(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLEXPORT_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("FLEXPORT_API_KEY", sandbox.api_key)
    typo = ("location", "loc-x", "X", "acme-uss", "1 Road", "Chicago", "US", None, None)
    workbook_with_network(tmp_path / "m.xlsx", [NEW_ENTITY, typo], [])
    assert main(["import", "m.xlsx", "--rate", "500"]) == 1
    err = capsys.readouterr().err
    assert "after reading your network, 1 valid entities and locations, 1 invalid rows" in err
    assert "Suppliers!D3" in err and "acme-us" in err


def test_a_second_network_sheet_is_said_not_ignored_in_silence(tmp_path: Path) -> None:
    path = workbook_with_network(tmp_path / "m.xlsx", [NEW_ENTITY], network_pos())
    wb = load_workbook(path)
    second = wb.create_sheet("Locations")
    for row in wb["Suppliers"].iter_rows(values_only=True):
        second.append(row)
    wb.save(path)
    checked = bulkpo.validate_file(path)
    said = [i.message for i in checked.issues if "also looks like network data" in i.message]
    assert said == ["sheet 'Locations' also looks like network data and is not imported "
                    "(sheet 'Suppliers' is)"]


def _messages(result: bulkpo.ImportResult) -> list[str]:
    sheet = result.sheet(Kind.NETWORK)
    assert sheet is not None
    return [r.message for r in sheet.results]


def test_a_ref_held_with_other_values_is_skipped_then_patched_with_update(
    tmp_path: Path,
) -> None:
    log = tmp_path / "requests.jsonl"
    options = SandboxOptions(db_path=tmp_path / "s.sqlite", seed=2, record_path=log)
    with running_sandbox(options) as server:
        settings = settings_for(server)
        path = workbook_with_network(tmp_path / "n.xlsx", [NEW_ENTITY, NEW_LOCATION], [])
        assert _statuses(bulkpo.import_file(path, settings=settings), Kind.NETWORK) == [
            "created", "created"]
        # The supplier moved down the road, and the factory got a new name.
        moved = ("entity", "sup-foshan-ceramics", "Foshan Ceramics Co Ltd", None, "9 Humen Rd",
                 "Dongguan", "CN", None, None)  # blank unlocode and VAT: not a change
        renamed = (*NEW_LOCATION[:2], "Dongguan Toys plant 2", *NEW_LOCATION[3:])
        path = workbook_with_network(tmp_path / "n2.xlsx", [moved, renamed], [])

        log.write_text("")
        skipped = bulkpo.import_file(path, settings=settings)
        assert _statuses(skipped, Kind.NETWORK) == ["skipped", "skipped"]
        assert _messages(skipped) == [
            "exists in your network with other values (mailing_address); "
            "use --on-existing update to update it",
            "exists in your network with other values (name); "
            "use --on-existing update to update it",
        ]
        assert not [r for r in _logged(log) if r["method"] == "PATCH"]
        [entity] = listing(server, "/network/company_entities?f.ref=sup-foshan-ceramics")
        assert entity["mailing_address"]["street_address"] == "8 Humen Rd"

        updated = bulkpo.import_file(path, settings=settings, on_existing="update")
        assert _statuses(updated, Kind.NETWORK) == ["updated", "updated"]
        assert _messages(updated) == ["updated: mailing_address", "updated: name"]
        patches = [r for r in _logged(log) if r["method"] == "PATCH"]
        assert [p["path"].rsplit("/", 1)[0] for p in patches] == [
            "/network/company_entities", "/network/locations"]
        [entity] = listing(server, "/network/company_entities?f.ref=sup-foshan-ceramics")
        address = entity["mailing_address"]
        # The new street; what the row left blank is kept, as are the VAT numbers.
        assert (address["street_address"], address["city"], address["unlocode"]) == (
            "9 Humen Rd", "Dongguan", "CNDGG")
        assert [v["number"] for v in entity["vat_numbers"]] == ["CN 91441900"]
        [location] = listing(server, "/network/locations?f.ref=loc-dongguan-factory")
        assert location["name"] == "Dongguan Toys plant 2"
        assert location["company"]["ref"] == "sup-foshan-ceramics"

        # What Flexport holds now is what the file says: nothing to send, however asked.
        again = bulkpo.import_file(path, settings=settings, on_existing="update")
        assert _statuses(again, Kind.NETWORK) == ["unchanged", "unchanged"]
        assert not [r for r in _logged(log) if r["method"] != "GET"]


def test_a_ref_held_with_other_values_fails_under_on_existing_fail(
    sandbox: SandboxServer, sandbox_settings: Settings, tmp_path: Path
) -> None:
    path = workbook_with_network(tmp_path / "n.xlsx", [NEW_ENTITY], [])
    bulkpo.import_file(path, settings=sandbox_settings)
    renamed = ("entity", NEW_ENTITY[1], "Foshan Ceramics Group", *NEW_ENTITY[3:])
    path = workbook_with_network(tmp_path / "n2.xlsx", [renamed], [])
    failed = bulkpo.import_file(path, settings=sandbox_settings, on_existing="fail")
    assert _statuses(failed, Kind.NETWORK) == ["failed"]
    assert _messages(failed) == [
        "the entity sup-foshan-ceramics exists in your network already, with other values "
        "(name) (--on-existing fail)"]


def test_a_patch_keeps_the_vat_numbers_and_metadata_the_row_does_not_name() -> None:
    # A PATCH replaces vat_numbers and metadata whole: the account's others go along.
    entity = NetworkObject(KIND_ENTITY, "e-1", "E One", 2, "1 Road", "DE", city="Bonn",
                           vat_number="DE 123")
    held = {"name": "E One", "mailing_address": {"street_address": "1 Road", "city": "Bonn",
                                                 "country_code": "de", "zip": "53111"},
            "vat_numbers": [{"country_code": "FR", "number": "FR 9"}]}
    assert entity.changes(held) == {"vat_numbers": [
        {"country_code": "FR", "number": "FR 9"}, {"country_code": "DE", "number": "DE 123"}]}
    held["vat_numbers"] = [{"country_code": "DE", "number": " DE 123 "}]
    assert entity.changes(held) == {}  # the same number, the country code in another case
    location = NetworkObject(KIND_LOCATION, "l-1", "L One", 3, "2 Road", "DE",
                             metadata=(("dock", "4"),))
    held = {"name": "L One", "address": {"street_address": "2 Road", "country_code": "DE",
                                         "zip": "53111"},
            "metadata": {"dock": ["3"], "gate": ["B"]}}
    assert location.changes(held) == {"metadata": {"dock": ["4"], "gate": ["B"]}}
    held["address"]["street_address"] = "2  Road "
    held["metadata"] = {"dock": ["4"]}
    assert location.changes(held) == {}  # spacing is not a change
    held["address"]["city"] = "Bonn"
    moved = NetworkObject(KIND_LOCATION, "l-1", "L One", 3, "3 Road", "DE")
    assert moved.changes(held) == {"address": {  # sent whole: the held zip and city stay
        "street_address": "3 Road", "country_code": "DE", "zip": "53111", "city": "Bonn"}}


def _logged(log: Path) -> list[dict[str, Any]]:
    """The sandbox's recorded requests since the last call (the log is emptied)."""
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    log.write_text("")
    return [line for line in lines if line["path"] != "/oauth/token"]

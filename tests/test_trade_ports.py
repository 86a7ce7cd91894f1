"""The trade's codes and names for large container ports, against the shipped UN/LOCODE list."""

from __future__ import annotations

from importlib import resources

import pytest

from bulkpo import ports

KNOWN_SOURCES = {"top100", "major", "unlocode", "cbp", "wpi", "flexport", "my56home"}


def _rows(name: str) -> list[list[str]]:
    text = resources.files("bulkpo").joinpath("data", name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@pytest.mark.parametrize(
    ("code", "seaport"),
    [("CNSHA", "CNSHG"), ("CNNGB", "CNNBG"), ("CNSZX", "CNSZP"), ("CNTAO", "CNQDG"),
     ("CNXMN", "CNXMG")],
)
def test_issue_codes_are_trade_ports_naming_their_unlocode_seaport(code: str, seaport: str) -> None:
    # UN/LOCODE files the code as an airport; the table names the seaport it means
    raw = ports.lookup(code)
    assert raw is not None and raw.is_airport and not raw.is_seaport
    port = ports.trade_port(code)
    assert port is not None and port.code == code and port.country == "CN"
    assert port.seaport == seaport and port.differs_from_unlocode
    sea = ports.lookup(seaport)
    assert sea is not None and sea.is_seaport


def test_lookup_folds_and_codes_already_seaports_map_to_themselves() -> None:
    assert ports.trade_port(" cn-sha ") == ports.trade_port("CNSHA")
    rotterdam = ports.trade_port("NLRTM")
    assert rotterdam is not None and rotterdam.seaport == "NLRTM"
    assert not rotterdam.differs_from_unlocode and "unlocode" in rotterdam.sources
    assert ports.trade_port("XXXXX") is None
    assert ports.trade_port("") is None


def test_every_row_is_well_formed_and_points_at_a_unlocode_seaport() -> None:
    rows = _rows(ports.TRADE_FILE)
    codes = [r[0] for r in rows]
    assert len(codes) == len(set(codes))
    assert sum("top100" in r[4].split(",") for r in rows) >= 100
    for code, name, country, seaport, sources in rows:
        assert len(code) == 5 and code.isalpha() and code.isupper() and country == code[:2], code
        assert name
        tags = set(sources.split(","))
        assert tags <= KNOWN_SOURCES and tags & {"top100", "major"}, code
        own = ports.lookup(code)
        if seaport:
            # a code UN/LOCODE lacks or files as something else: its seaport is a real one
            assert own is None or not own.is_seaport, code
            sea = ports.lookup(seaport)
            assert sea is not None and sea.is_seaport and sea.country == country, code
            assert "cbp" in tags, code  # the trade's own use of the code is on record
        else:
            assert own is not None and own.is_seaport and "unlocode" in tags, code


@pytest.mark.parametrize(
    ("name", "code"),
    [("Yantian", "CNYTN"), ("shanghai", "CNSHA"), ("Ningbo", "CNNGB"), ("Busan", "KRPUS"),
     ("Los Angeles", "USLAX"), ("Long Beach", "USLGB"), ("Port of Rotterdam", "NLRTM"),
     ("HAMBURG", "DEHAM"), ("Antwerp", "BEANR"), ("Singapore", "SGSIN"), ("Jebel Ali", "AEJEA"),
     ("Port Klang", "MYPKG"), ("Laem Chabang", "THLCH"), ("Ho Chi Minh City", "VNSGN"),
     ("Cat Lai", "VNCLI"), ("Ningbo-Zhoushan", "CNNGB")],
)
def test_seaport_by_name(name: str, code: str) -> None:
    assert ports.seaport_by_name(name) == code


@pytest.mark.parametrize(
    "name", ["Manzanillo", "Kingston", "Sydney", "Shanghai Pudong", "", "Port"]
)
def test_names_that_do_not_mean_one_seaport_give_none(name: str) -> None:
    assert ports.seaport_by_name(name) is None


def test_every_name_leads_to_a_trade_port_in_its_country_and_none_collides() -> None:
    keys: dict[tuple[str, ...], str] = {}
    for name, code, home, abroad in _rows(ports.TRADE_NAMES_FILE):
        port = ports.trade_port(code)
        assert port is not None, name
        key = tuple(t for t in ports.name_tokens(name) if t not in {"port", "pt", "of", "the"})
        assert keys.setdefault(key, code) == code, name
        # UN/LOCODE seaports of exactly this name are in the port's country, bar namesakes
        # abroad that no other port list knows (Rotterdam, New York, a canal town)
        for seaport, same_country in [(c, True) for c in home.split(",")] + [
            (c, False) for c in abroad.split(",")
        ]:
            if seaport != "-":
                sea = ports.lookup(seaport)
                assert sea is not None and sea.is_seaport, name
                assert (sea.country == port.country) is same_country, name

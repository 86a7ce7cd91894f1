"""UN/LOCODE lookups and suggestions, against the shipped port list (real data)."""

from __future__ import annotations

import gzip
from importlib import resources

from bulkpo import ports


def test_shipped_file_is_compact_and_complete() -> None:
    data = resources.files("bulkpo").joinpath("data", ports.DATA_FILE).read_bytes()
    assert len(data) < 1_500_000
    lines = gzip.decompress(data).decode().splitlines()
    assert len(lines) > 100_000
    assert all(line.count("\t") == 3 for line in lines[:1000])


def test_lookup_folds_case_and_spaces() -> None:
    port = ports.lookup(" cn sha ")
    assert port is not None
    assert port.code == "CNSHA"
    assert port.name == "Shanghai Hongqiao International Apt"
    assert (port.is_airport, port.is_seaport) == (True, False)
    assert ports.lookup("CNSHG") is not None and ports.lookup("CNSHG").is_seaport  # type: ignore[union-attr]
    assert ports.lookup("XXXXX") is None


def test_lookup_iata() -> None:
    pvg = ports.lookup_iata("pvg")
    assert pvg is not None and pvg.code == "CNPVG" and pvg.country == "CN"
    lax = ports.lookup_iata("LAX")
    assert lax is not None and lax.code == "USLAX"
    assert ports.lookup_iata("QQQ") is None


def test_names_without_diacritics_are_kept() -> None:
    port = ports.lookup("DEMLD")
    assert port is not None and port.name == "Muhldorf"


def test_suggest_seaport_of_shanghai_by_name_and_by_code() -> None:
    assert [p.code for p in ports.suggest("Shanghai", want="seaport")][:2] == ["CNSHG", "CNSGH"]
    assert ports.suggest("CNSHA", want="seaport")[0].code == "CNSHG"
    assert ports.suggest("Shangai", want="seaport")[0].code == "CNSHG"
    airports = {p.code for p in ports.suggest("Shanghai", want="airport")}
    assert {"CNPVG", "CNSHA"} <= airports


def test_suggest_near_codes_in_same_country() -> None:
    codes = [p.code for p in ports.suggest("NLRTD", want="airport")]
    assert codes == ["NLRTM"]


def test_check_port_messages() -> None:
    # A code that exists is never an error for its flags: a warning naming the alternative.
    port, problem = ports.check_port("CNPVG", want="seaport")
    assert port is not None and problem is not None and problem.error is False
    assert problem.code == "wrong_port_kind"
    assert problem.message == (
        'UN/LOCODE lists "CNPVG" as an airport (Shanghai Pudong International Apt), '
        "not a seaport; sent as written"
    )
    assert problem.suggestion == (
        "if you meant the seaport of Shanghai Pudong, write CNPDG (Pudong/Shanghai)")
    # The trade's code for the port of Shanghai passes for ocean with no remark at all.
    assert ports.check_port("CNSHA", want="seaport")[1] is None
    _, unknown = ports.check_port("NLRTD", want="airport", accept_iata=True)
    assert unknown is not None and unknown.code == "unknown_port"
    assert unknown.suggestion == "did you mean NLRTM (Rotterdam)?"
    assert ports.check_port("PVG", want="airport", accept_iata=True)[1] is None
    assert ports.check_port("PVG", want="airport")[1] is not None  # IATA only where accepted
    assert ports.check_port("CNSHA")[1] is None  # any port when no kind is wanted

"""UN/LOCODE port lookup and "did you mean" suggestions, offline.

The package ships ``bulkpo/data/ports.tsv.gz``: the UN/LOCODE locations whose
function marks them as a seaport (1), rail (2), road (3) or airport (4), one per
line as ``code, flags, iata, names`` (flags like ``1--4``; names ``|``-joined,
the official name first, then its spelling without diacritics and alternates).
It is derived from the raw list kept beside the repository and regenerated with::

    python -m bulkpo.ports build ../shared/data/unlocode/unlocode.csv bulkpo/data/ports.tsv.gz

The generated file is committed; nothing here needs the raw list at run time.

Beside it, ``data/trade_ports.tsv`` and ``data/trade_port_names.tsv`` list the codes
and names the trade writes for the world's large container ports (CNSHA for the
port of Shanghai, which UN/LOCODE files as an airport); data/TRADE_PORTS.md says
where they come from. They are read by :func:`trade_port` and :func:`seaport_by_name`.
The table is loaded lazily, once, on the first lookup.
"""

from __future__ import annotations

import csv
import difflib
import functools
import gzip
import io
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from bulkpo.issues import IssueCode

Want = Literal["seaport", "airport"]

DATA_FILE = "ports.tsv.gz"


@dataclass(frozen=True, slots=True)
class PortInfo:
    """One UN/LOCODE location that is a port of some kind."""

    code: str            # country + location, e.g. CNSHG
    name: str            # official name, e.g. "Shanghai Pt"
    country: str         # ISO 3166 alpha-2, e.g. CN
    is_seaport: bool
    is_airport: bool
    is_rail: bool
    is_road: bool
    iata: str | None     # the IATA code it answers to, where known
    alt_names: tuple[str, ...] = ()  # spelling without diacritics, other listed names

    @property
    def kind(self) -> str:
        """What it is, in words: "seaport", "airport", "rail terminal" or "road terminal"."""
        kinds = [
            word
            for flag, word in (
                (self.is_seaport, "seaport"),
                (self.is_airport, "airport"),
                (self.is_rail, "rail terminal"),
                (self.is_road, "road terminal"),
            )
            if flag
        ]
        return " and ".join(kinds) if kinds else "location"

    def is_a(self, want: Want | None) -> bool:
        if want is None:
            return True
        return self.is_seaport if want == "seaport" else self.is_airport

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


# --- loading ---------------------------------------------------------------------------


def _parse_line(line: str) -> PortInfo:
    code, flags, iata, names = line.split("\t")
    all_names = names.split("|")
    return PortInfo(
        code=code,
        name=all_names[0],
        country=code[:2],
        is_seaport=flags[0] == "1",
        is_airport=flags[3] == "4",
        is_rail=flags[1] == "2",
        is_road=flags[2] == "3",
        iata=iata or None,
        alt_names=tuple(all_names[1:]),
    )


@functools.cache
def _lines() -> dict[str, str]:
    """Code -> its line of the shipped file; lines become PortInfo only when asked for."""
    raw = resources.files("bulkpo").joinpath("data", DATA_FILE).read_bytes()
    return {line[:5]: line for line in gzip.decompress(raw).decode("utf-8").splitlines()}


@functools.cache
def _iata_codes() -> dict[str, str]:
    """IATA code -> UN/LOCODE (the builder gives each IATA code to one location)."""
    out: dict[str, str] = {}
    for code, line in _lines().items():
        iata = line.split("\t", 3)[2]
        if iata:
            out[iata] = code
    return out


@functools.cache
def _port(code: str) -> PortInfo | None:
    line = _lines().get(code)
    return _parse_line(line) if line is not None else None


def _all_ports() -> Iterator[PortInfo]:
    for code in _lines():
        port = _port(code)
        assert port is not None
        yield port


@functools.cache
def _by_country() -> dict[str, list[PortInfo]]:
    out: dict[str, list[PortInfo]] = defaultdict(list)
    for port in _all_ports():
        out[port.country].append(port)
    return dict(out)


_CODE_GAPS = re.compile(r"[\s\-_.]+")


def fold_code(text: str) -> str:
    """``" cn sha "`` -> ``CNSHA``: case, spaces and dashes do not matter in a code."""
    if text.isascii() and text.isalnum() and text.isupper():
        return text  # already folded, as nearly every cell of a sheet is
    return _CODE_GAPS.sub("", text).upper()


def lookup(code: str) -> PortInfo | None:
    """The port with this UN/LOCODE (folded: "cn sha" finds CNSHA), or None."""
    return _port(fold_code(code))


def lookup_iata(code: str) -> PortInfo | None:
    """The location answering to this three-letter IATA code, airports first, or None."""
    code = _iata_codes().get(fold_code(code), "")
    return _port(code) if code else None


# --- codes the trade writes for large container ports ----------------------------------

TRADE_FILE = "trade_ports.tsv"
TRADE_NAMES_FILE = "trade_port_names.tsv"


@dataclass(frozen=True, slots=True)
class TradePort:
    """A code carriers and forwarders write for a large container port (see data/TRADE_PORTS.md).

    UN/LOCODE flags some of these as airports only (CNSHA is Hongqiao airport there),
    yet the trade writes them for the seaport; ``seaport`` is the code UN/LOCODE
    gives that seaport (CNSHG), or ``code`` itself when UN/LOCODE already calls it one.
    """

    code: str                   # as the trade writes it, e.g. CNSHA
    name: str                   # the port, e.g. "Shanghai"
    country: str                # ISO 3166 alpha-2
    seaport: str                # UN/LOCODE seaport code for the same port, e.g. CNSHG
    sources: tuple[str, ...]    # tags explained in data/TRADE_PORTS.md

    @property
    def differs_from_unlocode(self) -> bool:
        """True when UN/LOCODE does not call ``code`` itself a seaport."""
        return self.seaport != self.code


def _data_lines(name: str) -> Iterator[list[str]]:
    """Tab-separated rows of a shipped table, comment lines skipped."""
    text = resources.files("bulkpo").joinpath("data", name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")


@functools.cache
def _trade_ports() -> dict[str, TradePort]:
    out: dict[str, TradePort] = {}
    for code, name, country, seaport, sources in _data_lines(TRADE_FILE):
        out[code] = TradePort(code, name, country, seaport or code, tuple(sources.split(",")))
    return out


# Words around a port's name that do not tell which port it is ("Port of Rotterdam").
_NAME_NOISE = frozenset({"port", "pt", "of", "the", "harbour", "harbor"})


def _name_key(name: str) -> tuple[str, ...]:
    return tuple(t for t in name_tokens(name) if t not in _NAME_NOISE)


@functools.cache
def _trade_names() -> dict[tuple[str, ...], str]:
    return {_name_key(name): code for name, code, *_ in _data_lines(TRADE_NAMES_FILE)}


def trade_port(code: str) -> TradePort | None:
    """The large container port the trade means by ``code`` ("cn sha" finds CNSHA), or None."""
    return _trade_ports().get(fold_code(code))


def seaport_by_name(name: str) -> str | None:
    """The trade's code for the one seaport a name means ("Yantian" -> CNYTN), or None.

    Only names that cannot mean a port elsewhere are listed: "Manzanillo" (Mexico,
    Panama, Cuba...) gives None. Case, punctuation and "Port of" do not matter.
    """
    key = _name_key(name)
    return _trade_names().get(key) if key else None


# --- suggestions -----------------------------------------------------------------------

# Words that say what a place is rather than which place it is.
_KIND_WORDS = frozenset(
    {"apt", "airport", "intl", "international", "int", "pt", "port", "harbour", "harbor",
     "terminal", "railway", "station", "rly", "airfield", "aerodrome", "regional"}
)
_SEAPORT_WORDS = frozenset({"pt", "port", "harbour", "harbor"})
_AIRPORT_WORDS = frozenset({"apt", "airport", "airfield", "aerodrome"})


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def name_tokens(text: str) -> tuple[str, ...]:
    """Lower-case ASCII words of a place name ("Pudong/Shanghai" -> pudong, shanghai)."""
    return tuple(re.findall(r"[a-z0-9]+", _ascii(text).lower()))


def _place_words(name: str) -> tuple[str, ...]:
    """The words naming the place, without the words naming its kind."""
    return tuple(t for t in name_tokens(name) if t not in _KIND_WORDS)


@functools.cache
def _token_index() -> dict[str, list[PortInfo]]:
    index: dict[str, list[PortInfo]] = defaultdict(list)
    for port in _all_ports():
        seen: set[str] = set()
        for name in (port.name, *port.alt_names):
            for token in name_tokens(name):
                if token not in seen:
                    seen.add(token)
                    index[token].append(port)
    return dict(index)


def _names_kind(port: PortInfo, want: Want | None) -> bool:
    """True when the port's own name says it is the wanted kind ("Shanghai Pt")."""
    words = _SEAPORT_WORDS if want == "seaport" else _AIRPORT_WORDS if want else frozenset()
    return any(t in words for t in name_tokens(port.name))


def _by_place(words: tuple[str, ...], want: Want | None, country: str | None) -> list[PortInfo]:
    """Ports whose names hold all ``words``, of the wanted kind, best first."""
    if not words:
        return []
    index = _token_index()
    postings = [index.get(w, []) for w in words]
    shortest = min(postings, key=len)
    wanted = set(words)
    found = [
        p
        for p in shortest
        if p.is_a(want)
        and (country is None or p.country == country)
        and any(wanted <= set(name_tokens(n)) for n in (p.name, *p.alt_names))
    ]
    found.sort(
        key=lambda p: (
            not _names_kind(p, want),            # "Shanghai Pt" is the seaport of Shanghai
            _place_words(p.name) != words,       # then the place itself over its suburbs
            len(p.name),
            p.code,
        )
    )
    return found


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit (SGH ~ SHG)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _near_codes(code: str, want: Want | None) -> list[PortInfo]:
    """Same-country codes one edit away from ``code``, of the wanted kind."""
    country, location = code[:2], code[2:]
    near = [
        p
        for p in _by_country().get(country, [])
        if p.is_a(want) and p.code != code and _distance(location, p.code[2:]) <= 1
    ]
    near.sort(key=lambda p: (_distance(location, p.code[2:]), p.code))
    return near


def _unique(ports: Iterable[PortInfo], limit: int) -> list[PortInfo]:
    out: list[PortInfo] = []
    seen: set[str] = set()
    for p in ports:
        if p.code not in seen:
            seen.add(p.code)
            out.append(p)
            if len(out) == limit:
                break
    return out


def _place_phrases(name: str) -> list[tuple[str, ...]]:
    """Word groups that may name the place a location is in, most specific first.

    "John F. Kennedy Apt/New York" -> (new york), (john f kennedy), (john f), (john):
    after a slash UN/LOCODE names the city; otherwise a name starts with it
    ("Shanghai Hongqiao International Apt").
    """
    segments = [_place_words(part) for part in reversed(name.split("/"))]
    segments = [s for s in segments if s]
    phrases = list(segments)
    for seg in segments:
        phrases += [seg[:n] for n in range(len(seg) - 1, 0, -1)]
    return phrases


@functools.lru_cache(maxsize=4096)
def same_place(code: str, want: Want | None) -> tuple[str, tuple[PortInfo, ...]]:
    """The place a location is in, and the ports of the wanted kind named after it.

    ("CNSHA", "seaport") -> ("Shanghai", (CNSHG "Shanghai Pt", CNSGH "Shanghai", ...)).
    """
    port = lookup(code)
    if port is None:
        return "", ()
    ascii_name = port.alt_names[0] if port.alt_names else port.name
    for phrase in _place_phrases(ascii_name):
        found = [p for p in _by_place(phrase, want, port.country) if p.code != port.code]
        if found:
            # the phrase in the name's own spelling and case
            words = re.findall(r"[A-Za-z0-9]+", _ascii(ascii_name))
            lower = [w.lower() for w in words]
            start = next(
                i for i in range(len(lower)) if tuple(lower[i : i + len(phrase)]) == phrase
            )
            return " ".join(words[start : start + len(phrase)]), tuple(found)
    return "", ()


@functools.lru_cache(maxsize=4096)
def _suggest(text: str, want: Want | None, limit: int) -> tuple[PortInfo, ...]:
    code = fold_code(text)
    candidates: list[PortInfo] = []
    if re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}", code):
        if lookup(code) is not None:
            candidates += same_place(code, want)[1]
        candidates += _near_codes(code, want)
    if re.fullmatch(r"[A-Z]{3}", code):
        by_iata = lookup_iata(code)
        if by_iata is not None:
            candidates += [by_iata] if by_iata.is_a(want) else same_place(by_iata.code, want)[1]
    words = name_tokens(text)
    if words and not candidates:
        candidates += _by_place(words, want, None)
        if not candidates:
            # A misspelt name ("Shangai"): correct each word against the names we know.
            vocabulary = list(_token_index())
            fixed = tuple(
                (difflib.get_close_matches(w, vocabulary, n=1, cutoff=0.8) or [w])[0]
                for w in words
            )
            if fixed != words:
                candidates += _by_place(fixed, want, None)
    return tuple(_unique(candidates, limit))


def suggest(text: str, *, want: Want | None = None, limit: int = 3) -> list[PortInfo]:
    """Ports the user may have meant by ``text``: a code, a near code, or a place name.

    ``want`` keeps only seaports or airports. For a code that exists but is the
    wrong kind (CNSHA is Shanghai's Hongqiao airport), the ports of the wanted
    kind named after the same place come first (CNSHG, "Shanghai Pt").
    """
    return list(_suggest(text.strip(), want, limit))


# --- messages --------------------------------------------------------------------------


@dataclass(frozen=True)
class PortProblem:
    """Why a value is not usable as a port, or (``error`` False) why it may not be the
    port meant, and what to write instead."""

    code: IssueCode  # unknown_port (an error) or wrong_port_kind (a warning)
    message: str
    suggestion: str
    error: bool = True


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def _listing(ports: Iterable[PortInfo]) -> str:
    return " or ".join(str(p) for p in ports)


@functools.lru_cache(maxsize=4096)
def check_port(
    value: str, *, want: Want | None = None, accept_iata: bool = False
) -> tuple[PortInfo | None, PortProblem | None]:
    """Resolve a cell's port code; a problem says what is wrong and what was meant.

    Only a code that exists nowhere is an error (with suggestions). A code UN/LOCODE
    lists is never refused for its function flags: the trade's codes for large container
    ports (CNSHA for Shanghai) pass as seaports with no remark, and flags that disagree
    with ``want`` give a warning (``error`` False) naming the alternative, e.g.
    ``UN/LOCODE lists "CNPVG" as an airport (Shanghai Pudong International Apt), not a
    seaport; sent as written`` with ``if you meant the seaport of Shanghai: CNSHG``.
    """
    code = fold_code(value)
    port = lookup(code)
    if port is None and accept_iata and len(code) == 3:
        port = lookup_iata(code)
    trade = trade_port(code) if len(code) == 5 else None
    if trade is not None and want != "airport":
        # The trade writes these for the seaport, whatever UN/LOCODE's flags say.
        return port or lookup(trade.seaport), None
    if port is None:
        options = suggest(value, want=want)
        what = "a UN/LOCODE port" + (" or IATA airport code" if accept_iata else "")
        hint = f"did you mean {_listing(options)}?" if options else ""
        if not options and len(code) != 5:
            hint = "write a five-letter UN/LOCODE such as CNSHG or USLAX"
        return None, PortProblem(IssueCode.UNKNOWN_PORT, f'"{value}" is not {what}', hint)
    if want is not None and not port.is_a(want):
        message = (f'UN/LOCODE lists "{value}" as {_a(port.kind)} ({port.name}), not '
                   f"{_a(want)}; sent as written")
        place, same = same_place(port.code, want)
        if same:
            hint = f"if you meant the {want} of {place}, write {same[0]}"
            if len(same) > 1:
                hint += f"; other {want}s there: " + ", ".join(str(p) for p in same[1:3])
        else:
            # near codes would be other places: name none rather than a wrong one
            hint = f"check the mode, or write the {want} meant"
        return port, PortProblem(IssueCode.WRONG_PORT_KIND, message, hint, error=False)
    return port, None


# --- building the shipped file ---------------------------------------------------------

_GLUE = re.compile(
    r"(?<=true)(?=[A-Z]{2},[A-Z0-9]{3},)|(?<=\d)(?=[A-Z]{2},[A-Z0-9]{3},)|(?<=\d),(?=[A-Z]{2},[A-Z0-9]{3},)"
)
_FUNCTION = re.compile(r"[0-9B-]{8}")


def _records(text: str) -> Iterator[list[str]]:
    """``[country, location, name, name_ascii, function, iata, status]`` rows, repaired.

    The packaged csv glues the first record of each country onto the last record
    of the one before (``...,trueAQ,ABA,...``), and writes some names holding a
    comma as two quoted halves (``"Blazuj", " Sarajevo"``); both are undone here.
    """
    lines: list[str] = []
    for line in text.splitlines()[1:]:
        lines.extend(part for part in _GLUE.split(line) if part)
    for row in csv.reader(io.StringIO("\n".join(lines))):
        if len(row) < 7:
            continue
        rest = row[2:]
        names: list[str] = []
        while rest and len(names) < 2:
            parts = [rest.pop(0)]
            if parts[0].startswith('"'):
                # a name split in two at its comma: '"Blazuj', ' Sarajevo"'
                while rest and not parts[-1].endswith('"'):
                    parts.append(rest.pop(0))
            names.append(",".join(parts).strip('"'))
        yield [row[0], row[1], *names, *_tail(row)]


def _tail(row: list[str]) -> list[str]:
    """``[function, iata]`` of a raw row, found by the shape of the function field."""
    for i in range(4, len(row)):
        if _FUNCTION.fullmatch(row[i]):
            after = row[i + 1] if i + 1 < len(row) else ""
            iata = after if re.fullmatch(r"[A-Z]{3}", after) else ""
            status = row[i - 1] if re.fullmatch(r"[A-Z]{2}", row[i - 1]) else ""
            return [row[i], iata, status]
    return ["", "", ""]


def build(source: Path, target: Path) -> int:
    """Write the compact port list derived from the raw UN/LOCODE csv; returns its size."""
    entries: dict[str, dict[str, object]] = {}
    for country, location, name, name_ascii, function, iata, status in _records(
        source.read_text(encoding="utf-8")
    ):
        if not (re.fullmatch(r"[A-Z]{2}", country) and re.fullmatch(r"[A-Z0-9]{3}", location)):
            continue
        flags = "".join(c if function[i : i + 1] == c else "-" for i, c in enumerate("1234"))
        if flags == "----":
            continue
        code = country + location
        entry = entries.setdefault(
            code, {"flags": "----", "iata": "", "names": [], "status": status}
        )
        entry["flags"] = "".join(
            a if a != "-" else b for a, b in zip(str(entry["flags"]), flags, strict=True)
        )
        entry["iata"] = entry["iata"] or iata
        names = entry["names"]
        assert isinstance(names, list)
        for n in (name.strip(), name_ascii.strip()):
            # the source lost some diacritics to U+FFFD; its ASCII spelling is whole
            if n and "\ufffd" not in n and n not in names:
                names.append(n)
    _assign_iata(entries)
    lines = [
        f"{code}\t{e['flags']}\t{e['iata']}\t{'|'.join(e['names'])}"  # type: ignore[arg-type]
        for code, e in sorted(entries.items())
    ]
    data = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=9, mtime=0)
    target.write_bytes(data)
    return len(data)


def _assign_iata(entries: dict[str, dict[str, object]]) -> None:
    """Give each IATA code to one location.

    UN/LOCODE lists an IATA code only where it differs from the location code, so
    an airport without one answers to its location code; when several airports
    could claim a code, one with its own listed code wins, then one whose code
    was adopted by IATA (status AI), then the first.
    """
    owner: dict[str, tuple[int, str]] = {}
    for code, e in entries.items():
        airport = str(e["flags"])[3] == "4"
        explicit = str(e["iata"])
        if explicit:
            rank = 0 if airport else 3
            candidate = explicit
        elif airport:
            rank = 1 if e["status"] == "AI" else 2
            candidate = code[2:]
        else:
            continue
        if candidate not in owner or rank < owner[candidate][0]:
            owner[candidate] = (rank, code)
    for e in entries.values():
        e["iata"] = ""
    for iata, (_, code) in owner.items():
        entries[code]["iata"] = iata


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "build":
        print("usage: python -m bulkpo.ports build <unlocode.csv> <out.tsv.gz>", file=sys.stderr)
        return 2
    size = build(Path(argv[1]), Path(argv[2]))
    print(f"wrote {argv[2]} ({size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

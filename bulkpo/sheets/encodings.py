"""Delimited text files decoded as what they are: BOMs, UTF-16 without one, a guessed
code page, lines mixing UTF-8 and Windows-1252; and the delimiter they use."""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from collections.abc import Sequence

import charset_normalizer

from bulkpo.issues import Issue, IssueCode, Severity

DELIMITERS = ",;\t|"
SNIFF_BYTES = 64 * 1024


def bom_encoding(data: bytes) -> str | None:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    return None


def utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a BOM: mostly-ASCII text leaves every other byte NUL."""
    sample = data[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


# Multi-byte encodings a guess may be trusted with: their byte patterns are
# distinctive. Single-byte guesses (cp852, cp1250, mac_roman...) are not: any
# byte decodes in any of them, and for the short texts of an order export the
# detector often prefers an Eastern or DOS code page to the cp1252 that Excel
# on Windows actually wrote.
_MULTI_BYTE = frozenset({
    "big5", "big5hkscs", "cp932", "cp949", "cp950", "euc_jis_2004", "euc_jp", "euc_kr",
    "gb18030", "gb2312", "gbk", "hz", "iso2022_jp", "iso2022_kr", "johab", "shift_jis",
    "shift_jis_2004", "shift_jisx0213", "utf_16", "utf_16_be", "utf_16_le", "utf_32",
})


def decode(data: bytes) -> tuple[str, list[int]]:
    """Text of a delimited file: BOM, UTF-8, UTF-16, a confident guess, UTF-8 mixed with
    cp1252 line by line, else cp1252; with the 1-based lines read as cp1252 in a mix."""
    encoding = bom_encoding(data) or utf16_without_bom(data)
    if encoding:
        text = data.decode(encoding, errors="replace")
        return text.removeprefix("\ufeff"), []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data[: 512 * 1024]).best()
    if best is not None and best.encoding in _MULTI_BYTE and best.chaos < 0.1:
        try:
            return data.decode(best.encoding), []
        except (UnicodeDecodeError, LookupError):
            pass
    mixed = _decode_mixed(data)
    if mixed is not None:
        return mixed
    return _cp1252(data), []


def _cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps every byte.
        return data.decode("latin-1")


def _decode_mixed(data: bytes) -> tuple[str, list[int]] | None:
    """A file appended to by two programs, one writing UTF-8 and one cp1252 (Excel on
    Windows): each line decoded as what it is, with the cp1252 lines' numbers.

    None unless some line holds real UTF-8 beyond ASCII: cp1252 text is almost never
    valid UTF-8 by chance (an accented letter followed by a symbol), so such a line
    was written as UTF-8, and reading the whole file as cp1252 would garble it.
    """
    lines = data.splitlines(keepends=True)
    texts: list[str] = []
    cp1252_lines: list[int] = []
    utf8_beyond_ascii = False
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            texts.append(_cp1252(line))
            cp1252_lines.append(number)
            continue
        utf8_beyond_ascii = utf8_beyond_ascii or not line.isascii()
        texts.append(text)
    if not utf8_beyond_ascii:
        return None
    return "".join(texts), cp1252_lines


def mixed_encoding_issue(lines: Sequence[int]) -> Issue:
    shown = ", ".join(str(n) for n in lines[:20])
    more = f" and {len(lines) - 20} more" if len(lines) > 20 else ""
    return Issue(
        ref=None,
        header="",
        value="",
        code=IssueCode.MIXED_ENCODING,
        severity=Severity.WARNING,
        message=(
            "the file mixes UTF-8 and Windows-1252 text: "
            f"line{'s' if len(lines) > 1 else ''} {shown}{more} read as Windows-1252, "
            "the others as UTF-8"
        ),
        suggestion="check those lines' accented letters, then save the file as UTF-8",
    )


def sniff_delimiter(sample: str, suffix: str) -> str:
    """One of , ; tab | : csv.Sniffer restricted to those, checked by counting.

    Title lines above the header hold no delimiter, so the check asks for the delimiter
    to appear the same number of times on most lines rather than on the first one.
    """
    lines = [line for line in sample.splitlines()[:60] if line.strip()]
    if len(sample) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off mid-way
    if not lines:
        return ","
    if suffix == ".tsv" and any("\t" in line for line in lines):
        return "\t"
    scores: dict[str, tuple[int, int]] = {}
    for d in DELIMITERS:
        counts = Counter(n for line in lines if (n := line.count(d)))
        if counts:
            per_line, agreeing = counts.most_common(1)[0]
            scores[d] = (agreeing, per_line)
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed in scores and scores[sniffed][0] * 2 >= len(lines):
        return sniffed
    return max(scores, key=scores.__getitem__, default=",")

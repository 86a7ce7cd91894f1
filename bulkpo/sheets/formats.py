"""Which files bulkpo writes: one registry of formats by suffix and of the outputs taking them.

A :class:`Format` (xlsx, csv, jsonl) owns its suffixes (``.ndjson`` is jsonl
everywhere) and opens a streaming row sink for a list of typed columns. An
:class:`OutputKind` (the result report, the errors file, an export...) names the
formats it takes; :meth:`OutputKind.resolve` turns a path into its format or one
:class:`~bulkpo.errors.UsageError` worded the same for every output. Nothing else in
bulkpo maps a suffix to a format.

Kept free of openpyxl (the writers are imported when a file is opened) so that a
command can check its outputs without the import delaying its start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bulkpo.errors import UsageError

if TYPE_CHECKING:
    from bulkpo.sheets.writer import Column, RowSink

__all__ = [
    "CSV",
    "DOCUMENTS_INDEX",
    "DRY_RUN",
    "ERRORS",
    "EXPORT",
    "JSONL",
    "OUTPUTS",
    "REPORT",
    "SHIPMENTS_EXPORT",
    "TEMPLATE",
    "TRACKING",
    "XLSX",
    "Format",
    "OutputKind",
    "format_for",
    "formats",
    "get_format",
    "listed",
    "register",
]


@dataclass(frozen=True)
class SinkOptions:
    """How a sink lays out what it writes; a format ignores what it cannot show.

    ``sheet`` and ``table`` (an Excel table) are xlsx's; ``exact_text`` keeps formula-like
    text as it is (stored as text that never runs) instead of adding an apostrophe.
    """

    sheet: str = "Data"
    table: bool = False
    exact_text: bool = False


Opener = Callable[[Path, "Sequence[Column]", SinkOptions], "AbstractContextManager[RowSink]"]


@dataclass(frozen=True)
class Format:
    """A file format bulkpo writes: its name, its suffixes (the first is the one messages
    name, the others are aliases) and how it opens a row sink."""

    name: str
    suffixes: tuple[str, ...]
    opener: Opener

    @property
    def suffix(self) -> str:
        return self.suffixes[0]

    def open(
        self,
        path: Path,
        columns: Sequence[Column],
        *,
        sheet: str = "Data",
        table: bool = False,
        exact_text: bool = False,
    ) -> AbstractContextManager[RowSink]:
        """A sink for rows of ``columns`` written atomically to ``path`` (the file
        appears only when the block ends normally)."""
        return self.opener(Path(path), columns, SinkOptions(sheet, table, exact_text))


_FORMATS: dict[str, Format] = {}
_BY_SUFFIX: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Add ``fmt`` to the registry; a name or suffix another format has is refused."""
    if fmt.name in _FORMATS:
        raise ValueError(f"a format named {fmt.name!r} is registered already")
    for suffix in fmt.suffixes:
        if suffix != suffix.lower() or not suffix.startswith("."):
            raise ValueError(f"{suffix!r}: a suffix is lower case and starts with a dot")
        if suffix in _BY_SUFFIX:
            raise ValueError(f"{suffix} is {_BY_SUFFIX[suffix].name} already")
    _FORMATS[fmt.name] = fmt
    for suffix in fmt.suffixes:
        _BY_SUFFIX[suffix] = fmt
    return fmt


def formats() -> tuple[Format, ...]:
    """Every registered format, in registration order."""
    return tuple(_FORMATS.values())


def get_format(name: str) -> Format:
    """The format called ``name`` (KeyError if there is none)."""
    return _FORMATS[name]


def format_for(path: Path | str) -> Format | None:
    """The format ``path``'s suffix names (any case), or None."""
    return _BY_SUFFIX.get(Path(path).suffix.lower())


def listed(items: Sequence[str]) -> str:
    """``a, b or c``."""
    return ", ".join(items[:-1]) + " or " + items[-1] if len(items) > 1 else "".join(items)


# ---------------------------------------------------------------- the formats


def _open_xlsx(
    path: Path, columns: Sequence[Column], options: SinkOptions
) -> AbstractContextManager[RowSink]:
    from bulkpo.sheets.writer import xlsx_rows

    return xlsx_rows(
        path, columns, sheet=options.sheet, table=options.table, exact_text=options.exact_text
    )


def _open_csv(
    path: Path, columns: Sequence[Column], options: SinkOptions
) -> AbstractContextManager[RowSink]:
    from bulkpo.sheets.writer import csv_sink

    return csv_sink(path, [c.header for c in columns], exact_text=options.exact_text)


def _open_jsonl(
    path: Path, columns: Sequence[Column], options: SinkOptions
) -> AbstractContextManager[RowSink]:
    from bulkpo.sheets.writer import jsonl_sink

    return jsonl_sink(path, [c.header if c.key is None else c.key for c in columns])


XLSX = register(Format("xlsx", (".xlsx",), _open_xlsx))
CSV = register(Format("csv", (".csv",), _open_csv))
JSONL = register(Format("jsonl", (".jsonl", ".ndjson"), _open_jsonl))


# ---------------------------------------------------------------- the outputs


@dataclass(frozen=True)
class OutputKind:
    """A kind of file bulkpo writes and the formats it may have.

    ``what`` names it in messages (``a result report``); ``any_name`` says the content
    is always the first format whatever the name (the dry run's request bodies).
    """

    name: str
    what: str
    format_names: tuple[str, ...]
    any_name: bool = False

    @property
    def formats(self) -> tuple[Format, ...]:
        return tuple(get_format(name) for name in self.format_names)

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Every suffix accepted, aliases included (empty: any name)."""
        if self.any_name:
            return ()
        return tuple(suffix for fmt in self.formats for suffix in fmt.suffixes)

    def describe(self) -> str:
        """The suffixes as messages name them: ``.xlsx, .csv or .jsonl``."""
        return listed([fmt.suffix for fmt in self.formats])

    def resolve(self, path: Path | str, option: str = "") -> Format:
        """The format ``path`` is written in; a :class:`UsageError` (naming ``option``,
        ``-o``, when given) when this output does not take that suffix."""
        fmt = format_for(path)
        if fmt is not None and fmt.name in self.format_names:
            return fmt
        if self.any_name:
            return self.formats[0]
        where = f"{option} {path}" if option else str(path)
        raise UsageError(f"{where}: {self.what} is {self.describe()}")


REPORT = OutputKind("report", "a result report", ("xlsx", "csv", "jsonl"))
ERRORS = OutputKind("errors", "an errors file", ("xlsx", "csv"))
EXPORT = OutputKind("export", "the output", ("xlsx", "csv", "jsonl"))
TRACKING = OutputKind("tracking", "the output", ("xlsx", "csv", "jsonl"))
SHIPMENTS_EXPORT = OutputKind("shipments-export", "the shipment export", ("xlsx",))
DOCUMENTS_INDEX = OutputKind("documents-index", "the index", ("csv",))
TEMPLATE = OutputKind("template", "the template", ("xlsx", "csv"))
DRY_RUN = OutputKind("dry-run", "the dry-run output", ("jsonl",), any_name=True)

OUTPUTS: dict[str, OutputKind] = {
    kind.name: kind
    for kind in (
        REPORT,
        ERRORS,
        EXPORT,
        TRACKING,
        SHIPMENTS_EXPORT,
        DOCUMENTS_INDEX,
        TEMPLATE,
        DRY_RUN,
    )
}
"""Every kind of file bulkpo writes, by name: the one answer to "which outputs exist"."""


def accepting(what: str, suffixes: Sequence[str]) -> OutputKind:
    """An output kind taking the formats that ``suffixes`` name, aliases included:
    ``(".xlsx", ".jsonl")`` accepts ``.ndjson`` too."""
    names = tuple(dict.fromkeys(f.name for s in suffixes if (f := format_for(f"x{s}")) is not None))
    return OutputKind("", what, names)

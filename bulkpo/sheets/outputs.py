"""Output files: the one atomic way bulkpo writes them, and the checks a command runs
on them before it reads or sends anything.

Kept free of openpyxl so that a command can check its outputs without the import
delaying its start.
"""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bulkpo.errors import OutputError, UsageError
from bulkpo.sheets.formats import ERRORS, REPORT, OutputKind, accepting

__all__ = [
    "ERRORS_SUFFIXES",
    "REPORT_SUFFIXES",
    "Output",
    "atomic_path",
    "atomic_write_bytes",
    "check_outputs",
    "same_file",
]

# The extensions the result report and the errors file may have, as the format
# registry says (kept under these names for the commands' checks).
REPORT_SUFFIXES = REPORT.suffixes
ERRORS_SUFFIXES = ERRORS.suffixes


def _temp_beside(path: Path) -> Path:
    """A new empty file with a unique name in ``path``'s folder, keeping its suffix."""
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    # Created here (O_EXCL, mode 0666 less the umask) so the final file gets the same
    # permissions as any file the user creates, unlike tempfile's private 0600.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    return tmp


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` only when the
    block ends normally, deleted when it raises (Ctrl-C included).

    So an interrupted run never leaves a half-written file under the name the user asked
    for, and an existing file there survives until the new one is complete. The
    temporary file keeps the suffix, since some writers choose the format by it. Every
    file bulkpo writes goes through here; an OSError on the way (a full disk) comes out
    as an :class:`~bulkpo.errors.OutputError` naming the file.
    """
    path = Path(path)
    try:
        tmp = _temp_beside(path)
    except OSError as exc:
        raise OutputError(path, _reason(exc)) from exc
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        if not isinstance(exc, OSError):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise
        reason = _reason(exc)
        _drop_half_written(exc)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OutputError(path, reason) from None


def _drop_half_written(exc: BaseException) -> None:
    """Let go, quietly, of what a writer that failed mid-file left open.

    openpyxl and zipfile leave their half-written archive open in the failed frames;
    closing it at garbage collection fails again (the disk is still full), which
    Python prints as "Exception ignored" with a traceback after our one-line message.
    """
    hook = sys.unraisablehook
    sys.unraisablehook = lambda _unraisable: None
    try:
        traceback.clear_frames(exc.__traceback__)
        exc.__traceback__ = None
        gc.collect()
    finally:
        sys.unraisablehook = hook


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """``data`` into ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


@dataclass(frozen=True)
class Output:
    """A file a command is asked to write, as :func:`check_outputs` checks it.

    ``option`` names it in messages (``--report``; empty for a default name);
    ``kind`` is what it is (:mod:`bulkpo.sheets.formats`: the formats it may have and
    its name in messages); without one, ``suffixes`` are the extensions it may have
    (lower case, with the dot; empty: any), read through the format registry so that
    an alias (``.ndjson``) is accepted wherever its format is, and ``what`` says what
    it is (``a result report``); ``replace`` False refuses a file that exists already.
    """

    option: str
    path: Path
    suffixes: tuple[str, ...] = ()
    what: str = "the output"
    replace: bool = True
    kind: OutputKind | None = None

    def where(self) -> str:
        return f"{self.option} {self.path}" if self.option else str(self.path)

    def check_format(self) -> None:
        """Refuse a suffix this output's writer does not take (UsageError)."""
        kind = self.kind
        if kind is None and self.suffixes:
            kind = accepting(self.what, self.suffixes)
        if kind is not None:
            kind.resolve(self.path, self.option)


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: by device and inode when both exist (hard
    links, case-insensitive disks), else by their paths with symlinks resolved."""
    try:
        if os.path.samefile(a, b):
            return True
    except OSError:
        pass
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError):  # a symlink loop: names no file we could read
        return False


def check_outputs(outputs: Sequence[Output], inputs: Mapping[str, Path | None]) -> None:
    """Refuse, with a :class:`~bulkpo.errors.UsageError` naming the option, any output
    that would replace an input (``inputs``: ``{"the input file": path}``) or another
    output, has an extension its writer does not know, or lies in a folder that does not
    exist or cannot be written to.

    Called before a command reads or sends anything: a problem with an output found
    after every PO went out would leave the user without a report.
    """
    checked: list[Output] = []
    for out in outputs:
        where = out.where()
        out.check_format()
        for label, source in inputs.items():
            if source is not None and same_file(out.path, source):
                raise UsageError(
                    f"{where}: that is {label} ({source}); writing there would replace it, "
                    "choose another name"
                )
        for earlier in checked:
            if same_file(out.path, earlier.path):
                raise UsageError(
                    f"{where}: {earlier.where()} writes that file too; give each its own name"
                )
        if out.path.is_dir():
            raise UsageError(f"{where}: that is a folder, not a file")
        if not out.replace and (out.path.exists() or out.path.is_symlink()):
            raise UsageError(f"{where}: the file exists; add --force to replace it")
        folder = out.path.parent
        if not folder.is_dir():
            raise UsageError(f"{where}: the folder {folder} does not exist")
        # Only trying tells: permissions, ACLs, a read-only mount, a full inode table.
        try:
            _temp_beside(out.path).unlink()
        except OSError as exc:
            raise UsageError(
                f"{where}: cannot write in the folder {folder} ({_reason(exc)})"
            ) from None
        checked.append(out)

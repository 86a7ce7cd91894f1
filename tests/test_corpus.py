"""Every file of the real-world corpus ends in rows or in one clear error line.

The corpus (calamine's test files: password-protected, damaged, 1904 dates, huge
declared sizes...) lives in the ``shared`` folder beside the repository, or where
``BULKPO_SHARED`` points.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from bulkpo.errors import UnreadableFileError
from bulkpo.sheets import read_table
from bulkpo.table import Table
from tests.conftest import SHARED, shared_path

CORPUS = SHARED / "data" / "excel-corpus"
# Without the corpus, one case that fails saying where it was looked for.
FILES = sorted(CORPUS.iterdir()) if CORPUS.is_dir() else [CORPUS]
PER_FILE_SECONDS = 20.0


def _read_with_deadline(path: Path) -> Table | BaseException:
    """Read in a daemon thread so a hang fails the test instead of blocking the run."""
    outcome: list[Table | BaseException] = []

    def run() -> None:
        try:
            outcome.append(read_table(path))
        except BaseException as exc:  # the test inspects whatever escaped
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(PER_FILE_SECONDS)
    if worker.is_alive():
        pytest.fail(f"{path.name}: still reading after {PER_FILE_SECONDS:.0f} s")
    return outcome[0]


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file_ends_in_rows_or_one_clear_line(path: Path) -> None:
    shared_path("data", "excel-corpus")
    start = time.perf_counter()
    outcome = _read_with_deadline(path)
    assert time.perf_counter() - start < 5.0
    if isinstance(outcome, Table):
        assert outcome.path == str(path)
        assert outcome.sheet in outcome.sheet_names
        for row in outcome.rows:
            assert row.number > outcome.header_row
        return
    assert isinstance(outcome, UnreadableFileError), repr(outcome)
    message = str(outcome)
    assert "\n" not in message and "\r" not in message
    assert path.name in message
    assert message.startswith(f"{path}: ") and len(message) < 300


def test_corpus_is_present() -> None:
    shared_path("data", "excel-corpus")
    assert len(FILES) >= 130, f"expected the excel corpus at {CORPUS}"

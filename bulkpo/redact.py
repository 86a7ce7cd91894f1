"""One redaction for every message that leaves bulkpo: known secrets become ``[redacted]``.

A secret is registered when the settings hand out the API key (the bearer token
bulkpo sends); from then on :func:`redact` replaces it, in the forms in which
exception text shows it, by ``[redacted]``.

The key reaches a message only through text bulkpo did not write: an exception
of httpx, httpcore or h11 quoting the header it refused, or a server echoing the
request. So the redaction sits where such text turns into a message, and at the
outputs that outlive the process:

- :class:`bulkpo.errors.BulkpoError` redacts its message (and an ApiError its
  server message and code) when it is built: every error bulkpo raises, and so
  every row message, "Error:" line, stopped-run line and exception text, is
  clean from the start;
- :func:`bulkpo.cli.main` redacts its last-resort line about an exception that
  is not ours;
- :meth:`bulkpo.engine.journal.Journal.mark` redacts the message it stores, and the
  report writer the Message cells and the Errors sheet of the report and errors
  files, since those files are kept and sent on.

Dry-run output never holds the key: a dry run does not load it.
"""

from __future__ import annotations

REDACTED = "[redacted]"

_secrets: set[str] = set()


def register(secret: str) -> None:
    """From now on, hide ``secret`` in every message."""
    if not secret:
        return
    # h11 quotes a refused header as bytes (b'Bearer ...') and Python's reprs
    # escape quotes and backslashes: hide those spellings too.
    spellings = {secret, repr(secret)[1:-1], repr(secret.encode("utf-8", "replace"))[2:-1]}
    _secrets.update(s for s in spellings if s)


def forget() -> None:
    """Hide nothing any more (a test that loads several keys starts clean)."""
    _secrets.clear()


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``[redacted]``."""
    # Longest first, so a secret that contains another is hidden whole.
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text

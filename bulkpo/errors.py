"""One exception hierarchy for bulkpo, each with a message a user can act on.

    BulkpoError                 base; ``str(err)`` is the user-facing message
    ├── UsageError              a bad option or combination of options
    ├── InputError              an input file that cannot be used at all
    │   └── UnreadableFileError     not a spreadsheet, password-protected, no header...
    ├── ConfigError             bad settings or config file, missing API key
    ├── OutputError             an output file that could not be written (disk full...)
    ├── RunStopped              the whole run stops; ``cause`` is the ApiError that decided it
    └── ApiError                the Flexport API answered with an error
        ├── AuthError               401/403: the key is missing, wrong or lacks rights
        ├── NotFoundError           404
        ├── ConflictError           409 (a duplicate PO name)
        ├── RateLimitError          429, with ``retry_after`` seconds when given
        ├── ValidationApiError      400/422: the request was refused as invalid
        ├── ServerError             5xx
        └── TransportError          no answer: refused, dropped, timed out
            └── LocalRequestError       never sent: bulkpo could not form the request

Every message is redacted (:mod:`bulkpo.redact`) when the error is built, so
no error text can carry the API key, whatever exception it was made from.

Callers catch at the level they need. :class:`ExitCode` maps outcomes to the
process exit status that cron jobs and CI can act on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from bulkpo.redact import redact


class ExitCode(enum.IntEnum):
    """Process exit statuses of the ``bulkpo`` command."""

    SUCCESS = 0
    ROW_FAILURES = 1
    BAD_INPUT = 2
    API_UNAVAILABLE = 3
    INTERRUPTED = 130


class BulkpoError(Exception):
    """Base of every error bulkpo raises on purpose."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(self, message: str) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(BulkpoError):
    """A bad option or combination of options."""


class ConfigError(BulkpoError):
    """Settings that cannot work: no API key, an unreadable config file..."""


class OutputError(BulkpoError):
    """An output file that could not be written: a full disk, a folder gone meanwhile.

    Found before sending, such a problem is a :class:`UsageError` instead; this one
    comes at the end, when the work is done and only the file is missing.
    """

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"could not write {path}: {reason}")
        self.path = path
        self.reason = reason


class InputError(BulkpoError):
    """An input that cannot be used as a whole."""


class UnreadableFileError(InputError):
    """A file that cannot be read as a spreadsheet at all."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class RequestInfo:
    """The request that caused an API error, without its headers (never the key)."""

    method: str
    url: str

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


class ApiError(BulkpoError):
    """The Flexport API answered with an error (or did not answer at all)."""

    exit_code = ExitCode.ROW_FAILURES
    # True when every other request of the run would fail the same way.
    stops_run: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request: RequestInfo | None = None,
    ) -> None:
        message = redact(message)
        code = None if code is None else redact(code)
        self.status = status
        self.code = code
        self.request = request
        self.api_message = message
        parts = []
        if status is not None:
            parts.append(f"HTTP {status}")
        if code:
            parts.append(code)
        prefix = " ".join(parts)
        full = f"{prefix}: {message}" if prefix else message
        if request is not None:
            full = f"{full} ({request})"
        super().__init__(full)

    @property
    def retryable(self) -> bool:
        """True when the same request may succeed if sent again later."""
        return False


class AuthError(ApiError):
    """401/403: the API key is missing, wrong, or lacks the rights needed."""

    exit_code = ExitCode.API_UNAVAILABLE
    stops_run = True
    HOW_TO_FIX = (
        "set the FLEXPORT_API_KEY environment variable (or api_key_file in bulkpo.toml) "
        "to a valid Flexport API key, or FLEXPORT_CLIENT_ID and FLEXPORT_CLIENT_SECRET to "
        "valid API credentials; PO endpoints also need Flexport to enable them "
        "for your account"
    )

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request: RequestInfo | None = None,
    ) -> None:
        super().__init__(f"{message}; {self.HOW_TO_FIX}", status=status, code=code, request=request)


class NotFoundError(ApiError):
    """404: no such object (or, for a booking's shipment, not confirmed yet)."""


class ConflictError(ApiError):
    """409: the object exists already (a duplicate PO name)."""


class ValidationApiError(ApiError):
    """400/422: the API refused the request as invalid."""


class RateLimitError(ApiError):
    """429: too many requests; ``retry_after`` is the server's wait in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        code: str | None = None,
        request: RequestInfo | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request=request)
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return True


class ServerError(ApiError):
    """5xx: the API failed; the request may or may not have taken effect."""

    @property
    def retryable(self) -> bool:
        return True


class TransportError(ApiError):
    """No usable answer: connection refused or dropped, or a timeout.

    ``reached_server`` is False when the request cannot have arrived (the
    connection was never made): nothing to reconcile before sending it again.
    """

    exit_code = ExitCode.API_UNAVAILABLE

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request: RequestInfo | None = None,
        reached_server: bool = True,
    ) -> None:
        super().__init__(message, status=status, code=code, request=request)
        self.reached_server = reached_server

    @property
    def retryable(self) -> bool:
        return True


class LocalRequestError(TransportError):
    """The request could not be formed or sent at all (h11 refused a header...).

    Nothing left the machine, and every attempt would fail the same way: never
    retried, it stops the run.
    """

    stops_run = True

    def __init__(
        self,
        message: str,
        *,
        request: RequestInfo | None = None,
    ) -> None:
        super().__init__(message, request=request, reached_server=False)

    @property
    def retryable(self) -> bool:
        return False


class RunStopped(BulkpoError):
    """The run must stop for every unit (a refused key, an unsendable request, no
    connection after every retry); ``cause`` is the API error that decided it."""

    def __init__(self, cause: ApiError) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.exit_code = cause.exit_code

"""bulkpo: purchase orders and freight bookings between spreadsheets and the Flexport API.

The library under the ``bulkpo`` command: read and validate spreadsheets, submit
purchase orders and bookings exactly once, export filtered lists to workbooks.
"""

from importlib.metadata import PackageNotFoundError, version

from bulkpo.config import Settings, load_settings
from bulkpo.errors import (
    ApiError,
    AuthError,
    BulkpoError,
    ConfigError,
    ExitCode,
    InputError,
    TransportError,
    UnreadableFileError,
    UsageError,
)

try:
    __version__ = version("bulkpo")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "ApiError",
    "AuthError",
    "BulkpoError",
    "ConfigError",
    "ExitCode",
    "InputError",
    "Settings",
    "TransportError",
    "UnreadableFileError",
    "UsageError",
    "__version__",
    "load_settings",
]

"""bulkpo: purchase orders and freight bookings between spreadsheets and the Flexport API.

The library under the ``bulkpo`` command and its web page. Every job is one call
returning one result::

    import bulkpo

    checked = bulkpo.validate_file("orders.xlsx")          # nothing sent
    with bulkpo.Sandbox() as sandbox:                       # or settings=bulkpo.load_settings()
        result = bulkpo.import_file("orders.xlsx", settings=sandbox.settings)
    print(result.summary.line())

The same functions are coroutines in :mod:`bulkpo.aio`. Here they run their own
event loop, in a worker thread when the caller already runs one (a notebook).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("bulkpo")
except _PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

from bulkpo import aio
from bulkpo.aio import DocumentsResult, Sandbox, TrackResult
from bulkpo.aio import blocking as _blocking
from bulkpo.columns import Kind
from bulkpo.config import Settings, load_settings
from bulkpo.engine.exactly_once import OnExisting
from bulkpo.errors import (
    ApiError,
    AuthError,
    BulkpoError,
    ConfigError,
    ConflictError,
    ExitCode,
    InputError,
    NotFoundError,
    RateLimitError,
    RunStopped,
    ServerError,
    TransportError,
    UnreadableFileError,
    UsageError,
    ValidationApiError,
)
from bulkpo.issues import Issue, Severity
from bulkpo.purchase_orders.export import ExportResult
from bulkpo.purchase_orders.query import ExportQuery
from bulkpo.report import ImportResult, RowResult, SheetResult, Summary
from bulkpo.sheets.template_writer import write_template_file as write_template
from bulkpo.shipments.export import ShipmentExportResult, ShipmentQuery
from bulkpo.shipments.track import TrackWait

validate_file = _blocking(aio.validate_file)
import_file = _blocking(aio.import_file)
export_purchase_orders = _blocking(aio.export_purchase_orders)
purchase_orders_frame = _blocking(aio.purchase_orders_frame)
export_shipments = _blocking(aio.export_shipments)
track = _blocking(aio.track)
download_documents = _blocking(aio.download_documents)

__all__ = [
    "ApiError",
    "AuthError",
    "BulkpoError",
    "ConfigError",
    "ConflictError",
    "DocumentsResult",
    "ExitCode",
    "ExportQuery",
    "ExportResult",
    "ImportResult",
    "InputError",
    "Issue",
    "Kind",
    "NotFoundError",
    "OnExisting",
    "RateLimitError",
    "RowResult",
    "RunStopped",
    "Sandbox",
    "ServerError",
    "Settings",
    "Severity",
    "SheetResult",
    "ShipmentExportResult",
    "ShipmentQuery",
    "Summary",
    "TrackResult",
    "TrackWait",
    "TransportError",
    "UnreadableFileError",
    "UsageError",
    "ValidationApiError",
    "__version__",
    "aio",
    "download_documents",
    "export_purchase_orders",
    "export_shipments",
    "import_file",
    "load_settings",
    "purchase_orders_frame",
    "track",
    "validate_file",
    "write_template",
]

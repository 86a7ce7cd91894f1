"""``bulkpo ui``: the import as a local web page, served on loopback behind a random token."""

from __future__ import annotations

from bulkpo.ui.app import UiConfig, create_app
from bulkpo.ui.server import UiServer, running_ui, serve

__all__ = ["UiConfig", "UiServer", "create_app", "running_ui", "serve"]

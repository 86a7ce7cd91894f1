"""Report profiles: a saved export (filters, columns, window, output name) in a TOML file."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulkpo.errors import UsageError
from bulkpo.purchase_orders.export import choose_columns, output_path
from bulkpo.purchase_orders.query import CREATED_KEYS, MONTH, SINCE, build_query, zone

__all__ = ["Profile", "load_profile"]

_PROFILE_KEYS = ("output", "window", "tz", "columns", "filters")
_FILTER_KEYS = (
    "status", "archived", "buyer_ref", "seller_ref", "role", "shipment_id", "name",
    "created_after", "created_before", "updated_after", "updated_before", "direction", "limit",
)  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """A saved report: filters, columns, window and output name pattern (a TOML file)."""

    path: Path
    options: dict[str, Any] = field(default_factory=dict)  # as build_query takes them
    columns: tuple[str, ...] | None = None
    output: str | None = None
    tz: str | None = None


def load_profile(path: Path) -> Profile:
    """Read a report profile; any problem is a UsageError naming the file."""

    def bad(problem: str) -> UsageError:
        return UsageError(f"profile {path}: {problem}")

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise bad(f"cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise bad("not a UTF-8 text file") from None
    except tomllib.TOMLDecodeError as exc:
        raise bad(f"not valid TOML ({exc})") from None
    for key in data:
        if key not in _PROFILE_KEYS:
            raise bad(f"unknown setting {key!r} (known: {', '.join(_PROFILE_KEYS)})")
    options: dict[str, Any] = {}
    filters = data.get("filters", {})
    if not isinstance(filters, dict):
        raise bad("[filters] must be a table of filter = value")
    for key, value in filters.items():
        if key not in _FILTER_KEYS:
            raise bad(f"unknown filter {key!r} (known: {', '.join(_FILTER_KEYS)})")
        expected: type | tuple[type, ...] = str
        if key == "archived":
            expected = bool
        elif key in ("limit", "shipment_id"):
            expected = int
        elif key.endswith(("_after", "_before")):
            expected = (str, dt.date)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise bad(f"filter {key} = {value!r} has the wrong type")
        options[key] = value
    window = data.get("window")
    if window is not None:
        if not isinstance(window, str) or not window.strip():
            raise bad('window must be "last-month", a month like "2026-10", or "30d"')
        text = window.strip().lower()
        if text == "last-month":
            options["last_month"] = True
        elif MONTH.fullmatch(text):
            options["month"] = text
        elif SINCE.fullmatch(text):
            options["since"] = text
        else:
            raise bad(f'window {window!r}: expected "last-month", a month like "2026-10", or "30d"')
        if any(k in options for k in CREATED_KEYS):
            raise bad("give either a window or created_after/created_before filters, not both")
    columns = data.get("columns")
    if columns is not None:
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise bad("columns must be a list of column names")
        try:
            choose_columns(columns)
        except UsageError as exc:
            raise bad(str(exc)) from None
    for key in ("output", "tz"):
        if key in data and not isinstance(data[key], str):
            raise bad(f"{key} must be a string")
    profile = Profile(
        Path(path),
        options,
        tuple(columns) if columns is not None else None,
        data.get("output"),
        data.get("tz"),
    )
    try:
        zone(profile.tz)
        if profile.output is not None:
            output_path(profile.output, month="2026-01", date="2026-01-31")
        build_query(options, now=dt.datetime.now(dt.UTC), tz=dt.UTC)
    except UsageError as exc:
        raise bad(str(exc)) from None
    return profile

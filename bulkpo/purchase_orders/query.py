"""Which purchase orders an export asks for: filters, aware moments, report windows.

Example::

    query, window = build_query({"status": "open", "last_month": True}, now=now_in(None), tz=None)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bulkpo.errors import UsageError
from bulkpo.flexport.filters import iso, purchase_order_filters

__all__ = [
    "PO_STATUSES",
    "ExportQuery",
    "ReportWindow",
    "build_query",
    "localize",
    "merge_options",
    "now_in",
    "parse_moment",
    "report_window",
    "zone",
]

PO_STATUSES = ("open", "closed", "cancelled")
ROLES = ("buyer", "seller")
DIRECTIONS = ("asc", "desc")

@dataclass(frozen=True)
class ExportQuery:
    """Which purchase orders to export: the PO list endpoint's filters, and a limit.

    Times must be time-zone aware; ``window`` only describes how the created
    bounds were chosen (for the Query sheet).
    """

    status: str | None = None
    archived: bool | None = None
    buyer_ref: str | None = None
    seller_ref: str | None = None
    role: str | None = None
    shipment_id: int | None = None
    name: str | None = None
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    direction: str | None = None
    limit: int | None = None
    window: str | None = None

    def __post_init__(self) -> None:
        for option, value, allowed in (
            ("--status", self.status, PO_STATUSES),
            ("--role", self.role, ROLES),
            ("--direction", self.direction, DIRECTIONS),
        ):
            if value is not None and value not in allowed:
                raise UsageError(f"{option} {value!r}: expected one of {', '.join(allowed)}")
        if self.limit is not None and self.limit < 1:
            raise UsageError(f"--limit {self.limit}: expected a positive number of POs")
        for option, moment in self._moments():
            if moment is not None and moment.tzinfo is None:
                raise UsageError(f"{option} {moment.isoformat()}: needs a time zone")

    def _moments(self) -> tuple[tuple[str, dt.datetime | None], ...]:
        return (
            ("--created-after", self.created_after),
            ("--created-before", self.created_before),
            ("--updated-after", self.updated_after),
            ("--updated-before", self.updated_before),
        )

    def params(self) -> dict[str, str]:
        """The query parameters of ``GET /purchase_orders`` (without page and per)."""
        return purchase_order_filters(
            status=self.status,
            archived=self.archived,
            buyer_ref=self.buyer_ref,
            seller_ref=self.seller_ref,
            role=self.role,
            shipment_id=self.shipment_id,
            name=self.name,
            created_after=self.created_after,
            created_before=self.created_before,
            updated_after=self.updated_after,
            updated_before=self.updated_before,
            direction=self.direction,
        )


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA time zone ``name`` (None: the machine's local zone)."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"--tz {name!r}: not a known time zone (use a name like Europe/Berlin or UTC)"
        ) from None


def localize(naive: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    """A wall-clock time in ``tz``, or in the local zone (with its DST) when None."""
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()


def now_in(tz: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.now(tz) if tz is not None else dt.datetime.now().astimezone()


_MOMENT_HELP = "expected a date (2026-10-01) or date-time (2026-10-01T08:00, optional +02:00)"


def parse_moment(value: str | dt.date, tz: dt.tzinfo | None, option: str = "") -> dt.datetime:
    """A date or date-time as an aware moment; a bare date means midnight in ``tz``."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = value.strip()
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise UsageError(f"{option} {value!r}: {_MOMENT_HELP}".strip()) from None
    return moment if moment.tzinfo is not None else localize(moment, tz)


# ---------------------------------------------------------------- report windows


@dataclass(frozen=True)
class ReportWindow:
    """Created-at bounds chosen by --month, --last-month or --since: [start, end)."""

    label: str
    start: dt.datetime
    end: dt.datetime | None
    month: str | None = None  # "2026-10" for month windows (the {month} of a file name)

    def bounds(self) -> tuple[dt.datetime, dt.datetime | None]:
        """``f.created_at.gt`` / ``.lt`` values: the API's bounds are strict, so the
        lower one is moved a millisecond back to keep a PO created at midnight."""
        return self.start - dt.timedelta(milliseconds=1), self.end


MONTH = re.compile(r"(\d{4})-(\d{1,2})")
SINCE = re.compile(r"(\d+)\s*([hdw])", re.IGNORECASE)
_SINCE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def _month_window(year: int, month: int, tz: dt.tzinfo | None, label: str) -> ReportWindow:
    start = localize(dt.datetime(year, month, 1), tz)
    end = localize(dt.datetime(year + month // 12, month % 12 + 1, 1), tz)
    return ReportWindow(label, start, end, f"{year:04d}-{month:02d}")


def report_window(
    *,
    month: str | None = None,
    last_month: bool = False,
    since: str | None = None,
    now: dt.datetime,
    tz: dt.tzinfo | None,
) -> ReportWindow | None:
    """The created-at window one of --month, --last-month or --since asks for (or None)."""
    given = [name for name, v in (("--month", month), ("--last-month", last_month),
                                  ("--since", since)) if v]  # fmt: skip
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)} are alternatives: give one report window")
    if month:
        found = MONTH.fullmatch(month.strip())
        if not found or not 1 <= int(found.group(2)) <= 12:
            raise UsageError(f"--month {month!r}: expected a month like 2026-10")
        year, number = int(found.group(1)), int(found.group(2))
        return _month_window(year, number, tz, f"month {year:04d}-{number:02d}")
    if last_month:
        year, number = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
        return _month_window(year, number, tz, f"last month ({year:04d}-{number:02d})")
    if since:
        found = SINCE.fullmatch(since.strip())
        if found:
            amount = dt.timedelta(**{_SINCE_UNITS[found.group(2).lower()]: int(found.group(1))})
            return ReportWindow(f"since {since.strip()}", now - amount, None)
        start = parse_moment(since, tz, "--since")
        return ReportWindow(f"since {iso(start)}", start, None)
    return None


_WINDOW_KEYS = ("month", "last_month", "since")
CREATED_KEYS = ("created_after", "created_before")


def merge_options(profile: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """A profile's options overridden by the command line's (None/False = not given).

    Time bounds on the command line (a window or created bounds) replace the
    profile's window and created bounds as a whole.
    """
    given = {
        k: v for k, v in given.items() if v is not None and not (k == "last_month" and not v)
    }
    merged = dict(profile)
    if any(k in given for k in (*_WINDOW_KEYS, *CREATED_KEYS)):
        for key in (*_WINDOW_KEYS, *CREATED_KEYS):
            merged.pop(key, None)
    merged.update(given)
    return merged


def build_query(
    options: Mapping[str, Any], *, now: dt.datetime, tz: dt.tzinfo | None
) -> tuple[ExportQuery, ReportWindow | None]:
    """An :class:`ExportQuery` from option values by name (as the CLI and profiles use)."""
    window = report_window(
        month=options.get("month"),
        last_month=bool(options.get("last_month")),
        since=options.get("since"),
        now=now,
        tz=tz,
    )
    explicit = [f"--{k.replace('_', '-')}" for k in CREATED_KEYS if options.get(k) is not None]
    if window is not None and explicit:
        raise UsageError(
            f"the report window ({window.label}) sets the created-at bounds; "
            f"leave out {' and '.join(explicit)}"
        )

    def moment(key: str) -> dt.datetime | None:
        value = options.get(key)
        return None if value is None else parse_moment(value, tz, f"--{key.replace('_', '-')}")

    created_after, created_before = moment("created_after"), moment("created_before")
    if window is not None:
        created_after, created_before = window.bounds()
    shipment = options.get("shipment_id")
    try:
        shipment_id = None if shipment is None else int(shipment)
    except (TypeError, ValueError):
        raise UsageError(f"--shipment-id {shipment!r}: expected a Flexport shipment id") from None
    query = ExportQuery(
        status=options.get("status"),
        archived=options.get("archived"),
        buyer_ref=options.get("buyer_ref"),
        seller_ref=options.get("seller_ref"),
        role=options.get("role"),
        shipment_id=shipment_id,
        name=options.get("name"),
        created_after=created_after,
        created_before=created_before,
        updated_after=moment("updated_after"),
        updated_before=moment("updated_before"),
        direction=options.get("direction"),
        limit=options.get("limit"),
        window=window.label if window else None,
    )
    return query, window

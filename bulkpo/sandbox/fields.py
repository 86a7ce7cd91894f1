"""Checks of single request-body fields; a bad field becomes a :class:`Refusal`.

A :class:`Refusal` is how every sandbox handler says no: the app turns it into the
API's error envelope with its status and code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

INCOTERMS = ("EXW", "FOB", "FAS", "FCA", "CPT", "CFR", "CIF", "CIP", "DAT", "DAP", "DDP", "DPU")
TRANSPORTATION_MODES = (
    "ocean", "air", "truck", "rail", "unknown_transportation", "ocean_air", "truck_intl",
    "warehouse_storage", "barge",
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# SQLite integers are signed 64-bit: a larger one would raise OverflowError (a 500).
MAX_INTEGER = 2**63 - 1


class Refusal(Exception):
    """The request is refused with this HTTP status, error code and message."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def missing(path: str) -> Refusal:
    return Refusal(400, "missing_field", f"{path} is required")


def invalid(path: str, expected: str, value: object) -> Refusal:
    return Refusal(400, "invalid_field", f"{path} must be {expected}, got {value!r}")


def obj(body: Mapping[str, Any], key: str, path: str, *, required: bool) -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        if required:
            raise missing(path)
        return None
    if not isinstance(value, dict):
        raise invalid(path, "an object", value)
    return value


def text(body: Mapping[str, Any], key: str, path: str, *, required: bool) -> str | None:
    value = body.get(key)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            raise missing(path)
        return None
    if not isinstance(value, str):
        raise invalid(path, "a string", value)
    return value


def flag(body: Mapping[str, Any], key: str, path: str, *, required: bool) -> bool | None:
    value = body.get(key)
    if value is None:
        if required:
            raise missing(path)
        return None
    if not isinstance(value, bool):
        raise invalid(path, "true or false", value)
    return value


def count(body: Mapping[str, Any], key: str, path: str, *, required: bool, minimum: int = 1
          ) -> int | None:
    value = body.get(key)
    if value is None:
        if required:
            raise missing(path)
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not (
            minimum <= value <= MAX_INTEGER):
        raise invalid(path, f"an integer from {minimum} to {MAX_INTEGER}", value)
    return value


def number(body: Mapping[str, Any], key: str, path: str, *, required: bool) -> float | None:
    value = body.get(key)
    if value is None:
        if required:
            raise missing(path)
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise invalid(path, "a non-negative number", value)
    return value


def date(body: Mapping[str, Any], key: str, path: str, *, required: bool) -> str | None:
    value = text(body, key, path, required=required)
    if value is None:
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        dt.date.fromisoformat(value)
    except ValueError:
        raise invalid(path, "a date YYYY-MM-DD", value) from None
    return value


def choice(body: Mapping[str, Any], key: str, path: str, options: Collection[str], *,
           required: bool) -> str | None:
    value = text(body, key, path, required=required)
    if value is not None and value not in options:
        raise invalid(path, "one of " + ", ".join(options), value)
    return value


def amount(value: object, path: str) -> str:
    """A money amount as a decimal string with at least two decimals ("12.5" -> "12.50")."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(path, "a decimal amount", value)
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid(path, "a decimal amount", value) from None
    if not parsed.is_finite() or parsed < 0:
        raise invalid(path, "a decimal amount", value)
    exponent = parsed.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        parsed = parsed.quantize(Decimal("0.01"))
    return f"{parsed:f}"


def metadata(body: Mapping[str, Any], key: str, path: str) -> dict[str, list[str]]:
    """A ``{key: [str, ...]}`` hash; a single string value is taken as a one-item list."""
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(path, "an object of string lists", value)
    result: dict[str, list[str]] = {}
    for name, values in value.items():
        items = [values] if isinstance(values, str) else values
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            raise invalid(f"{path}.{name}", "a list of strings", values)
        result[str(name)] = list(items)
    return result


def country(body: Mapping[str, Any], key: str, path: str) -> str | None:
    value = text(body, key, path, required=False)
    if value is not None and not re.fullmatch(r"[A-Z]{2}", value):
        raise invalid(path, "a two-letter ISO country code", value)
    return value

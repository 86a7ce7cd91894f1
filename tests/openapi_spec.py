"""Flexport's official v2 OpenAPI document, read once, for schema checks in tests."""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import yaml
from referencing import Registry, Resource

from tests.conftest import shared_path


def _yaml(name: str) -> Any:
    return yaml.safe_load(shared_path("spec", name).read_text(encoding="utf-8"))


@cache
def openapi() -> dict[str, Any]:
    """The document with the request-side fixes bulkpo relies on (SOURCE.md)."""
    spec: dict[str, Any] = _yaml("flexport-v2-openapi.yaml")
    schemas = spec["components"]["schemas"]
    # The 2020 document misspells a required field; the property is wants_*.
    required = schemas["CreateBooking"]["required"]
    required[required.index("wanted_export_customs_service")] = "wants_export_customs_service"
    # Reference §7.4: destination_address_ref is required only for trucking and for
    # delivery (checked by the booking tests); the document lists it as always required.
    required.remove("destination_address_ref")
    return spec


def _merge(base: Any, patch: Any) -> Any:
    """``patch`` laid over ``base``: mappings merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in patch.items()}}
    return copy.deepcopy(patch)


def _nullable(schema: Any) -> Any:
    """Every property and item may be null, as real responses carry them."""
    if isinstance(schema, list):
        return [_nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable(v) for k, v in schema.items()}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: {"anyOf": [{"type": "null"}, v]}
                             for k, v in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = {"anyOf": [{"type": "null"}, out["items"]]}
    return out


def _any_of(schema: Any) -> Any:
    """``oneOf`` read as ``anyOf``: the document's alternatives (``Place.details``: air,
    ocean, rail port) allow extra fields and have no discriminator, so an /air/port
    also matches the ocean port's schema and an exclusive oneOf can never hold."""
    if isinstance(schema, list):
        return [_any_of(s) for s in schema]
    if isinstance(schema, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in schema.items()}
    return schema


@cache
def response_spec() -> dict[str, Any]:
    """The document for reading answers: the known corrections applied, nulls allowed."""
    merged = _any_of(_merge(openapi(), _yaml("flexport-v2-corrections.yaml")))
    return {**merged, "components": _nullable(merged["components"]),
            "paths": _nullable(merged["paths"])}


def validator(spec: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A JSON Schema validator for ``schema``, resolving its $refs inside ``spec``."""
    registry: Registry[Any] = Registry().with_resource("urn:flexport", Resource.opaque(spec))
    return jsonschema.Draft202012Validator(_rebase(schema), registry=registry)


def _rebase(schema: Any) -> Any:
    """``#/components/...`` refs pointed at the registered document."""
    if isinstance(schema, list):
        return [_rebase(s) for s in schema]
    if isinstance(schema, dict):
        return {k: ("urn:flexport" + v if k == "$ref" and isinstance(v, str)
                    and v.startswith("#") else _rebase(v)) for k, v in schema.items()}
    return schema


def schema(name: str) -> dict[str, Any]:
    """A ``$ref`` to a component schema, for :func:`validator`."""
    return {"$ref": f"#/components/schemas/{name}"}


def operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    """The documented operation serving ``method path`` (``:id`` and ``{id}`` alike)."""
    for template, ops in spec["paths"].items():
        pattern = re.sub(r":\w+|\{\w+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in ops:
            found: dict[str, Any] = ops[method.lower()]
            return found
    return None

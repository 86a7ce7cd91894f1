"""The small trading network every new sandbox database starts with.

The account's own company is the buyer "Acme Imports Inc" (entity ref ``acme-us``,
also reachable as ``self``); its suppliers sit in China, Vietnam and India. The refs
here are what bookings and POs may name; :data:`SEEDED_REFS` lists them for docs and
tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bulkpo.sandbox import fields as f

OWN_ENTITY_REF = "acme-us"
SELF_REF = "self"  # the API's alias for the account's own entity


@dataclass(frozen=True)
class NetworkRefs:
    """What a write may refer to: the account's company entities and locations."""

    entity_exists: Callable[[str], bool]
    location_country: Callable[[str], str | None]  # None: no such location


@dataclass(frozen=True)
class SeedEntity:
    """A company entity: a legal entity with a mailing address."""

    ref: str
    name: str
    street: str
    city: str
    state: str | None
    zip: str | None
    country_code: str
    unlocode: str | None


@dataclass(frozen=True)
class SeedLocation:
    """A network location (factory, warehouse) owned by one of the entities."""

    ref: str
    name: str
    entity_ref: str
    street: str
    city: str
    state: str | None
    zip: str | None
    country_code: str
    unlocode: str | None


SEEDED_ENTITIES: tuple[SeedEntity, ...] = (
    SeedEntity("acme-us", "Acme Imports Inc", "350 N Wells St", "Chicago", "IL", "60654",
               "US", "USCHI"),
    SeedEntity("sup-shenzhen-lights", "Shenzhen Bright Lights Co Ltd", "88 Bao'an Ave",
               "Shenzhen", "GD", "518101", "CN", "CNSZX"),
    SeedEntity("sup-ningbo-housewares", "Ningbo Housewares Manufacturing Co", "19 Yinzhou Rd",
               "Ningbo", "ZJ", "315100", "CN", "CNNGB"),
    SeedEntity("sup-hcmc-apparel", "Saigon Apparel JSC", "12 Nguyen Hue Blvd",
               "Ho Chi Minh City", "SG", "700000", "VN", "VNSGN"),
    SeedEntity("sup-chennai-textiles", "Chennai Textiles Pvt Ltd", "45 Anna Salai",
               "Chennai", "TN", "600002", "IN", "INMAA"),
)

SEEDED_LOCATIONS: tuple[SeedLocation, ...] = (
    SeedLocation("loc-shenzhen-factory", "Shenzhen Bright Lights factory", "sup-shenzhen-lights",
                 "88 Bao'an Ave", "Shenzhen", "GD", "518101", "CN", "CNSZX"),
    SeedLocation("loc-ningbo-factory", "Ningbo Housewares factory", "sup-ningbo-housewares",
                 "19 Yinzhou Rd", "Ningbo", "ZJ", "315100", "CN", "CNNGB"),
    SeedLocation("loc-hcmc-factory", "Saigon Apparel factory", "sup-hcmc-apparel",
                 "7 Tan Thuan EPZ", "Ho Chi Minh City", "SG", "700000", "VN", "VNSGN"),
    SeedLocation("loc-chennai-mill", "Chennai Textiles mill", "sup-chennai-textiles",
                 "3 Guindy Industrial Estate", "Chennai", "TN", "600032", "IN", "INMAA"),
    SeedLocation("loc-la-dc", "Acme Los Angeles DC", "acme-us",
                 "2000 E Carson St", "Los Angeles", "CA", "90810", "US", "USLAX"),
    SeedLocation("loc-chicago-dc", "Acme Chicago DC", "acme-us",
                 "4500 W 47th St", "Chicago", "IL", "60632", "US", "USCHI"),
)

SEEDED_REFS: dict[str, tuple[str, ...]] = {
    "company_entities": tuple(e.ref for e in SEEDED_ENTITIES),
    "locations": tuple(loc.ref for loc in SEEDED_LOCATIONS),
}


def address(
    *,
    street: str | None,
    city: str | None,
    state: str | None,
    zip: str | None,
    country_code: str | None,
    unlocode: str | None,
    ref: str | None,
) -> dict[str, Any]:
    """An ``/address`` object."""
    return {
        "_object": "/address",
        "street_address": street,
        "street_address2": None,
        "city": city,
        "state": state,
        "country": None,
        "country_code": country_code,
        "zip": zip,
        "unlocode": unlocode,
        "timezone": None,
        "ref": ref,
    }


def entity_body(entity: SeedEntity) -> dict[str, Any]:
    """The stored part of a ``/company_entity`` (the id is added on read)."""
    return {
        "_object": "/company_entity",
        "name": entity.name,
        "ref": entity.ref,
        "mailing_address": address(
            street=entity.street, city=entity.city, state=entity.state, zip=entity.zip,
            country_code=entity.country_code, unlocode=entity.unlocode, ref=None,
        ),
        "vat_numbers": [],
    }


def location_body(location: SeedLocation) -> dict[str, Any]:
    """The stored part of a ``/network/location`` (the id is added on read)."""
    return {
        "_object": "/network/location",
        "name": location.name,
        "ref": location.ref,
        "address": address(
            street=location.street, city=location.city, state=location.state,
            zip=location.zip, country_code=location.country_code,
            unlocode=location.unlocode, ref=location.ref,
        ),
        "company_entity_ref": location.entity_ref,
        "contacts": [],
        "metadata": {},
    }


# -- writes: POST /network/company_entities and POST /network/locations ---------------

_ADDRESS_TEXTS = ("street_address2", "city", "state", "zip", "unlocode")


def parse_address(body: Mapping[str, Any], key: str) -> dict[str, Any]:
    """An ``AddressForRequestBody`` (street_address required) as a stored ``/address``."""
    raw = f.obj(body, key, key, required=True)
    assert raw is not None
    out = address(
        street=f.text(raw, "street_address", f"{key}.street_address", required=True),
        city=None, state=None, zip=None,
        country_code=f.country(raw, "country_code", f"{key}.country_code"), unlocode=None,
        ref=None,
    )
    for name in _ADDRESS_TEXTS:
        out[name] = f.text(raw, name, f"{key}.{name}", required=False)
    return out


def parse_company_entity(body: Any) -> dict[str, Any]:
    """A ``CreateCompanyEntity`` body as the stored entity, or a 400 :class:`Refusal`."""
    if not isinstance(body, dict):
        raise f.Refusal(400, "invalid_field", "the body must be a JSON object")
    company_id = f.text(body, "company_id", "company_id", required=False)
    company_ref = f.text(body, "company_ref", "company_ref", required=False)
    if not company_id and not company_ref:
        raise f.Refusal(400, "missing_field", "company_id or company_ref is required")
    return {
        "_object": "/company_entity",
        "name": f.text(body, "name", "name", required=True),
        "ref": f.text(body, "ref", "ref", required=False),
        "mailing_address": parse_address(body, "mailing_address"),
        "vat_numbers": _vat_numbers(body),
        "company": {"id": company_id, "ref": company_ref},
    }


def _vat_numbers(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    vats = body.get("vat_numbers") or []
    if not isinstance(vats, list):
        raise f.invalid("vat_numbers", "a list", vats)
    vat_numbers = []
    for i, vat in enumerate(vats):
        if not isinstance(vat, dict):
            raise f.invalid(f"vat_numbers[{i}]", "an object", vat)
        code = f.country(vat, "country_code", f"vat_numbers[{i}].country_code")
        if code is None:
            raise f.missing(f"vat_numbers[{i}].country_code")
        vat_numbers.append({"_object": "/company_entity/vat_number", "country_code": code,
                            "number": f.text(vat, "number", f"vat_numbers[{i}].number",
                                             required=True)})
    return vat_numbers


def parse_location(body: Any, entity_ref_of_id: Callable[[str], str | None]) -> dict[str, Any]:
    """A ``CreateLocation`` body as the stored location, or a 400 :class:`Refusal`.

    ``company_id`` is "the id of the company entity to create this location for" in
    Flexport's document; an id naming no entity is refused.
    """
    if not isinstance(body, dict):
        raise f.Refusal(400, "invalid_field", "the body must be a JSON object")
    company_id = f.text(body, "company_id", "company_id", required=True)
    assert company_id is not None
    owner = entity_ref_of_id(company_id)
    if owner is None:
        raise f.Refusal(400, "unknown_company_id",
                        f"company_id {company_id!r} is not a company entity id")
    contact_ids = body.get("contact_ids") or []
    if not isinstance(contact_ids, list) or not all(isinstance(c, str) for c in contact_ids):
        raise f.invalid("contact_ids", "a list of strings", contact_ids)
    ref = f.text(body, "ref", "ref", required=False)
    return {
        "_object": "/network/location",
        "name": f.text(body, "name", "name", required=True),
        "ref": ref,
        "address": {**parse_address(body, "address"), "ref": ref},
        "company_entity_ref": owner,
        "contacts": [],
        "metadata": f.metadata(body, "metadata", "metadata"),
    }


# -- writes: PATCH /network/company_entities/{id} and PATCH /network/locations/{id} -----

_ENTITY_PATCH = frozenset({"name", "mailing_address", "ref", "vat_numbers"})
_LOCATION_PATCH = frozenset({"name", "address", "contact_ids", "ref", "metadata"})


def parse_network_patch(table: str, body: Any) -> dict[str, Any]:
    """An ``UpdateCompanyEntity`` / ``UpdateLocation`` body as the stored fields it
    replaces (an address, VAT numbers or metadata given replace the old whole), or a 400
    :class:`Refusal` naming a field the document does not let a PATCH change."""
    if not isinstance(body, dict):
        raise f.Refusal(400, "invalid_field", "the body must be a JSON object")
    allowed = _ENTITY_PATCH if table == "company_entities" else _LOCATION_PATCH
    for key in body:
        if key not in allowed:
            raise f.Refusal(400, "invalid_field",
                            f"{key} cannot be changed (a PATCH takes {', '.join(sorted(allowed))})")
    out: dict[str, Any] = {}
    for key in ("name", "ref"):
        if key in body:
            out[key] = f.text(body, key, key, required=True)
    if "mailing_address" in body:
        out["mailing_address"] = parse_address(body, "mailing_address")
    if "address" in body:
        out["address"] = parse_address(body, "address")
    if "vat_numbers" in body:
        out["vat_numbers"] = _vat_numbers(body)
    if "metadata" in body:
        out["metadata"] = f.metadata(body, "metadata", "metadata")
    if "contact_ids" in body:
        ids = body["contact_ids"]
        if not isinstance(ids, list) or not all(isinstance(c, str) for c in ids):
            raise f.invalid("contact_ids", "a list of strings", ids)
    return out

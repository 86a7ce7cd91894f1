"""The small trading network every new sandbox database starts with.

The account's own company is the buyer "Acme Imports Inc" (entity ref ``acme-us``,
also reachable as ``self``); its suppliers sit in China, Vietnam and India. The refs
here are what bookings and POs may name; :data:`SEEDED_REFS` lists them for docs and
tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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

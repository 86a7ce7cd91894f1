"""Which ports the sandbox knows, for 400 ``invalid_port`` and for ``/place`` objects.

The answers come from :mod:`bulkpo.ports` (the port list shipped in the package), so
the sandbox accepts exactly the codes bulkpo's own validation accepts. Everything
else in the sandbox asks :func:`known_port` and :func:`airport_by_iata`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bulkpo import ports as port_list

# US CBP port codes of a few ports, so Place.details can carry a port_code and
# bookings may name a port by ``*_us_cbp_port_code``. The seaport's code comes first.
US_CBP_PORT_CODES: Mapping[str, str] = {
    "2704": "USLAX",
    "2720": "USLAX",
    "2709": "USLGB",
    "3901": "USCHI",
    "1001": "USNYC",
    "3002": "USSEA",
}


@dataclass(frozen=True, slots=True)
class PortInfo:
    """One UN/LOCODE port as far as the sandbox needs it."""

    unlocode: str
    name: str
    country_code: str
    subdivision: str | None
    is_seaport: bool
    is_airport: bool
    is_rail: bool
    is_road: bool
    iata: str | None

    @property
    def port_types(self) -> tuple[str, ...]:
        """The ``f.port_type`` values this port answers to."""
        kinds = ((self.is_seaport, "seaport"), (self.is_rail, "railport"),
                 (self.is_road, "roadport"), (self.is_airport, "airport"))
        return tuple(name for flag, name in kinds if flag)

    @property
    def iata_code(self) -> str | None:
        return self.iata if self.is_airport else None


def _convert(port: port_list.PortInfo | None) -> PortInfo | None:
    if port is None:
        return None
    return PortInfo(unlocode=port.code, name=port.name, country_code=port.country,
                    subdivision=None, is_seaport=port.is_seaport, is_airport=port.is_airport,
                    is_rail=port.is_rail, is_road=port.is_road, iata=port.iata)


def known_port(code: str) -> PortInfo | None:
    """The port with this UN/LOCODE (``CNSHG``), or None."""
    return _convert(port_list.lookup(code))


def airport_by_iata(code: str) -> PortInfo | None:
    """The airport with this IATA code (``LAX``), or None."""
    port = _convert(port_list.lookup_iata(code))
    return port if port is not None and port.is_airport else None

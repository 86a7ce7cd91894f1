"""The network sheet: company entities and locations created once by ref, before the POs."""

from bulkpo.network.rules import (
    KIND_ENTITY,
    KIND_LOCATION,
    NetworkObject,
    NetworkValidation,
    unknown_ref_issues,
    validate_network_sheet,
)

__all__ = [
    "KIND_ENTITY",
    "KIND_LOCATION",
    "NetworkObject",
    "NetworkValidation",
    "unknown_ref_issues",
    "validate_network_sheet",
]

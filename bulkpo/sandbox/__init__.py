"""bulkpo's own Flexport API look-alike: a real HTTP server on loopback, state in SQLite.

    with running_sandbox(SandboxOptions(db_path=tmp / "sandbox.db")) as sandbox:
        httpx.get(f"{sandbox.base_url}/purchase_orders",
                  headers={"Authorization": f"Bearer {sandbox.api_key}"})

What it enforces: bearer keys or tokens from ``POST /oauth/token`` (API
credentials, :mod:`bulkpo.sandbox.oauth`; 401 with the legacy ``errors`` body), the
``Flexport-Version`` header (PO writes only at 3 or more; at 2 they answer like an
unknown URL: 302 to ``/``), the ``/api/response`` envelope, ``page`` >= 1 and
``per`` 1..100 (400 ``invalid_param``), required and conditional booking fields
(400 ``missing_field`` / ``invalid_field``), known entity and location refs (400
``unknown_entity_ref`` / ``unknown_location_ref``), known ports (400
``invalid_port``: the booking tutorial answers every validation failure 400),
unknown ids (404 ``not_found``). Unique names are a switch, since no Flexport
document says names are unique: ``duplicate_po_names`` (default ``"refuse"``: 409
``duplicate_name``) and ``duplicate_booking_names`` (default ``"accept"``).
``POST /booking_amendments`` records each amendment and applies it at once, or,
with ``amendment_review_s``, answers ``is_pending: true`` and applies it once the
sandbox clock has passed that review time (Flexport lists no amendments back).

How it misbehaves on request (:class:`SandboxOptions`): ``latency_ms`` on every
request, ``rate_limit`` per key (429 ``rate_limited`` + ``Retry-After``, a sandbox
assumption: Flexport publishes no limit), ``throttle_every`` (every Nth request
429 ``rate_limited`` with ``Retry-After: 1``, whatever the pace), ``fault_rate``
(500/502/503 before any effect), ``drop_rate`` (a POST/PATCH commits, then the
connection is cut mid-body), ``page_delay_ms`` on list endpoints. All randomness
comes from ``seed``.

Only Flexport's documented routes are served (the rest answer like an unknown URL);
customs entries, commercial invoices and contacts are served as empty lists so that
refs to them lead somewhere. Filters: ISO 8601, ``YYYY-MM-DD`` or the docs'
``2022-01-01 18:26:37 PST``; values outside documented enums are 400; bookings and
line items default to ``direction=desc`` as documented. ``record_path`` appends
every exchange as JSON lines (for the conformance test).

Sandbox-only endpoints (need the key; never delayed, limited or faulted):

- ``POST /_sandbox/advance`` ``{"seconds": N}``: move the sandbox clock;
- ``POST /_sandbox/archive_purchase_order/{id}`` and ``.../unarchive_purchase_order/{id}``.

Bookings become shipments ``shipment_delay_s`` sandbox seconds after submission;
the schedule after that is in :mod:`bulkpo.sandbox.lifecycle`. A booking whose
``metadata`` has ``sandbox_document_file_name: ["<name>"]`` gets that file name on its
commercial invoice (for tests of hostile names such as ``../../etc/passwd``).
The seeded network (own company ``acme-us``, suppliers, locations) is
:data:`SEEDED_REFS`.
"""

from bulkpo.sandbox.app import create_app
from bulkpo.sandbox.lifecycle import HOSTILE_FILE_NAME_KEY
from bulkpo.sandbox.network import OWN_ENTITY_REF, SEEDED_REFS
from bulkpo.sandbox.options import DEFAULT_SANDBOX_KEY, SandboxOptions
from bulkpo.sandbox.server import SandboxServer, running_sandbox, serve

__all__ = [
    "DEFAULT_SANDBOX_KEY",
    "HOSTILE_FILE_NAME_KEY",
    "OWN_ENTITY_REF",
    "SEEDED_REFS",
    "SandboxOptions",
    "SandboxServer",
    "create_app",
    "running_sandbox",
    "serve",
]

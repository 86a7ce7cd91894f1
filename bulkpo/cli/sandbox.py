"""``bulkpo sandbox serve`` and ``bulkpo sandbox advance``: the local Flexport look-alike."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bulkpo.cli.options import SANDBOX_DB
from bulkpo.errors import UsageError

if TYPE_CHECKING:
    from bulkpo.sandbox.options import DuplicateNames

__all__ = ["parse_duration", "sandbox_group"]


@click.group("sandbox")
def sandbox_group() -> None:
    """bulkpo's local Flexport look-alike, for trying bulkpo and for tests.

    Example:

        bulkpo sandbox serve --port 8787
    """


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8787, show_default=True, type=int, help="Port (0 = any free).")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SANDBOX_DB,
    show_default=True,
    help="SQLite file holding the sandbox's state.",
)
@click.option("--rate-limit", type=float, help="Requests per second per key; beyond it 429.")
@click.option("--latency", "latency_ms", type=float, default=0.0, help="Added latency in ms.")
@click.option("--fault-rate", type=float, default=0.0, help="Share of requests answered 5xx.")
@click.option(
    "--drop-rate", type=float, default=0.0, help="Share of writes committed, then dropped."
)
@click.option("--seed", type=int, help="Seed for the sandbox's randomness.")
@click.option(
    "--duplicate-names",
    type=click.Choice(["refuse", "accept"]),
    default="refuse",
    show_default=True,
    help="A second PO with a name the sandbox holds: refuse answers 409 duplicate_name, "
    "accept creates it. No Flexport document says PO names are unique; try both.",
)
@click.option(
    "--duplicate-booking-names",
    type=click.Choice(["refuse", "accept"]),
    default="accept",
    show_default=True,
    help="The same switch for booking names (nothing documents a 409 for them either).",
)
@click.option(
    "--amendment-review",
    metavar="DURATION",
    help="Hold each booking amendment pending (is_pending true) for this sandbox time "
    "(90s, 15m, 6h, 3d) before applying it, like one Flexport reviews; default: at once.",
)
def sandbox_serve(
    host: str,
    port: int,
    db: Path,
    rate_limit: float | None,
    latency_ms: float,
    fault_rate: float,
    drop_rate: float,
    seed: int | None,
    duplicate_names: DuplicateNames,
    duplicate_booking_names: DuplicateNames,
    amendment_review: str | None,
) -> None:
    """Serve the sandbox until Ctrl-C.

    It accepts the key in FLEXPORT_API_KEY when set, else the documented
    sandbox key (see README). Point bulkpo at it with FLEXPORT_BASE_URL.

    Example:

        bulkpo sandbox serve --port 8787 --rate-limit 50 --latency 100
    """
    from bulkpo.config import is_loopback
    from bulkpo.sandbox import DEFAULT_SANDBOX_KEY, SandboxOptions, serve

    if not is_loopback(host):
        raise UsageError(f"--host {host}: the sandbox binds only to loopback addresses")
    for name, share in (("--fault-rate", fault_rate), ("--drop-rate", drop_rate)):
        if not 0.0 <= share <= 1.0:
            raise UsageError(f"{name} {share}: expected a share between 0 and 1")
    review_s = parse_duration(amendment_review) if amendment_review else 0.0
    db.parent.mkdir(parents=True, exist_ok=True)
    key = os.environ.get("FLEXPORT_API_KEY") or DEFAULT_SANDBOX_KEY

    def ready(server: Any) -> None:
        click.echo(f"bulkpo sandbox on {server.base_url} (state in {db}); Ctrl-C stops it")
        click.echo(f"  export FLEXPORT_BASE_URL={server.base_url}")

    serve(
        SandboxOptions(
            db_path=db,
            host=host,
            port=port,
            api_keys=(key,),
            rate_limit=rate_limit,
            latency_ms=latency_ms,
            fault_rate=fault_rate,
            drop_rate=drop_rate,
            seed=seed,
            duplicate_po_names=duplicate_names,
            duplicate_booking_names=duplicate_booking_names,
            amendment_review_s=review_s,
        ),
        on_ready=ready,
    )


DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90s``, ``15m``, ``6h``, ``3d`` or plain seconds -> seconds."""
    text = text.strip().lower()
    unit = DURATION_UNITS.get(text[-1:]) if text else None
    number = text[:-1] if unit else text
    try:
        seconds = float(number) * (unit or 1)
    except ValueError:
        raise UsageError(f"{text!r} is no duration: use e.g. 90s, 15m, 6h or 3d") from None
    if seconds <= 0:
        raise UsageError(f"{text!r}: the sandbox clock only moves forward")
    return seconds


@sandbox_group.command("advance")
@click.argument("duration")
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=SANDBOX_DB,
    show_default=True,
    help="SQLite file holding the sandbox's state.",
)
def sandbox_advance(duration: str, db: Path) -> None:
    """Move the sandbox's clock forward: bookings become shipments, which then sail.

    A booking is confirmed 30 sandbox seconds after it was made; its shipment
    then moves one status a sandbox day (departing on day 3, arriving day 4).

    Example:

        bulkpo sandbox advance 3d && bulkpo --sandbox track result.jsonl
    """
    import datetime as dt

    from bulkpo.sandbox.store import Store

    seconds = parse_duration(duration)
    if not db.is_file():
        raise UsageError(f"{db}: no sandbox state here yet (run a command with --sandbox first)")
    store = Store(db, seed=None, shipment_delay_s=30.0)
    try:
        now = store.advance(seconds)
    finally:
        store.close()
    when = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    click.echo(f"Sandbox clock moved {duration} forward: it is now {when}")

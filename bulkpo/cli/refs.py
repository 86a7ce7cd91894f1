"""``bulkpo refs``: the company entity and location refs bookings can name."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import click

from bulkpo.bookings import network_refs
from bulkpo.cli.options import api_settings, echo_table, sandbox_option
from bulkpo.config import Settings
from bulkpo.engine.pacing import caller_for
from bulkpo.flexport.client import FlexportClient

__all__ = ["refs_command"]


@click.command("refs")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A table for people or JSON for machines.",
)
@sandbox_option
@click.pass_context
def refs_command(ctx: click.Context, fmt: str) -> None:
    """List the company entity and location refs bookings can name.

    Shipper and consignee refs are company entities; origin and destination
    location refs are network locations (from /network/company_entities and
    /network/locations). Put the ones you use on every booking under
    [bookings] in bulkpo.toml.

    Example:

        bulkpo --sandbox refs --format json
    """

    async def fetch(settings: Settings) -> list[Any]:
        async with FlexportClient(settings) as api:
            return await network_refs(api, caller_for(settings))

    with api_settings(ctx) as settings:
        refs = asyncio.run(fetch(settings))
    if fmt == "json":
        click.echo(json.dumps([dataclasses.asdict(r) for r in refs], ensure_ascii=False, indent=2))
        return
    echo_table(
        ("kind", "ref", "name", "city", "country"),
        [(r.kind, r.ref, r.name, r.city, r.country) for r in refs],
        rich_at_terminal=False,
    )

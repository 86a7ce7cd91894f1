"""How a sandbox server is told to behave: where its state is, who may call, how badly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DuplicateNames = Literal["refuse", "accept"]

DEFAULT_SANDBOX_KEY = "sandbox-key"
DEFAULT_SANDBOX_CLIENT = ("sandbox-client", "sandbox-client-secret")  # (client id, secret)


@dataclass
class SandboxOptions:
    """Settings of one sandbox server (see the package docstring for what each does)."""

    db_path: Path
    host: str = "127.0.0.1"
    port: int = 0                 # 0 = pick a free port
    api_keys: tuple[str, ...] = (DEFAULT_SANDBOX_KEY,)   # accepted bearer tokens
    rate_limit: float | None = None   # requests/second per token; None = unlimited
    throttle_every: int = 0      # every Nth request answered 429, however slow the caller
    latency_ms: float = 0.0
    fault_rate: float = 0.0      # share of requests answered 500/502/503 before any effect
    drop_rate: float = 0.0       # share of POST/PATCH that commit, then drop the connection
    seed: int | None = None
    shipment_delay_s: float = 30.0   # sandbox-clock seconds from submitted to booked
    page_delay_ms: float = 0.0   # extra delay on list endpoints ("slow pages")
    # API credentials accepted by /oauth/token: (client id, client secret) pairs.
    clients: tuple[tuple[str, str], ...] = (DEFAULT_SANDBOX_CLIENT,)
    token_lifetime_s: float = 24 * 3600.0   # on the sandbox clock
    tokens_per_day: int = 10     # token requests per client id in any 24 h
    # No Flexport document says names are unique, so both answers must be survivable:
    # "refuse" answers a second create of a name 409 duplicate_name, "accept" creates it.
    duplicate_po_names: DuplicateNames = "refuse"
    duplicate_booking_names: DuplicateNames = "accept"
    # Sandbox-clock seconds before a booking amendment is applied: 0 applies it at once
    # (is_pending false); more answers is_pending true and applies it when the clock
    # passes, like an amendment Flexport reviews. Flexport lists no pending amendments.
    amendment_review_s: float = 0.0
    # Append every request and answer here as JSON lines (the conformance test's record).
    record_path: Path | None = None

    def __repr__(self) -> str:
        # The accepted keys are secrets: never in a repr, a log line or a traceback.
        hidden = ("api_keys", "clients")
        shown = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in hidden)
        return (f"SandboxOptions({shown}, api_keys=<{len(self.api_keys)} hidden>, "
                f"clients=<{len(self.clients)} hidden>)")

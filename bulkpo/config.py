"""Settings from the environment, a ``bulkpo.toml`` file and command options.

Precedence: command options > environment > config file > defaults. The API key
and the client secret are held as :class:`pydantic.SecretStr` so that they never
show in a repr, a log line or an exception; :meth:`Settings.safe_dict` is what may
be displayed.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from bulkpo.errors import ConfigError
from bulkpo.redact import register

DEFAULT_BASE_URL = "https://api.flexport.com"
CONFIG_FILE_NAME = "bulkpo.toml"


def _api_version(value: Any) -> Any:
    """A number (``2``, ``"3"``) as an int, a date version (``2023-07-01``) as its text."""
    if isinstance(value, datetime.date):  # TOML reads 2023-07-01 unquoted as a date
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    text = value.strip() if isinstance(value, str) else ""
    if text.isdigit() and int(text) >= 1:
        return int(text)
    if len(text) == 10:  # YYYY-MM-DD only: fromisoformat takes 20230701 too
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise ValueError(f"a version is a number (2, 3) or a date (2023-07-01), not {value!r}")


ApiVersion = Annotated[int | str, BeforeValidator(_api_version)]
"""A ``Flexport-Version``: a number (2, 3) or a date version (``2023-07-01``)."""


class BookingDefaults(BaseModel):
    """Refs and choices a bookings sheet may leave empty (``[bookings]`` in bulkpo.toml)."""

    model_config = ConfigDict(extra="forbid")

    shipper_entity_ref: str | None = None
    consignee_entity_ref: str | None = None
    origin_address_ref: str | None = None
    destination_address_ref: str | None = None
    wants_export_customs_service: bool = False
    wants_import_customs_service: bool = False
    payment_terms: str = "prepaid"


class ReadLimits(BaseModel):
    """How large an input file may be before it is refused unread (``[limits]`` in bulkpo.toml).

    A few KB of xlsx can declare a cell at XFD1048576 or inflate to gigabytes; the
    reader checks these before the file reaches calamine, which would abort the process.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # 1,000,000 rows x 30 columns is the largest sheet bulkpo promises to read.
    max_cells: int = Field(default=40_000_000, ge=1, description="cells of one sheet")
    max_uncompressed_bytes: int = Field(
        default=4 << 30, ge=1, description="the parts of a zip-based workbook, inflated"
    )
    # Real sheets deflate 5-30x; a zip bomb sits near deflate's ceiling of ~1000x.
    max_compression_ratio: float = Field(default=200.0, gt=1)


class Settings(BaseModel):
    """Everything that tells bulkpo where the API is and how to talk to it."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    # API credentials (OAuth 2.0 client credentials): used instead of the key when set.
    client_id: str | None = None
    client_secret: SecretStr | None = None
    credentials_file: Path | None = None
    token_cache_dir: Path | None = None
    base_url: str = DEFAULT_BASE_URL
    api_version: ApiVersion = 2
    po_write_version: ApiVersion = 3
    timeout: float = Field(default=30.0, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=16, ge=1, le=64)
    per_page: int = Field(default=100, ge=1, le=100)
    rate: float = Field(default=5.0, gt=0, description="requests per second")
    concurrency: int = Field(default=8, ge=1, le=64)
    max_retries: int = Field(default=6, ge=0)
    timezone: str | None = None
    """IANA zone (``Europe/Berlin``) that tracking and shipment outputs show times in;
    None: this machine's zone."""
    bookings: BookingDefaults = Field(default_factory=BookingDefaults)
    limits: ReadLimits = Field(default_factory=ReadLimits)
    columns: dict[str, str] = Field(default_factory=dict)
    """``[columns]``: file header -> field, for every file (a saved mapping's columns)."""
    constants: dict[str, str] = Field(default_factory=dict)
    """``[constants]``: field -> value for every row with the cell blank (``currency = "USD"``)."""
    mappings: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """``[mappings.<name>]``: saved mappings, each picked for files with its fingerprint."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"{name!r} is not a known time zone (Europe/Berlin...)") from None
        return name or None

    def key(self) -> str:
        """The API key, read from the settings or the key file; ConfigError if none.

        The key is checked (one line of visible ASCII) and registered for
        redaction before it is handed out, so no message can show it.
        """
        if self.api_key is not None and self.api_key.get_secret_value().strip():
            return _checked_key(self.api_key.get_secret_value(), "the API key (FLEXPORT_API_KEY)")
        if self.api_key_file is not None:
            try:
                raw = self.api_key_file.read_bytes()
            except OSError as exc:
                raise ConfigError(
                    f"cannot read the API key file {self.api_key_file}: {exc.strerror}"
                ) from None
            where = f"the API key file {self.api_key_file}"
            try:
                text = raw.decode("utf-8-sig")  # Notepad starts a UTF-8 file with a BOM
            except UnicodeDecodeError:
                raise ConfigError(f"{where} is not text: {NON_ASCII_KEY}") from None
            if text.strip():
                return _checked_key(text, where)
            raise ConfigError(f"{where} is empty")
        raise ConfigError(
            "no Flexport API key: set the FLEXPORT_API_KEY environment variable, "
            "or api_key_file in bulkpo.toml, or API credentials (FLEXPORT_CLIENT_ID and "
            "FLEXPORT_CLIENT_SECRET) (or use --sandbox to try bulkpo locally)"
        )

    def uses_credentials(self) -> bool:
        """True when API credentials (a client id, secret or credentials file) are set:
        they take the place of the API key."""
        return bool(self.client_id or self.client_secret or self.credentials_file)

    def credentials(self) -> tuple[str, str]:
        """(client id, client secret), from the settings or the credentials file.

        The secret is registered for redaction before it is handed out;
        ConfigError if either is missing or unfit for a request.
        """
        client_id = (self.client_id or "").strip()
        secret = self.client_secret.get_secret_value() if self.client_secret else ""
        where = "FLEXPORT_CLIENT_SECRET"
        if self.credentials_file is not None and not (client_id and secret.strip()):
            stored = _read_credentials_file(self.credentials_file)
            client_id = client_id or stored.get("client_id", "")
            if not secret.strip():
                secret, where = stored.get("client_secret", ""), str(self.credentials_file)
        if secret.strip():
            secret = _checked_key(secret, f"the client secret ({where})")
        if not client_id or not secret:
            missing = "client id (FLEXPORT_CLIENT_ID)" if not client_id else (
                "client secret (FLEXPORT_CLIENT_SECRET)")
            raise ConfigError(
                f"incomplete API credentials: no {missing}; set both FLEXPORT_CLIENT_ID and "
                "FLEXPORT_CLIENT_SECRET, or credentials_file in bulkpo.toml"
            )
        # A client id is no secret: messages may name it.
        client_id = _checked_key(client_id, "the client id (FLEXPORT_CLIENT_ID)", secret=False)
        return client_id, secret

    def check_auth(self) -> None:
        """ConfigError unless the credentials, or else the API key, are usable."""
        if self.uses_credentials():
            self.credentials()
        else:
            self.key()

    def account(self) -> str:
        """Who the requests act as, for the journal's fingerprint: the key, or the
        client id of the credentials (never the secret nor a token)."""
        if self.uses_credentials():
            return "oauth-client\0" + self.credentials()[0]
        return self.key()

    def token_cache(self) -> Path:
        """Where access tokens are kept between runs (``token_cache_dir``)."""
        if self.token_cache_dir is not None:
            return self.token_cache_dir
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "bulkpo" / "tokens"

    def check_transport(self) -> None:
        """Refuse to send the key over plain http anywhere but loopback."""
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"FLEXPORT_BASE_URL is not an http(s) URL: {self.base_url!r}")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ConfigError(
                f"refusing to send the API key over plain http to {parts.hostname}; "
                "use https (plain http is allowed only to loopback addresses)"
            )

    def safe_dict(self) -> dict[str, Any]:
        """Settings fit for display: the key is reduced to whether one is set."""
        data = self.model_dump(exclude={"api_key", "client_secret"})
        data["api_key"] = "set" if self.api_key is not None else "not set"
        data["api_key_file"] = str(self.api_key_file) if self.api_key_file else None
        data["client_secret"] = "set" if self.client_secret is not None else "not set"
        for name in ("credentials_file", "token_cache_dir"):
            data[name] = str(data[name]) if data[name] else None
        return data


def _read_credentials_file(path: Path) -> dict[str, str]:
    """``client_id`` and ``client_secret`` from a TOML credentials file."""
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise ConfigError(f"cannot read the credentials file {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        # The parser's message may quote the secret's line: say only where.
        raise ConfigError(
            f"the credentials file {path} is not TOML with client_id and client_secret"
        ) from None
    return {k: v for k, v in raw.items() if k in ("client_id", "client_secret")
            and isinstance(v, str)}  # fmt: skip


NON_ASCII_KEY = "a key is plain ASCII letters, digits and punctuation"


def _checked_key(text: str, where: str, *, secret: bool = True) -> str:
    """The key without its surrounding whitespace, or a ConfigError that never shows it.

    The key goes into an HTTP header: a second line, a space or a control
    character would make the request fail on every attempt, and the HTTP
    library's error would quote the whole header, key included.
    """
    key = text.strip()
    if secret:
        # Registered even when refused: the refusal must not let it through elsewhere.
        register(key)
    if "\n" in key or "\r" in key:
        raise ConfigError(f"{where} has more than one line; keep only the key on its first line")
    if not key.isascii():
        raise ConfigError(f"{where} contains a non-ASCII character; {NON_ASCII_KEY}")
    if any(not char.isprintable() or char.isspace() for char in key):
        raise ConfigError(f"{where} contains a space or control character; {NON_ASCII_KEY}")
    return key


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def find_config_file(start: Path | None = None) -> Path | None:
    """``BULKPO_CONFIG`` if set, else bulkpo.toml in the working directory."""
    explicit = os.environ.get("BULKPO_CONFIG")
    if explicit:
        return Path(explicit)
    candidate = (start or Path.cwd()) / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def load_settings(
    config_file: Path | None = None,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build :class:`Settings` from file, environment and explicit overrides."""
    env = dict(os.environ) if env is None else env
    data: dict[str, Any] = {}
    path = config_file if config_file is not None else find_config_file()
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        if "api_key" in raw:
            raise ConfigError(
                f"{path}: do not store the API key in the config file; "
                "use FLEXPORT_API_KEY or api_key_file"
            )
        if "client_secret" in raw or "client_secret" in raw.get("bulkpo", {}):
            raise ConfigError(
                f"{path}: do not store the client secret in the config file; "
                "use FLEXPORT_CLIENT_SECRET or credentials_file"
            )
        data.update(raw.get("bulkpo", raw))
        data.pop("bulkpo", None)
    env_map = {
        "FLEXPORT_API_KEY": "api_key",
        "FLEXPORT_API_KEY_FILE": "api_key_file",
        "FLEXPORT_BASE_URL": "base_url",
        "FLEXPORT_VERSION": "api_version",
        "FLEXPORT_PO_WRITE_VERSION": "po_write_version",
        "FLEXPORT_CLIENT_ID": "client_id",
        "FLEXPORT_CLIENT_SECRET": "client_secret",
        "FLEXPORT_CREDENTIALS_FILE": "credentials_file",
        "BULKPO_TOKEN_CACHE_DIR": "token_cache_dir",
    }
    for var, name in env_map.items():
        if env.get(var):
            data[name] = env[var]
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        where = f" (from {path})" if path else ""
        raise ConfigError(f"invalid settings{where}: {problems}") from None

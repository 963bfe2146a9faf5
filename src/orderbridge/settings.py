"""The one settings object: environment variables (``ORDERBRIDGE_*``) over a TOML file.

Precedence, highest first: explicit keyword arguments, environment variables, the secrets
file (``_secrets_path``: only ``SECRET_SETTINGS``, and only if no one else can read it), the
TOML file named by ``ORDERBRIDGE_CONFIG`` (default ``orderbridge.toml`` in the working directory,
if present; a named file must exist, and an empty value means none), then the defaults
below. A key in the file that is not a setting is an error naming the valid keys. ``DATABASE_URL`` is also read without the prefix, as
hosting platforms set it that way.

Bad settings fail at start with a message naming the setting (see ``load_settings``).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from orderbridge.errors import ConfigurationError
from orderbridge.private_files import too_open

__all__ = ["DEFAULT_DATABASE_URL", "SECRET_SETTINGS", "Settings", "load_settings"]

DEFAULT_DATABASE_URL = "sqlite:///orderbridge.db"
DEFAULT_CONFIG_FILE = "orderbridge.toml"
DEFAULT_SECRETS_FILE = "orderbridge.secrets.toml"
SECRETS_WHAT = "secrets file"
# What a secrets file may hold (docs/security.md): the key, the app secrets, a database URL
# with its password. Everything else belongs in the config file.
# A Slack incoming-webhook URL is itself the credential that lets anyone post to the channel.
SECRET_SETTINGS = ("database_url", "secret_key", "shopify_client_secret", "tiktok_app_secret",
                   "sla_smtp_password", "sla_webhook_url", "shipbob_webhook_secrets",
                   "amazon_mcf_client_secret", "amazon_mcf_refresh_token", "shipbob_token")
# Links one worker claims and works as one pass (TikTok details are read 50 per call).
DEFAULT_CLAIM_BATCH = 50
DEFAULT_API_MAX_BODY_BYTES = 65_536
DEFAULT_WEBHOOK_MAX_BODY_BYTES = 1_048_576
# Deeper JSON is refused (vendor payloads nest well under 20 levels); bounds the parser's recursion.
DEFAULT_MAX_JSON_DEPTH = 64
DEFAULT_TOKEN_DAYS = 90
DEFAULT_SHOPIFY_ADMIN_URL_TEMPLATE = "https://{shop}/admin"
# What the engine uses: orders (create, edit, cancel, read beyond 60 days), fulfilment orders
# (holds, merchant-managed and 3PL locations), fulfilments, customers on orderCreate,
# products and inventory (SKU links), locations.
DEFAULT_SHOPIFY_SCOPES = (
    "read_orders,write_orders,read_all_orders,read_order_edits,write_order_edits,"
    "read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders,"
    "read_third_party_fulfillment_orders,write_third_party_fulfillment_orders,"
    "read_assigned_fulfillment_orders,write_assigned_fulfillment_orders,"
    "read_fulfillments,write_fulfillments,read_customers,write_customers,"
    "read_products,read_inventory,read_locations"
)
DEFAULT_AUTH_FAILURES_PER_MINUTE = 10
# TikTok retries a webhook 4 times, the last ~15.5 h after the first attempt (2 min, 30 min,
# 3 h, 12 h); 24 h lets every genuine retry through with margin. Older (or as far in the
# future): a replay or a queue far behind, stored but only trusted after a fresh read.
DEFAULT_TIKTOK_WEBHOOK_MAX_AGE_SECONDS = 86_400.0
# Buyer data (order snapshots, raw webhook bodies) is kept this long after the order closes
# (webhooks: after they were handled). Long enough for the merchant's disputes about a
# recent order to be looked into here; the vendors keep the order itself.
DEFAULT_RETENTION_DAYS = 30.0
# How often the SLA desk looks for thresholds crossed (engine clock).
DEFAULT_SLA_CHECK_SECONDS = 60.0
DEFAULT_SMTP_PORT = 587
# Loopback names are always trusted by default: a DNS-rebinding page cannot send them as Host.
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def _read_table(path: Path, what: str) -> dict[str, Any]:
    """The flat settings table of a TOML file (or its [orderbridge] table)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{what} {path}: not valid TOML ({exc})") from exc
    except OSError as exc:
        raise ConfigurationError(f"{what} {path}: cannot be read ({exc.strerror or exc})") from exc
    table = raw.get("orderbridge", raw)
    if not isinstance(table, dict):
        raise ConfigurationError(f"{what} {path}: [orderbridge] must be a table")
    return table


class _TomlSource(PydanticBaseSettingsSource):
    """Reads the optional TOML config file (flat keys, or an [orderbridge] table).

    ``path`` is None when there is no file to read; ``named`` says the path was chosen by
    the operator (``ORDERBRIDGE_CONFIG``), so a missing file is an error rather than the
    quiet absence of the default ``orderbridge.toml``. An unknown key is an error too: a
    typo (``wokers``) silently ignored is a setting silently not applied.
    """

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None, *, named: bool = False,
                 what: str = "config file", valid: Any = None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        self.path = path
        if path is None:
            return
        if not path.exists():
            if named:
                variable = "ORDERBRIDGE_CONFIG" if what == "config file" else "ORDERBRIDGE_SECRETS_FILE"
                raise ConfigurationError(
                    f"{what} {path} ({variable}) does not exist; set {variable} to an existing file, "
                    "or to an empty value for none")
            return
        if what == SECRETS_WHAT and too_open(path):
            raise ConfigurationError(
                f"{what} {path} can be read by others (mode {path.stat().st_mode & 0o777:o}): "
                f"run `chmod 600 {path}`")
        table = _read_table(path, what)
        _check_keys(path, table, valid if valid is not None else settings_cls.model_fields, what)
        self._data = table

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _check_keys(path: Path, table: dict[str, Any], valid: Any, what: str = "config file") -> None:
    """Refuse keys that are not settings, naming the file, a close match and every valid key."""
    unknown = [key for key in table if key not in valid]
    if not unknown:
        return
    parts = []
    for key in unknown:
        close = difflib.get_close_matches(key, list(valid), n=1)
        parts.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ConfigurationError(
        f"{what} {path}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(parts)}; "
        f"valid keys: {', '.join(sorted(valid))}")


class Settings(BaseSettings):
    """Every setting OrderBridge reads. Documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="ORDERBRIDGE_", extra="ignore", frozen=True)

    secrets_file: str | None = Field(
        default=None,
        description="TOML file (mode 0600) holding the secret settings (SECRET_SETTINGS); "
        "relative to the config file; env ORDERBRIDGE_SECRETS_FILE; default orderbridge.secrets.toml if present",
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///file.db (default) or postgresql+psycopg://…",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that encrypts tokens at rest (Fernet, 32 url-safe base64 bytes). "
        "Generate one with `orderbridge keygen`.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of the web app (webhook and OAuth redirect addresses).",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535,
        description="worker-only processes (run --role worker) serve /metrics and /healthz on this "
        "port (0: any free port); unset: none. Web processes serve them on `port`.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"

    # Remote API base URLs: the real services by default; the sandbox info file overrides.
    tiktok_api_base: str = "https://open-api.tiktokglobalshop.com"
    tiktok_auth_base: str = "https://auth.tiktok-shops.com"
    tiktok_authorize_url: str = "https://services.tiktokshops.us/open/authorize"
    tiktok_app_key: str | None = None
    tiktok_app_secret: str | None = None
    tiktok_service_id: str | None = None
    shopify_api_version: str = "2026-10"  # = adapters.shopify.versions.PINNED_API_VERSION (tested)
    shopify_endpoint_template: str = Field(
        default="https://{shop}/admin/api/{version}/graphql.json",
        description="Admin GraphQL URL; {shop} and {version} are filled in (the sandbox's differs).",
    )
    shopify_client_secret: str | None = None
    shopify_client_id: str | None = Field(
        default=None, description="The app's client id (API key): the OAuth install (docs/security.md).")
    shopify_admin_url_template: str = Field(
        default=DEFAULT_SHOPIFY_ADMIN_URL_TEMPLATE,
        description="A store's admin URL, where /oauth/authorize and /oauth/access_token live; "
        "{shop} is filled in (the sandbox's differs).",
    )
    shopify_scopes: str = Field(
        default=DEFAULT_SHOPIFY_SCOPES,
        description="comma-separated access scopes the OAuth install asks for",
    )

    # 3PL accounts (docs/configuration.md#3pl-accounts): unset, that 3PL is not read.
    amazon_mcf_endpoint: str = Field(
        default="https://sellingpartnerapi-na.amazon.com",
        description="SP-API endpoint of the seller's region (North America by default)")
    amazon_mcf_lwa_token_url: str = "https://api.amazon.com/auth/o2/token"
    amazon_mcf_client_id: str | None = Field(
        default=None, description="the SP-API app's LWA client id; with the secret and refresh "
        "token, Amazon MCF orders are polled for tracking")
    amazon_mcf_client_secret: str | None = None
    amazon_mcf_refresh_token: str | None = Field(
        default=None, description="the seller's LWA refresh token (authorising the app)")
    shipbob_api_base: str = Field(
        default="https://api.shipbob.com/2026-01", description="ShipBob API base, with the version")
    shipbob_token: str | None = Field(
        default=None, description="ShipBob personal access token; set, ShipBob orders are polled")
    shipbob_channel_id: int | None = Field(
        default=None, description="the ShipBob channel orders are written on (unset: the first "
        "channel with orders_write)")

    # Engine
    workers: int = Field(default=4, ge=1, le=256)
    claim_batch: int = Field(default=DEFAULT_CLAIM_BATCH, ge=1, le=500)
    poll_interval_seconds: float = Field(default=300.0, gt=0)
    poll_overlap_seconds: float = Field(default=120.0, ge=0)
    lease_seconds: float = Field(default=60.0, gt=0)
    webhook_max_body_bytes: int = Field(default=DEFAULT_WEBHOOK_MAX_BODY_BYTES, gt=0)
    tiktok_webhook_max_age_seconds: float = Field(
        default=DEFAULT_TIKTOK_WEBHOOK_MAX_AGE_SECONDS, gt=0,
        description="a TikTok webhook whose timestamp is further from now is stored but not "
        "trusted: only links we already hold are re-read, nothing else is acted on")

    retention_days: float = Field(
        default=DEFAULT_RETENTION_DAYS, gt=0, le=3650,
        description="days after an order completes or is cancelled (a webhook: after it was "
        "handled) before the engine deletes its snapshots and raw webhook bodies")

    # Web security (docs/security.md)
    api_max_body_bytes: int = Field(default=DEFAULT_API_MAX_BODY_BYTES, gt=0,
                                    description="largest request body on every route but the webhooks")
    max_json_depth: int = Field(default=DEFAULT_MAX_JSON_DEPTH, ge=2, le=1000)
    allowed_hosts: str = Field(
        default="",
        description="comma-separated Host names served (``*.example.com`` allowed); empty: the "
        "host of base_url and the loopback names",
    )
    cors_origins: str = Field(default="", description="comma-separated origins allowed by CORS; empty: CORS off")
    auth_failures_per_minute: int = Field(default=DEFAULT_AUTH_FAILURES_PER_MINUTE, ge=1,
                                          description="failed token checks per client per minute before 429")
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30,
                                 description="a dashboard session ends this long after sign-in")
    session_idle_minutes: float = Field(default=60.0, gt=0, le=24 * 60,
                                        description="a dashboard session ends after this long unused")
    # SLA desk alerts (docs/configuration.md#sla-alerts); no channel: recorded on the timeline only
    sla_check_interval_seconds: float = Field(default=DEFAULT_SLA_CHECK_SECONDS, gt=0,
                                              description="how often thresholds are checked")
    sla_webhook_url: str | None = Field(
        default=None, description="JSON webhook for SLA alerts (a Slack incoming webhook works)")
    sla_email_to: str = Field(default="", description="comma-separated recipients of SLA alert emails")
    sla_email_from: str = Field(default="orderbridge@localhost", description="sender of SLA alert emails")
    sla_smtp_host: str | None = Field(default=None, description="SMTP server for SLA alert emails")
    sla_smtp_port: int = Field(default=DEFAULT_SMTP_PORT, ge=1, le=65535)
    sla_smtp_username: str | None = None
    sla_smtp_password: str | None = None
    sla_smtp_starttls: bool = Field(default=True, description="upgrade the SMTP connection with STARTTLS")

    # ShipBob webhooks (docs/configuration.md#shipbob-webhooks): connection name -> whsec_ secret
    shipbob_webhook_secrets: dict[str, str] = Field(
        default_factory=dict,
        description="per connection name, the whsec_ secret of its ShipBob webhook subscription "
        "(deliveries go to /webhooks/shipbob/<connection name>)")

    clock_source: str = Field(
        default="system",
        description="system (the wall clock), or sandbox:<control URL> to follow the sandbox "
        "clock from separate processes (development and tests only).",
    )

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if value.startswith("postgres://") or value.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; say so instead of failing on psycopg2 import.
            raise ValueError(
                "use the psycopg 3 driver: postgresql+psycopg://user@host:5432/dbname"
            )
        if not (value.startswith("sqlite") or value.startswith("postgresql+psycopg://")):
            raise ValueError("must start with sqlite:/// or postgresql+psycopg://")
        return value

    @field_validator("shipbob_webhook_secrets")
    @classmethod
    def _check_shipbob_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for name, secret in value.items():
            if not secret.startswith("whsec_") or len(secret) <= len("whsec_"):
                raise ValueError(f"the ShipBob webhook secret of {name!r} must be whsec_ followed by base64")
        return value

    @field_validator("sla_webhook_url")
    @classmethod
    def _check_sla_webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value or None

    @property
    def sla_email_recipients(self) -> tuple[str, ...]:
        """Addresses SLA alert emails go to (empty: no email)."""
        return tuple(a.strip() for a in self.sla_email_to.split(",") if a.strip())

    @field_validator("clock_source")
    @classmethod
    def _check_clock_source(cls, value: str) -> str:
        value = value.strip()
        if value == "system":
            return value
        if value.startswith("sandbox:"):
            url = value.removeprefix("sandbox:")
            if url.startswith(("http://", "https://")) and len(url.split("://", 1)[1]) > 0:
                return value
        raise ValueError(
            "must be system, or sandbox:<control URL> such as sandbox:http://127.0.0.1:8765"
        )

    @property
    def sandbox_clock_url(self) -> str | None:
        """The control URL whose clock to follow (``clock_source = sandbox:<url>``), or None."""
        if self.clock_source.startswith("sandbox:"):
            return self.clock_source.removeprefix("sandbox:")
        return None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        named = os.environ.get("ORDERBRIDGE_CONFIG")
        if named is None:
            source = _TomlSource(settings_cls, Path(DEFAULT_CONFIG_FILE))
        else:  # set by the operator: must exist; empty means "no config file"
            source = _TomlSource(settings_cls, Path(named) if named.strip() else None, named=True)
        path, named_secrets = _secrets_path(source)
        secrets = _TomlSource(settings_cls, path, named=named_secrets, what=SECRETS_WHAT, valid=SECRET_SETTINGS)
        return (init_settings, env_settings, secrets, source)

    @property
    def trusted_hosts(self) -> tuple[str, ...]:
        """Host names (lower case, no port) the web app answers for."""
        from urllib.parse import urlsplit

        base = (urlsplit(self.base_url).hostname or "").lower()
        listed = [h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()]
        hosts = listed or list(LOOPBACK_HOSTS)
        return tuple(dict.fromkeys([base, *hosts] if base else hosts))

    @property
    def cors_origin_list(self) -> tuple[str, ...]:
        """Origins CORS allows (empty: CORS off)."""
        return tuple(o.strip().rstrip("/") for o in self.cors_origins.split(",") if o.strip())

    @property
    def shopify_scope_list(self) -> tuple[str, ...]:
        """The access scopes the OAuth install asks for."""
        return tuple(dict.fromkeys(s.strip() for s in self.shopify_scopes.split(",") if s.strip()))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _secrets_path(config: _TomlSource) -> tuple[Path | None, bool]:
    """The secrets file to read and whether it was named (then it must exist):
    ``ORDERBRIDGE_SECRETS_FILE`` (empty: none), else the config file's ``secrets_file``
    (relative to the config file), else ``orderbridge.secrets.toml`` here if present."""
    named = os.environ.get("ORDERBRIDGE_SECRETS_FILE")
    if named is not None:
        return (Path(named) if named.strip() else None), True
    listed = config().get("secrets_file")
    if isinstance(listed, str) and listed.strip() and config.path is not None:
        return config.path.parent / listed, True
    return Path(DEFAULT_SECRETS_FILE), False


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one clear ConfigurationError."""
    if "database_url" not in overrides and "ORDERBRIDGE_DATABASE_URL" not in os.environ:
        plain = os.environ.get("DATABASE_URL")
        if plain:
            overrides["database_url"] = plain
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            problems.append(f"ORDERBRIDGE_{name.upper()}: {err['msg']}")
        raise ConfigurationError("invalid settings: " + "; ".join(problems)) from exc

"""One typed Settings object, read from WUXIN_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from wuxin.errors import ConfigError

DEV_SECRET = "wuxin-development-secret-change-me"
ENVIRONMENTS = ("development", "test", "production")
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    """Platform settings; an unknown environment, a short secret, or the development secret in
    production are refused."""

    model_config = SettingsConfigDict(env_prefix="WUXIN_", extra="ignore")

    environment: str = "development"  # one of ENVIRONMENTS, any case ("Production" is production)
    database_url: str = "sqlite:///var/wuxin.db"
    secret_key: str = DEV_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    # The address people reach the API at (https://wuxin.example.com), for absolute links in reports; unset, a
    # report links under the address its own request came to (never a Host header kept for other requests)
    public_url: str | None = None
    mqtt_url: str | None = None
    mqtt_admin_url: str | None = None  # dynamic-security admin: token rotations reach the broker at once
    # The MQTT front end for the vendors' SDKs (ingest/mqtt/front.py), started by `wuxin serve` when the port is set
    # (0 = any free port); it forwards to the broker at mqtt_front_url (its own broker account; see provision_front)
    mqtt_front_port: int | None = Field(None, ge=0, le=65535)
    mqtt_front_url: str | None = None
    # MQTTS for the front end (LinkKit securemode=2, ThingsBoard over TLS): its port and a PEM certificate chain and key
    mqtt_front_tls_port: int | None = Field(None, ge=0, le=65535)
    mqtt_front_tls_cert: Path | None = None
    mqtt_front_tls_key: Path | None = None
    mqtt_front_max_sessions: int = Field(4, ge=1)  # connections one device may hold at once; more are refused
    mqtt_front_failed_connects_per_minute: int = Field(20, ge=1)  # per source address; past it refused unread
    mqtt_front_tls_only: bool = False  # true: no plain listener, devices connect on mqtt_front_tls_port only
    # Open sockets (TLS handshake and CONNECT included) per source address and in all; past them a socket is closed
    # unread. Devices behind one carrier NAT share an address; the open-file limit must exceed the total.
    mqtt_front_max_connections_per_address: int = Field(256, ge=1)
    mqtt_front_max_connections: int = Field(10_000, ge=1)
    mqtt_front_connect_timeout_s: float = Field(10.0, gt=0)  # TLS handshake plus CONNECT, from the accept
    mqtt_front_credential_check_s: float = Field(30.0, gt=0)  # a rotated or revoked credential's sessions close
    # LinkKit signs its CONNECT with a Unix timestamp: a signature is good this long either side of the platform's
    # clock. The signature does not cover the transport, so one read off a plain port could be replayed over TLS:
    # only a TLS-only deployment (mqtt_front_tls_only) skips the age check, since LinkKit's own reconnects resend
    # the first signature (docs/onboarding.md), unless alink_signature_window_over_tls asks for it. One without a
    # timestamp (a static password) is refused unless explicitly allowed
    alink_signature_window_s: int = Field(900, ge=1)
    alink_signature_window_over_tls: bool = False
    alink_allow_untimed_signatures: bool = False
    # The replicated ingestion stream (NATS JetStream, issue 21): set, the front end publishes there and
    # `wuxin ingest stream-worker` stores it; unset, the single Mosquitto (mqtt_url) stays the path
    stream_urls: str | None = None
    smtp_host: str = "127.0.0.1"  # alarm e-mails (services.notifications)
    smtp_port: int = 25
    smtp_from: str = "wuxin-alarms@localhost"
    max_body_bytes: int = 4 * 1024 * 1024  # a request body past this is refused (413) while it streams in
    # Unauthenticated input (unknown or revoked device token, bad platform signature) costs the sender, not the disk:
    unauthenticated_keep_bytes: int = 1024  # of such a body only this prefix is quarantined, with its sha256 and length
    unauthenticated_quarantine_max: int = 10_000  # such entries kept at most; the oldest go first
    unauthenticated_failures_per_minute: int = 30  # per client IP; past it the device endpoints answer 429
    store_failed_keep_bytes: int = 64 * 1024  # a message the database refused is quarantined whole up to this size
    # A known device's rejected lines cost the disk at most this per request (each line whole while it fits, then
    # its prefix, sha256 and length): a valid token cannot fill the quarantine with megabytes of refused data
    rejected_keep_bytes: int = Field(64 * 1024, ge=0)
    min_free_disk_mb: int = 64  # /health says degraded when the SQLite database's volume has less room to write
    max_future_skew_s: int = 24 * 3600
    access_token_ttl_s: int = 12 * 3600
    var_dir: Path = Path("var")
    # Data lifecycle (services.retention, `wuxin db maintain`, hourly inside `wuxin serve`): raw readings are kept
    # this many days, their hourly aggregates longer; a tenant may have its own (`wuxin db retention set`). The
    # floor keeps the daily rules' 7-day histories and their 7-day catch-up on raw data.
    raw_retention_days: int = Field(400, ge=31)
    hourly_retention_days: int = Field(1830, ge=31)
    partition_months_ahead: int = Field(3, ge=1)  # PostgreSQL: month partitions of readings created ahead
    # The periodic jobs of `wuxin serve`, every one of them (docs/operations.md "What runs, and when" is their table):
    sweep_interval_s: float = Field(30.0, gt=0)  # monitoring sweep, daily rules when due, notification delivery
    tree_head_interval_s: float = Field(300.0, gt=0)  # sign a ledger tree head when the log grew
    indicators_interval_s: float = Field(30.0, gt=0)  # recompute the indicators of dirty device-days, their index days
    # at most this many dirty device-days per indicators run; a larger backlog is caught up run after run, the next
    # one a second after the last instead of a whole interval, so the API and the other jobs keep their turn
    indicators_device_days_per_run: int = Field(2000, ge=1)
    maintenance_interval_s: float = Field(
        3600.0, gt=0
    )  # telemetry maintenance: partitions, hourly aggregates, retention
    # Login throttling (security.login_guard), per server process. A failure counts against the
    # account (the username as typed, existing or not) and the source address; past the maximum the
    # key is locked for the base time, doubled by each further failure up to the maximum lock.
    login_account_max_failures: int = Field(5, ge=1)
    login_source_max_failures: int = Field(20, ge=1)
    login_failure_window_s: int = Field(3600, ge=1)  # failures are forgotten this long after the last one
    login_lock_base_s: int = Field(1, ge=1)
    login_lock_max_s: int = Field(900, ge=1)
    login_hash_slots: int = Field(2, ge=1)  # password verifications at once (each Argon2 one: a core, 64 MiB)
    login_hash_wait_s: float = Field(1.0, ge=0)  # wait for a slot, then 503 Retry-After

    @field_validator("environment", mode="before")
    @classmethod
    def _known_environment(cls, value: object) -> str:
        name = str(value).strip().lower()
        if name not in ENVIRONMENTS:
            raise ValueError(f"WUXIN_ENVIRONMENT={value!r} is not one of {', '.join(ENVIRONMENTS)}")
        return name

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("WUXIN_SECRET_KEY must be set in production (the development default is refused)")
        if len(self.secret_key.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ValueError(
                f"WUXIN_SECRET_KEY has {len(self.secret_key.encode('utf-8'))} bytes; at least "
                f"{MIN_SECRET_BYTES} are needed (e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        if self.hourly_retention_days < self.raw_retention_days:
            raise ValueError(
                f"WUXIN_HOURLY_RETENTION_DAYS ({self.hourly_retention_days}) must be at least "
                f"WUXIN_RAW_RETENTION_DAYS ({self.raw_retention_days}): aggregates outlive the readings"
            )
        if self.login_lock_max_s < self.login_lock_base_s or self.login_failure_window_s < self.login_lock_max_s:
            raise ValueError(
                f"login throttling needs WUXIN_LOGIN_LOCK_BASE_S ({self.login_lock_base_s}) <= "
                f"WUXIN_LOGIN_LOCK_MAX_S ({self.login_lock_max_s}) <= WUXIN_LOGIN_FAILURE_WINDOW_S "
                f"({self.login_failure_window_s}), else failures are forgotten while locked"
            )
        return self


def load_settings(**overrides) -> Settings:
    """Settings from the environment (and overrides); a refusal is a ConfigError with a one-line message."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(settings_problems(exc)) from None


SECRET_SETTING_WORDS = ("secret", "password", "key", "url")  # values never printed (a URL may carry a password)


def settings_problems(exc: ValidationError) -> str:
    """A refused Settings in one line: each problem names its WUXIN_ variable (and the value, unless secret)."""
    return "; ".join(_one_line(error) for error in exc.errors())


def _one_line(error) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "value_error" or not error["loc"]:
        return message
    field = str(error["loc"][0])
    shown = "" if any(word in field for word in SECRET_SETTING_WORDS) else f" (got {error.get('input')!r})"
    return f"WUXIN_{field.upper()}: {message}{shown}"


@lru_cache
def get_settings() -> Settings:
    return load_settings()

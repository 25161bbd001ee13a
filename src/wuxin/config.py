"""One typed Settings object, read from WUXIN_* environment variables."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "wuxin-development-secret-change-me"


class Settings(BaseSettings):
    """Platform settings; production refuses the development secret."""

    model_config = SettingsConfigDict(env_prefix="WUXIN_", extra="ignore")

    environment: str = "development"  # development | test | production
    database_url: str = "sqlite:///var/wuxin.db"
    secret_key: str = DEV_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    mqtt_url: str | None = None
    mqtt_admin_url: str | None = None  # dynamic-security admin: token rotations reach the broker at once
    smtp_host: str = "127.0.0.1"  # alarm e-mails (services.notifications)
    smtp_port: int = 25
    smtp_from: str = "wuxin-alarms@localhost"
    max_body_bytes: int = 4 * 1024 * 1024
    min_free_disk_mb: int = 64  # /health says degraded when the SQLite database's volume has less room to write
    max_future_skew_s: int = 24 * 3600
    access_token_ttl_s: int = 12 * 3600
    var_dir: Path = Path("var")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("WUXIN_SECRET_KEY must be set in production (the development default is refused)")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()

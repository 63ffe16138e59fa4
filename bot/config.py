"""One typed Settings object, read from the environment (and an optional .env file)."""

from __future__ import annotations

from datetime import time

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///posbot.sqlite3"


class Settings(BaseSettings):
    """Every knob an operator may turn; tests construct their own instead of patching env."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    telegram_bot_token: str = Field(
        default="", validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "telegram_bot_token")
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org",
        validation_alias=AliasChoices("TELEGRAM_API_URL", "telegram_api_url"),
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("POSBOT_DATABASE_URL", "database_url"),
    )
    support_chat_id: int | None = Field(
        default=None, validation_alias=AliasChoices("POSBOT_SUPPORT_CHAT_ID", "support_chat_id")
    )
    operator_name: str = Field(
        default="posbot", validation_alias=AliasChoices("POSBOT_OPERATOR_NAME", "operator_name")
    )
    cutoff: time = Field(
        default=time(23, 0), validation_alias=AliasChoices("POSBOT_CUTOFF", "cutoff")
    )
    retention_days: int = Field(
        default=180, ge=1, validation_alias=AliasChoices("POSBOT_RETENTION_DAYS", "retention_days")
    )
    default_locale: str = Field(
        default="zh", validation_alias=AliasChoices("POSBOT_DEFAULT_LOCALE", "default_locale")
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("POSBOT_LOG_LEVEL", "log_level")
    )

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("must be zh or en")
        return value

    def template_globals(self) -> dict[str, object]:
        """Deployment facts the messages mention."""
        return {
            "operator_name": self.operator_name,
            "retention_days": self.retention_days,
            "cutoff": self.cutoff.strftime("%H:%M"),
        }

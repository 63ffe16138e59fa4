"""One typed Settings object, read from the environment (and an optional .env file)."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal
from typing import Annotated

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.extras import MissingExtra

DEFAULT_DATABASE_URL = "sqlite:///posbot.sqlite3"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WEBHOOK_PATH = re.compile(r"/[A-Za-z0-9._~/-]*")
RESERVED_PATHS = ("/healthz", "/metrics")


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
        default=180,
        ge=1,
        le=3650,  # as in the deployment file: ten years
        validation_alias=AliasChoices("POSBOT_RETENTION_DAYS", "retention_days"),
    )
    #: Telegram gives up on an update it could not deliver after 24 hours; a done update id is
    #: kept twice as long, then forgotten (`purge_inbox`).
    inbox_retention_hours: int = Field(
        default=48,
        ge=24,
        le=8760,
        validation_alias=AliasChoices("POSBOT_INBOX_RETENTION_HOURS", "inbox_retention_hours"),
    )
    default_locale: str = Field(
        default="zh", validation_alias=AliasChoices("POSBOT_DEFAULT_LOCALE", "default_locale")
    )
    agent_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, validation_alias=AliasChoices("POSBOT_AGENT_IDS", "agent_ids")
    )
    support_team_name: str | None = Field(
        default=None, validation_alias=AliasChoices("POSBOT_SUPPORT_TEAM_NAME", "support_team_name")
    )
    support_hours: str = Field(
        default="09:00-21:00",
        validation_alias=AliasChoices("POSBOT_SUPPORT_HOURS", "support_hours"),
    )
    escalation_amount: Decimal | None = Field(
        default=Decimal("50000"),
        validation_alias=AliasChoices("POSBOT_ESCALATION_AMOUNT", "escalation_amount"),
    )
    sla_unclaimed_minutes: int = Field(
        default=30,
        ge=1,
        validation_alias=AliasChoices("POSBOT_SLA_UNCLAIMED_MINUTES", "sla_unclaimed_minutes"),
    )
    sla_reply_hours: int = Field(
        default=4, ge=1, validation_alias=AliasChoices("POSBOT_SLA_REPLY_HOURS", "sla_reply_hours")
    )
    reopen_days: int = Field(
        default=7, ge=0, validation_alias=AliasChoices("POSBOT_REOPEN_DAYS", "reopen_days")
    )
    timer_interval_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias=AliasChoices("POSBOT_TIMER_INTERVAL_SECONDS", "timer_interval_seconds"),
    )
    flood_per_minute: int = Field(
        default=30,
        ge=1,
        validation_alias=AliasChoices("POSBOT_FLOOD_PER_MINUTE", "flood_per_minute"),
    )
    flood_per_day: int = Field(
        default=2000, ge=1, validation_alias=AliasChoices("POSBOT_FLOOD_PER_DAY", "flood_per_day")
    )
    webhook_url: str | None = Field(
        default=None, validation_alias=AliasChoices("POSBOT_WEBHOOK_URL", "webhook_url")
    )
    webhook_secret: str = Field(
        default="", validation_alias=AliasChoices("POSBOT_WEBHOOK_SECRET", "webhook_secret")
    )
    webhook_path: str = Field(
        default="/telegram", validation_alias=AliasChoices("POSBOT_WEBHOOK_PATH", "webhook_path")
    )
    auto_migrate: bool | None = Field(
        default=None, validation_alias=AliasChoices("POSBOT_AUTO_MIGRATE", "auto_migrate")
    )
    rate_limit: bool = Field(
        default=True, validation_alias=AliasChoices("POSBOT_RATE_LIMIT", "rate_limit")
    )
    telegram_timeout: float = Field(
        default=10.0,
        gt=0,
        validation_alias=AliasChoices("POSBOT_TELEGRAM_TIMEOUT", "telegram_timeout"),
    )
    log_level: str = Field(
        default="INFO", validation_alias=AliasChoices("POSBOT_LOG_LEVEL", "log_level")
    )
    #: The operator's data file (bot/deployment.py); unset or empty: the built-in defaults.
    deployment_file: str | None = Field(
        default=None,
        validation_alias=AliasChoices("POSBOT_DEPLOYMENT_FILE", "deployment_file"),
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            url = make_url(value)
            dialect = url.get_dialect()
        except ArgumentError:
            raise ValueError(
                "not a database URL, e.g. sqlite:///posbot.sqlite3 or "
                "postgresql+psycopg://user@host/db"
            ) from None
        except NoSuchModuleError:
            raise ValueError("unknown database kind (use sqlite or postgresql+psycopg)") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError("posbot runs on sqlite or postgresql+psycopg only")
        try:
            dialect.import_dbapi()
        except ImportError:
            if url.get_driver_name() == "psycopg":
                raise ValueError(str(MissingExtra("postgres"))) from None
            raise ValueError(
                f"no driver {url.get_driver_name()!r} installed (use postgresql+psycopg)"
            ) from None
        return value

    @field_validator("webhook_path")
    @classmethod
    def _webhook_path(cls, value: str) -> str:
        if not WEBHOOK_PATH.fullmatch(value):
            raise ValueError("must be a path such as /telegram (letters, digits, - _ . ~ /)")
        if value in RESERVED_PATHS:
            raise ValueError(f"{value} is where posbot answers health checks or metrics")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("agent_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("must be zh or en")
        return value

    @field_validator("deployment_file")
    @classmethod
    def _empty_is_unset(cls, value: str | None) -> str | None:
        return (value.strip() or None) if value is not None else None


def explain(error: ValidationError) -> str:
    """A Settings error in the operator's terms: the environment variable and the problem."""
    lines = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        field = Settings.model_fields.get(name)
        alias = getattr(field.validation_alias, "choices", None) if field else None
        variable = str(alias[0]) if alias else name
        lines.append(f"  {variable}: {item['msg']} (got {item.get('input')!r})")
    return "invalid environment (or .env):\n" + "\n".join(lines)

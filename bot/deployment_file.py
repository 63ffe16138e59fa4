"""The deployment file's schema: every table and key an operator may write, each value checked
as it is read (phone numbers, time zones, cycles, amounts, holiday ranges), and the one error that
names the file, the key path and the problem. Checks that span entries, and turning the file into
the objects the flows take, are `bot.deployment`'s."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
)

from bot.records.config import RecordsTable
from flows.settlement_calendar import Cycle

ENV_VAR = "POSBOT_DEPLOYMENT_FILE"
#: The documented example, at the root of a checkout and inside the `bot` package of a wheel.
EXAMPLE_NAME = "deployment.example.toml"
DEFAULT_TIMEZONE = "Asia/Shanghai"
LOCALES = ("zh", "en")
#: Bank buttons beyond this crowd the phone screen (they are laid out three to a row).
MAX_BANK_BUTTONS = 12

#: Settings fields the file may set, and where in the file.
SETTINGS_KEYS: dict[str, str] = {
    "operator_name": "operator.name",
    "support_hours": "support.hours",
    "cutoff": "settlement.cutoff",
    "escalation_amount": "escalation.amount",
    "retention_days": "privacy.retention_days",
}


class DeploymentError(Exception):
    """The deployment file cannot be used; the message names the file, each key and problem."""

    def __init__(self, source: Path | str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = str(source)
        self.problems = list(problems)
        if len(self.problems) == 1:
            key, text = self.problems[0]
            message = f"invalid deployment file {source}: {_line(key, text)}"
        else:
            lines = "\n".join(f"  {_line(key, text)}" for key, text in self.problems)
            message = f"invalid deployment file {source} ({len(self.problems)} problems):\n{lines}"
        super().__init__(message)


def _line(key: str, text: str) -> str:
    return f"{key}: {text}" if key else text


# -- value checks ---------------------------------------------------------------------------------


def _phone(value: str) -> str:
    if not re.fullmatch(r"\+?[0-9][0-9 ()\-]{1,22}[0-9]", value):
        raise ValueError(
            f"{value!r} is not a phone number (digits, with spaces, '-', '+' or parentheses)"
        )
    return value


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Asia/Shanghai)") from None
    return value


def _naive(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give the Beijing wall-clock time without a UTC offset, e.g. 23:00")
    return value


def _code(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", value):
        raise ValueError(
            f"{value!r} is not a bank code: lower-case letters, digits and _, at most 32"
        )
    return value


def _cycle(value: object) -> object:
    """'T+1', 'd1', 'D0' ... as the Cycle values t1, d1, d0."""
    if isinstance(value, str):
        folded = value.strip().lower().replace("+", "")
        if folded not in {c.value for c in Cycle}:
            known = ", ".join(c.value for c in Cycle)
            raise ValueError(f"{value!r} is not a settlement cycle posbot knows ({known})")
        return folded
    return value


def _cycles(value: tuple[Cycle, ...]) -> tuple[Cycle, ...]:
    if not value:
        raise ValueError("name at least one cycle (t1, d1, d0)")
    repeated = sorted({c.value for c in value if value.count(c) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} listed twice")
    return value


def _amount(value: object) -> Decimal | None:
    """Yuan, at most 2 decimals, not negative; "off" (None) never escalates by amount."""
    if isinstance(value, str) and value.strip().lower() == "off":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError('should be an amount in yuan such as 50000, or "off"')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f'{value!r} is not an amount in yuan such as 50000, or "off"') from None
    if not amount.is_finite():
        raise ValueError(f'{value!r} is not an amount in yuan such as 50000, or "off"')
    if amount < 0:
        raise ValueError('must not be negative (0 escalates every case; "off" none)')
    if -amount.as_tuple().exponent > 2:  # type: ignore[operator]
        raise ValueError(f"{value} has more than 2 decimals")
    return amount


def _day(value: object) -> date:
    if isinstance(value, datetime):
        raise ValueError("should be a date without a time, e.g. 2027-10-01")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date like 2027-10-01")


def _days(value: object) -> tuple[date, date]:
    """A date, or a "first..last" range of dates (both included)."""
    if isinstance(value, str) and ".." in value:
        first, _, last = value.partition("..")
        start, end = _day(first), _day(last)
        if end < start:
            raise ValueError(f"the range {value!r} ends before it starts")
        return start, end
    day = _day(value)
    return day, day


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Phone = Annotated[Text, AfterValidator(_phone)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=800)]


# -- the file's shape -----------------------------------------------------------------------------


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OperatorTable(_Table):
    name: Text | None = None
    hotline: Phone | None = None


class SupportTable(_Table):
    hours: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
        | None
    ) = None
    timezone: Annotated[str, AfterValidator(_zone)] = DEFAULT_TIMEZONE


class SettlementTable(_Table):
    cutoff: Annotated[time, AfterValidator(_naive)] | None = None
    cycles: (
        Annotated[tuple[Annotated[Cycle, BeforeValidator(_cycle)], ...], AfterValidator(_cycles)]
        | None
    ) = None


class EscalationTable(_Table):
    amount: Annotated[Decimal | None, PlainValidator(_amount)] = None


class PrivacyTable(_Table):
    retention_days: Annotated[int, Field(strict=True, ge=1, le=3650)] | None = None


class BankEntry(_Table):
    code: Annotated[str, Field(strict=True), AfterValidator(_code)]
    name_zh: Text | None = None
    name_en: Text | None = None
    hotline: Phone | None = None
    aliases: tuple[Text, ...] = ()
    button: bool | None = None


class YearTable(_Table):
    holidays: tuple[Annotated[tuple[date, date], PlainValidator(_days)], ...] = ()
    make_up_days: tuple[Annotated[date, PlainValidator(_day)], ...] = ()


class LocaleWording(_Table):
    welcome: Paragraph | None = None
    summary: Paragraph | None = None


class WordingTable(_Table):
    zh: LocaleWording = LocaleWording()
    en: LocaleWording = LocaleWording()


class DeploymentFile(_Table):
    """The file as written; :func:`resolve` turns it into what the bot uses."""

    operator: OperatorTable = OperatorTable()
    support: SupportTable = SupportTable()
    settlement: SettlementTable = SettlementTable()
    escalation: EscalationTable = EscalationTable()
    privacy: PrivacyTable = PrivacyTable()
    banks: tuple[BankEntry, ...] = ()
    holidays: dict[Annotated[int, Field(ge=2000, le=2100)], YearTable] = Field(default_factory=dict)
    wording: WordingTable = WordingTable()
    records: RecordsTable | None = None

    def settings_values(self) -> dict[str, Any]:
        """The Settings fields this file sets (absent keys are left out)."""
        values: dict[str, Any] = {
            "operator_name": self.operator.name,
            "support_hours": self.support.hours,
            "cutoff": self.settlement.cutoff,
            "retention_days": self.privacy.retention_days,
        }
        values = {name: value for name, value in values.items() if value is not None}
        if "amount" in self.escalation.model_fields_set:
            values["escalation_amount"] = self.escalation.amount
        return values

"""The deployment file (TOML at POSBOT_DEPLOYMENT_FILE): an operator's data, checked at start.

It is read once, validated whole (every problem named with the file, the key path and what is
wrong), then turned into the plain objects the flows already take: the Settings values, a
:class:`~flows.diagnosis.Policy` (cut-off, cycles, banks, a :class:`WorkCalendar` with the
holiday overrides) and the renderer's template globals.

Precedence, key by key: built-in default < the file < an environment variable that is set
(``.env`` included). `deployment.example.toml` documents every key.
"""

from __future__ import annotations

import calendar
import difflib
import os
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as replace_dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ValidationError,
)

from bot.config import Settings
from bot.deployment_file import (
    ENV_VAR,
    EXAMPLE_NAME,
    LOCALES,
    MAX_BANK_BUTTONS,
    SETTINGS_KEYS,
    BankEntry,
    DeploymentError,
    DeploymentFile,
    YearTable,
)
from bot.records.config import RecordsConfig, env_problems, resolve_records
from flows.banks import DEFAULT_BANKS, BankDirectory, Institution
from flows.diagnosis import Policy
from flows.settlement_calendar import Cycle, WorkCalendar, YearSchedule

# -- reading and checking -------------------------------------------------------------------------


def load_file(path: Path) -> DeploymentFile:
    """Read and check the whole file; DeploymentError lists every problem found."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeploymentError(path, [("", f"no such file (set by {ENV_VAR})")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise DeploymentError(path, [("", f"cannot be read: {error}")]) from None
    except tomllib.TOMLDecodeError as error:
        raise DeploymentError(path, [("", f"not valid TOML: {error}")]) from None
    try:
        loaded = DeploymentFile.model_validate(raw)
    except ValidationError as error:
        errors = error.errors()
        problems = [_explain(e) for e in errors]
        # The cross-entry checks still run on the parts that are well-formed on their own.
        failed = {e["loc"][0] for e in errors if e["loc"]}
        parts = {key: raw[key] for key in ("banks", "holidays") if key in raw and key not in failed}
        if parts:
            partial = DeploymentFile.model_validate(parts)
            problems += [*_bank_problems(partial.banks), *_holiday_problems(partial.holidays)]
        problems += env_problems(raw.get("records"), os.environ)
        raise DeploymentError(path, problems) from None
    problems = [*_bank_problems(loaded.banks), *_holiday_problems(loaded.holidays)]
    problems += env_problems(raw.get("records"), os.environ)
    if problems:
        raise DeploymentError(path, problems)
    return loaded


def key_path(loc: Sequence[int | str]) -> str:
    """('banks', 2, 'hotline') -> 'banks[2].hotline' (TOML keys are strings, so ints index)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _explain(error: Mapping[str, Any]) -> tuple[str, str]:
    loc = [part for part in error["loc"] if part not in ("[key]",)]
    kind = error["type"]
    if kind == "extra_forbidden":
        return key_path(loc), _unknown_key(loc)
    if kind == "missing":
        return key_path(loc), "required"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return key_path(loc), "should be a table ([section] or {key = value})"
    if kind in ("tuple_type", "list_type"):
        return key_path(loc), "should be an array ([...], or [[banks]] tables for banks)"
    if "[key]" in error["loc"]:
        return key_path(loc), "should be a year between 2000 and 2100, e.g. [holidays.2027]"
    if kind == "value_error":
        return key_path(loc), str(error["ctx"]["error"])
    text = error["msg"]
    value = error.get("input")
    if isinstance(value, str | int | float | bool | date | time):
        text += f" (got {value!r})" if not isinstance(value, date | time) else f" (got {value})"
    return key_path(loc), text


def _unknown_key(loc: Sequence[int | str]) -> str:
    model: type[BaseModel] | None = DeploymentFile
    for part in loc[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        annotation = field.annotation if field else None
        model = _model_in(annotation)
    known = sorted(model.model_fields) if model is not None else []
    text = "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if close:
        text += f"; did you mean {close[0]!r}?"
    if known:
        text += f" (keys here: {', '.join(known)})"
    return text


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The table model inside a field's type (itself, a tuple of it, or a dict of it)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _fold(text: str) -> str:
    """As BankDirectory.match compares names: NFKC, single spaces, lower case."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def _bank_problems(entries: Sequence[BankEntry]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    built_in = {bank.code: bank for bank in DEFAULT_BANKS.banks}
    first_seen: dict[str, int] = {}
    names: dict[str, str] = {
        _fold(alias): bank.code
        for bank in DEFAULT_BANKS.banks
        for alias in (bank.name_zh, *bank.aliases)
    }
    for index, entry in enumerate(entries):
        here = f"banks[{index}]"
        if entry.code in first_seen:
            problems.append(
                (
                    f"{here}.code",
                    f"{entry.code!r} is listed twice (also banks[{first_seen[entry.code]}])",
                )
            )
            continue
        first_seen[entry.code] = index
        if entry.code in built_in:
            for key in ("name_zh", "name_en"):
                if getattr(entry, key) is not None:
                    problems.append(
                        (
                            f"{here}.{key}",
                            f"the names of built-in bank {entry.code!r} are not changed here "
                            "(only hotline, aliases and button)",
                        )
                    )
        else:
            for key in ("name_zh", "name_en", "hotline"):
                if getattr(entry, key) is None:
                    problems.append((f"{here}.{key}", "required for a bank posbot does not know"))
            if entry.name_zh is not None:
                names.setdefault(_fold(entry.name_zh), entry.code)
        for number, alias in enumerate(entry.aliases):
            owner = names.setdefault(_fold(alias), entry.code)
            if owner != entry.code:
                problems.append(
                    (f"{here}.aliases[{number}]", f"{alias!r} already names bank {owner!r}")
                )
    if not problems:
        buttons = _directory(entries).buttons
        if len(buttons) > MAX_BANK_BUTTONS:
            problems.append(
                ("banks", f"{len(buttons)} banks are buttons; at most {MAX_BANK_BUTTONS} fit")
            )
    return problems


def _holiday_problems(years: Mapping[int, YearTable]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    for year, table in years.items():
        here = f"holidays.{year}"
        off: dict[date, int] = {}
        for index, (first, last) in enumerate(table.holidays):
            for day in (first, last):
                if day.year != year:
                    problems.append((f"{here}.holidays[{index}]", f"{day} is not in {year}"))
                    break
            else:
                for ordinal in range(first.toordinal(), last.toordinal() + 1):
                    off.setdefault(date.fromordinal(ordinal), index)
        for index, day in enumerate(table.make_up_days):
            key = f"{here}.make_up_days[{index}]"
            if day.year != year:
                problems.append((key, f"{day} is not in {year}"))
            elif day in off:
                problems.append((key, f"{day} is also a holiday (holidays[{off[day]}])"))
            elif day.weekday() < calendar.SATURDAY:
                problems.append(
                    (
                        key,
                        f"{day} is a {calendar.day_name[day.weekday()]}; make-up working days "
                        "are Saturdays or Sundays (list weekdays off under holidays)",
                    )
                )
    return problems


# -- what the bot uses ----------------------------------------------------------------------------


def _directory(entries: Sequence[BankEntry]) -> BankDirectory:
    """The built-in banks with the file's changes and additions, in order."""
    banks = {bank.code: bank for bank in DEFAULT_BANKS.banks}
    buttons = list(DEFAULT_BANKS.buttons)
    for entry in entries:
        known = banks.get(entry.code)
        if known is not None:
            banks[entry.code] = replace_dataclass(
                known,
                hotline=entry.hotline or known.hotline,
                aliases=(*known.aliases, *entry.aliases),
            )
        else:
            # A new bank's names and hotline are required by the checks on load.
            assert entry.name_zh is not None
            assert entry.name_en is not None
            assert entry.hotline is not None
            banks[entry.code] = Institution(
                entry.code, entry.name_zh, entry.name_en, entry.hotline, entry.aliases
            )
        if entry.button and entry.code not in buttons:
            buttons.append(entry.code)
        elif entry.button is False and entry.code in buttons:
            buttons.remove(entry.code)
    return BankDirectory(tuple(banks.values()), tuple(buttons))


def _schedules(years: Mapping[int, YearTable]) -> dict[int, YearSchedule]:
    schedules = {}
    for year, table in years.items():
        off = {
            date.fromordinal(ordinal)
            for first, last in table.holidays
            for ordinal in range(first.toordinal(), last.toordinal() + 1)
        }
        schedules[year] = YearSchedule(
            holidays=frozenset(off), workdays=frozenset(table.make_up_days)
        )
    return schedules


@dataclass(frozen=True)
class Deployment:
    """Everything deployment-specific, resolved: default < file < explicitly set environment."""

    settings: Settings  # with the file's values where the environment left them unset
    source: Path | None
    operator_hotline: str | None
    support_timezone: str
    cycles: tuple[Cycle, ...]
    banks: BankDirectory
    holidays: Mapping[int, YearSchedule]
    wording: Mapping[str, Mapping[str, str | None]]
    overruled: tuple[str, ...]  # file keys a set environment variable won over
    records: RecordsConfig | None = None  # the acquirer's records, when the file connects them

    def policy(self) -> Policy:
        return Policy(
            calendar=WorkCalendar(self.holidays),
            cutoff=self.settings.cutoff,
            escalation_amount=self.settings.escalation_amount,
            cycles=self.cycles,
            banks=self.banks,
            keys_first=self.records is not None,
        )

    def template_globals(self) -> dict[str, object]:
        """Deployment facts the messages mention."""
        settings = self.settings
        return {
            "operator_name": settings.operator_name,
            "retention_days": settings.retention_days,
            "cutoff": settings.cutoff.strftime("%H:%M"),
            "support_hours": settings.support_hours,
            "operator_hotline": self.operator_hotline,
            "support_timezone": self.support_timezone,
            "wording": {locale: dict(self.wording[locale]) for locale in LOCALES},
            "records_name": self.records.name if self.records is not None else None,
        }

    def describe(self) -> list[str]:
        """A short summary for the operator (`posbot check-config`)."""
        settings = self.settings
        amount = settings.escalation_amount
        lines = [
            f"deployment file: {self.source}"
            if self.source
            else f"deployment file: none ({ENV_VAR} unset), built-in defaults; "
            f"every key is documented in {example_file()}",
            f"operator: {settings.operator_name}"
            + (f", hotline {self.operator_hotline}" if self.operator_hotline else ""),
            f"support hours: {settings.support_hours} ({self.support_timezone})",
            f"cut-off: {settings.cutoff.strftime('%H:%M')} (Asia/Shanghai)",
            f"settlement cycles: {', '.join(c.value for c in self.cycles)}",
            f"escalation above: {amount} yuan" if amount is not None else "escalation: off",
            f"retention: {settings.retention_days} days",
            f"{len(self.banks.banks)} banks, buttons: {', '.join(self.banks.buttons)}",
            "holiday overrides: " + (", ".join(str(y) for y in sorted(self.holidays)) or "none"),
        ]
        extra = [
            f"{locale} {key}" for locale in LOCALES for key, v in self.wording[locale].items() if v
        ]
        lines.append("extra wording: " + (", ".join(extra) or "none"))
        lines.append(self.records.describe() if self.records else "records lookup: none")
        if self.overruled:
            names = {key: field for field, key in SETTINGS_KEYS.items()}
            lines.append(
                "environment overrules the file for: "
                + ", ".join(f"{key} ({_env_name(names[key])})" for key in self.overruled)
            )
        return lines


def _env_name(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0]) if choices else field.upper()


def example_file() -> Path:
    """deployment.example.toml of a source checkout, or the copy packed into an installed wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here / EXAMPLE_NAME, here.parent / EXAMPLE_NAME):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"{EXAMPLE_NAME} not found next to the bot package")


def resolve(settings: Settings) -> Deployment:
    """The deployment in force: the file at settings.deployment_file (if any) over the defaults,
    and every Settings value set explicitly (environment, .env, arguments) over the file."""
    source = Path(settings.deployment_file) if settings.deployment_file else None
    loaded = load_file(source) if source is not None else DeploymentFile()
    from_file = loaded.settings_values()
    explicit = settings.model_fields_set
    overruled = tuple(
        SETTINGS_KEYS[name] for name in SETTINGS_KEYS if name in from_file.keys() & explicit
    )
    effective = settings.model_copy(
        update={name: value for name, value in from_file.items() if name not in explicit}
    )
    return Deployment(
        settings=effective,
        source=source,
        operator_hotline=loaded.operator.hotline,
        support_timezone=loaded.support.timezone,
        cycles=loaded.settlement.cycles or tuple(Cycle),
        banks=_directory(loaded.banks),
        holidays=_schedules(loaded.holidays),
        wording={locale: getattr(loaded.wording, locale).model_dump() for locale in LOCALES},
        overruled=overruled,
        records=(
            resolve_records(loaded.records, effective.operator_name)
            if loaded.records is not None
            else None
        ),
    )

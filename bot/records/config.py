"""The `[records]` section of the deployment file: how to ask the operator's own system.

An operator connects their transaction records without code: a URL template with the receipt
keys as placeholders, headers (secrets come from the environment as ``${NAME}``), JSON pointers
into the answer and a table from the answer's status words to posbot's. Everything is checked
when the file is loaded, so a typo stops the bot at start, not a merchant's lookup later.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

from jsonpointer import JsonPointer, JsonPointerException
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from bot.monitoring.logs import HIDDEN
from flows.records_lookup import KEY_NAMES, NOT_FOUND, RecordStatus

#: A placeholder in the URL template: {reference}.
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
#: An environment reference in a header value: ${POSBOT_RECORDS_TOKEN}.
ENV_REFERENCE = re.compile(r"\$\{([^{}]*)\}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
STATUS_WORDS = (*(s.value for s in RecordStatus), NOT_FOUND)


def _url(value: str) -> str:
    parts = urlsplit(value.replace("{", "").replace("}", ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http:// or https:// URL")
    if "${" in value:
        raise ValueError("${NAME} works in headers only: put secrets in a header")
    unknown = [name for name in PLACEHOLDER.findall(value) if name not in KEY_NAMES]
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{unknown[0]}}} (placeholders: "
            + ", ".join(f"{{{name}}}" for name in KEY_NAMES)
            + ")"
        )
    return value


def _method(value: object) -> object:
    if isinstance(value, str) and value.strip().upper() in ("GET", "POST"):
        return value.strip().upper()
    raise ValueError(f"{value!r} is not a method posbot uses (GET or POST)")


def _pointer(value: str) -> str:
    """An RFC 6901 pointer to a value inside the answer ("" would be the whole body)."""
    if not value.startswith("/"):
        raise ValueError(f"{value!r} is not a JSON pointer: it starts with '/', e.g. /data/status")
    try:
        JsonPointer(value)
    except JsonPointerException as error:
        raise ValueError(f"{value!r} is not a JSON pointer ({error})") from None
    return value


def _status_word(value: str) -> str:
    if value not in STATUS_WORDS:
        raise ValueError(f"{value!r} is not a posbot status ({', '.join(STATUS_WORDS)})")
    return value


def _header_value(value: str) -> str:
    for name in ENV_REFERENCE.findall(value):
        if not ENV_NAME.fullmatch(name):
            raise ValueError(f"${{{name}}} is not an environment variable name")
    return value


Pointer = Annotated[str, AfterValidator(_pointer)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldsTable(_Table):
    status: Pointer
    amount: Pointer
    settled_on: Pointer | None = None
    reason: Pointer | None = None


class RecordsTable(_Table):
    """The section as written (see deployment.example.toml)."""

    url: Annotated[str, Field(strict=True), AfterValidator(_url)]
    method: Annotated[str, BeforeValidator(_method)] = "GET"
    headers: dict[str, Annotated[str, Field(strict=True), AfterValidator(_header_value)]] = Field(
        default_factory=dict
    )
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 3.0
    #: The unit of the answer's amount: "yuan" (1280.50) or "fen" (128050).
    amount_unit: Literal["yuan", "fen"] = "yuan"
    #: Who merchants are told is being asked ("checking with ..."); default: operator.name.
    name: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    breaker_failures: Annotated[int, Field(strict=True, ge=1, le=1000)] = 5
    breaker_cooldown_s: Annotated[float, Field(gt=0, le=3600)] = 60.0
    fields: FieldsTable
    status_values: Annotated[
        dict[str, Annotated[str, AfterValidator(_status_word)]], Field(min_length=1)
    ]


def env_problems(section: object, environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """Each ${NAME} the section's headers need that the environment does not set (names, never
    values). Reads the section as written, so it is reported along with any other problem."""
    headers = section.get("headers") if isinstance(section, Mapping) else None
    if not isinstance(headers, Mapping):
        return []
    problems = []
    for header, value in headers.items():
        for name in ENV_REFERENCE.findall(value) if isinstance(value, str) else ():
            if not ENV_NAME.fullmatch(name):
                continue  # named by the section's own checks
            if not environ.get(name):
                problems.append(
                    (f"records.headers.{header}", f"environment variable {name} is not set")
                )
            elif not environ[name].isascii() or not environ[name].isprintable():
                # Named, never shown: an HTTP header carries printable ASCII only.
                problems.append(
                    (
                        f"records.headers.{header}",
                        f"the value of {name} is not printable ASCII (value not shown)",
                    )
                )
    return problems


@dataclass(frozen=True)
class RecordsConfig:
    """The section resolved: secrets filled in from the environment. Never print `headers`."""

    url: str
    method: str
    headers: Mapping[str, str]
    timeout_s: float
    amount_unit: str
    name: str
    fields: FieldsTable
    status_values: Mapping[str, str]
    breaker_failures: int
    breaker_cooldown_s: float

    @property
    def needs(self) -> frozenset[str]:
        """The keys a request cannot go without: the URL's placeholders, and for POST (whose
        body carries every key known) the reference number, the key a trace starts from."""
        placed = frozenset(PLACEHOLDER.findall(self.url))
        return placed | {"reference"} if self.method == "POST" else placed

    #: The values taken from the environment (${NAME}), each a secret on its own.
    from_environment: tuple[str, ...] = ()

    @property
    def secrets(self) -> tuple[str, ...]:
        """Header values and the environment values inside them, for scrubbing any echo;
        longest first, so a whole header goes before the token it contains."""
        values = {*self.headers.values(), *self.from_environment} - {""}
        return tuple(sorted(values, key=len, reverse=True))

    def describe(self) -> str:
        """One line for `posbot check-config`: what is asked, how, never a header's value."""
        headers = ", ".join(f"{name}: {HIDDEN}" for name in self.headers) or "none"
        return (
            f"records lookup: {self.method} {self.url} (needs: {', '.join(sorted(self.needs))}; "
            f"headers: {headers}; timeout {self.timeout_s:g} s; after {self.breaker_failures} "
            f"failures in a row, paused {self.breaker_cooldown_s:g} s; "
            f"{len(self.status_values)} status words)"
        )


def resolve_records(
    table: RecordsTable, operator_name: str, environ: Mapping[str, str] | None = None
) -> RecordsConfig:
    """The usable config; env_problems() must have been empty for the same environment."""
    env = os.environ if environ is None else environ
    headers = {
        header: ENV_REFERENCE.sub(lambda match: env[match.group(1)], value)
        for header, value in table.headers.items()
    }
    used = tuple(
        env[name] for value in table.headers.values() for name in ENV_REFERENCE.findall(value)
    )
    return RecordsConfig(
        from_environment=used,
        url=table.url,
        method=table.method,
        headers=headers,
        timeout_s=table.timeout_s,
        amount_unit=table.amount_unit,
        name=table.name or operator_name,
        fields=table.fields,
        status_values=dict(table.status_values),
        breaker_failures=table.breaker_failures,
        breaker_cooldown_s=table.breaker_cooldown_s,
    )

"""`posbot check-config --try-reference`: one lookup, told in one line for the operator.

The line says what the system answered as posbot read it, never a header or the raw body.
"""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal, InvalidOperation

from bot.monitoring.logs import hide_in_logs
from bot.records.config import RecordsConfig
from bot.records.http import RecordsClient
from flows.records_lookup import KEY_NAMES, Found, LookupKeys, LookupResult, NotFound


def parse_keys(reference: str, extra: tuple[str, ...]) -> LookupKeys:
    """The reference and NAME=VALUE pairs as lookup keys; ValueError names a bad one."""
    values: dict[str, str] = {"reference": reference.strip()}
    for pair in extra:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or name not in KEY_NAMES or name == "reference":
            raise ValueError(
                f"{pair!r}: give NAME=VALUE with NAME one of merchant_no, terminal_no, date, amount"
            )
        values[name] = value.strip()
    try:
        day = date.fromisoformat(values["date"]) if "date" in values else None
    except ValueError:
        raise ValueError(f"date={values['date']!r} is not a date like 2026-12-04") from None
    try:
        amount = Decimal(values["amount"]) if "amount" in values else None
    except InvalidOperation:
        raise ValueError(f"amount={values['amount']!r} is not an amount like 1280.50") from None
    return LookupKeys(
        reference=values["reference"] or None,
        merchant_no=values.get("merchant_no"),
        terminal_no=values.get("terminal_no"),
        date=day,
        amount=amount,
    )


def describe(result: LookupResult) -> str:
    if isinstance(result, Found):
        parts = [f"found: {result.status.value}", f"amount {result.amount} yuan"]
        parts.append(
            f"settled on {result.settled_on}" if result.settled_on else "no settlement date"
        )
        if result.reason:
            parts.append(f"reason: {result.reason}")
        return ", ".join(parts)
    if isinstance(result, NotFound):
        return "not found"
    return f"unavailable ({result.reason.value})"


def try_lookup(config: RecordsConfig, keys: LookupKeys) -> tuple[str, bool]:
    """The line to print, and whether the system answered (found or not found)."""

    hide_in_logs(
        config.secrets
    )  # lines are redacted by the command's logging (bot/monitoring/logs.py)

    async def once() -> LookupResult:
        client = RecordsClient(config)
        try:
            return await client.lookup(keys)
        finally:
            await client.aclose()

    result = asyncio.run(once())
    line = f"records lookup of {keys.reference}: {describe(result)}"
    missing = keys.missing(config.needs)
    if missing:
        line += f"; the URL also needs {', '.join(missing)} (--try-key NAME=VALUE)"
    return line, isinstance(result, Found | NotFound)

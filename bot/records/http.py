"""The generic HTTP adapter of the records lookup: one request to the operator's system.

Whatever goes wrong becomes `Unavailable` (the intake then asks the merchant, as without a
lookup), logged as one line that names the kind of failure and never a header, the URL's keys or
the response body. A circuit breaker stops calling a system that keeps failing, so merchants do
not each wait for its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx
from jsonpointer import JsonPointer, JsonPointerException

from bot.records.config import PLACEHOLDER, RecordsConfig
from flows.records_lookup import (
    NOT_FOUND,
    Found,
    LookupKeys,
    LookupResult,
    NotFound,
    RecordStatus,
    Unavailable,
    Unreachable,
)

log = logging.getLogger(__name__)

#: The largest answer read (a record is a few hundred bytes; anything near this is not one).
MAX_BODY = 256 * 1024
#: A lookup quicker than this shows no "checking with …" notice (issue 16).
ANNOUNCE_AFTER_S = 1.0

#: A status word short and plain enough to name in a log line (it tells the operator which
#: word to add to [records.status_values]); anything else is not echoed.
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.\-]{1,32}")
#: A date the answer may give: 2026-12-04, 20261204, or a timestamp starting with the date.
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


class CircuitBreaker:
    """Closed: calls go through. After `failures` failures in a row it opens: no calls for
    `cooldown_s`. Then half-open: one trial call; its success closes it, its failure reopens it."""

    def __init__(
        self, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = failures
        self.cooldown_s = cooldown_s
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.trial = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if self.clock() - self.opened_at >= self.cooldown_s else "open"

    def allow(self) -> bool:
        """May a call go out now? In half-open, only one (the trial) until it reports."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self.trial:
            return False
        self.trial = True
        return True

    def succeeded(self) -> bool:
        """Record a success; True when this closed an open breaker."""
        reopened = self.opened_at is not None
        self.failures, self.opened_at, self.trial = 0, None, False
        return reopened

    def failed(self) -> bool:
        """Record a failure; True when this (re)opened the breaker."""
        self.failures += 1
        if self.trial or self.failures >= self.threshold:
            self.opened_at, self.trial = self.clock(), False
            return True
        return False


class _Mismatch(Exception):
    """The answer does not fit [records.fields] / [records.status_values]; says which part."""


async def _read_capped(response: httpx.Response) -> bytes:
    """The body, up to MAX_BODY: one transaction's record is small; more is not an answer."""
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY:
            raise _Mismatch(f"the answer is larger than {MAX_BODY // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


class RecordsClient:
    """Looks payments up in the operator's system, as [records] in the deployment file says."""

    def __init__(
        self,
        config: RecordsConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.breaker = CircuitBreaker(config.breaker_failures, config.breaker_cooldown_s, clock)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pointers = {
            name: JsonPointer(pointer)
            for name, pointer in config.fields.model_dump().items()
            if pointer is not None
        }

    async def lookup(self, keys: LookupKeys) -> LookupResult:
        """Found, NotFound or Unavailable; returns within the configured timeout."""
        if keys.missing(self.config.needs):
            return Unavailable(Unreachable.KEYS_MISSING)
        if not self.breaker.allow():
            return Unavailable(Unreachable.CIRCUIT_OPEN)
        result, detail = await self._ask(keys)
        if isinstance(result, Unavailable):
            paused = self.breaker.failed()
            suffix = (
                f"; not called for {self.config.breaker_cooldown_s:g} s "
                f"(failures in a row: {self.breaker.failures})"
                if paused
                else ""
            )
            log.warning("records lookup unavailable: %s (%s)%s", result.reason, detail, suffix)
        elif self.breaker.succeeded():
            log.info("records lookup answering again")
        return result

    async def lookup_announced(
        self,
        keys: LookupKeys,
        announce: Callable[[], Awaitable[object]],
        after_s: float = ANNOUNCE_AFTER_S,
    ) -> LookupResult:
        """The lookup; `announce` ("checking with …") is awaited once if the answer takes longer
        than `after_s`: a quick answer needs no notice, a slow one must not look like silence."""
        task = asyncio.ensure_future(self.lookup(keys))
        done, _ = await asyncio.wait({task}, timeout=after_s)
        if not done:
            await announce()
        return await task

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _new_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._transport, follow_redirects=False, trust_env=False)

    @contextlib.asynccontextmanager
    async def _http(self) -> AsyncIterator[httpx.AsyncClient]:
        """The pooled client on the loop that made it; on any other loop (the terminal chat
        runs one per lookup) a client for this lookup only, closed after it."""
        loop = asyncio.get_running_loop()
        if self._client is None:
            self._client, self._loop = self._new_client(), loop
        if self._loop is loop:
            yield self._client
            return
        async with self._new_client() as client:
            yield client

    def request_url(self, keys: LookupKeys) -> str:
        values = keys.values()
        return PLACEHOLDER.sub(lambda m: quote(values[m.group(1)] or "", safe=""), self.config.url)

    async def _ask(self, keys: LookupKeys) -> tuple[LookupResult, str]:
        """The result and, for a failure, a log detail free of keys, secrets and body."""
        config = self.config
        try:
            async with asyncio.timeout(config.timeout_s), self._http() as http:
                request = http.build_request(
                    config.method,
                    self.request_url(keys),
                    headers=dict(config.headers),
                    json=keys.values() if config.method == "POST" else None,
                    timeout=config.timeout_s,
                )
                response = await http.send(request, stream=True)
                try:
                    status = response.status_code
                    body = await _read_capped(response) if 200 <= status < 300 else b""
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            return Unavailable(Unreachable.TIMEOUT), f"no answer within {config.timeout_s:g} s"
        except httpx.HTTPError as error:
            return Unavailable(Unreachable.CONNECTION), type(error).__name__
        except _Mismatch as error:
            return Unavailable(Unreachable.BAD_RESPONSE), str(error)
        if status == 404:
            return NotFound(), ""
        if status >= 500:
            return Unavailable(Unreachable.SERVER_ERROR), f"HTTP {status}"
        if not 200 <= status < 300:
            return Unavailable(Unreachable.REFUSED), f"HTTP {status}"
        try:
            return self.interpret(body), ""
        except _Mismatch as error:
            return Unavailable(Unreachable.BAD_RESPONSE), str(error)

    def interpret(self, body: bytes) -> Found | NotFound:
        """The answer read through [records.fields] and [records.status_values]."""
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise _Mismatch("the answer is not JSON") from None
        word = self._value(document, "status", required=True)
        if not isinstance(word, str | int) or isinstance(word, bool):
            raise _Mismatch(f"{self.config.fields.status} is not a word")
        mapped = self.config.status_values.get(str(word))
        if mapped is None:
            shown = repr(str(word)) if _PLAIN_WORD.fullmatch(str(word)) else "a word"
            raise _Mismatch(f"{shown} at {self.config.fields.status} is not in status_values")
        if mapped == NOT_FOUND:
            return NotFound()
        reason = self._value(document, "reason")
        return Found(
            status=RecordStatus(mapped),
            amount=self._amount(self._value(document, "amount", required=True)),
            settled_on=self._date(self._value(document, "settled_on")),
            reason=str(reason) if reason not in (None, "") else None,
        )

    def _value(self, document: Any, field: str, required: bool = False) -> Any:
        pointer = self._pointers.get(field)
        if pointer is None:
            return None
        try:
            value = pointer.resolve(document)
        except JsonPointerException:
            value = None
        if value is None and required:
            raise _Mismatch(f"nothing at {pointer.path} (fields.{field})")
        return value

    def _amount(self, value: Any) -> Decimal:
        field = self.config.fields.amount
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _Mismatch(f"{field} is not an amount")
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise _Mismatch(f"{field} is not an amount") from None
        if not amount.is_finite() or amount < 0:
            raise _Mismatch(f"{field} is not an amount")
        if self.config.amount_unit == "fen":
            amount = amount / 100
        return amount.quantize(Decimal("0.01"))

    def _date(self, value: Any) -> date | None:
        if value in (None, ""):
            return None
        match = _DATE.match(str(value).strip())
        try:
            if match is None:
                raise ValueError
            year, month, day = (int(part) for part in match.groups())
            return date(year, month, day)
        except ValueError:
            raise _Mismatch(f"{self.config.fields.settled_on} is not a date") from None

"""The HTTP records adapter against the reference fake, on loopback."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import tomllib
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.monitoring.logs import hide_in_logs
from bot.records.config import RecordsConfig, RecordsTable, resolve_records
from bot.records.fake import FakeRecords
from bot.records.http import MAX_BODY, CircuitBreaker, RecordsClient
from flows.records_lookup import (
    Found,
    LookupKeys,
    NotFound,
    RecordStatus,
    Unavailable,
    Unreachable,
)
from tests.bot.helpers import written_logs
from tests.bot.records_server import SECTION, fake_records, serving

TOKEN = "tok-5ecret-Zq81"
DAY = date(2026, 12, 1)


def config(base: str, timeout: float = 2, **changes: object) -> RecordsConfig:
    raw = tomllib.loads(SECTION.format(url=base, timeout=timeout))["records"]
    table = RecordsTable.model_validate({**raw, **changes})
    return resolve_records(table, "Example Pay", environ={"POSBOT_RECORDS_TOKEN": TOKEN})


def keys(reference: str) -> LookupKeys:
    return LookupKeys(reference=reference, date=DAY)


@pytest.fixture(scope="module")
def fake() -> FakeRecords:
    return fake_records(token=TOKEN)


@pytest.fixture(scope="module")
def base_url(fake: FakeRecords) -> Iterator[str]:
    with serving(fake) as url:
        yield url


@pytest.fixture(autouse=True)
def calm(fake: FakeRecords) -> None:
    fake.switches.slow_s, fake.switches.fail, fake.switches.malformed = 0, False, False


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def lookup(base: str, reference: str, **changes: object) -> object:
    client = RecordsClient(config(base, **changes))  # type: ignore[arg-type]
    try:
        return await client.lookup(keys(reference))
    finally:
        await client.aclose()


async def test_found_success_with_its_settlement_date(base_url: str) -> None:
    assert await lookup(base_url, "123456789012") == Found(
        RecordStatus.SUCCESS, Decimal("1280.00"), settled_on=date(2026, 12, 4)
    )


async def test_found_reversed_with_the_reason(base_url: str) -> None:
    result = await lookup(base_url, "223456789012")
    assert isinstance(result, Found)
    assert result.status is RecordStatus.REVERSED
    assert result.settled_on is None
    assert result.reason == "Reversed at 15:32: the terminal timed out waiting for the issuer"


async def test_not_found_by_404(base_url: str) -> None:
    assert await lookup(base_url, "999999999999") == NotFound()


async def test_not_found_by_a_status_mapped_to_not_found(base_url: str) -> None:
    assert await lookup(base_url, "723456789012") == NotFound()


async def test_post_sends_the_keys_as_a_json_body(base_url: str) -> None:
    result = await lookup(base_url, "423456789012", url=f"{base_url}/api/tx", method="POST")
    assert result == Found(RecordStatus.PREAUTH, Decimal("2000.00"))


async def test_slow_is_unavailable_within_the_timeout_plus_a_second(
    base_url: str, fake: FakeRecords
) -> None:
    fake.switches.slow_s = 20
    started = time.monotonic()
    result = await lookup(base_url, "123456789012", timeout=0.3)
    assert result == Unavailable(Unreachable.TIMEOUT)
    assert time.monotonic() - started < 0.3 + 1


async def test_server_error_is_unavailable(base_url: str, fake: FakeRecords) -> None:
    fake.switches.fail = True
    assert await lookup(base_url, "123456789012") == Unavailable(Unreachable.SERVER_ERROR)


async def test_a_refused_token_is_unavailable(base_url: str) -> None:
    client = RecordsClient(config(base_url, headers={"Authorization": "Bearer nope"}))
    assert await client.lookup(keys("123456789012")) == Unavailable(Unreachable.REFUSED)
    await client.aclose()


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await lookup(f"http://127.0.0.1:{port}", "123456789012")
    assert result == Unavailable(Unreachable.CONNECTION)


async def test_malformed_answer_is_unavailable_and_logged_once(
    base_url: str, fake: FakeRecords, caplog: pytest.LogCaptureFixture
) -> None:
    fake.switches.malformed = True
    with caplog.at_level(logging.DEBUG):
        assert await lookup(base_url, "123456789012") == Unavailable(Unreachable.BAD_RESPONSE)
    ours = [r for r in caplog.records if r.name == "bot.records.http"]
    assert len(ours) == 1
    assert "/data/status" in ours[0].getMessage()
    assert "result" not in caplog.text  # the body is not logged


async def test_missing_keys_are_not_asked(base_url: str, fake: FakeRecords) -> None:
    calls = fake.switches.calls
    client = RecordsClient(config(base_url))
    result = await client.lookup(LookupKeys(reference="123456789012"))  # the URL needs the date
    assert result == Unavailable(Unreachable.KEYS_MISSING)
    assert fake.switches.calls == calls


async def test_circuit_breaker_opens_then_half_opens_and_closes(
    base_url: str, fake: FakeRecords, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    client = RecordsClient(config(base_url, breaker_failures=3, breaker_cooldown_s=60), clock=clock)
    fake.switches.fail = True
    with caplog.at_level(logging.INFO, logger="bot.records.http"):
        for _ in range(3):
            assert await client.lookup(keys("123456789012")) == Unavailable(
                Unreachable.SERVER_ERROR
            )
        assert "not called for 60 s (failures in a row: 3)" in caplog.records[-1].getMessage()
        calls = fake.switches.calls
        open_result = await client.lookup(keys("123456789012"))
        assert open_result == Unavailable(Unreachable.CIRCUIT_OPEN)
        assert fake.switches.calls == calls  # not called while open
        clock.now += 59
        assert await client.lookup(keys("123456789012")) == Unavailable(Unreachable.CIRCUIT_OPEN)
        clock.now += 1  # half-open: one trial, which fails and reopens at once
        assert await client.lookup(keys("123456789012")) == Unavailable(Unreachable.SERVER_ERROR)
        assert client.breaker.state == "open"
        clock.now += 60
        fake.switches.fail = False
        assert isinstance(await client.lookup(keys("123456789012")), Found)
        assert client.breaker.state == "closed"
        assert caplog.records[-1].getMessage() == "records lookup answering again"
        assert fake.switches.calls == calls + 2
    await client.aclose()


def test_half_open_lets_one_trial_through_at_a_time() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 60, clock)
    breaker.failed()
    clock.now += 60
    assert breaker.allow()
    assert not breaker.allow()  # a second caller while the trial is out
    breaker.succeeded()
    assert breaker.allow()


async def test_the_token_never_reaches_a_log(
    base_url: str, fake: FakeRecords, caplog: pytest.LogCaptureFixture
) -> None:
    client = RecordsClient(config(base_url, timeout=0.3, breaker_failures=100))
    with caplog.at_level(logging.DEBUG):  # httpx and httpcore included
        for reference in ("123456789012", "223456789012", "999999999999", "723456789012"):
            await client.lookup(keys(reference))
        for switch, value in (("fail", True), ("malformed", True), ("slow_s", 20)):
            setattr(fake.switches, switch, value)
            await client.lookup(keys("123456789012"))
            setattr(fake.switches, switch, type(value)(0))
    await client.aclose()
    assert caplog.records  # something was logged, and none of it is the token
    assert TOKEN not in caplog.text
    assert all(TOKEN not in str(record.__dict__) for record in caplog.records)


async def test_one_client_serves_lookups_from_several_event_loops(base_url: str) -> None:
    client = RecordsClient(config(base_url))

    def in_own_loop() -> object:
        return asyncio.run(client.lookup(keys("123456789012")))

    here = await client.lookup(keys("123456789012"))  # the pooled client's loop
    first = await asyncio.to_thread(in_own_loop)
    second = await asyncio.to_thread(in_own_loop)
    assert here == first == second
    assert isinstance(first, Found)
    await client.aclose()


# -- reading an answer ----------------------------------------------------------------------------

URL = "http://records.invalid"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"data": {"status": "SUCCESS", "amount": 12.5}}', Decimal("12.50")),
        (b'{"data": {"status": "SUCCESS", "amount": "1,280.5"}}', Decimal("1280.50")),
    ],
)
def test_amounts_as_numbers_or_strings(body: bytes, expected: Decimal) -> None:
    found = RecordsClient(config(URL)).interpret(body)
    assert isinstance(found, Found)
    assert found.amount == expected


def test_amounts_in_fen() -> None:
    client = RecordsClient(config(URL, amount_unit="fen"))
    found = client.interpret(b'{"data": {"status": "SUCCESS", "amount": 128050}}')
    assert isinstance(found, Found)
    assert found.amount == Decimal("1280.50")


@pytest.mark.parametrize("text", ["2026-12-04", "20261204", "2026-12-04T08:00:00+08:00"])
def test_settlement_dates(text: str) -> None:
    body = f'{{"data": {{"status": "SUCCESS", "amount": 1, "settlement": {{"date": "{text}"}}}}}}'
    found = RecordsClient(config(URL)).interpret(body.encode())
    assert isinstance(found, Found)
    assert found.settled_on == date(2026, 12, 4)


@pytest.mark.parametrize(
    ("body", "names"),
    [
        (b"<html>busy</html>", "not JSON"),
        (b'{"data": {"status": "WEIRD", "amount": 1}}', "'WEIRD' at /data/status"),
        (b'{"data": {"status": "we ird <b>", "amount": 1}}', "a word at /data/status"),
        (b'{"data": {"status": "SUCCESS"}}', "nothing at /data/amount"),
        (b'{"data": {"status": "SUCCESS", "amount": "lots"}}', "/data/amount is not an amount"),
        (b'{"data": {"status": ["SUCCESS"], "amount": 1}}', "/data/status is not a word"),
        (
            b'{"data": {"status": "SUCCESS", "amount": 1, "settlement": {"date": "soon"}}}',
            "/data/settlement/date is not a date",
        ),
    ],
)
def test_answers_that_do_not_fit_the_mapping(body: bytes, names: str) -> None:
    with pytest.raises(Exception, match=names) as info:
        RecordsClient(config(URL)).interpret(body)
    for secret in ("busy", "we ird", "lots", "soon"):  # the body is never echoed
        assert secret not in str(info.value)


class BigTransport(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b" " * (MAX_BODY + 1) + b"{}")


async def test_an_answer_too_large_to_be_a_record_is_not_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = RecordsClient(config(URL), transport=BigTransport())
    with caplog.at_level(logging.WARNING, logger="bot.records.http"):
        assert await client.lookup(keys("123456789012")) == Unavailable(Unreachable.BAD_RESPONSE)
    assert "larger than 256 KiB" in caplog.text
    await client.aclose()


def test_a_card_number_in_the_reason_is_not_kept() -> None:
    body = b'{"data": {"status": "FAILED", "amount": 1, "reason": "card 6222 0212 3456 7890 123"}}'
    found = RecordsClient(config(URL)).interpret(body)
    assert isinstance(found, Found)
    assert found.reason is not None
    assert "6222 0212 3456 7890 123" not in found.reason


@given(st.text(min_size=1, max_size=30))
def test_placeholders_are_url_encoded(reference: str) -> None:
    client = RecordsClient(config(URL))
    url = client.request_url(LookupKeys(reference=reference, date=DAY))
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    assert query == {"ref": [reference], "date": ["2026-12-01"]}


class HeldTransport(httpx.AsyncBaseTransport):
    """Answers only when the test releases it: "slow" without any clock."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.release.wait()
        return httpx.Response(404)


async def test_a_slow_lookup_is_announced_once_and_a_quick_one_not_at_all() -> None:
    transport = HeldTransport()
    client = RecordsClient(config(URL), transport=transport)
    notices: list[str] = []

    async def announce() -> None:
        notices.append("checking")
        transport.release.set()

    result = await client.lookup_announced(keys("123456789012"), announce, after_s=0.01)
    assert result == NotFound()
    assert notices == ["checking"]
    quick = await client.lookup_announced(keys("123456789012"), announce, after_s=60)
    assert quick == NotFound()
    assert notices == ["checking"]
    await client.aclose()


def test_a_configured_secret_is_hidden_in_any_log_record() -> None:
    """Belt and braces: even a library that logged the header would print <hidden>."""
    hide_in_logs(config(URL).secrets)
    with written_logs(logging.INFO) as logs:
        logging.getLogger("some.library").info("sending Authorization: Bearer %s", TOKEN)
        logging.getLogger("some.library").info("token=%s", TOKEN)
        try:
            raise RuntimeError(f"header Bearer {TOKEN} refused")
        except RuntimeError:
            logging.getLogger("some.library").exception("failed")
    text = logs.getvalue()
    assert TOKEN not in text
    assert "Authorization: <hidden>" in text
    assert "token=<hidden>" in text

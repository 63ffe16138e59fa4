"""Incident notices on a real database: who is told, only once, ending, redaction, bulk posting."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot.channels.telegram.delivery import send_message
from bot.conversation.messages import ChatRef, Incoming
from bot.conversation.outbox import Outbox
from bot.storage.models import Case, IncidentNotice, OutboxMessage
from bot.storage.models import Incident as IncidentRow
from bot.support.incidents import IncidentDesk, Once, active_incidents
from bot.wiring import Components
from flows.incidents import parse_incident
from flows.settlement_calendar import SHANGHAI
from tests.bot.conftest import Factory
from tests.bot.helpers import NOW
from tests.bot.test_service_storage import STEPS

T = TypeVar("T")
DAY = date(2026, 11, 24)
#: 08:00 to 18:00 on 2026-11-24, Beijing time.
MORNING_TO_EVENING = parse_incident("2026-11-24 08:00 2026-11-24 18:00 拉卡拉结算批次延迟", NOW)


def desk_for(parts: Components) -> IncidentDesk:
    return IncidentDesk(parts.service, Outbox(parts.db, parts.service.clock, send_message), "zh")


def once_for(parts: Components) -> Once:
    """The support desk's way of running an update's work, without an update to mark."""

    async def run(work: Callable[[Session], T], within: float = 4.0) -> T | None:
        return await parts.db.run_async(work, within=within)

    return run


def add_case(
    parts: Components,
    chat_id: int,
    day: date,
    at: str | None,
    status: str = "open",
    channel: str = "telegram",
    unreachable: bool = False,
) -> int:
    with parts.db.transaction() as session:
        count = session.scalar(select(func.count()).select_from(Case)) or 0
        case = Case(
            number=f"PB-20261125-{count + 1:04d}",
            channel=channel,
            chat_id=chat_id,
            locale="zh" if chat_id % 4 == 1 else "en",
            status=status,
            outcome="A",
            trade_date=day,
            due_date=date(2026, 11, 25),
            facts={"when": {"day": day.isoformat(), "time": at}},
            photo_file_ids=[],
            merchant_unreachable=unreachable,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(case)
        session.flush()
        return case.id


def queued(parts: Components) -> list[tuple[int | None, int, str]]:
    with parts.db.transaction() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(row.case_id, row.chat_id, row.payload["text"]) for row in rows]


def test_only_open_cases_in_range_are_told_and_only_once(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    told = {
        add_case(parts, 1, DAY, "15:00"),  # in range, open
        add_case(parts, 1, DAY, "17:59", status="waiting"),  # the same merchant's second case
        add_case(parts, 3, DAY, "08:00", status="escalated"),  # the first minute counts
        add_case(parts, 5, DAY, None, status="assigned"),  # time unknown: the day touches it
        add_case(parts, 7, DAY, "12:00", status="reopened"),
    }
    add_case(parts, 2, DAY, "07:59")  # before the range
    add_case(parts, 4, DAY, "18:01")  # after it
    add_case(parts, 6, date(2026, 11, 18), "10:00")  # another day
    add_case(parts, 8, DAY, "15:00", status="resolved")  # not open any more
    add_case(parts, 10, DAY, "15:00", status="draft")
    add_case(parts, 12, DAY, "15:00", channel="console")  # the bot cannot write there
    add_case(parts, 14, DAY, "15:00", unreachable=True)  # blocked the bot
    desk = desk_for(parts)

    incident, existed, chats = parts.db.run(
        lambda s: desk.post(s, MORNING_TO_EVENING, "agent:9001")
    )
    assert not existed
    assert sorted(chats) == [1, 1, 3, 5, 7]
    messages = queued(parts)
    assert {case_id for case_id, _, _ in messages} == told
    assert len(messages) == len(told)  # one message per case
    zh = next(text for _, chat, text in messages if chat == 1)
    assert "拉卡拉结算批次延迟" in zh
    assert "2026年11月24日 08:00 至 18:00" in zh
    assert "PB-20261125-000" in zh
    en = next(text for _, chat, text in messages if chat == 3)
    assert "from Nov 24, 2026 08:00 to 18:00 (Beijing time)" in en

    # Running the notify step again, or posting the same incident again, repeats nothing.
    assert desk.notify() == []
    again, existed, chats = parts.db.run(lambda s: desk.post(s, MORNING_TO_EVENING, "agent:9002"))
    assert (again.id, existed, chats) == (incident.id, True, [])
    assert queued(parts) == messages
    with parts.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IncidentNotice)) == len(told)
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 1

    # A case opened later in range is told on the next run; the others still are not.
    late = add_case(parts, 9, DAY, "09:00")
    assert desk.notify() == [9]
    assert [case_id for case_id, _, _ in queued(parts)][len(messages) :] == [late]


def test_ending_stops_the_notice_and_lists_it_as_ended(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    desk = desk_for(parts)
    incident, _, _ = parts.db.run(lambda s: desk.post(s, MORNING_TO_EVENING, "agent:9001"))
    with parts.db.transaction() as session:
        assert active_incidents(session) == [incident]
        assert incident.starts == datetime(2026, 11, 24, 8, 0, tzinfo=SHANGHAI)
    (listing,) = parts.db.run(desk.listing)
    assert f"#{incident.id}" in listing.text
    assert "生效中" in listing.text

    (ended,) = parts.db.run(lambda s: desk.end(s, f"#{incident.id}", "agent:9002"))
    assert "已结束" in ended.text
    with parts.db.transaction() as session:
        assert active_incidents(session) == []
        row = session.get(IncidentRow, incident.id)
        assert row is not None
        assert (row.ended_by, row.ended_at) == ("agent:9002", NOW)
    add_case(parts, 1, DAY, "15:00")
    assert desk.notify() == []  # an ended incident tells nobody
    assert (
        "之前已经结束"
        in parts.db.run(lambda s: desk.end(s, str(incident.id), "agent:9002"))[0].text
    )
    assert "没有编号为 99" in parts.db.run(lambda s: desk.end(s, "99", "agent:9002"))[0].text
    (listing,) = parts.db.run(desk.listing)
    assert "目前没有生效中的事件通知" in listing.text
    assert "最近 7 天结束的" in listing.text


def test_the_text_is_redacted_before_it_is_stored(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    draft = parse_incident("11-24 11-24 有问题请致电 13812345678 或卡号 6222021234567890123", NOW)
    incident, _, _ = parts.db.run(lambda s: desk_for(parts).post(s, draft, "agent:9001"))
    assert "13812345678" not in incident.text
    assert "6222021234567890123" not in incident.text
    with parts.db.transaction() as session:
        stored = session.scalars(select(IncidentRow.text)).one()
    assert stored == incident.text
    assert "13812345678" not in stored


class CountingBot:
    """Stands in for the Bot: the outbox only calls send_message."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send_message(self, chat_id: int, text: str, **kwargs: Any) -> None:
        await asyncio.sleep(0)  # a network call gives the loop a turn
        self.sent.append(chat_id)


async def test_thousands_of_cases_are_queued_without_stalling_the_event_loop(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    count = 1500
    with parts.db.transaction() as session:
        session.execute(
            insert(Case),
            [
                {
                    "number": f"PB-20261124-{n:04d}",
                    "channel": "telegram",
                    "chat_id": 100_000 + n,
                    "locale": "zh",
                    "status": "open",
                    "trade_date": DAY,
                    "facts": {"when": {"day": DAY.isoformat(), "time": "15:00"}},
                    "photo_file_ids": [],
                    "due_estimated": False,
                    "merchant_unreachable": False,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n in range(count)
            ],
        )
    desk, bot = desk_for(parts), CountingBot()
    loop = asyncio.get_running_loop()
    loop_thread = threading.get_ident()
    threads: list[int] = []
    order: list[str] = []
    started = asyncio.Event()
    other_served = threading.Event()
    post = desk.post

    def recording_post(*args: Any) -> Any:
        threads.append(threading.get_ident())
        order.append("deciding started")
        loop.call_soon_threadsafe(started.set)
        # Decide only once another coroutine has run to its end: on a blocked loop it never
        # could (the wait's limit only keeps a broken build from hanging).
        if not other_served.wait(timeout=60):
            raise AssertionError("no other coroutine ran while the notices were decided")
        result = post(*args)
        order.append("deciding finished")
        return result

    async def another_merchant() -> None:
        await started.wait()
        order.append("another merchant served")
        other_served.set()

    desk.post = recording_post  # type: ignore[method-assign]
    other = asyncio.create_task(another_merchant())
    (reply,) = await desk.command(
        bot, "agent:9001", "2026-11-24 2026-11-24 批次延迟", once_for(parts)
    )  # type: ignore[arg-type]
    await other
    assert f"{count} 个待处理查询单" in reply.text
    with parts.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == count
    for _ in range(1200):  # the outbox delivers them in the background
        if len(bot.sent) == count:
            break
        await asyncio.sleep(0.05)
    assert sorted(bot.sent) == [100_000 + n for n in range(count)]
    # The notices were decided in a worker thread, and the loop kept serving meanwhile.
    assert threads
    assert threads[0] != loop_thread
    assert order == ["deciding started", "another merchant served", "deciding finished"]
    await desk.outbox.close()


def test_the_notice_says_when_only_to_a_case_with_a_due_date(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    with_due = add_case(parts, 1, DAY, "15:00")
    without = add_case(parts, 5, DAY, "15:00")
    with parts.db.transaction() as session:
        case = session.get(Case, without)
        assert case is not None
        case.due_date, case.outcome = None, "B"
    parts.db.run(lambda s: desk_for(parts).post(s, MORNING_TO_EVENING, "agent:9001"))
    texts = {case_id: text for case_id, _, text in queued(parts)}
    assert "到账可能比之前估算的晚" in texts[with_due]
    assert "到账可能比之前估算的晚" not in texts[without]
    assert "PB-20261125-0001" in texts[with_due]  # one rendering, each case its own number
    assert "PB-20261125-0002" in texts[without]


def test_a_bound_in_the_time_zone_is_stored_as_that_moment(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    incident, _, _ = parts.db.run(
        lambda s: desk_for(parts).post(s, MORNING_TO_EVENING, "agent:9001")
    )
    with parts.db.transaction() as session:
        row = session.get(IncidentRow, incident.id)
        assert row is not None
        assert row.starts_at.astimezone(SHANGHAI).time() == time(8, 0)
        assert row.ends_at.astimezone(SHANGHAI).time() == time(18, 0)


async def test_a_range_years_away_is_refused_and_nothing_is_stored(
    database_url: str, make_components: Factory
) -> None:
    parts = make_components(database_url)
    desk, bot = desk_for(parts), CountingBot()
    for args in ("0001-01-01 0001-01-02 x", "9999-12-30 9999-12-31 x", "2027-11-24 2027-11-25 x"):
        (answer,) = await desk.command(bot, "agent:9001", args, once_for(parts))  # type: ignore[arg-type]
        assert "时间范围须在过去 365 天到未来 31 天之内" in answer.text
        assert "没有发布任何通知" in answer.text
    with parts.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(IncidentRow)) == 0


def test_the_summary_at_a_follow_up_shows_the_incident_too(
    database_url: str, make_components: Factory
) -> None:
    """The next rung at the follow-up ("still missing") names the incidents too, from the same
    reply builder as the intake's "still missing"."""
    parts = make_components(database_url)
    chat = ChatRef("telegram", 1, 1, "zh")
    for step in [*STEPS, Incoming("button", text="x:confirm")]:  # paid 2026-11-24 15:00
        parts.service.handle(chat, step)
    parts.db.run(lambda s: desk_for(parts).post(s, MORNING_TO_EVENING, "agent:9001"))
    messages = parts.service.handle(chat, Incoming("button", text="k:no:PB-20261125-0001"))
    summary = messages.messages[0].text
    assert "客服通知" in summary
    assert "拉卡拉结算批次延迟" in summary

"""Proves the fake Bot API harness against the real python-telegram-bot stack."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fake_bot_api import Call, FakeBotApi, UploadedFile

TOKEN = "123456:TEST"
USER = 4242


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi(token=TOKEN) as fake:
        yield fake


def build_app(api: FakeBotApi) -> Application:
    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{api.root}/bot")
        .base_file_url(f"{api.root}/file/bot")
        .build()
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "welcome")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        assert update.message.text is not None
        lang = update.message.from_user.language_code if update.message.from_user else None
        await update.message.reply_text(f"echo: {update.message.text} [{lang}]", do_quote=True)

    async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        largest = update.message.photo[-1]
        data = await (await largest.get_file()).download_as_bytearray()
        await update.message.reply_text(f"got {len(data)} bytes, caption={update.message.caption}")

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert query.message is not None
        await query.answer("ok")
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Yes", callback_data="yes")],
                [InlineKeyboardButton("No", callback_data="no")],
            ]
        )
        await context.bot.send_message(
            query.message.chat.id, f"you pressed {query.data}", reply_markup=keyboard
        )

    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(MessageHandler(filters.PHOTO, photo))
    app.add_handler(CallbackQueryHandler(button))
    return app


async def start_polling(app: Application, poll_timeout: int = 1) -> None:
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=poll_timeout))


async def stop_polling(app: Application) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()


async def test_polling_echo_command_and_callback_keyboard(api: FakeBotApi) -> None:
    app = build_app(api)
    async with app:
        await start_polling(app)
        try:
            api.send_text(USER, "/start")
            [welcome] = await api.wait_for_messages(USER, 1)
            assert welcome["text"] == "welcome"

            api.send_text(USER, "hello 你好", language_code="en")
            messages = await api.wait_for_messages(USER, 2)
            assert messages[1]["text"] == "echo: hello 你好 [en]"
            assert messages[1]["chat_id"] == USER
            assert messages[1]["reply_parameters"]["message_id"] == 3  # the user's "hello"

            mark = api.mark()
            api.press(USER, "pick")
            [reply] = await api.wait_for_messages(USER, 1, since=mark)
            assert reply["text"] == "you pressed pick"
            assert reply["reply_markup"] == {
                "inline_keyboard": [
                    [{"text": "Yes", "callback_data": "yes"}],
                    [{"text": "No", "callback_data": "no"}],
                ]
            }
            answer = api.last_call("answerCallbackQuery")
            assert answer.params == {"callback_query_id": "1", "text": "ok"}

            # The sent message is recorded with its keyboard; pressing again targets it.
            last = api.last_bot_message(USER)
            assert last is not None
            assert last["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
            update = api.callback_update(USER, "yes")
            assert update["callback_query"]["message"]["message_id"] == last["message_id"]
        finally:
            await stop_polling(app)

    assert {call.token for call in api.calls} == {TOKEN}
    assert api.calls[0].method == "getMe"
    # PTB confirmed every update on shutdown: nothing is left pending.
    assert api.pending_updates == []
    assert api.confirmed_offset == 4


async def test_photo_update_downloaded_by_handler(api: FakeBotApi) -> None:
    app = build_app(api)
    async with app:
        await start_polling(app)
        try:
            api.send_photo(USER, "photo-1", caption="receipt", data=b"\xff\xd8jpeg-bytes")
            [reply] = await api.wait_for_messages(USER, 1)
        finally:
            await stop_polling(app)
    assert reply["text"] == "got 12 bytes, caption=receipt"
    assert api.downloads == [(TOKEN, "photos/photo-1.jpg")]


async def test_download_registered_file_through_bot(api: FakeBotApi) -> None:
    api.add_file("file-abc", b"%PDF-1.4 statement", file_path="documents/statement 1.pdf")
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        file = await bot.get_file("file-abc")
        assert file.file_size == 18
        assert await file.download_as_bytearray() == bytearray(b"%PDF-1.4 statement")
        with pytest.raises(BadRequest, match="Invalid file_id"):
            await bot.get_file("missing")


async def test_injected_429_raises_retry_after(
    api: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Opt in to PTB's timedelta periods; otherwise RetryAfter() emits a deprecation warning.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api.fail_next("sendMessage", retry_after=3)
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        with pytest.raises(RetryAfter) as excinfo:
            await bot.send_message(USER, "first")
        assert excinfo.value.retry_after == dtm.timedelta(seconds=3)
        message = await bot.send_message(USER, "second")  # the fault was used up
    assert message.text == "second"
    assert [c.faulted for c in api.calls_to("sendMessage")] == [True, False]
    assert [m["text"] for m in api.sent_messages(USER)] == ["second"]


async def test_delayed_fault_times_out_client(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", status=200, delay=2.0)
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(USER, "slow", read_timeout=0.2)
        message = await bot.send_message(USER, "fast")
    # The client gave up, so the slow call never completed and is marked as faulted.
    assert message.message_id == 1
    assert [c.faulted for c in api.calls_to("sendMessage")] == [True, False]
    assert [m["text"] for m in api.sent_messages(USER)] == ["fast"]


async def test_stopping_app_during_long_poll_does_not_hang(api: FakeBotApi) -> None:
    app = build_app(api)
    async with app:
        await start_polling(app, poll_timeout=30)
        await api.wait_for_call("getUpdates", lambda c: c.params.get("timeout") == 30)
        started = time.monotonic()
        await stop_polling(app)
    assert time.monotonic() - started < 2.0


async def test_server_shutdown_releases_pending_long_poll() -> None:
    api = FakeBotApi(token=TOKEN)
    await api.start()
    try:
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            poll = asyncio.create_task(bot.get_updates(timeout=30, read_timeout=40))
            await api.wait_for_call("getUpdates")
            started = time.monotonic()
            await api.stop()
            assert await poll == ()
            assert time.monotonic() - started < 2.0
    finally:
        await api.stop()


async def test_get_updates_offset_and_long_poll_wakeup(api: FakeBotApi) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        first = api.send_text(USER, "one")
        second = api.send_text(USER, "two")
        updates = await bot.get_updates()
        assert [u.update_id for u in updates] == [first, second]
        assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
        assert await bot.get_updates(offset=second + 1) == ()
        assert api.pending_updates == []

        # A pending long poll is answered as soon as an update is pushed.
        poll = asyncio.create_task(bot.get_updates(offset=second + 1, timeout=10))
        await api.wait_for_call("getUpdates", lambda c: c.params.get("timeout") == 10)
        started = time.monotonic()
        third = api.press(USER, "x")
        [update] = await poll
        assert time.monotonic() - started < 1.0
        assert update.update_id == third
        assert update.callback_query is not None
        assert update.callback_query.data == "x"


async def test_param_parsing_json_form_and_multipart(api: FakeBotApi) -> None:
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]}
    async with aiohttp.ClientSession() as session:
        url = f"{api.root}/botOTHER:TOKEN/sendMessage"
        form = {"chat_id": "-100123", "text": "42", "reply_markup": json.dumps(markup)}
        async with session.post(url, data=form) as resp:
            body = await resp.json()
        assert body["ok"] is True
        assert body["result"]["chat"] == {
            "id": -100123,
            "type": "supergroup",
            "title": "Chat -100123",
        }
        async with session.post(
            url, json={"chat_id": 7, "text": "[1]", "disable_notification": True}
        ) as resp:
            assert (await resp.json())["result"]["text"] == "[1]"
        async with session.post(f"{api.root}/bot{TOKEN}/someFutureMethod") as resp:
            assert await resp.json() == {"ok": True, "result": True}

    form_call, json_call = api.calls_to("sendMessage")
    assert form_call.token == "OTHER:TOKEN"
    assert form_call.params == {"chat_id": -100123, "text": "42", "reply_markup": markup}
    assert json_call.params == {"chat_id": 7, "text": "[1]", "disable_notification": True}
    assert api.unknown_methods == ["someFutureMethod"]

    # PTB uploads go multipart; the file part is recorded and becomes downloadable.
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
        message = await bot.send_photo(-100123, b"PNGDATA", caption="c", message_thread_id=9)
        assert message.message_thread_id == 9
        assert message.caption == "c"
        photo_call = api.last_call("sendPhoto")
        upload = photo_call.params["photo"]
        assert isinstance(upload, UploadedFile)
        assert upload.data == b"PNGDATA"
        assert photo_call.params["chat_id"] == -100123
        file = await bot.get_file(message.photo[-1].file_id)
        assert await file.download_as_bytearray() == bytearray(b"PNGDATA")


async def test_edits_topics_members_and_chat(api: FakeBotApi) -> None:
    group = -100555
    api.set_chat_member(group, USER, "administrator")
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        topic = await bot.create_forum_topic(group, "Ticket #1")
        topic2 = await bot.create_forum_topic(group, "Ticket #2")
        assert topic2.message_thread_id == topic.message_thread_id + 1
        assert await bot.edit_forum_topic(group, topic.message_thread_id, name="Ticket #1 ✅")
        assert await bot.close_forum_topic(group, topic.message_thread_id)
        assert api.topics[(group, topic.message_thread_id)]["closed"] is True
        assert await bot.reopen_forum_topic(group, topic.message_thread_id)
        assert api.topics[(group, topic.message_thread_id)]["name"] == "Ticket #1 ✅"

        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x")]])
        sent = await bot.send_message(
            group, "hi", message_thread_id=topic.message_thread_id, reply_markup=keyboard
        )
        assert sent.reply_markup == keyboard
        edited = await bot.edit_message_text("bye", chat_id=group, message_id=sent.message_id)
        assert isinstance(edited, type(sent))
        assert edited.text == "bye"
        assert edited.reply_markup is None
        assert await bot.delete_message(group, sent.message_id)
        assert api.deleted_messages == [(group, sent.message_id)]

        admin = await bot.get_chat_member(group, USER)
        assert isinstance(admin, ChatMemberAdministrator)
        member = await bot.get_chat_member(group, USER + 1)
        assert isinstance(member, ChatMemberMember)
        chat = await bot.get_chat(group)
        assert isinstance(chat, ChatFullInfo)
        assert chat.is_forum is True

        await bot.set_my_commands([("start", "Start")], language_code="zh")
        assert [c.command for c in await bot.get_my_commands(language_code="zh")] == ["start"]
        assert await bot.get_my_commands() == ()


async def test_wait_for_call_timeout_dumps_recent_calls(api: FakeBotApi) -> None:
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        await bot.send_message(USER, "only this")

    def never(call: Call) -> bool:
        return False

    with pytest.raises(AssertionError, match=r"(?s)waiting for 1 sendMessage.*only this"):
        await api.wait_for_call("sendMessage", never, timeout=0.05)
    with pytest.raises(AssertionError, match="waiting for 2 message"):
        await api.wait_for_messages(USER, 2, timeout=0.05)

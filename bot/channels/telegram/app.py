"""The composition root for Telegram: every handler registered here, in order."""

from __future__ import annotations

import asyncio

from telegram import BotCommand, BotCommandScopeAllPrivateChats, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels.telegram.delivery import send_message
from bot.channels.telegram.handlers import TelegramHandlers
from bot.channels.telegram.http import AiohttpRequest
from bot.channels.telegram.ordering import PerChatUpdateProcessor
from bot.channels.telegram.support_group import SupportDesk
from bot.channels.telegram.throttle import FloodGate
from bot.config import Settings
from bot.conversation.outbox import Outbox
from bot.conversation.rendering import Renderer
from bot.conversation.service import ConversationService
from flows.callbacks import AgentAction, decode

#: What the bot asks Telegram for, in polling and webhook mode alike.
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
COMMANDS = ("start", "back", "cancel", "help", "lang", "person", "status", "forget")


def build_application(
    settings: Settings,
    service: ConversationService,
    renderer: Renderer,
    run_timers: bool = True,
    request: BaseRequest | None = None,
    polling: bool = True,
) -> Application:
    """The PTB application talking to `TELEGRAM_API_URL` (Telegram, or a local Bot API server)."""
    api = settings.telegram_api_url
    outbox = Outbox(service.db, service.clock, send_message)
    support = SupportDesk(settings, service, outbox)
    flood = FloodGate(settings.flood_per_minute, 60.0, settings.flood_per_day)
    handlers = TelegramHandlers(service, outbox, support, flood)
    timers: list[asyncio.Task[None]] = []

    async def post_init(application: Application) -> None:
        for locale, language in (("en", None), ("zh", "zh")):
            commands = [
                BotCommand(name, renderer.label(locale, f"commands.{name}")) for name in COMMANDS
            ]
            await application.bot.set_my_commands(
                commands, scope=BotCommandScopeAllPrivateChats(), language_code=language
            )
        if run_timers:
            timers.append(asyncio.create_task(support.run_forever(application.bot)))

    async def post_shutdown(application: Application) -> None:
        for task in timers:
            task.cancel()
        await asyncio.gather(*timers, return_exceptions=True)
        await outbox.close()
        if service.records is not None:
            await service.records.aclose()

    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(PerChatUpdateProcessor())
        .request(AiohttpRequest(256, settings.telegram_timeout))
        .get_updates_request(AiohttpRequest(1, settings.telegram_timeout))
    )
    if request is not None:  # tests: a recording request object instead of HTTP
        builder = (
            Application.builder()
            .token(settings.telegram_bot_token)
            .post_init(post_init)
            .post_shutdown(post_shutdown)
            .request(request)
            .get_updates_request(request)
            .concurrent_updates(PerChatUpdateProcessor())
        )
    if settings.rate_limit:  # Telegram's limits: ~30 messages/s overall, 20/min per group
        # A little under the limit, so network jitter does not bunch requests into a 429.
        # RetryAfter is not retried here: the outbox reschedules the message instead.
        limiter = AIORateLimiter(overall_max_rate=28, group_max_rate=20)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]  # PTB generics
    if (
        not polling
    ):  # webhook mode: updates arrive through bot.channels.telegram.webhook, not getUpdates
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data["support"] = support
    private = filters.ChatType.PRIVATE

    async def route_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Support buttons count only in the support group; merchants' everywhere else."""
        chat, query = update.effective_chat, update.callback_query
        if chat is not None and query is not None and chat.id == settings.support_chat_id:
            if isinstance(decode(query.data or ""), AgentAction):
                await support.on_button(update, context)
            else:
                await query.answer()
            return
        await handlers.on_button(update, context)

    application.add_handler(TypeHandler(Update, handlers.gate), group=-1)
    if settings.support_chat_id is not None:
        group = filters.Chat(chat_id=settings.support_chat_id)

        application.add_handler(
            MessageHandler(group & ~filters.UpdateType.EDITED, support.on_message)
        )
    application.add_handler(CallbackQueryHandler(route_button))
    application.add_handler(
        MessageHandler(private & ~filters.UpdateType.EDITED, handlers.on_message)
    )
    application.add_error_handler(handlers.on_error)
    return application

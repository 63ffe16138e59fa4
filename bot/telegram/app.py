"""The composition root for Telegram: every handler registered here, in order."""

from __future__ import annotations

from telegram import BotCommand, BotCommandScopeAllPrivateChats
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.rendering import Renderer
from bot.service import ConversationService
from bot.telegram.handlers import TelegramHandlers

COMMANDS = ("start", "back", "cancel", "help", "lang", "person")


def build_application(
    settings: Settings, service: ConversationService, renderer: Renderer
) -> Application:
    """The PTB application talking to `TELEGRAM_API_URL` (Telegram, or a local Bot API server)."""
    api = settings.telegram_api_url
    handlers = TelegramHandlers(service)

    async def post_init(application: Application) -> None:
        for locale, language in (("en", None), ("zh", "zh")):
            commands = [
                BotCommand(name, renderer.label(locale, f"commands.{name}")) for name in COMMANDS
            ]
            await application.bot.set_my_commands(
                commands, scope=BotCommandScopeAllPrivateChats(), language_code=language
            )

    application = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .post_init(post_init)
        .build()
    )
    private = filters.ChatType.PRIVATE
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_handler(
        MessageHandler(private & ~filters.UpdateType.EDITED, handlers.on_message)
    )
    application.add_error_handler(handlers.on_error)
    return application

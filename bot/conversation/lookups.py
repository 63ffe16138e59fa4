"""The records lookup between two turns of a conversation, the same for every channel.

The service runs inside a database transaction and is synchronous, so it only says which keys
are due (`Result.lookup`). The channel, after delivering that turn's replies, asks the records
here (on its event loop, with the client's timeout; "checking with …" only if it takes more than
a second) and hands the answer back to the service as a message of its own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.conversation.messages import Incoming, Result
from bot.conversation.rendering import Outgoing
from bot.conversation.service import ConversationService
from flows.records_lookup import checking_reply


async def look_up(
    service: ConversationService,
    result: Result,
    show: Callable[[list[Outgoing]], Awaitable[object]],
) -> Incoming | None:
    """The answer to the lookup `result` asked for, as the next incoming; None if none was."""
    records = service.records
    if records is None or result.lookup is None:
        return None
    notice = service.render([checking_reply(records.config.name)], result.locale)
    answer = await records.lookup_announced(result.lookup, announce=lambda: show(notice))
    return Incoming("records", lookup=answer)

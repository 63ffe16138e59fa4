"""A chat's conversation row: loaded row-locked, created once however many workers race for it."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.models import Conversation

# Run for every update, so built once (building a statement costs more than running it).
_CONVERSATION = (
    select(Conversation)
    .where(
        Conversation.channel == bindparam("channel"), Conversation.chat_id == bindparam("chat_id")
    )
    .with_for_update()
)


class Conversations:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_for_update(self, channel: str, chat_id: int) -> Conversation | None:
        """Row-locked on PostgreSQL, so two workers never interleave one chat's updates."""
        found = self.session.scalars(_CONVERSATION, {"channel": channel, "chat_id": chat_id})
        return found.one_or_none()

    def get_or_create(
        self, channel: str, chat_id: int, user_id: int | None, locale: str, state: str
    ) -> Conversation:
        row = self.get_for_update(channel, chat_id)
        if row is not None:
            return row
        row = Conversation(
            channel=channel,
            chat_id=chat_id,
            user_id=user_id,
            locale=locale,
            state=state,
            answers={},
            photo_file_ids=[],
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            existing = self.get_for_update(channel, chat_id)
            assert existing is not None
            return existing
        return row

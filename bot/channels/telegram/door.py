"""Redaction at the door: the only copy of an update the webhook ever stores.

In webhook mode an update waits in the `inbox` table until its chat's turn comes. Whatever is
written there stays readable in the table's pages after the row is cleared (until PostgreSQL
reuses the space), so the update is redacted before it is written, not after it is handled:
no raw text ever reaches the database. The merchant's own message keeps what the handler needs
to react as it would to the raw text: the masked text, and under `FINDINGS_KEY` which kinds of
secret were found, so the message is still deleted and the merchant still warned.
"""

from __future__ import annotations

from typing import Any

from telegram import Message

from bot.conversation.messages import ChatRef
from bot.conversation.rows import answers_key
from bot.storage.db import Database
from flows.redaction import Finding, redact, redact_text

#: Where the door notes, inside the message, what it masked (PTB keeps it in `api_kwargs`).
FINDINGS_KEY = "posbot_findings"
#: Fields that carry what people typed or named themselves; ids, file ids, button data and
#: entity offsets are left alone (they are not personal text, and buttons must keep working).
TYPED_FIELDS = frozenset(
    {"text", "caption", "first_name", "last_name", "phone_number", "vcard", "title", "question"}
)
#: The update fields holding a message a merchant sent (ALLOWED_UPDATES asks for `message`).
MESSAGE_FIELDS = ("message", "edited_message", "channel_post", "edited_channel_post")


def redact_update(data: dict[str, Any], db: Database | None = None) -> dict[str, Any]:
    """A copy of the update JSON fit to store: every typed field redacted, and the findings of
    the message's own text noted for the handler.

    With `db`, a receipt key typed where the conversation asks for it (a 15-digit merchant
    number looks like a card number) is let through as typed, as the service's screen does.
    """
    safe = _redacted(data)
    for field in MESSAGE_FIELDS:
        raw, message = data.get(field), safe.get(field)
        if not isinstance(raw, dict) or not isinstance(message, dict):
            continue
        text = raw.get("text")
        if not isinstance(text, str):
            continue
        redaction = redact(text)
        chat_id = (raw.get("chat") or {}).get("id")
        if not redaction.changed:
            continue
        if (
            db is not None
            and isinstance(chat_id, int)
            and answers_key(db, ChatRef("telegram", chat_id), text)
        ):
            message["text"] = text
            continue
        message["text"] = redaction.text
        message[FINDINGS_KEY] = sorted(finding.value for finding in redaction.findings)
    return safe


def door_findings(message: Message) -> frozenset[Finding]:
    """What the door masked in this message's text (nothing in polling mode)."""
    known = {finding.value: finding for finding in Finding}
    noted = message.api_kwargs.get(FINDINGS_KEY) or ()
    return frozenset(known[value] for value in noted if value in known)


def _redacted(value: Any, key: str | None = None) -> Any:
    """A deep copy with typed fields redacted and any outside claim of findings dropped."""
    if isinstance(value, dict):
        return {k: _redacted(v, k) for k, v in value.items() if k != FINDINGS_KEY}
    if isinstance(value, list):
        return [_redacted(item, key) for item in value]
    if isinstance(value, str) and key in TYPED_FIELDS:
        return redact_text(value)
    return value

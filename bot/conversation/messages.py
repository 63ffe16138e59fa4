"""What a channel hands the conversation service, and what it gets back: channel-neutral values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.conversation.outbox import Claimed
from bot.conversation.rendering import Outgoing
from bot.support.cases import (
    SupportEvent,
)
from flows.receipt import SlipFields
from flows.records_lookup import LookupKeys, LookupResult
from flows.redaction import Finding
from flows.text import storable

#: "records": the answer of a lookup the previous message asked for, handed back by the channel.
Kind = Literal["text", "command", "button", "photo", "records", "other"]


@dataclass(frozen=True)
class ChatRef:
    """Who wrote: the channel's chat id and the sender's language as the client reports it."""

    channel: str
    chat_id: int
    user_id: int | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class Incoming:
    """A merchant's message, channel-neutral. `text` holds the text, command args or data."""

    kind: Kind
    text: str = ""
    command: str = ""
    #: A photo's file id, attached to the case; empty for what cannot be attached.
    file_id: str = ""
    #: What was read off a photographed slip, when it was read.
    slip: SlipFields | None = None
    #: Why a photo was not read: unavailable, too_large, not_an_image, unreadable,
    #: download_failed (the flow says so, and asks its question again).
    slip_problem: str | None = None
    #: What was masked in `text` before it reached us (the webhook redacts at the door):
    #: handled exactly as if the raw text had been found to hold it.
    found: frozenset[Finding] = frozenset()
    #: What the acquirer's records answered (kind "records").
    lookup: LookupResult | None = None

    def __post_init__(self) -> None:
        # Every channel's text enters here: what no database can store (NUL, lone
        # surrogates) goes now, before it can fail a transaction and cost the merchant a reply.
        for name in ("text", "command", "file_id"):
            object.__setattr__(self, name, storable(getattr(self, name)))


@dataclass(frozen=True)
class Result:
    """What handling produced: messages for the merchant, events for the support group."""

    messages: list[Outgoing]
    events: list[SupportEvent]
    #: The merchant's message held sensitive data: delete it from the chat where we may.
    delete_incoming: bool = False
    #: Outbox rows this handler claimed for sending right away (see `outbox.enqueue`).
    claimed: list[Claimed] = field(default_factory=list)
    #: Replies were queued behind older undelivered messages: flush the chat's outbox.
    queued: bool = False
    #: The update had already taken effect (a redelivery): nothing was done this time.
    duplicate: bool = False
    #: The keys are complete (or changed): the channel looks them up, off this transaction,
    #: and hands the answer back as an `Incoming("records", lookup=...)`.
    lookup: LookupKeys | None = None
    #: The conversation's language after this message (for the "checking …" notice).
    locale: str = "zh"


def locale_for(language_code: str | None, default: str) -> str:
    """zh* means Chinese; any other language English; unknown means the deployment default."""
    if not language_code:
        return default
    return "zh" if language_code.lower().startswith("zh") else "en"

"""A fake Telegram Bot API HTTP server for end-to-end tests.

The real python-telegram-bot ``Application`` is pointed at this server through its Bot API
root (``base_url=f"{api.root}/bot"``, ``base_file_url=f"{api.root}/file/bot"``) and runs in
long-polling mode.  The server lives in the test's own event loop::

    async with FakeBotApi(token="123456:TEST") as api:
        app = (
            Application.builder()
            .token(api.token)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .build()
        )
        ...
        api.send_text(chat_id=42, text="/start")
        [reply] = await api.wait_for_messages(42, 1)

Every request is recorded in :attr:`FakeBotApi.calls`; updates are injected with
:meth:`FakeBotApi.push_update` (or the ``send_text``/``press``/``send_photo`` shortcuts) and
delivered to pending ``getUpdates`` long polls immediately.  Faults (HTTP errors, flood
control, slow answers) are injected with :meth:`FakeBotApi.fail_next`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

__all__ = ["Call", "FakeBotApi", "FakeBotApiError", "RegisteredFile", "UploadedFile"]

JSONDict = dict[str, Any]

DEFAULT_TOKEN = "123456:TEST"
MESSAGE_LIMIT = 4096
DEFAULT_USER_ID = 100001
"""User id used by the update builders for group chats when no ``user_id`` is given."""

# Parameters whose values are always kept as the raw string sent by the client, even when they
# look like numbers, booleans or JSON (e.g. a user typing "[1]" or a numeric file_id).
_RAW_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "parse_mode",
        "name",
        "title",
        "description",
        "short_description",
        "url",
        "secret_token",
        "query",
        "file_id",
        "photo",
        "document",
        "video",
        "audio",
        "voice",
        "animation",
        "sticker",
        "emoji",
        "icon_custom_emoji_id",
        "custom_title",
        "question",
    }
)
_INT_RE = re.compile(r"-?\d+")
_FLOAT_RE = re.compile(r"-?\d+\.\d*(?:[eE][-+]?\d+)?")


@dataclass
class UploadedFile:
    """A file part of a multipart request (e.g. the ``photo`` of ``sendPhoto``)."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class Call:
    """One recorded Bot API request."""

    method: str
    params: JSONDict
    token: str
    at: float = field(default_factory=time.monotonic)
    faulted: bool = False
    """True when an injected fault (see ``fail_next``) answered the call with an error, or
    delayed it until the client disconnected."""


@dataclass
class RegisteredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    remaining: int
    delay: float


class FakeBotApiError(Exception):
    """Raised by method handlers to answer ``{"ok": false, ...}``."""

    def __init__(self, description: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.retry_after = retry_after


def decode_param(key: str, raw: str) -> Any:
    """Decode one form value the way PTB encoded it (JSON for non-string values)."""
    if key in _RAW_STRING_PARAMS:
        return raw
    value = raw.strip()
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return raw
    if _INT_RE.fullmatch(value):
        return int(value)
    if value in ("true", "false"):
        return value == "true"
    if _FLOAT_RE.fullmatch(value):
        return float(value)
    return raw


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_Handler = Callable[[Call], Awaitable[Any]]


#: What getChat adds to a chat object: the fields PTB requires of a ChatFullInfo.
CHAT_DETAILS: JSONDict = {
    "accent_color_id": 0,
    "max_reaction_count": 11,
    "accepted_gift_types": {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    },
}


class FakeBotApi:
    """In-process fake of the Telegram Bot API (see module docstring)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "posbot_test_bot",
        bot_first_name: str = "PosBot Test",
        host: str = "127.0.0.1",
        shutdown_timeout: float = 2.0,
    ) -> None:
        self.token = token
        bot_id_part = token.split(":", 1)[0]
        self.bot_id = int(bot_id_part) if bot_id_part.isdigit() else 123456
        self.bot_user: JSONDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.host = host
        self.shutdown_timeout = shutdown_timeout

        # --- recorded state (public, read freely from tests) ---
        self.calls: list[Call] = []
        self.unknown_methods: list[str] = []
        self.downloads: list[tuple[str, str]] = []  # (token, file_path)
        self.files: dict[str, RegisteredFile] = {}  # by file_id
        self.messages: dict[tuple[int, int], JSONDict] = {}  # (chat_id, message_id) -> Message
        self.deleted_messages: list[tuple[int, int]] = []
        self.topics: dict[tuple[int, int], JSONDict] = {}  # (chat_id, thread_id) -> topic
        self.chat_members: dict[tuple[int, int], JSONDict] = {}
        self.chats: dict[int, JSONDict] = {}  # extra getChat fields per chat
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}  # (scope json, lang)
        self.webhook_url = ""
        self.confirmed_offset = 0
        """Highest ``offset`` a ``getUpdates`` call confirmed (updates below it are gone)."""

        # --- internals ---
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_counter = itertools.count(1)
        self._message_ids: dict[int, int] = {}
        self._users: dict[int, JSONDict] = {}
        self._faults: list[_Fault] = []
        self._hooks: list[tuple[str, Callable[[Call], bool]]] = []
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._root: str | None = None
        self._handlers: dict[str, tuple[str, _Handler]] = {}
        for name, handler in self._method_table().items():
            self._handlers[name.lower()] = (name, handler)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("FakeBotApi is already running")
        app = web.Application()
        app.router.add_route("*", "/file/bot{token}/{file_path:.+}", self._handle_file)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,  # drop handlers of disconnected clients (stale polls)
            shutdown_timeout=self.shutdown_timeout,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._root = f"http://{host}:{port}"
        self._closing = False

    async def stop(self) -> None:
        """Release pending long polls / delayed faults, then shut the server down."""
        if self._runner is None:
            return
        self._closing = True
        self._notify()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    @property
    def root(self) -> str:
        """Bot API root, e.g. ``http://127.0.0.1:40123``."""
        if self._root is None:
            raise RuntimeError("FakeBotApi is not started")
        return self._root

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder.base_url``."""
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder.base_file_url``."""
        return f"{self.root}/file/bot"

    # ------------------------------------------------------------------ notification

    def _notify(self) -> None:
        """Wake every waiter (long polls and ``wait_for_*``); they re-check their condition."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_until(self, predicate: Callable[[], bool], seconds: float | None) -> bool:
        """Wait (no polling) until ``predicate()`` holds; return its final value."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while not predicate():
                    await self._changed.wait()
        return predicate()

    # ------------------------------------------------------------------ configuration

    def add_file(self, file_id: str, data: bytes, file_path: str | None = None) -> str:
        """Register downloadable bytes for ``getFile``/``file/bot{token}/...``.

        Returns the file path (auto-generated as ``files/{file_id}`` when omitted).
        """
        path = file_path or f"files/{file_id}"
        self.files[file_id] = RegisteredFile(
            file_id=file_id, file_unique_id=f"u-{file_id}"[:32], file_path=path, data=data
        )
        return path

    def set_chat_member(
        self, chat_id: int, user_id: int, status: str = "member", **fields: Any
    ) -> None:
        """Configure the ``getChatMember`` answer; ``fields`` override the defaults."""
        self.chat_members[(chat_id, user_id)] = {"status": status, **fields}

    def set_chat(self, chat_id: int, **fields: Any) -> None:
        """Extra/overriding fields for ``getChat`` (e.g. ``title=``, ``is_forum=True``)."""
        self.chats.setdefault(chat_id, {}).update(fields)

    def fail_next(
        self,
        method: str,
        status: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = 1,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any) fail.

        The answer is ``{"ok": false, "error_code": status, "description": description,
        "parameters": {"retry_after": retry_after}}`` with HTTP status ``status``
        (``parameters`` omitted when ``retry_after`` is None).  With ``delay`` the server
        first sleeps that long (to provoke client timeouts); with ``status < 400`` it then
        answers normally, i.e. the call is just slow.
        """
        self._faults.append(
            _Fault(
                method=method.lower(),
                status=status,
                description=description,
                retry_after=retry_after,
                remaining=times,
                delay=delay,
            )
        )

    def when_called(self, method: str, action: Callable[[Call], bool]) -> None:
        """Run `action` on the next calls of `method`, after the call took effect and before
        the bot hears back, until it returns True (then it is spent). Puts a fault at an
        exact point: "the relay was sent, and then the database went away"."""
        self._hooks.append((method.lower(), action))

    def _run_hooks(self, call: Call) -> None:
        for hook in list(self._hooks):
            if hook[0] == call.method.lower() and hook[1](call):
                self._hooks.remove(hook)

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method in ("*", method.lower()):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ inspection

    def mark(self) -> int:
        """Current position in :attr:`calls`; pass as ``since=`` to only see later calls."""
        return len(self.calls)

    def calls_to(self, method: str, since: int = 0) -> list[Call]:
        wanted = method.lower()
        return [c for c in self.calls[since:] if c.method.lower() == wanted]

    def last_call(self, method: str) -> Call:
        matching = self.calls_to(method)
        if not matching:
            raise AssertionError(f"no {method} call recorded\n{self.dump_calls()}")
        return matching[-1]

    def sent_messages(self, chat_id: int | str | None = None, since: int = 0) -> list[JSONDict]:
        """Params of the ``sendMessage`` calls (optionally to one chat), in order."""
        return [
            c.params
            for c in self.calls_to("sendMessage", since)
            if not c.faulted and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def bot_message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The current JSON of a message the bot sent (edits applied), if still present."""
        return self.messages.get((chat_id, message_id))

    def last_bot_message(self, chat_id: int) -> JSONDict | None:
        mine = [
            m
            for (cid, _), m in self.messages.items()
            if cid == chat_id and m.get("from", {}).get("id") == self.bot_id
        ]
        return max(mine, key=lambda m: m["message_id"]) if mine else None

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a ``getUpdates`` offset."""
        return list(self._updates)

    def dump_calls(self, last: int = 25) -> str:
        lines = [f"recorded calls ({len(self.calls)} total, last {last}):"]
        for index, call in enumerate(self.calls[-last:], start=max(0, len(self.calls) - last)):
            params = json.dumps(call.params, ensure_ascii=False, default=repr)
            if len(params) > 300:
                params = params[:297] + "..."
            flag = " [FAULT]" if call.faulted else ""
            lines.append(f"  #{index} {call.method}{flag} {params}")
        return "\n".join(lines)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        count: int = 1,
        since: int = 0,
    ) -> Call:
        """Wait until ``count`` calls of ``method`` matching ``predicate`` were recorded.

        Returns the ``count``-th matching call (counting from ``since``).
        """

        def matching() -> list[Call]:
            return [c for c in self.calls_to(method, since) if predicate is None or predicate(c)]

        if not await self._wait_until(lambda: len(matching()) >= count, timeout):
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} {method} call(s)"
                f" (got {len(matching())})\n{self.dump_calls()}"
            )
        return matching()[count - 1]

    async def wait_for_messages(
        self,
        chat_id: int | str,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
        since: int = 0,
    ) -> list[JSONDict]:
        """Wait until ``count`` ``sendMessage`` calls to ``chat_id`` happened (after ``since``).

        Returns the params of all such messages (at least ``count``).
        """
        if not await self._wait_until(
            lambda: len(self.sent_messages(chat_id, since)) >= count, timeout
        ):
            raise AssertionError(
                f"timed out after {timeout}s waiting for {count} message(s) to chat {chat_id}"
                f" (got {len(self.sent_messages(chat_id, since))})\n{self.dump_calls()}"
            )
        return self.sent_messages(chat_id, since)

    # ------------------------------------------------------------------ update injection

    def push_update(self, update: JSONDict) -> int:
        """Queue an update (a copy gets a fresh ``update_id``) and wake long polls."""
        update_id = next(self._update_ids)
        self._updates.append({**update, "update_id": update_id})
        self._notify()
        return update_id

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None = None,
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _chat(self, chat_id: int, chat_type: str | None = None) -> JSONDict:
        kind = chat_type or ("private" if chat_id > 0 else "supergroup")
        chat: JSONDict = {"id": chat_id, "type": kind}
        if kind == "private":
            known = self._users.get(chat_id)
            chat["first_name"] = known["first_name"] if known else "User"
            if known and "username" in known:
                chat["username"] = known["username"]
        else:
            chat["title"] = self.chats.get(chat_id, {}).get("title", f"Chat {chat_id}")
            if kind == "supergroup" and (
                self.chats.get(chat_id, {}).get("is_forum")
                or any(cid == chat_id for cid, _ in self.topics)
            ):
                chat["is_forum"] = True
        return chat

    @staticmethod
    def _default_user_id(chat_id: int, user_id: int | None) -> int:
        if user_id is not None:
            return user_id
        return chat_id if chat_id > 0 else DEFAULT_USER_ID

    def _user_message(
        self,
        chat_id: int,
        *,
        user_id: int | None,
        language_code: str | None,
        first_name: str,
        chat_type: str | None,
        message_thread_id: int | None,
        reply_to_message_id: int | None,
        username: str | None,
    ) -> JSONDict:
        user = self._user(
            self._default_user_id(chat_id, user_id), first_name, language_code, username
        )
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type),
            "from": user,
        }
        if message_thread_id is not None:
            message["message_thread_id"] = message_thread_id
            message["is_topic_message"] = True
        if reply_to_message_id is not None:
            replied = self.messages.get((chat_id, reply_to_message_id)) or {
                "message_id": reply_to_message_id,
                "date": int(time.time()),
                "chat": self._chat(chat_id, chat_type),
                "from": self.bot_user,
                "text": "",
            }
            message["reply_to_message"] = replied
        return message

    def text_update(
        self,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        language_code: str | None = "zh-hans",
        first_name: str = "Li",
        chat_type: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """A ``message`` update with ``text`` (``/commands`` get a ``bot_command`` entity).

        ``user_id`` defaults to ``chat_id`` for private chats (positive ids) and to
        ``DEFAULT_USER_ID`` for groups; ``chat_type`` defaults to ``private`` for positive and
        ``supergroup`` for negative chat ids.
        """
        message = self._user_message(
            chat_id,
            user_id=user_id,
            language_code=language_code,
            first_name=first_name,
            chat_type=chat_type,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
            username=username,
        )
        message["text"] = text
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        return {"message": message}

    def photo_update(
        self,
        chat_id: int,
        file_id: str,
        caption: str | None = None,
        user_id: int | None = None,
        language_code: str | None = "zh-hans",
        first_name: str = "Li",
        chat_type: str | None = None,
        message_thread_id: int | None = None,
        reply_to_message_id: int | None = None,
        data: bytes | None = None,
        username: str | None = None,
        file_size: int | None = None,
    ) -> JSONDict:
        """A ``message`` update with a photo; ``data`` also registers the file (``add_file``).

        ``file_size`` overrides the size Telegram reports (default: the data's length).
        """
        if data is not None:
            self.add_file(file_id, data, f"photos/{file_id}.jpg")
        size = file_size if file_size is not None else len(data) if data is not None else 1024
        message = self._user_message(
            chat_id,
            user_id=user_id,
            language_code=language_code,
            first_name=first_name,
            chat_type=chat_type,
            message_thread_id=message_thread_id,
            reply_to_message_id=reply_to_message_id,
            username=username,
        )
        unique = f"u-{file_id}"[:32]
        message["photo"] = [
            {
                "file_id": f"{file_id}-thumb",
                "file_unique_id": f"{unique}-t"[:32],
                "width": 90,
                "height": 90,
                "file_size": min(size, 512),
            },
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "width": 1280,
                "height": 960,
                "file_size": size,
            },
        ]
        if caption is not None:
            message["caption"] = caption
        return {"message": message}

    def document_update(
        self,
        chat_id: int,
        file_id: str,
        data: bytes | None = None,
        mime_type: str | None = "image/jpeg",
        file_name: str | None = "slip.jpg",
        file_size: int | None = None,
        caption: str | None = None,
        user_id: int | None = None,
        language_code: str | None = "zh-hans",
        first_name: str = "Li",
        chat_type: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """A ``message`` update with a file (a picture sent uncompressed, a PDF ...).

        ``data`` also registers the file for download; ``file_size`` overrides the reported size.
        """
        if data is not None:
            self.add_file(file_id, data, f"documents/{file_id}")
        message = self._user_message(
            chat_id,
            user_id=user_id,
            language_code=language_code,
            first_name=first_name,
            chat_type=chat_type,
            message_thread_id=None,
            reply_to_message_id=None,
            username=username,
        )
        document: JSONDict = {"file_id": file_id, "file_unique_id": f"u-{file_id}"[:32]}
        size = file_size if file_size is not None else len(data) if data is not None else None
        if size is not None:
            document["file_size"] = size
        if mime_type is not None:
            document["mime_type"] = mime_type
        if file_name is not None:
            document["file_name"] = file_name
        message["document"] = document
        if caption is not None:
            message["caption"] = caption
        return {"message": message}

    def sticker_update(
        self,
        chat_id: int,
        file_id: str = "sticker-1",
        emoji: str = "😀",
        user_id: int | None = None,
        language_code: str | None = "zh-hans",
        first_name: str = "Li",
        chat_type: str | None = None,
        message_thread_id: int | None = None,
        username: str | None = None,
    ) -> JSONDict:
        message = self._user_message(
            chat_id,
            user_id=user_id,
            language_code=language_code,
            first_name=first_name,
            chat_type=chat_type,
            message_thread_id=message_thread_id,
            reply_to_message_id=None,
            username=username,
        )
        message["sticker"] = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}"[:32],
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return {"message": message}

    def callback_update(
        self,
        chat_id: int,
        data: str,
        message_id: int | None = None,
        user_id: int | None = None,
        language_code: str | None = "zh-hans",
        first_name: str = "Li",
        chat_type: str | None = None,
        message_thread_id: int | None = None,
        username: str | None = None,
    ) -> JSONDict:
        """A ``callback_query`` update pressing ``data`` on a bot message.

        ``message_id`` defaults to the latest message the bot sent to the chat; the attached
        message is that recorded message (with its keyboard) or a synthetic bot message.
        """
        user = self._user(
            self._default_user_id(chat_id, user_id), first_name, language_code, username
        )
        if message_id is None:
            last = self.last_bot_message(chat_id)
            message_id = last["message_id"] if last else self._next_message_id(chat_id)
        message = self.messages.get((chat_id, message_id))
        if message is None:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat(chat_id, chat_type),
                "from": self.bot_user,
                "text": "…",
            }
            if message_thread_id is not None:
                message["message_thread_id"] = message_thread_id
                message["is_topic_message"] = True
            self.messages[(chat_id, message_id)] = message
        return {
            "callback_query": {
                "id": str(next(self._callback_ids)),
                "from": user,
                "chat_instance": f"ci{chat_id}",
                "data": data,
                "message": dict(message),
            }
        }

    def send_text(self, chat_id: int, text: str, **kwargs: Any) -> int:
        """``push_update(text_update(...))``; returns the update_id."""
        return self.push_update(self.text_update(chat_id, text, **kwargs))

    def press(self, chat_id: int, data: str, **kwargs: Any) -> int:
        """``push_update(callback_update(...))``; returns the update_id."""
        return self.push_update(self.callback_update(chat_id, data, **kwargs))

    def send_photo(self, chat_id: int, file_id: str, **kwargs: Any) -> int:
        """``push_update(photo_update(...))``; returns the update_id."""
        return self.push_update(self.photo_update(chat_id, file_id, **kwargs))

    def send_document(self, chat_id: int, file_id: str, **kwargs: Any) -> int:
        """``push_update(document_update(...))``; returns the update_id."""
        return self.push_update(self.document_update(chat_id, file_id, **kwargs))

    def send_sticker(self, chat_id: int, **kwargs: Any) -> int:
        """``push_update(sticker_update(...))``; returns the update_id."""
        return self.push_update(self.sticker_update(chat_id, **kwargs))

    # ------------------------------------------------------------------ HTTP layer

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, list[UploadedFile]]:
        params: JSONDict = {k: decode_param(k, v) for k, v in request.query.items()}
        uploads: list[UploadedFile] = []
        if not request.can_read_body:
            return params, uploads
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                for key, value in body.items():
                    params[key] = decode_param(key, value) if isinstance(value, str) else value
        elif content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    upload = UploadedFile(
                        name=part.name,
                        filename=part.filename,
                        content_type=part.headers.get("Content-Type"),
                        data=bytes(await part.read()),
                    )
                    uploads.append(upload)
                    params[part.name] = upload
                else:
                    params[part.name] = decode_param(part.name, await part.text())
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = decode_param(key, value)
        # Resolve "attach://name" references to the uploaded parts.
        by_name = {u.name: u for u in uploads}
        for key, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                params[key] = by_name.get(value.removeprefix("attach://"), value)
        return params, uploads

    async def _handle_method(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        raw_method = request.match_info["method"]
        params, _ = await self._read_params(request)
        method, handler = self._handlers.get(raw_method.lower(), (raw_method, None))
        call = Call(method=method, params=params, token=token)
        self.calls.append(call)
        self._notify()

        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay > 0:
                try:
                    await self._wait_until(lambda: self._closing, fault.delay)
                except asyncio.CancelledError:  # the client gave up waiting (disconnected)
                    call.faulted = True
                    self._notify()
                    raise
            if fault.status >= 400:
                call.faulted = True
                self._notify()
                return self._error(fault.status, fault.description, fault.retry_after)

        if handler is None:
            self.unknown_methods.append(method)
            return web.json_response({"ok": True, "result": True})
        try:
            result = await handler(call)
        except FakeBotApiError as exc:
            return self._error(exc.status, exc.description, exc.retry_after)
        self._run_hooks(call)
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
        body: JSONDict = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        file_path = request.match_info["file_path"]
        self.downloads.append((token, file_path))
        self._notify()
        for registered in self.files.values():
            if registered.file_path == file_path:
                return web.Response(body=registered.data, content_type="application/octet-stream")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    # ------------------------------------------------------------------ method handlers

    def _method_table(self) -> dict[str, _Handler]:
        return {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "close": self._true,
            "logOut": self._true,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message,
            "editMessageReplyMarkup": self._edit_message,
            "editMessageCaption": self._edit_message,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._true,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendChatAction": self._true,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "getFile": self._get_file,
            "createForumTopic": self._create_forum_topic,
            "editForumTopic": self._edit_forum_topic,
            "closeForumTopic": self._close_forum_topic,
            "reopenForumTopic": self._reopen_forum_topic,
        }

    async def _true(self, call: Call) -> bool:
        return True

    async def _get_me(self, call: Call) -> JSONDict:
        return dict(self.bot_user)

    async def _delete_webhook(self, call: Call) -> bool:
        self.webhook_url = ""
        if call.params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, call: Call) -> bool:
        self.webhook_url = str(call.params.get("url", ""))
        return True

    async def _get_webhook_info(self, call: Call) -> JSONDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, call: Call) -> bool:
        self.commands[self._commands_key(call.params)] = list(call.params.get("commands") or [])
        return True

    async def _get_my_commands(self, call: Call) -> list[JSONDict]:
        return self.commands.get(self._commands_key(call.params), [])

    async def _delete_my_commands(self, call: Call) -> bool:
        self.commands.pop(self._commands_key(call.params), None)
        return True

    async def _get_updates(self, call: Call) -> list[JSONDict]:
        offset = call.params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self.confirmed_offset = max(self.confirmed_offset, offset)
        elif isinstance(offset, int) and offset < 0:
            self._updates = self._updates[offset:]
        limit = call.params.get("limit")
        limit = limit if isinstance(limit, int) and 0 < limit <= 100 else 100
        timeout = call.params.get("timeout")
        if isinstance(timeout, int | float) and timeout > 0:
            await self._wait_until(lambda: bool(self._updates) or self._closing, timeout)
        return self._updates[:limit]

    def _chat_id(self, params: JSONDict) -> int:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int):
            return chat_id
        raise FakeBotApiError("Bad Request: chat not found")

    def _bot_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        message: JSONDict = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": dict(self.bot_user),
        }
        thread_id = params.get("message_thread_id")
        if isinstance(thread_id, int):
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        markup = params.get("reply_markup")
        # Only inline keyboards are part of a Message; reply keyboards are not echoed.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _store(self, message: JSONDict) -> JSONDict:
        self.messages[(message["chat"]["id"], message["message_id"])] = message
        return dict(message)

    async def _send_message(self, call: Call) -> JSONDict:
        text = call.params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise FakeBotApiError("Bad Request: message text is empty")
        # Telegram counts UTF-16 units of the text as shown; raw HTML is never shorter.
        if _utf16_len(text) > MESSAGE_LIMIT:
            raise FakeBotApiError("Bad Request: message is too long")
        message = self._bot_message(call.params)
        message["text"] = text
        if isinstance(call.params.get("entities"), list):
            message["entities"] = call.params["entities"]
        return self._store(message)

    def _file_for_upload(self, value: Any, default_name: str) -> tuple[str, int, str | None]:
        """(file_id, size, file_name) for a sent media param (upload or file_id/URL)."""
        if isinstance(value, UploadedFile):
            file_id = f"uploaded-{next(self._file_counter)}"
            name = value.filename or default_name
            self.add_file(file_id, value.data, f"uploads/{file_id}-{name}")
            return file_id, len(value.data), name
        return str(value), 1024, None

    async def _send_photo(self, call: Call) -> JSONDict:
        file_id, size, _ = self._file_for_upload(call.params.get("photo"), "photo.jpg")
        message = self._bot_message(call.params)
        message["photo"] = [
            {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}"[:32],
                "width": 800,
                "height": 600,
                "file_size": size,
            }
        ]
        if isinstance(call.params.get("caption"), str):
            message["caption"] = call.params["caption"]
        return self._store(message)

    async def _send_document(self, call: Call) -> JSONDict:
        value = call.params.get("document")
        file_id, size, name = self._file_for_upload(value, "document.bin")
        message = self._bot_message(call.params)
        document: JSONDict = {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}"[:32],
            "file_size": size,
        }
        if name:
            document["file_name"] = name
        if isinstance(value, UploadedFile) and value.content_type:
            document["mime_type"] = value.content_type
        message["document"] = document
        if isinstance(call.params.get("caption"), str):
            message["caption"] = call.params["caption"]
        return self._store(message)

    async def _edit_message(self, call: Call) -> JSONDict | bool:
        params = call.params
        if "inline_message_id" in params:
            return True
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise FakeBotApiError("Bad Request: message identifier is not specified")
        message = self.messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": dict(self.bot_user),
        }
        if call.method == "editMessageText":
            message["text"] = params.get("text", "")
        elif call.method == "editMessageCaption":
            message["caption"] = params.get("caption", "")
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        elif call.method == "editMessageReplyMarkup" or markup is None:
            # Telegram drops the keyboard when an edit doesn't repeat it.
            message.pop("reply_markup", None)
        message["edit_date"] = int(time.time())
        return self._store(message)

    async def _delete_message(self, call: Call) -> bool:
        chat_id = self._chat_id(call.params)
        message_id = call.params.get("message_id")
        if isinstance(message_id, int):
            self.messages.pop((chat_id, message_id), None)
            self.deleted_messages.append((chat_id, message_id))
        return True

    async def _get_chat(self, call: Call) -> JSONDict:
        chat_id = self._chat_id(call.params)
        chat: JSONDict = {
            **self._chat(chat_id),
            **CHAT_DETAILS,
        }
        chat.update(self.chats.get(chat_id, {}))
        return chat

    _MEMBER_DEFAULTS: dict[str, JSONDict] = {  # noqa: RUF012 - read-only table
        "creator": {"is_anonymous": False},
        "administrator": {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_manage_chat": True,
            "can_delete_messages": True,
            "can_manage_video_chats": True,
            "can_restrict_members": True,
            "can_promote_members": False,
            "can_change_info": True,
            "can_invite_users": True,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
            "can_pin_messages": True,
            "can_manage_topics": True,
        },
        "restricted": {
            "is_member": True,
            "can_change_info": False,
            "can_invite_users": False,
            "can_pin_messages": False,
            "can_send_messages": False,
            "can_send_polls": False,
            "can_send_other_messages": False,
            "can_add_web_page_previews": False,
            "can_manage_topics": False,
            "until_date": 0,
            "can_send_audios": False,
            "can_send_documents": False,
            "can_send_photos": False,
            "can_send_videos": False,
            "can_send_video_notes": False,
            "can_send_voice_notes": False,
            "can_edit_tag": False,
            "can_react_to_messages": False,
        },
        "kicked": {"until_date": 0},
    }

    async def _get_chat_member(self, call: Call) -> JSONDict:
        chat_id = self._chat_id(call.params)
        user_id = call.params.get("user_id")
        if not isinstance(user_id, int):
            raise FakeBotApiError("Bad Request: invalid user_id specified")
        if user_id == self.bot_id:
            user = dict(self.bot_user)
        else:
            user = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": "User",
            }
        configured = self.chat_members.get((chat_id, user_id), {"status": "member"})
        status = configured.get("status", "member")
        return {
            **self._MEMBER_DEFAULTS.get(status, {}),
            "user": user,
            **configured,
        }

    async def _get_file(self, call: Call) -> JSONDict:
        file_id = call.params.get("file_id")
        registered = self.files.get(str(file_id))
        if registered is None:
            raise FakeBotApiError("Bad Request: invalid file_id")
        return {
            "file_id": registered.file_id,
            "file_unique_id": registered.file_unique_id,
            "file_size": len(registered.data),
            "file_path": registered.file_path,
        }

    async def _create_forum_topic(self, call: Call) -> JSONDict:
        chat_id = self._chat_id(call.params)
        name = call.params.get("name")
        if not isinstance(name, str) or not name:
            raise FakeBotApiError("Bad Request: topic name is empty")
        # Like Telegram: the thread id is the id of the topic-creation service message.
        thread_id = self._next_message_id(chat_id)
        icon_color = call.params.get("icon_color")
        topic: JSONDict = {
            "message_thread_id": thread_id,
            "name": name,
            "icon_color": icon_color if isinstance(icon_color, int) else 7322096,
        }
        if isinstance(call.params.get("icon_custom_emoji_id"), str):
            topic["icon_custom_emoji_id"] = call.params["icon_custom_emoji_id"]
        self.topics[(chat_id, thread_id)] = {**topic, "closed": False}
        return topic

    def _topic(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        thread_id = params.get("message_thread_id")
        if not isinstance(thread_id, int):
            raise FakeBotApiError("Bad Request: message thread not found")
        return self.topics.setdefault(
            (chat_id, thread_id),
            {"message_thread_id": thread_id, "name": f"Topic {thread_id}", "closed": False},
        )

    async def _edit_forum_topic(self, call: Call) -> bool:
        topic = self._topic(call.params)
        for key in ("name", "icon_custom_emoji_id"):
            if key in call.params:
                topic[key] = call.params[key]
        return True

    async def _close_forum_topic(self, call: Call) -> bool:
        self._topic(call.params)["closed"] = True
        return True

    async def _reopen_forum_topic(self, call: Call) -> bool:
        self._topic(call.params)["closed"] = False
        return True

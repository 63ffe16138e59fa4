"""A `telegram.request.BaseRequest` that answers the Bot API in-process and records every call.

Hand it to `build_application(..., request=RecordingRequest())` (or to
`ApplicationBuilder.request(...)`) and the real PTB `Application` and `Bot` run unchanged, with
no socket opened::

    request = RecordingRequest()
    application = build_application(settings, service, renderer, run_timers=False, request=request)
    await application.initialize()                     # getMe, answered here
    await application.process_update(Update.de_json(data, application.bot))
    method, params = request.calls[-1]                 # e.g. "sendMessage", {"chat_id": ...}

Answers look like Telegram's: `sendMessage`/`editMessageText`/`sendPhoto` return a Message with
an id from the chat's own counter (the same counter `next_message_id` hands out for the updates a
test builds), the chat derived from `chat_id` (private for positive ids, supergroup for negative),
the text and inline keyboard echoed. Like Telegram, `sendMessage` is refused with 400 when the
HTML does not parse, the text is empty or longer than 4096 characters after parsing, or a button's
callback data is not 1-64 bytes; the refused call is still recorded (`faulted=True`).

`getFile` describes any file id, and its download serves the bytes registered in `files` (or
bytes of no picture), recorded as a `downloadFile` call. Faults are injected with
`fail_next(method, status, description, retry_after=None)`.
"""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram.request import BaseRequest, RequestData

from tests.fake_bot_api import CHAT_DETAILS, FakeBotApi

__all__ = ["ENTITY_RE", "TAG_RE", "Call", "HtmlError", "RecordingRequest", "parse_telegram_html"]

JSONDict = dict[str, Any]

BOT_ID = 123456
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64

#: Tags Telegram's HTML parse mode understands (anything else is "Unsupported start tag").
TELEGRAM_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^<>]*)?)>")
ENTITY_RE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
#: Parameters PTB sends as JSON-encoded strings when a request is serialised.
_JSON_PARAMS = frozenset(
    {"reply_markup", "entities", "caption_entities", "reply_parameters", "link_preview_options"}
)


class HtmlError(ValueError):
    """What Telegram answers for text it cannot parse in HTML mode."""


def parse_telegram_html(text: str, tags: frozenset[str] = TELEGRAM_TAGS) -> str:
    """The plain text Telegram would show for `text` in HTML parse mode, or raise HtmlError.

    Like Telegram: every `<` must open or close a supported tag, tags must nest and be closed;
    a `&` that starts no entity and a bare `>` are taken literally.
    """
    plain: list[str] = []
    stack: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            match = TAG_RE.match(text, position)
            if match is None:
                raise HtmlError(f"Unsupported start tag at offset {position}")
            closing, name = match.group(1) == "/", match.group(2).lower()
            if closing:
                if not stack or stack[-1] != name:
                    expected = f"</{stack[-1]}>" if stack else "nothing"
                    raise HtmlError(
                        f"Unmatched end tag at offset {position}, expected {expected}, "
                        f'found "</{name}>"'
                    )
                stack.pop()
            else:
                if name not in tags:
                    raise HtmlError(f'Unsupported start tag "{name}" at offset {position}')
                stack.append(name)
            position = match.end()
        elif char == "&" and (entity := ENTITY_RE.match(text, position)) is not None:
            plain.append(html.unescape(entity.group(0)))
            position = entity.end()
        else:
            plain.append(char)
            position += 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(plain)


class Call(tuple[str, JSONDict]):
    """One Bot API call as `(method, params)`; `faulted` says it was answered with an error."""

    faulted: bool

    def __new__(cls, method: str, params: JSONDict, faulted: bool = False) -> Call:
        call = super().__new__(cls, (method, params))
        call.faulted = faulted
        return call

    @property
    def method(self) -> str:
        return self[0]

    @property
    def params(self) -> JSONDict:
        return self[1]


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    retry_after: int | None


#: Served for files nobody registered: merchants' photos in fuzzing are not pictures.
NOT_A_PICTURE = b"\x00 not a picture"


class BotApiError(Exception):
    def __init__(self, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.description = description
        self.status = status


#: The fields Telegram sends with each member status: one table, shared with the HTTP fake.
_MEMBER_FIELDS: dict[str, JSONDict] = FakeBotApi._MEMBER_DEFAULTS


class RecordingRequest(BaseRequest):
    """Answers Bot API calls like Telegram would, without a network; see the module docstring.

    `is_forum` is what `getChat` says about negative (group) chats; `member_status` is the
    `getChatMember` answer for users not configured with `set_member`. With `validate=False`
    texts are not checked (every send succeeds).
    """

    def __init__(
        self,
        *,
        is_forum: bool = False,
        member_status: str = "member",
        bot_username: str = "posbot_test_bot",
        validate: bool = True,
    ) -> None:
        self.is_forum = is_forum
        self.member_status = member_status
        self.validate = validate
        self.initialized = False
        self.calls: list[Call] = []
        self.unknown_methods: list[str] = []
        self.messages: dict[tuple[int, int], JSONDict] = {}  # what the bot sent, by chat and id
        self.members: dict[tuple[int | None, int], str] = {}
        self.chats: dict[int, JSONDict] = {}  # extra getChat fields per chat
        self.answered: set[str] = set()  # callback query ids already answered
        self.files: dict[str, bytes] = {}  # what downloads serve, by file_id
        self._faults: list[_Fault] = []
        self._message_ids: dict[int, int] = {}
        self._by_chat: dict[int, dict[int, JSONDict]] = {}
        self.bot_user: JSONDict = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "PosBot Test",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._handlers: dict[str, Callable[[JSONDict], Any]] = {
            "getMe": lambda params: dict(self.bot_user),
            "getUpdates": lambda params: [],
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "sendPhoto": self._send_photo,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "createForumTopic": self._create_forum_topic,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
        }
        for name in (
            "deleteMessage",
            "setMyCommands",
            "deleteMyCommands",
            "deleteWebhook",
            "editForumTopic",
            "closeForumTopic",
            "reopenForumTopic",
            "sendChatAction",
            "close",
            "logOut",
        ):
            self._handlers[name] = lambda params: True

    # -- BaseRequest ---------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        self.initialized = True  # PTB initialises its two request objects: idempotent

    async def shutdown(self) -> None:
        self.initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a download of what getFile described
            file_id = url.rsplit("/files/", 1)[-1]
            self.calls.append(Call("downloadFile", {"file_id": file_id}))
            return 200, self.file_data(file_id)
        endpoint = url.rstrip("/").rsplit("/", 1)[-1]
        raw = request_data.parameters if request_data is not None else {}
        params = {key: self._decode(key, value) for key, value in raw.items()}
        fault = self._take_fault(endpoint)
        if fault is not None:
            self.calls.append(Call(endpoint, params, faulted=True))
            return self._error(fault.status, fault.description, fault.retry_after)
        handler = self._handlers.get(endpoint)
        if handler is None:
            self.unknown_methods.append(endpoint)
            self.calls.append(Call(endpoint, params))
            return 200, self._ok(True)
        try:
            result = handler(params)
        except BotApiError as error:
            self.calls.append(Call(endpoint, params, faulted=True))
            return self._error(error.status, error.description)
        self.calls.append(Call(endpoint, params))
        return 200, self._ok(result)

    # -- configuration and inspection ----------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = None,
    ) -> None:
        """The next call of `method` ("*": any) is answered with this Telegram error."""
        self._faults.append(_Fault(method, status, description, retry_after))

    def set_member(self, user_id: int, status: str, chat_id: int | None = None) -> None:
        """`getChatMember` answer for `user_id` (in `chat_id`, or in any chat)."""
        self.members[(chat_id, user_id)] = status

    def next_message_id(self, chat_id: int) -> int:
        """The chat's next message id: the bot's and the users' messages share one counter."""
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def mark(self) -> int:
        return len(self.calls)

    def calls_to(self, method: str, since: int = 0) -> list[Call]:
        return [call for call in self.calls[since:] if call.method == method]

    def sent(self, chat_id: int | None = None, since: int = 0) -> list[JSONDict]:
        """Parameters of the delivered `sendMessage` calls (to one chat), in order."""
        return [
            call.params
            for call in self.calls_to("sendMessage", since)
            if not call.faulted and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    def dump(self, since: int = 0, width: int = 300) -> str:
        lines = []
        for index, call in enumerate(self.calls[since:], start=since):
            params = json.dumps(call.params, ensure_ascii=False, default=repr)
            flag = " [FAULT]" if call.faulted else ""
            lines.append(f"#{index} {call.method}{flag} {params[:width]}")
        return "\n".join(lines)

    # -- internals -----------------------------------------------------------------------------

    @staticmethod
    def _decode(key: str, value: Any) -> Any:
        if key in _JSON_PARAMS and isinstance(value, str) and value[:1] in ("{", "["):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method in ("*", method):
                self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _ok(result: Any) -> bytes:
        return json.dumps({"ok": True, "result": result}).encode()

    @staticmethod
    def _error(status: int, description: str, retry_after: int | None = None) -> tuple[int, bytes]:
        body: JSONDict = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return status, json.dumps(body).encode()

    @staticmethod
    def _chat_id(params: JSONDict) -> int:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id):
            chat_id = int(chat_id)
        if not isinstance(chat_id, int) or isinstance(chat_id, bool):
            raise BotApiError("Bad Request: chat not found")
        return chat_id

    def chat(self, chat_id: int) -> JSONDict:
        """The Chat object Telegram includes in messages for `chat_id`."""
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "User"}
        chat: JSONDict = {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"}
        if self.chats.get(chat_id, {}).get("is_forum", self.is_forum):
            chat["is_forum"] = True
        return chat

    def _check_markup(self, params: JSONDict) -> JSONDict | None:
        markup = params.get("reply_markup")
        if not isinstance(markup, dict) or "inline_keyboard" not in markup:
            return None
        for row in markup["inline_keyboard"]:
            for button in row:
                if not str(button.get("text", "")).strip():
                    raise BotApiError(
                        "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                    raise BotApiError("Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _check_text(self, text: Any, parse_mode: Any, limit: int, empty_ok: bool = False) -> None:
        if not isinstance(text, str):
            if empty_ok:
                return
            raise BotApiError("Bad Request: message text is empty")
        plain = text
        if self.validate and str(parse_mode).upper() == "HTML":
            try:
                plain = parse_telegram_html(text)
            except HtmlError as error:
                raise BotApiError(f"Bad Request: can't parse entities: {error}") from None
        if not plain.strip() and not empty_ok:
            raise BotApiError("Bad Request: message text is empty")
        if self.validate and len(plain.encode("utf-16-le", "surrogatepass")) // 2 > limit:
            what = "message" if limit == MESSAGE_LIMIT else "message caption"
            raise BotApiError(f"Bad Request: {what} is too long")

    def _message(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        markup = self._check_markup(params)
        message: JSONDict = {
            "message_id": self.next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": dict(self.bot_user),
        }
        thread = params.get("message_thread_id")
        if isinstance(thread, int) and chat_id < 0:
            message["message_thread_id"] = thread
            message["is_topic_message"] = True
        reply = params.get("reply_parameters")
        reply_id = reply.get("message_id") if isinstance(reply, dict) else None
        reply_id = reply_id or params.get("reply_to_message_id")
        if isinstance(reply_id, int) and (replied := self.messages.get((chat_id, reply_id))):
            message["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        if markup is not None:
            message["reply_markup"] = markup
        return message

    def _store(self, message: JSONDict) -> JSONDict:
        chat_id = message["chat"]["id"]
        self.messages[(chat_id, message["message_id"])] = message
        self._by_chat.setdefault(chat_id, {})[message["message_id"]] = message
        return message

    def messages_in(self, chat_id: int) -> list[JSONDict]:
        """The bot's messages in a chat (edits applied), oldest first."""
        return [message for _, message in sorted(self._by_chat.get(chat_id, {}).items())]

    def _send_message(self, params: JSONDict) -> JSONDict:
        self._check_text(params.get("text"), params.get("parse_mode"), MESSAGE_LIMIT)
        message = self._message(params)
        message["text"] = params["text"]
        return self._store(message)

    def _send_photo(self, params: JSONDict) -> JSONDict:
        caption = params.get("caption")
        self._check_text(caption, params.get("parse_mode"), CAPTION_LIMIT, empty_ok=True)
        photo = params.get("photo")
        file_id = photo if isinstance(photo, str) else f"uploaded-{len(self.calls)}"
        message = self._message(params)
        message["photo"] = [
            {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}"[:32],
                "width": 1280,
                "height": 960,
                "file_size": 1024,
            }
        ]
        if isinstance(caption, str) and caption:
            message["caption"] = caption
        return self._store(message)

    def _edited(self, params: JSONDict) -> JSONDict:
        if "inline_message_id" in params:
            raise BotApiError("Bad Request: message can't be edited")
        chat_id = self._chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise BotApiError("Bad Request: message identifier is not specified")
        message = self.messages.get((chat_id, message_id)) or {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat(chat_id),
            "from": dict(self.bot_user),
            "text": "…",
        }
        markup = self._check_markup(params)
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return self._store(message)

    def _edit_message_text(self, params: JSONDict) -> JSONDict:
        self._check_text(params.get("text"), params.get("parse_mode"), MESSAGE_LIMIT)
        message = self._edited(params)
        message["text"] = params["text"]
        return message

    def _edit_reply_markup(self, params: JSONDict) -> JSONDict:
        return self._edited(params)

    def _get_file(self, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file_id"))
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}"[:32],
            "file_size": len(self.file_data(file_id)),
            "file_path": f"files/{file_id}",
        }

    def file_data(self, file_id: str) -> bytes:
        """What a download of the file serves: registered bytes, else bytes of no picture."""
        return self.files.get(file_id, NOT_A_PICTURE)

    def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id or query_id in self.answered:  # a query is answered once, like Telegram
            raise BotApiError(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        self.answered.add(query_id)
        if len(str(params.get("text") or "")) > 200:
            raise BotApiError("Bad Request: MESSAGE_TOO_LONG")
        return True

    def _get_chat(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        chat: JSONDict = {
            **self.chat(chat_id),
            **CHAT_DETAILS,
        }
        chat.update(self.chats.get(chat_id, {}))
        if chat_id < 0:
            chat["is_forum"] = bool(chat.get("is_forum", self.is_forum))
        return chat

    def _get_chat_member(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        user_id = params.get("user_id")
        if not isinstance(user_id, int):
            raise BotApiError("Bad Request: invalid user_id specified")
        status = self.members.get((chat_id, user_id)) or self.members.get((None, user_id))
        status = status or self.member_status
        user = (
            dict(self.bot_user)
            if user_id == BOT_ID
            else {"id": user_id, "is_bot": False, "first_name": "User"}
        )
        return {**_MEMBER_FIELDS.get(status, {}), "status": status, "user": user}

    def _create_forum_topic(self, params: JSONDict) -> JSONDict:
        chat_id = self._chat_id(params)
        name = params.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 128:
            raise BotApiError("Bad Request: TOPIC_NAME_INVALID")
        if not self._get_chat({"chat_id": chat_id}).get("is_forum"):
            raise BotApiError("Bad Request: the chat is not a forum")
        return {  # like Telegram: the thread id is the id of the topic's first (service) message
            "message_thread_id": self.next_message_id(chat_id),
            "name": name,
            "icon_color": params.get("icon_color", 7322096),
        }

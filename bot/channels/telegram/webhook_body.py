"""A webhook request's body, checked before anything touches the database.

Telegram redelivers whatever is not answered 200, so a body we can never take must be refused
for good (400, 413), never as an outage (503): it would come back forever. Refused: bodies over
1 MB, anything that is not a JSON object Telegram could have sent as an Update, ids a BIGINT
column cannot hold. Strings lose NUL characters and lone surrogates (flows/text.py), which no
database column takes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from telegram import Bot, Update

from flows.text import storable

#: Telegram's updates are a few kilobytes; a photo is sent as a file id, not as data.
MAX_BODY_BYTES = 1024 * 1024
#: Real updates nest about ten levels (a reply inside a callback's message ...).
MAX_DEPTH = 40
#: What the database's BIGINT id columns hold.
ID_RANGE = range(-(2**63), 2**63)
MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")


class BodyTooLarge(Exception):
    """Over MAX_BODY_BYTES: 413."""


class BadUpdate(ValueError):
    """Not an Update we can take: 400. The message is one line and names no content."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refused as soon as it is known to exceed `limit` (declared or counted)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdecimal():
            raise BadUpdate("bad Content-Length")
        if int(declared) > limit:
            raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _no_constant(name: str) -> Any:
    raise BadUpdate(f"{name} is not JSON")


def _finite(text: str) -> float:
    """A JSON number as a float; 1e400 would be infinity, which no JSON column stores."""
    value = float(text)
    if not math.isfinite(value):
        raise BadUpdate("a number is out of range")
    return value


def parse_update(body: bytes, bot: Bot) -> dict[str, Any]:
    """The update as JSON data, cleaned and checked; BadUpdate says why not."""
    return read_update(body, bot)[0]


def read_update(body: bytes, bot: Bot) -> tuple[dict[str, Any], Update]:
    """The update as JSON data, cleaned and checked, and as python-telegram-bot reads it (the
    check is that reading); BadUpdate says why not."""
    try:
        data = json.loads(body, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise BadUpdate("nested too deeply") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadUpdate("not JSON") from None
    if not isinstance(data, dict):
        raise BadUpdate("not a JSON object")
    _check_depth(data)
    data = _cleaned(data)
    _check_shape(data)
    try:
        update = Update.de_json(data, bot)
    except Exception as error:  # whatever python-telegram-bot cannot read
        raise BadUpdate(f"not an Update ({type(error).__name__})") from None
    return data, update


def _check_depth(data: Any) -> None:
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise BadUpdate("nested too deeply")
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            stack.extend((child, depth + 1) for child in children)


def _cleaned(value: Any) -> Any:
    """Every string (keys too) storable; the depth is already bounded."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(key): _cleaned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value


def _ids(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every number stored under an `id` or `..._id` key, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if (key == "id" or key.endswith("_id")) and not isinstance(item, str | dict | list):
                yield where, item
            else:
                yield from _ids(item, where)
    elif isinstance(value, list):
        for item in value:
            yield from _ids(item, path)


def _check_id(where: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadUpdate(f"{where} is not an integer")
    if value not in ID_RANGE:
        raise BadUpdate(f"{where} is out of range")


def _object(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise BadUpdate(f"{where}{key} is not an object")
    return value


def _check_shape(data: dict[str, Any]) -> None:
    """What our code reads from the raw JSON (chat, sender, text) has the type Telegram gives."""
    if "update_id" not in data:
        raise BadUpdate("update_id is missing")
    _check_id("update_id", data["update_id"])
    if data["update_id"] < 0:
        raise BadUpdate("update_id is out of range")
    for where, value in _ids(data):
        _check_id(where, value)
    messages = [(_object(data, key, ""), f"{key}.") for key in MESSAGE_KEYS if key in data]
    if "callback_query" in data:
        query = _object(data, "callback_query", "")
        _object(query, "from", "callback_query.")
        if "message" in query:
            message = _object(query, "message", "callback_query.")
            messages.append((message, "callback_query.message."))
        if not isinstance(query.get("data", ""), str):
            raise BadUpdate("callback_query.data is not text")
    for message, where in messages:
        if "id" not in _object(message, "chat", where):
            raise BadUpdate(f"{where}chat.id is missing")
        if "from" in message:
            _object(message, "from", where)
        for key in ("text", "caption"):
            if not isinstance(message.get(key, ""), str):
                raise BadUpdate(f"{where}{key} is not text")


def chat_of(data: dict[str, Any]) -> int | None:
    """The chat an update belongs to (the unit of ordering), from the raw JSON."""
    for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
        if isinstance(data.get(key), dict):
            return data[key].get("chat", {}).get("id")
    query = data.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message") or {}
        return message.get("chat", {}).get("id") or query.get("from", {}).get("id")
    return None

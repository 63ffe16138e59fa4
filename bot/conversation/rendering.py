"""Turns flow replies into text and keyboards: one jinja2 environment, words from templates/.

Messages are Telegram HTML (autoescaped, so anything a merchant typed is shown, never
interpreted). Button labels live in each locale's `labels.toml`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_time
from babel.numbers import format_currency
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import escape

from flows.banks import DEFAULT_BANKS, BankDirectory
from flows.replies import Reply
from flows.settlement_calendar import SHANGHAI, DueDate
from flows.text import utf16_len

#: Telegram's limit for one text message, in UTF-16 code units.
MESSAGE_LIMIT = 4096
BABEL_LOCALES = {"zh": "zh_CN", "en": "en"}
#: Stands for the quoted text while the rest of a split message is rendered (see render_parts).
_PIECE = "\x00piece\x00"


def templates_root() -> Path:
    """templates/ of a source checkout, or the copy packed into an installed wheel."""
    here = Path(__file__).resolve().parents[1]  # the bot package
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("posbot templates not found next to the bot package")


@dataclass(frozen=True)
class Outgoing:
    """A rendered message: HTML text and rows of (label, callback data) buttons."""

    text: str
    keyboard: tuple[tuple[tuple[str, str], ...], ...] = ()


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split at blank lines, then lines, so no tag or sentence is cut in half. Lengths are
    UTF-16 code units, as Telegram counts them (an emoji may count twice)."""
    if utf16_len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for block in text.split("\n\n"):
        pieces = [block] if utf16_len(block) <= limit else _hard_split(block, limit)
        for piece in pieces:
            candidate = f"{current}\n\n{piece}" if current else piece
            if utf16_len(candidate) <= limit:
                current = candidate
            else:
                parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts


def _hard_split(block: str, limit: int) -> list[str]:
    """Lines in order; a line longer than the limit is cut, never inside a tag or an entity."""
    pieces: list[str] = []
    current = ""
    for line in block.split("\n"):
        if utf16_len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            while utf16_len(line) > limit:
                cut = _safe_cut(line, limit)
                pieces.append(line[:cut])
                line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if utf16_len(candidate) <= limit:
            current = candidate
        else:
            pieces.append(current)
            current = line
    if current:
        pieces.append(current)
    return pieces


def _fit(line: str, limit: int) -> int:
    """How many leading characters of `line` fit in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(line):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(line)


#: Characters that belong to the one before them: a cut before one would split what is seen
#: as a single symbol (an accent, an emoji's skin tone or variation, a joined emoji).
_JOINING = re.compile("[\u0300-\u036f\u200c\u200d\ufe00-\ufe0f\U0001f3fb-\U0001f3ff]")


def _safe_cut(line: str, limit: int) -> int:
    """The last position within `limit` units that is not inside `<...>`, `&...;` or a symbol
    made of several characters."""
    fit = cut = _fit(line, limit)
    for _ in range(8):
        if cut <= 1 or not (_JOINING.match(line, cut) or line[cut - 1] == "\u200d"):
            break
        cut -= 1
    else:
        cut = fit  # a run of joiners: cut anywhere rather than not at all
    window = line[max(0, cut - 12) : cut]
    amp, semi = window.rfind("&"), window.rfind(";")
    if amp != -1 and amp > semi:
        cut = max(0, cut - 12) + amp
    tag_open, tag_close = line.rfind("<", 0, cut), line.rfind(">", 0, cut)
    if tag_open > tag_close:
        cut = tag_open
    return cut if cut > 0 else max(fit, 1)


def grace_day(due: DueDate) -> date:
    """The last day the money may still arrive before it counts as overdue."""
    return (due.overdue_after - timedelta(days=1)).date()


class Renderer:
    """Renders replies per locale; templates are compiled once and cached by jinja2."""

    def __init__(
        self,
        root: Path | None = None,
        settings: Mapping[str, Any] | None = None,
        banks: BankDirectory = DEFAULT_BANKS,
    ) -> None:
        self.root = root or templates_root()
        self.banks = banks
        self.env = Environment(
            loader=FileSystemLoader(str(self.root)),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
            auto_reload=False,  # templates change with a release: no file check per message
        )
        self.env.globals.update(settings or {})

    @lru_cache(maxsize=8)  # noqa: B019 - one renderer per process, locales are few
    def labels(self, locale: str) -> dict[str, Any]:
        with (self.root / locale / "labels.toml").open("rb") as handle:
            return tomllib.load(handle)

    def label(self, locale: str, key: str, **params: Any) -> str:
        node: Any = self.labels(locale)
        for part in key.split("."):
            node = node[part]
        if not isinstance(node, str):
            raise KeyError(key)
        return node.format(**params) if params else node

    def _helpers(self, locale: str) -> dict[str, Any]:
        babel_locale = BABEL_LOCALES[locale]

        def label(key: str, **params: Any) -> str:
            return self.label(locale, key, **params)

        def money(amount: Decimal | str) -> str:
            return format_currency(Decimal(amount), "CNY", locale=babel_locale)

        def day(value: date | datetime | str, style: str = "full") -> str:
            if isinstance(value, str):
                value = date.fromisoformat(value)
            elif isinstance(value, datetime):
                value = value.astimezone(SHANGHAI).date()
            return format_date(value, format=style, locale=babel_locale)

        def clock(value: datetime | str) -> str:
            """Hours and minutes in Shanghai time; a stored 'HH:MM' string is shown as is."""
            if isinstance(value, str):
                value = datetime.fromisoformat(f"2000-01-01T{value}")
            elif value.tzinfo is not None:
                value = value.astimezone(SHANGHAI)
            return format_time(value.time(), format="HH:mm", locale=babel_locale)

        def bank_name(code: str) -> str:
            bank = self.banks.by_code(code)
            return bank.name(locale) if bank else code

        return {
            "label": label,
            "money": money,
            "day": day,
            "clock": clock,
            "bank_name": bank_name,
            "grace_day": grace_day,
            "locale": locale,
        }

    def text(self, template: str, locale: str, context: dict[str, Any] | None = None) -> str:
        jinja_template = self.env.get_template(f"{locale}/{template}.j2")
        return jinja_template.render(**self._helpers(locale), **(context or {})).strip()

    def render(self, reply: Reply, locale: str) -> Outgoing:
        text = self.text(reply.template, locale, dict(reply.context))
        keyboard = tuple(
            tuple((self._button_label(locale, b.label, b.params), b.data) for b in row)
            for row in reply.buttons
        )
        return Outgoing(text, keyboard)

    def render_parts(self, reply: Reply, locale: str, quoted: str | None = None) -> list[Outgoing]:
        """`reply` as messages within Telegram's limit, the keyboard on the last one.

        With `quoted`, the context key holding someone's own words (a merchant's message, an
        agent's reply), a text too long for one message is split instead of the rendered
        message, and every part is the whole template around its piece: each part carries the
        header (the case number, who wrote).
        """
        whole = self.render(reply, locale)
        parts = split_message(whole.text)
        if len(parts) > 1 and quoted and reply.context.get(quoted):
            frame = self.text(reply.template, locale, {**reply.context, quoted: _PIECE})
            head, found, tail = frame.partition(_PIECE)
            room = MESSAGE_LIMIT - utf16_len(head) - utf16_len(tail)
            if found and room >= MESSAGE_LIMIT // 2:
                body = str(escape(str(reply.context[quoted])))  # as autoescape shows it
                parts = [f"{head}{piece}{tail}" for piece in split_message(body, room)]
        return [*(Outgoing(part) for part in parts[:-1]), Outgoing(parts[-1], whole.keyboard)]

    def _button_label(self, locale: str, key: str, params: Mapping[str, Any]) -> str:
        """From labels.toml; a bank the deployment added is labelled with its own name."""
        try:
            return self.label(locale, f"buttons.{key}", **params)
        except KeyError:
            kind, _, code = key.partition(".")
            bank = self.banks.by_code(code) if kind == "bank" else None
            if bank is None:
                raise
            return bank.name(locale)

"""Text as the world outside Python counts and stores it.

Telegram measures message lengths in UTF-16 code units (an emoji outside the Basic Multilingual
Plane counts twice); PostgreSQL cannot store a NUL character, and UTF-8 cannot encode a lone
surrogate (JSON may carry either, escaped).
"""

from __future__ import annotations

import re

#: NUL, and surrogates: in a Python string decoded from JSON, only unpaired ones remain.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> str:
    """`text` without NUL characters and lone surrogates: what any database and UTF-8 can hold."""
    return _UNSTORABLE.sub("", text)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2

"""The layout's rules that a test can hold: Telegram stays in its channel, storage holds no
queries, and a long module says why it is long."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 500
#: The words a module's docstring uses to say why it is longer than MAX_LINES.
REASON = re.compile(r"over 500 lines|long because", re.IGNORECASE)


def modules(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_telegram_types_only_in_the_telegram_channel() -> None:
    channel = ROOT / "bot" / "channels" / "telegram"
    outside = [
        str(path.relative_to(ROOT))
        for path in modules("bot", "flows")
        if channel not in path.parents
        and any(name == "telegram" or name.startswith("telegram.") for name in imported(path))
    ]
    assert outside == []


def test_storage_holds_no_queries() -> None:
    query = re.compile(r"\b(select|update|insert|delete)\(")
    with_queries = [
        str(path.relative_to(ROOT))
        for path in modules("bot/storage")
        if "migrations" not in path.parts and query.search(path.read_text(encoding="utf-8"))
    ]
    assert with_queries == []


def test_a_long_module_says_why() -> None:
    unexplained = []
    for path in modules("bot", "flows"):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > MAX_LINES and not REASON.search(
            ast.get_docstring(ast.parse(text)) or ""
        ):
            unexplained.append(f"{path.relative_to(ROOT)}: {text.count(chr(10))} lines")
    assert unexplained == []


SHAPED = re.compile(r"^[a-z]:")


def button_data_by_hand(source: str) -> list[tuple[int, str]]:
    """String literals (or f-strings) that start like button data: "x:begin", f"a:{field}:..."."""
    found = []
    tree = ast.parse(source)
    parts = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    for node in ast.walk(tree):
        if id(node) in parts:
            continue  # a piece of an f-string: the f-string is looked at whole
        first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else node
        if (
            isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and SHAPED.match(first.value)
        ):
            found.append((node.lineno, first.value))
    return found


def test_hand_written_button_data_would_be_found() -> None:
    source = 'Button("start", "x:begin")\nButton(label, f"a:{field}:{value}")\nurl = "https://x"'
    assert button_data_by_hand(source) == [(1, "x:begin"), (2, "a:")]


def test_button_data_is_written_only_by_the_codec() -> None:
    """No "x:begin" typed by hand: every button's data goes through flows.callbacks."""
    codec = ROOT / "flows" / "callbacks.py"
    by_hand = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in modules("bot", "flows")
        if path != codec
        for line, value in button_data_by_hand(path.read_text(encoding="utf-8"))
    ]
    assert by_hand == []

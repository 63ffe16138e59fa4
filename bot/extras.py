"""The optional parts of posbot, and the pip extra that installs each.

The base install carries what `posbot chat` and `posbot run` (long polling on SQLite) need; the
rest is heavy (the chart stack alone is about 170 MB) and only some deployments use it. A
command that needs a missing part stops with one line naming the extra and the command that
installs it, the way slip reading already does for `ocr`.
"""

from __future__ import annotations

from importlib.util import find_spec

#: extra -> the modules it provides (what is looked for) and what it is for.
EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "postgres": (("psycopg",), "PostgreSQL"),
    "webhook": (("starlette", "uvicorn"), "the webhook server (posbot run --webhook)"),
    "report": (("matplotlib",), "the charts (posbot report, /report)"),
    "ocr": (("rapidocr", "onnxruntime", "PIL"), "reading slip photos"),
}


class MissingExtra(RuntimeError):
    """An optional part is not installed; the message says how to install it."""

    def __init__(self, extra: str) -> None:
        self.extra = extra
        super().__init__(
            f"{EXTRAS[extra][1]}: install the '{extra}' extra: pip install 'posbot[{extra}]' "
            f"(or, in a checkout: pip install -e '.[{extra}]')"
        )


def installed(extra: str) -> bool:
    return all(find_spec(module) is not None for module in EXTRAS[extra][0])


def require(extra: str) -> None:
    """Stop with the install command when `extra` is missing."""
    if not installed(extra):
        raise MissingExtra(extra)

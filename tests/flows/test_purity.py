"""flows/ is the domain: it must import no adapter library (telegram, sqlalchemy, jinja2)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

FORBIDDEN = {"telegram", "sqlalchemy", "jinja2", "bot", "httpx", "aiohttp"}
FLOWS = Path(__file__).resolve().parents[2] / "flows"


def test_no_forbidden_import_statements() -> None:
    offenders = []
    for path in FLOWS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_flows_loads_no_adapter_library() -> None:
    code = (
        "import sys, pkgutil, importlib, flows\n"
        "for m in pkgutil.iter_modules(flows.__path__):\n"
        "    importlib.import_module('flows.' + m.name)\n"
        f"bad = {{n.split('.')[0] for n in sys.modules}} & {FORBIDDEN!r}\n"
        "print(sorted(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=FLOWS.parent
    )
    assert result.stdout.strip() == "[]"

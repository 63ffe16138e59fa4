"""`posbot export cases`: a progress bar for a person at a terminal, nothing in pipes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from bot.ops import data_commands
from bot.ops.cli import main
from bot.ops.data_commands import EXPORT_COLUMNS, PROGRESS_MIN_ROWS
from bot.storage.models import Case
from tests.bot.helpers import NOW

ROOT = Path(__file__).resolve().parents[2]


def many_cases(tmp_path: Path, make_components: Any, count: int) -> str:
    url = f"sqlite:///{tmp_path}/many.sqlite3"
    parts = make_components(url)
    rows = [
        {
            "number": f"PB-20261125-{index:05d}",
            "channel": "telegram",
            "chat_id": index,
            "locale": "zh",
            "status": "open",
            "outcome": "A",
            "facts": {},
            "photo_file_ids": [],
            "created_at": NOW - timedelta(minutes=index),
            "updated_at": NOW,
        }
        for index in range(count)
    ]
    with parts.db.transaction() as session:
        session.execute(insert(Case), rows)
    parts.db.dispose()
    return url


def test_no_bar_when_stderr_is_not_a_terminal(
    tmp_path: Path, make_components: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = many_cases(tmp_path, make_components, 30)
    monkeypatch.setattr(data_commands, "PROGRESS_MIN_ROWS", 10)  # "large" for this test
    result = CliRunner().invoke(
        main, ["export", "cases", "--format", "jsonl"], env={"POSBOT_DATABASE_URL": url}
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 30


def run_with_terminal_stderr(args: list[str], env: dict[str, str]) -> tuple[int, bytes, bytes]:
    """Run with stderr on a pseudo-terminal (read as it comes) and stdout to a file."""
    master, slave = pty.openpty()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=out, stderr=slave, env=env, cwd=ROOT
        )
        os.close(slave)
        chunks: list[bytes] = []
        deadline = time.monotonic() + 60
        try:
            while time.monotonic() < deadline:
                ready, _, _ = select.select([master], [], [], 0.5)
                if not ready:
                    if process.poll() is not None:
                        break
                    continue
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            code = process.wait(timeout=10)
        finally:
            os.close(master)
            if process.poll() is None:
                process.kill()
        out.seek(0)
        return code, out.read(), b"".join(chunks)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_a_bar_on_a_terminal_for_a_large_export(tmp_path: Path, make_components: Any) -> None:
    count = PROGRESS_MIN_ROWS + 1
    url = many_cases(tmp_path, make_components, count)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "POSBOT_DATABASE_URL": url,
        "POSBOT_DEFAULT_LOCALE": "en",
        "TERM": "xterm",
    }
    code, stdout, stderr = run_with_terminal_stderr(
        [sys.executable, "-m", "bot", "export", "cases"], env
    )
    assert code == 0, stderr.decode(errors="replace")
    assert b"Exporting cases" in stderr
    assert b"100%" in stderr
    lines = stdout.decode().splitlines()
    assert lines[0] == ",".join(EXPORT_COLUMNS)
    assert len(lines) == count + 1

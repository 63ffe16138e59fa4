"""The command line's entry points: the `posbot` script's version, and `python -m posbot`."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

from click.testing import CliRunner

from bot.ops.cli import main


def test_version_is_the_installed_package_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"posbot {version('posbot')}"


def test_python_dash_m_posbot_runs_the_same_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "posbot", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"posbot {version('posbot')}"
    helped = subprocess.run(
        [sys.executable, "-m", "posbot", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "Usage: posbot" in helped.stdout
    assert "chat" in helped.stdout

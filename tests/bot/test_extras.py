"""Optional parts: a missing extra stops its command with the install line, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import extras
from bot.extras import EXTRAS, MissingExtra, installed, require
from bot.ops.cli import main


@pytest.fixture
def nothing_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if only the base install were there."""
    optional = {module for modules, _ in EXTRAS.values() for module in modules}
    real = extras.find_spec
    monkeypatch.setattr(extras, "find_spec", lambda name: None if name in optional else real(name))


def test_the_test_install_has_every_extra_but_ocr_checked() -> None:
    assert installed("postgres")
    assert installed("webhook")
    assert installed("report")


@pytest.mark.usefixtures("nothing_optional")
@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_a_missing_extra_names_itself_and_how_to_install_it(extra: str) -> None:
    with pytest.raises(MissingExtra) as caught:
        require(extra)
    assert f"pip install 'posbot[{extra}]'" in str(caught.value)


@pytest.mark.usefixtures("nothing_optional")
@pytest.mark.parametrize(
    ("args", "env", "extra"),
    [
        (["report", "--out", "r.html"], {}, "report"),
        (
            ["run", "--webhook"],
            {"TELEGRAM_BOT_TOKEN": "123:abc", "POSBOT_WEBHOOK_SECRET": "s3cret"},
            "webhook",
        ),
        (["records-fake"], {}, "webhook"),
    ],
)
def test_commands_stop_with_the_extra_they_need(
    tmp_path: Path, args: list[str], env: dict[str, str], extra: str
) -> None:
    env = {"POSBOT_DATABASE_URL": f"sqlite:///{tmp_path}/bot.sqlite3", **env}
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 2, result.output
    assert f"pip install 'posbot[{extra}]'" in result.output
    assert "Traceback" not in result.output


OPTIONAL = ("uvicorn", "starlette", "matplotlib", "psycopg", "rapidocr", "onnxruntime")


def test_the_terminal_chat_imports_no_optional_part(tmp_path: Path) -> None:
    """What the base install must carry: `posbot chat` from start to a summary touches none
    of the extras' modules (a fresh `pip install .` has none of them)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from bot.ops.cli import main\n"
        "try:\n"
        "    main(['chat'], prog_name='posbot')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED', sorted(m for m in {OPTIONAL!r} if m in sys.modules))\n"
    )
    lines = "/lang en\n1\n2\n1280\n1\n1\n1\n1\n1\n1\n1\n1\n#1\n#2\n1\n/quit\n"
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
        env={"POSBOT_DATABASE_URL": f"sqlite:///{tmp_path}/chat.sqlite3", "PATH": "/usr/bin"},
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Next steps" in done.stdout  # it reached the summary
    assert "LOADED []" in done.stdout, done.stdout[-300:]

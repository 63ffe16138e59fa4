"""Every command-line input an operator can get wrong ends with the reason and exit code 2, and
work that could not be done (database or Telegram down) with exit code 1: never a traceback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.ops.cli import main
from tests.conftest import PG_URL


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Unauthorized(BaseHTTPRequestHandler):
    """The Bot API's answer to a token it does not know."""

    def do_POST(self) -> None:
        body = b'{"ok":false,"error_code":401,"description":"Unauthorized"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def refusing_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Unauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield int(listener.getsockname()[1])


def invoke(args: list[str], tmp_path: Path, **env: str) -> Result:
    return CliRunner().invoke(
        main,
        args,
        env={
            "POSBOT_DEPLOYMENT_FILE": "",
            "POSBOT_DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "TELEGRAM_BOT_TOKEN": "123:test",
            "TELEGRAM_API_URL": "http://127.0.0.1:9",  # nothing listens: unreachable
            "POSBOT_WEBHOOK_SECRET": "secret",
            **env,
        },
    )


def ended(result: Result, code: int, *words: str) -> None:
    assert result.exit_code == code, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # a clean exit
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output, result.output


REFUSED_PG = "postgresql+psycopg://postgres@127.0.0.1:9/posbot"
#: (args, environment, exit code, words the explanation holds)
CASES = [
    (["export", "cases", "--since", "0001-01-01"], {}, 2, ["--since", "2000-01-01"]),
    (["export", "cases", "--since", "9999-12-31"], {}, 2, ["--since"]),
    (["report", "--since", "0001-01-01"], {}, 2, ["--since"]),
    (["purge", "--older-than", "999999999d"], {}, 2, ["--older-than", "3650 days"]),
    (["purge", "--older-than", "99999999999999999999d"], {}, 2, ["--older-than"]),
    (["purge", "--older-than", ""], {}, 2, ["--older-than"]),
    (["purge", "--older-than", "0d"], {}, 2, ["--older-than"]),
    (["purge"], {"POSBOT_RETENTION_DAYS": "1000000"}, 2, ["POSBOT_RETENTION_DAYS"]),
    (["stats"], {"POSBOT_DATABASE_URL": "mysql://u@h/db"}, 2, ["POSBOT_DATABASE_URL"]),
    (["stats"], {"POSBOT_DATABASE_URL": "postgresql+psycopg2://u@h/db"}, 2, ["psycopg2"]),
    (["db", "upgrade"], {"POSBOT_DATABASE_URL": "mysql://u@h/db"}, 2, ["POSBOT_DATABASE_URL"]),
    (["stats"], {"POSBOT_DATABASE_URL": REFUSED_PG}, 1, ["database unavailable", "refused"]),
    (["export", "cases"], {"POSBOT_DATABASE_URL": REFUSED_PG}, 1, ["database unavailable"]),
    (["purge"], {"POSBOT_DATABASE_URL": REFUSED_PG}, 1, ["database unavailable"]),
    (["db", "upgrade"], {"POSBOT_DATABASE_URL": REFUSED_PG}, 1, ["database unavailable"]),
    (
        ["stats"],
        {"POSBOT_DATABASE_URL": "sqlite:///{tmp}/no/such/dir/db.sqlite3"},
        2,
        ["POSBOT_DATABASE_URL", "unable to open"],
    ),
    (["run", "--webhook"], {"POSBOT_WEBHOOK_PATH": "telegram"}, 2, ["POSBOT_WEBHOOK_PATH"]),
    (["run", "--webhook"], {"POSBOT_WEBHOOK_PATH": "/metrics"}, 2, ["POSBOT_WEBHOOK_PATH"]),
    (["run", "--webhook", "--port", "99999"], {}, 2, ["--port"]),
    (["run", "--webhook", "--port", "0"], {}, 2, ["--port"]),
    (["run", "--webhook", "--workers", "0"], {}, 2, ["--workers"]),
    (["run", "--webhook", "--workers", "-1"], {}, 2, ["--workers"]),
    (["run", "--webhook", "--host", "999.1.1.1", "--port", "{port}"], {}, 2, ["--host"]),
    (["run", "--webhook", "--port", "{busy}"], {}, 2, ["cannot listen", "in use"]),
    (["run"], {}, 1, ["Telegram", "did not answer"]),
    (["run", "--webhook", "--port", "{port}"], {}, 1, ["Telegram", "did not answer"]),
    (["run"], {"TELEGRAM_API_URL": "{refusing}"}, 2, ["TELEGRAM_BOT_TOKEN", "refused"]),
    (
        ["run", "--webhook", "--port", "{port}"],
        {"TELEGRAM_API_URL": "{refusing}"},
        2,
        ["TELEGRAM_BOT_TOKEN"],
    ),
]


@pytest.mark.parametrize(
    ("args", "env", "code", "words"), CASES, ids=[" ".join(c[0]) + str(c[1]) for c in CASES]
)
def test_a_bad_input_or_failed_work_ends_cleanly(
    args: list[str],
    env: dict[str, str],
    code: int,
    words: list[str],
    tmp_path: Path,
    refusing_api: str,
    busy_port: int,
) -> None:
    values = {
        "{tmp}": str(tmp_path),
        "{port}": str(free_port()),
        "{busy}": str(busy_port),
        "{refusing}": refusing_api,
    }

    def filled(text: str) -> str:
        for key, value in values.items():
            text = text.replace(key, value)
        return text

    result = invoke([filled(a) for a in args], tmp_path, **{k: filled(v) for k, v in env.items()})
    ended(result, code, *words)


@pytest.mark.skipif(not PG_URL, reason="POSBOT_TEST_DATABASE_URL is not set")
def test_a_missing_postgresql_database_is_a_configuration_error(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    assert PG_URL is not None
    missing = make_url(PG_URL).set(database="posbot_no_such_database")
    url = missing.render_as_string(hide_password=False)
    ended(invoke(["stats"], tmp_path, POSBOT_DATABASE_URL=url), 2, "does not exist")


def test_good_inputs_still_work(tmp_path: Path) -> None:
    ended_ok = invoke(["purge", "--older-than", "3650d"], tmp_path)
    assert ended_ok.exit_code == 0, ended_ok.output
    assert "older than 3650 days" in ended_ok.output
    since = invoke(["export", "cases", "--since", "2000-01-01"], tmp_path)
    assert since.exit_code == 0, since.output

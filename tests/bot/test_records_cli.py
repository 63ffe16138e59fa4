"""`posbot check-config` with a [records] section, and `--try-reference` against the fake."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.ops.cli import main
from bot.records.fake import FakeRecords
from tests.bot.records_server import SECTION, fake_records, serving

TOKEN = "tok-5ecret-Zq81"


@pytest.fixture(scope="module")
def fake() -> FakeRecords:
    return fake_records(token=TOKEN)


@pytest.fixture(scope="module")
def base_url(fake: FakeRecords) -> Iterator[str]:
    with serving(fake) as url:
        yield url


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, fake: FakeRecords) -> None:
    monkeypatch.delenv("POSBOT_DEPLOYMENT_FILE", raising=False)
    fake.switches.slow_s, fake.switches.fail, fake.switches.malformed = 0, False, False


def run(
    tmp_path: Path, base_url: str, *args: str, token: str | None = TOKEN, timeout: float = 2
) -> Result:
    path = tmp_path / "deployment.toml"
    path.write_text(SECTION.format(url=base_url, timeout=timeout), encoding="utf-8")
    env = {"POSBOT_DEPLOYMENT_FILE": str(path), "POSBOT_RECORDS_TOKEN": token}
    result = CliRunner().invoke(main, ["check-config", *args], env=env)
    assert TOKEN not in result.output  # stdout and stderr, whatever happened
    return result


def test_the_section_is_summarised_without_its_secret(tmp_path: Path, base_url: str) -> None:
    result = run(tmp_path, base_url)
    assert result.exit_code == 0, result.output
    assert f"records lookup: GET {base_url}/api/tx?ref={{reference}}&date={{date}}" in result.output
    assert "needs: date, reference" in result.output
    assert "headers: Authorization: <hidden>" in result.output


def test_without_the_section_it_says_so() -> None:
    result = CliRunner().invoke(main, ["check-config"])
    assert "records lookup: none" in result.output


@pytest.mark.parametrize(
    ("reference", "line"),
    [
        (
            "123456789012",
            "records lookup of 123456789012: found: success, amount 1280.00 yuan, "
            "settled on 2026-12-04",
        ),
        (
            "223456789012",
            "records lookup of 223456789012: found: reversed, amount 5000.00 yuan, "
            "no settlement date, "
            "reason: Reversed at 15:32: the terminal timed out waiting for the issuer",
        ),
        ("999999999999", "records lookup of 999999999999: not found"),
        ("723456789012", "records lookup of 723456789012: not found"),
    ],
)
def test_try_reference_shows_the_answer(
    tmp_path: Path, base_url: str, reference: str, line: str
) -> None:
    result = run(tmp_path, base_url, "--try-reference", reference, "--try-key", "date=2026-12-01")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith(line)


def test_try_reference_names_the_keys_the_url_still_needs(tmp_path: Path, base_url: str) -> None:
    result = run(tmp_path, base_url, "--try-reference", "123456789012")
    assert result.exit_code == 1
    assert "unavailable (keys_missing); the URL also needs date (--try-key NAME=VALUE)" in (
        result.output
    )


@pytest.mark.parametrize(
    ("switch", "value", "reason"),
    [
        ("fail", True, "server_error"),
        ("malformed", True, "bad_response"),
        ("slow_s", 20, "timeout"),
    ],
)
def test_try_reference_when_the_system_fails_exits_1(
    tmp_path: Path,
    base_url: str,
    fake: FakeRecords,
    switch: str,
    value: object,
    reason: str,
) -> None:
    setattr(fake.switches, switch, value)
    result = run(
        tmp_path,
        base_url,
        "--try-reference",
        "123456789012",
        "--try-key",
        "date=2026-12-01",
        timeout=0.3,
    )
    assert result.exit_code == 1
    assert f"records lookup of 123456789012: unavailable ({reason})" in result.output
    # The command's own log lines (stderr, as the operator sees them: bot/monitoring/logs.py).
    assert TOKEN not in result.output
    loggers = [line.split()[3] for line in result.output.splitlines() if " bot." in line]
    assert loggers == ["bot.records.http"]


def test_a_wrong_token_is_refused_and_still_not_shown(tmp_path: Path, base_url: str) -> None:
    result = run(
        tmp_path,
        base_url,
        "--try-reference",
        "123456789012",
        "--try-key",
        "date=2026-12-01",
        token="wrong-but-secret",
    )
    assert result.exit_code == 1
    assert "unavailable (refused)" in result.output
    assert "wrong-but-secret" not in result.output


def test_a_missing_token_exits_2_naming_the_variable(tmp_path: Path, base_url: str) -> None:
    result = run(tmp_path, base_url, token=None)
    assert result.exit_code == 2
    assert "records.headers.Authorization: environment variable POSBOT_RECORDS_TOKEN" in (
        result.output
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--try-reference", "123456789012", "--try-key", "colour=blue"],
        ["--try-reference", "123456789012", "--try-key", "date=yesterday"],
        ["--try-reference", "123456789012", "--try-key", "amount=lots"],
        ["--try-key", "date=2026-12-01"],
    ],
)
def test_bad_try_options_exit_2(tmp_path: Path, base_url: str, args: list[str]) -> None:
    result = run(tmp_path, base_url, *args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_try_reference_without_a_records_section_exits_2() -> None:
    result = CliRunner().invoke(main, ["check-config", "--try-reference", "123456789012"])
    assert result.exit_code == 2
    assert "needs a [records] section" in result.output

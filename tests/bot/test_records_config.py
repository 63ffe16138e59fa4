"""The [records] section: what it accepts, and how it says what is wrong (before any lookup)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.deployment import example_file, load_file, resolve
from bot.deployment_file import DeploymentError
from bot.records.http import RecordsClient

TOKEN = "tok-5ecret-Zq81"

GOOD = """
[records]
url = "https://acquirer.example/api/tx?ref={reference}&mid={merchant_no}&date={date}"
method = "GET"
headers = { Authorization = "Bearer ${POSBOT_RECORDS_TOKEN}" }
timeout_s = 3
[records.fields]
status = "/data/status"
amount = "/data/amount"
settled_on = "/data/settlement/date"
reason = "/data/reason"
[records.status_values]
SUCCESS = "success"
FAILED = "failed"
REVERSED = "reversed"
"""


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSBOT_DEPLOYMENT_FILE", raising=False)
    monkeypatch.setenv("POSBOT_RECORDS_TOKEN", TOKEN)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deployment.toml"
    path.write_text(text, encoding="utf-8")
    return path


def example_section() -> str:
    """The commented [records] block of deployment.example.toml, as an operator uncomments it."""
    text = example_file().read_text(encoding="utf-8")
    block = text[text.index("# [records]") :]
    return "\n".join(line[2:] if line.startswith("# ") else "" for line in block.splitlines())


def test_a_good_section_resolves_with_the_secret_filled_in(tmp_path: Path) -> None:
    records = resolve(Settings(deployment_file=str(write(tmp_path, GOOD)))).records
    assert records is not None
    assert records.headers == {"Authorization": f"Bearer {TOKEN}"}
    assert records.needs == {"reference", "merchant_no", "date"}
    assert records.name == "posbot"  # the operator's name by default
    assert TOKEN not in records.describe()
    assert "Authorization: <hidden>" in records.describe()


def test_the_example_section_is_valid_once_uncommented(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, example_section()))
    assert loaded.records is not None
    assert loaded.records.name == "Example Pay"
    assert set(loaded.records.status_values.values()) == {
        "success",
        "failed",
        "reversed",
        "voided",
        "refunded",
        "preauth",
        "not_found",
    }


def test_without_the_section_there_is_no_lookup(tmp_path: Path) -> None:
    assert resolve(Settings(deployment_file=str(write(tmp_path, "")))).records is None
    assert resolve(Settings(deployment_file=str(example_file()))).records is None


def test_post_needs_the_reference_even_without_placeholders(tmp_path: Path) -> None:
    text = GOOD.replace("?ref={reference}&mid={merchant_no}&date={date}", "").replace(
        '"GET"', '"post"'
    )
    records = resolve(Settings(deployment_file=str(write(tmp_path, text)))).records
    assert records is not None
    assert records.method == "POST"
    assert records.needs == {"reference"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "ref={reference}",
            "ref={ref}",
            "records.url: unknown placeholder {ref} (placeholders: {reference}, {merchant_no}, "
            "{terminal_no}, {date}, {amount})",
        ),
        (
            '"https://acquirer.example',
            '"ftp://acquirer.example',
            "records.url: 'ftp://acquirer.example/api/tx?ref={reference}&mid={merchant_no}"
            "&date={date}' is not an http:// or https:// URL",
        ),
        ("date={date}", "key=${KEY}", "records.url: ${NAME} works in headers only"),
        ('method = "GET"', 'method = "PUT"', "records.method: 'PUT' is not a method posbot uses"),
        (
            'status = "/data/status"',
            'status = "data/status"',
            "records.fields.status: 'data/status' is not a JSON pointer: it starts with '/'",
        ),
        (
            'amount = "/data/amount"',
            'amount = "/data/~2amount"',
            "records.fields.amount: '/data/~2amount' is not a JSON pointer",
        ),
        ('amount = "/data/amount"\n', "", "records.fields.amount: required"),
        (
            'SUCCESS = "success"',
            'SUCCESS = "ok"',
            "records.status_values.SUCCESS: 'ok' is not a posbot status (success, failed, "
            "reversed, voided, refunded, preauth, not_found)",
        ),
        ("timeout_s = 3", "timeout_s = 0", "records.timeout_s: Input should be greater than 0"),
        (
            "timeout_s = 3",
            "timeout = 3",
            "records.timeout: unknown key; did you mean 'timeout_s'?",
        ),
        (
            "${POSBOT_RECORDS_TOKEN}",
            "${POSBOT_RECORDS_TOKEN_2}",
            "records.headers.Authorization: environment variable POSBOT_RECORDS_TOKEN_2 is not set",
        ),
        ("${POSBOT_RECORDS_TOKEN}", "${9LIVES}", "${9LIVES} is not an environment variable name"),
    ],
)
def test_problems_are_named_at_load(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(DeploymentError) as info:
        load_file(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_a_secret_that_cannot_be_a_header_is_named_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POSBOT_RECORDS_TOKEN", "tök-5ecret")
    with pytest.raises(DeploymentError) as info:
        load_file(write(tmp_path, GOOD))
    assert "the value of POSBOT_RECORDS_TOKEN is not printable ASCII" in str(info.value)
    assert "tök-5ecret" not in str(info.value)


def test_an_empty_status_table_is_refused(tmp_path: Path) -> None:
    text = GOOD[: GOOD.index("SUCCESS")]
    with pytest.raises(DeploymentError) as info:
        load_file(write(tmp_path, text))
    assert "records.status_values" in str(info.value)


def test_the_section_documents_the_contract_names() -> None:
    """The names deployments rely on (issue 16) stay as documented."""
    section = tomllib.loads(GOOD)["records"]
    assert set(section) >= {"url", "method", "headers", "timeout_s", "fields", "status_values"}
    assert set(section["fields"]) == {"status", "amount", "settled_on", "reason"}


def test_the_components_carry_a_client_when_the_section_is_there(
    tmp_path: Path, make_components: Any
) -> None:
    with_section = make_components(
        f"sqlite:///{tmp_path}/a.sqlite3", deployment_file=str(write(tmp_path, GOOD))
    )
    assert isinstance(with_section.records, RecordsClient)
    assert with_section.records.config.name == "Test Pay"  # operator.name, as in force
    without = make_components(f"sqlite:///{tmp_path}/b.sqlite3")
    assert without.records is None


def test_a_missing_variable_is_named_with_the_other_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POSBOT_RECORDS_TOKEN")
    with pytest.raises(DeploymentError) as info:
        load_file(write(tmp_path, GOOD.replace("ref={reference}", "ref={ref}")))
    assert info.value.problems == [
        (
            "records.url",
            "unknown placeholder {ref} (placeholders: {reference}, {merchant_no}, "
            "{terminal_no}, {date}, {amount})",
        ),
        ("records.headers.Authorization", "environment variable POSBOT_RECORDS_TOKEN is not set"),
    ]

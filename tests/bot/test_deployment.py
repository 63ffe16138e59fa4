"""The deployment file: what it accepts, how it says what is wrong, and what it changes."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.config import Settings
from bot.conversation.messages import ChatRef, Incoming
from bot.conversation.rendering import Outgoing
from bot.deployment import example_file, load_file, resolve
from bot.deployment_file import DeploymentError
from bot.ops.cli import main
from bot.storage.models import Conversation
from bot.wiring import Components
from flows.diagnosis import Outcome, diagnose
from flows.facts import CycleAnswer
from flows.settlement_calendar import SHANGHAI, Cycle
from tests.bot.conftest import Factory
from tests.bot.helpers import Clock
from tests.flows.test_diagnosis import BASE

EXAMPLE = example_file()


@pytest.fixture(autouse=True)
def _no_deployment_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's own deployment variables must not leak into these tests."""
    for name in (
        "POSBOT_DEPLOYMENT_FILE",
        "POSBOT_OPERATOR_NAME",
        "POSBOT_SUPPORT_HOURS",
        "POSBOT_CUTOFF",
        "POSBOT_ESCALATION_AMOUNT",
        "POSBOT_RETENTION_DAYS",
    ):
        monkeypatch.delenv(name, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deployment.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problem(tmp_path: Path, text: str) -> str:
    """The one message a bad file gives; it always names the file."""
    path = write(tmp_path, text)
    with pytest.raises(DeploymentError) as info:
        load_file(path)
    message = str(info.value)
    assert str(path) in message
    return message


# -- the example and the defaults ---------------------------------------------------------------


def test_the_example_file_loads() -> None:
    deployment = resolve(Settings(deployment_file=str(EXAMPLE)))
    assert deployment.settings.operator_name == "Example Pay"
    assert deployment.operator_hotline == "400-000-0000"
    assert deployment.support_timezone == "Asia/Shanghai"
    assert deployment.settings.cutoff == time(23, 0)
    assert deployment.cycles == (Cycle.T1, Cycle.D0)
    assert deployment.settings.escalation_amount == Decimal("50000")
    nbcb = deployment.banks.by_code("nbcb")
    assert nbcb is not None
    assert nbcb.hotline == "95574"
    assert "nbcb" in deployment.banks.buttons
    assert "psbc" not in deployment.banks.buttons
    assert deployment.banks.by_code("psbc") is not None  # still matched when typed
    schedule = deployment.holidays[2027]
    assert date(2027, 2, 8) in schedule.holidays  # inside a range
    assert date(2027, 2, 13) in schedule.workdays
    assert deployment.wording["zh"]["welcome"]


def test_without_a_file_everything_is_the_built_in_default() -> None:
    from flows.banks import DEFAULT_BANKS

    settings = Settings()
    deployment = resolve(settings)
    assert deployment.source is None
    assert deployment.settings == settings
    assert deployment.cycles == tuple(Cycle)
    assert deployment.banks == DEFAULT_BANKS
    assert deployment.holidays == {}
    assert deployment.operator_hotline is None
    assert deployment.template_globals() == {
        "operator_name": "posbot",
        "retention_days": 180,
        "cutoff": "23:00",
        "support_hours": "09:00-21:00",
        "operator_hotline": None,
        "support_timezone": "Asia/Shanghai",
        "wording": {
            "zh": {"welcome": None, "summary": None},
            "en": {"welcome": None, "summary": None},
        },
        "records_name": None,  # no lookup: messages never name a system that is not asked
    }
    assert deployment.policy().keys_first is False


def test_an_empty_file_is_the_defaults(tmp_path: Path) -> None:
    deployment = resolve(Settings(deployment_file=str(write(tmp_path, ""))))
    assert deployment.template_globals() == resolve(Settings()).template_globals()


# -- each kind of bad file ------------------------------------------------------------------------


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    message = problem(tmp_path, '[operator]\nname = "A"\nhotline 400\n')
    assert "not valid TOML" in message
    assert "line 3" in message


def test_unknown_key_suggests_the_known_one(tmp_path: Path) -> None:
    message = problem(tmp_path, '[operator]\nnmae = "A"\n')
    assert "operator.nmae" in message
    assert "unknown key" in message
    assert "'name'" in message


def test_unknown_section(tmp_path: Path) -> None:
    message = problem(tmp_path, "[opertor]\n")
    assert "opertor: unknown key" in message


def test_wrong_type(tmp_path: Path) -> None:
    message = problem(tmp_path, '[privacy]\nretention_days = "many"\n')
    assert "privacy.retention_days" in message
    assert "integer" in message


def test_a_section_that_is_not_a_table(tmp_path: Path) -> None:
    message = problem(tmp_path, 'operator = "A"\n')
    assert "operator: should be a table" in message


def test_a_list_that_is_not_an_array(tmp_path: Path) -> None:
    message = problem(tmp_path, '[banks]\ncode = "icbc"\n')
    assert "banks: should be an array" in message


def test_bad_time_zone(tmp_path: Path) -> None:
    message = problem(tmp_path, '[support]\ntimezone = "Asia/Shangai"\n')
    assert "support.timezone" in message
    assert "'Asia/Shangai' is not an IANA time zone" in message


@pytest.mark.parametrize("value", ['"25:00"', '"11pm"', "2300", '"23:00+08:00"'])
def test_bad_cutoff(tmp_path: Path, value: str) -> None:
    message = problem(tmp_path, f"[settlement]\ncutoff = {value}\n")
    assert "settlement.cutoff" in message


def test_cutoff_as_toml_time_or_text(tmp_path: Path) -> None:
    for value in ("22:30:00", '"22:30"'):
        loaded = load_file(write(tmp_path, f"[settlement]\ncutoff = {value}\n"))
        assert loaded.settlement.cutoff == time(22, 30)


def test_unknown_cycle(tmp_path: Path) -> None:
    message = problem(tmp_path, '[settlement]\ncycles = ["t1", "t2"]\n')
    assert "settlement.cycles[1]" in message
    assert "'t2'" in message
    assert "t1, d1, d0" in message


def test_cycles_may_be_written_as_merchants_read_them(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, '[settlement]\ncycles = ["T+1", "D0"]\n'))
    assert loaded.settlement.cycles == (Cycle.T1, Cycle.D0)


@pytest.mark.parametrize(
    ("value", "words"), [("[]", "at least one"), ('["t1", "T+1"]', "listed twice")]
)
def test_cycles_not_empty_nor_repeated(tmp_path: Path, value: str, words: str) -> None:
    message = problem(tmp_path, f"[settlement]\ncycles = {value}\n")
    assert "settlement.cycles" in message
    assert words in message


def test_duplicate_bank_code(tmp_path: Path) -> None:
    message = problem(
        tmp_path,
        '[[banks]]\ncode = "icbc"\nhotline = "95588"\n\n[[banks]]\ncode = "icbc"\nbutton = false\n',
    )
    assert "banks[1].code" in message
    assert "'icbc' is listed twice (also banks[0])" in message


def test_a_new_bank_needs_names_and_hotline(tmp_path: Path) -> None:
    message = problem(tmp_path, '[[banks]]\ncode = "nbcb"\nname_zh = "宁波银行"\n')
    assert "banks[0].name_en: required for a bank posbot does not know" in message
    assert "banks[0].hotline: required" in message


def test_bad_hotline(tmp_path: Path) -> None:
    message = problem(
        tmp_path, '[[banks]]\ncode = "icbc"\n[[banks]]\ncode = "ccb"\nhotline = "9553x"\n'
    )
    assert "banks[1].hotline" in message
    assert "'9553x' is not a phone number" in message


def test_built_in_bank_names_are_not_changed_here(tmp_path: Path) -> None:
    message = problem(tmp_path, '[[banks]]\ncode = "icbc"\nname_en = "Big Bank"\n')
    assert "banks[0].name_en" in message
    assert "built-in bank 'icbc'" in message


def test_an_alias_may_not_name_another_bank(tmp_path: Path) -> None:
    message = problem(
        tmp_path,
        '[[banks]]\ncode = "nbcb"\nname_zh = "宁波银行"\nname_en = "Bank of Ningbo"\n'
        'hotline = "95574"\naliases = ["nb", "工行"]\n',
    )
    assert "banks[0].aliases[1]" in message
    assert "icbc" in message


def test_bad_bank_code(tmp_path: Path) -> None:
    message = problem(tmp_path, '[[banks]]\ncode = "Ning Bo"\n')
    assert "banks[0].code" in message


def test_holiday_outside_its_year(tmp_path: Path) -> None:
    message = problem(tmp_path, "[holidays.2027]\nholidays = [2027-01-01, 2026-12-31]\n")
    assert "holidays.2027.holidays[1]: 2026-12-31 is not in 2027" in message


def test_day_both_holiday_and_make_up_day(tmp_path: Path) -> None:
    message = problem(
        tmp_path,
        '[holidays.2027]\nholidays = ["2027-02-05..2027-02-13"]\nmake_up_days = [2027-02-13]\n',
    )
    assert "holidays.2027.make_up_days[0]" in message
    assert "2027-02-13 is also a holiday (holidays[0])" in message


def test_make_up_day_must_be_a_weekend_day(tmp_path: Path) -> None:
    message = problem(tmp_path, "[holidays.2027]\nmake_up_days = [2027-02-10]\n")
    assert "holidays.2027.make_up_days[0]: 2027-02-10 is a Wednesday" in message


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ('"2027-02-11..2027-02-05"', "ends before it starts"),
        ('"next friday"', "date"),
        ("2027-02-05T10:00:00", "date"),
    ],
)
def test_bad_holiday_entries(tmp_path: Path, entry: str, words: str) -> None:
    message = problem(tmp_path, f"[holidays.2027]\nholidays = [2027-01-01, {entry}]\n")
    assert "holidays.2027.holidays[1]" in message
    assert words in message


def test_holiday_year_key_must_be_a_year(tmp_path: Path) -> None:
    message = problem(tmp_path, "[holidays.next]\nholidays = []\n")
    assert "holidays.next" in message
    assert "year" in message


@pytest.mark.parametrize(
    ("value", "words"),
    [("-1", "negative"), ("12.345", "2 decimals"), ('"lots"', "amount"), ("true", "amount")],
)
def test_bad_escalation_amount(tmp_path: Path, value: str, words: str) -> None:
    message = problem(tmp_path, f"[escalation]\namount = {value}\n")
    assert "escalation.amount" in message
    assert words in message


def test_escalation_can_be_switched_off(tmp_path: Path) -> None:
    deployment = resolve(
        Settings(deployment_file=str(write(tmp_path, '[escalation]\namount = "off"\n')))
    )
    assert deployment.settings.escalation_amount is None
    assert deployment.policy().escalation_amount is None


def test_every_problem_in_one_message(tmp_path: Path) -> None:
    message = problem(
        tmp_path,
        '[support]\ntimezone = "Mars/Base"\n[privacy]\nretention_days = 0\n'
        '[[banks]]\ncode = "icbc"\n[[banks]]\ncode = "icbc"\n',
    )
    assert message.count("\n") == 3  # a header line and one line per problem
    assert "support.timezone" in message
    assert "privacy.retention_days" in message
    assert "banks[1].code" in message


def test_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(DeploymentError) as info:
        resolve(Settings(deployment_file=str(missing)))
    assert str(missing) in str(info.value)
    assert "POSBOT_DEPLOYMENT_FILE" in str(info.value)


# -- precedence: default < file < environment -----------------------------------------------------


def test_the_file_wins_over_the_built_in_default(tmp_path: Path) -> None:
    path = write(tmp_path, '[settlement]\ncutoff = "22:00"\n[privacy]\nretention_days = 30\n')
    deployment = resolve(Settings(deployment_file=str(path)))
    assert deployment.settings.cutoff == time(22, 0)
    assert deployment.settings.retention_days == 30
    assert deployment.policy().cutoff == time(22, 0)
    assert deployment.overruled == ()


def test_a_set_environment_variable_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, '[settlement]\ncutoff = "22:00"\n[operator]\nname = "File Pay"\n')
    monkeypatch.setenv("POSBOT_DEPLOYMENT_FILE", str(path))
    monkeypatch.setenv("POSBOT_CUTOFF", "21:30")
    deployment = resolve(Settings())
    assert deployment.settings.cutoff == time(21, 30)
    assert deployment.policy().cutoff == time(21, 30)
    assert deployment.settings.operator_name == "File Pay"
    assert deployment.overruled == ("settlement.cutoff",)


# -- what the file changes --------------------------------------------------------------------


OVERRIDE_2027 = """
[holidays.2027]
holidays = [2027-03-12]
"""


def test_a_holiday_override_moves_the_due_date_and_makes_it_official(tmp_path: Path) -> None:
    facts = replace(BASE, day=date(2027, 3, 11), time=time(10, 0), cycle=CycleAnswer.T1)
    now = datetime(2027, 3, 11, 12, 0, tzinfo=SHANGHAI)

    before = diagnose(facts, now, resolve(Settings()).policy())
    assert before.due is not None
    assert before.due.expected == date(2027, 3, 12)  # Friday, by the libraries' guess
    assert before.due.estimated

    settings = Settings(deployment_file=str(write(tmp_path, OVERRIDE_2027)))
    after = diagnose(facts, now, resolve(settings).policy())
    assert after.outcome is Outcome.NOT_YET_DUE
    assert after.due is not None
    assert after.due.expected == date(2027, 3, 15)  # Friday is a holiday: the next Monday
    assert not after.due.estimated


def test_make_up_day_counts_as_a_working_day(tmp_path: Path) -> None:
    path = write(tmp_path, "[holidays.2027]\nmake_up_days = [2027-03-13]\n")
    facts = replace(BASE, day=date(2027, 3, 12), time=time(10, 0), cycle=CycleAnswer.T1)
    now = datetime(2027, 3, 12, 12, 0, tzinfo=SHANGHAI)
    due = diagnose(facts, now, resolve(Settings(deployment_file=str(path))).policy()).due
    assert due is not None
    assert due.expected == date(2027, 3, 13)  # Saturday, a make-up working day


# -- posbot check-config ------------------------------------------------------------------------


def test_check_config_summarises_a_good_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["check-config"], env={"POSBOT_DEPLOYMENT_FILE": str(EXAMPLE)}
    )
    assert result.exit_code == 0, result.output
    for words in ("Example Pay", "Asia/Shanghai", "23:00", "t1, d0", "16 banks", "2027"):
        assert words in result.output


def test_check_config_without_a_file() -> None:
    result = CliRunner().invoke(main, ["check-config"])
    assert result.exit_code == 0, result.output
    assert "built-in defaults" in result.output
    assert f"every key is documented in {EXAMPLE}" in result.output


def test_the_wheel_packs_the_example_where_the_bot_looks_for_it() -> None:
    """Each file the wheel forces in lands inside `bot/`, where the code finds it installed."""
    root = Path(__file__).resolve().parents[2]
    with (root / "pyproject.toml").open("rb") as handle:
        packed = tomllib.load(handle)["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert packed["force-include"] == {
        "templates": "bot/templates",
        "deployment.example.toml": "bot/deployment.example.toml",
    }
    for source in packed["force-include"]:
        assert (root / source).exists()
    assert root / "deployment.example.toml" == EXAMPLE  # a checkout: the one at its root


def test_check_config_names_the_overruled_keys(tmp_path: Path) -> None:
    path = write(tmp_path, '[settlement]\ncutoff = "22:00"\n')
    result = CliRunner().invoke(
        main,
        ["check-config"],
        env={"POSBOT_DEPLOYMENT_FILE": str(path), "POSBOT_CUTOFF": "21:00"},
    )
    assert result.exit_code == 0, result.output
    assert "21:00" in result.output
    assert "POSBOT_CUTOFF" in result.output


def test_check_config_bad_file_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, '[support]\ntimezone = "Asia/Shangai"\n')
    result = CliRunner().invoke(main, ["check-config"], env={"POSBOT_DEPLOYMENT_FILE": str(path)})
    assert result.exit_code == 2
    assert "support.timezone" in result.output
    assert "Traceback" not in result.output


def test_check_config_bad_environment_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check-config"], env={"POSBOT_RETENTION_DAYS": "soon"})
    assert result.exit_code == 2
    assert "POSBOT_RETENTION_DAYS" in result.output


# -- the service, built from a deployment file -----------------------------------------------------

SERVICE_FILE = """
[operator]
hotline = "400-123-4567"

[support]
hours = "08:00-20:00"

[settlement]
cycles = ["t1", "d0"]

[[banks]]
code = "icbc"
hotline = "95588-1"

[[banks]]
code = "nbcb"
name_zh = "宁波银行"
name_en = "Bank of Ningbo"
hotline = "95574"
button = true
"""

CHAT = ChatRef("telegram", 7, 7, "zh-hans")


def intake(bank: Incoming | None = None, when: str = "昨天下午3点") -> list[Incoming]:
    """The bank is asked only where the summary calls it: give it for an overdue payment."""
    return [
        Incoming("command", command="start"),
        Incoming("button", text="x:begin"),
        Incoming("text", text=when),
        Incoming("text", text="1280"),
        Incoming("button", text="a:method:card"),
        Incoming("button", text="a:card_type:sale"),
        Incoming("button", text="a:terminal:success"),
        Incoming("button", text="a:records:success"),
        Incoming("button", text="a:received:none"),
        Incoming("button", text="a:cycle:t1"),
        *([bank] if bank else []),
        Incoming("button", text="a:account:none"),
        Incoming("button", text="x:confirm"),
    ]


def run(parts: Components, steps: list[Incoming], chat: ChatRef = CHAT) -> list[Outgoing]:
    messages: list[Outgoing] = []
    for step in steps:
        messages = parts.service.handle(chat, step).messages
    return messages


def test_the_summary_shows_the_operator_hotline_and_hours(
    tmp_path: Path, make_components: Factory
) -> None:
    path = write(tmp_path, SERVICE_FILE)
    parts = make_components(f"sqlite:///{tmp_path / 'db.sqlite3'}", deployment_file=str(path))
    summary = run(parts, intake())[0].text
    assert "400-123-4567" in summary
    assert "08:00-20:00" in summary
    assert "Test Pay" in summary  # the explicitly set operator name, not the default
    plain = make_components(f"sqlite:///{tmp_path / 'plain.sqlite3'}")
    assert "400-123-4567" not in run(plain, intake())[0].text


@pytest.mark.parametrize(
    ("bank", "hotline", "name"),
    [
        (Incoming("button", text="a:bank:icbc"), "95588-1", "工商银行"),
        (Incoming("button", text="a:bank:nbcb"), "95574", "宁波银行"),
        (Incoming("text", text="宁波银行股份有限公司"), "95574", "宁波银行"),
    ],
)
def test_overdue_next_steps_give_the_files_bank_hotlines(
    tmp_path: Path, make_components: Factory, bank: Incoming, hotline: str, name: str
) -> None:
    path = write(tmp_path, SERVICE_FILE)
    parts = make_components(
        f"sqlite:///{tmp_path / 'db.sqlite3'}",
        Clock(datetime(2026, 12, 10, 10, 0, tzinfo=SHANGHAI)),
        deployment_file=str(path),
    )
    summary = run(parts, intake(bank, when="2026-11-20 15:00"))[0].text
    assert "已逾期" in summary  # outcome E: the query paths, with the bank's hotline
    assert f"拨打{name}客服电话 <b>{hotline}</b>" in summary


def test_the_cycle_question_offers_only_the_files_cycles(
    tmp_path: Path, make_components: Factory
) -> None:
    path = write(tmp_path, SERVICE_FILE)
    parts = make_components(f"sqlite:///{tmp_path / 'db.sqlite3'}", deployment_file=str(path))

    def cycle_buttons(message: Outgoing) -> list[str]:
        return [data for row in message.keyboard for _, data in row if data.startswith("a:cycle:")]

    def state() -> str:
        with parts.db.transaction() as session:
            return session.scalars(select(Conversation)).one().state

    # Overdue by now: the summary will call the bank, so the bank question is asked.
    asked = run(parts, intake(when="11月18日下午3点")[:9])[0]
    assert state() == "asking_cycle"
    assert cycle_buttons(asked) == ["a:cycle:t1", "a:cycle:d0", "a:cycle:unsure"]
    assert "T+1" in asked.text
    assert "D+1" not in asked.text
    for refused in (Incoming("text", text="D+1"), Incoming("button", text="a:cycle:d1")):
        again = parts.service.handle(CHAT, refused).messages[0]
        assert state() == "asking_cycle"
        assert cycle_buttons(again) == ["a:cycle:t1", "a:cycle:d0", "a:cycle:unsure"]
    bank_question = parts.service.handle(CHAT, Incoming("text", text="秒到")).messages[0]
    assert state() == "asking_bank"
    banks = {label: data for row in bank_question.keyboard for label, data in row}
    assert banks["宁波银行"] == "a:bank:nbcb"
    assert banks["工商银行"] == "a:bank:icbc"


def test_a_bad_file_stops_build_before_the_database(
    tmp_path: Path, make_components: Factory
) -> None:
    path = write(tmp_path, "[settlement]\ncutoff = 2300\n")
    with pytest.raises(DeploymentError, match=r"settlement\.cutoff"):
        make_components(f"sqlite:///{tmp_path / 'db.sqlite3'}", deployment_file=str(path))
    assert not (tmp_path / "db.sqlite3").exists()


def test_purge_defaults_to_the_files_retention(tmp_path: Path) -> None:
    path = write(tmp_path, "[privacy]\nretention_days = 30\n")
    env = {
        "POSBOT_DEPLOYMENT_FILE": str(path),
        "POSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = CliRunner().invoke(main, ["purge"], env=env)
    assert result.exit_code == 0, result.output
    assert "older than 30 days" in result.output
    result = CliRunner().invoke(main, ["purge"], env={**env, "POSBOT_RETENTION_DAYS": "90"})
    assert "older than 90 days" in result.output

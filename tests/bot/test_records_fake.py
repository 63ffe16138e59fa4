"""The reference fake answers as docs/records-lookup.md says, and its switches flip at run time."""

from __future__ import annotations

from pathlib import Path

import httpx
from click.testing import CliRunner
from starlette.applications import Starlette

from bot.ops.cli import main
from bot.records.fake import FakeRecords, create_app
from tests.bot.records_server import fake_records


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake")


async def test_answers_by_reference_number_by_get_and_post() -> None:
    async with client(create_app(fake_records())) as http:
        found = await http.get("/api/tx", params={"ref": "123456789012", "date": "2026-12-01"})
        assert found.status_code == 200
        assert found.json()["data"]["status"] == "SUCCESS"
        posted = await http.post("/api/tx", json={"reference": "223456789012"})
        assert posted.json()["data"]["status"] == "REVERSED"
        assert (await http.get("/api/tx", params={"ref": "000000000000"})).status_code == 404


async def test_switches_flip_while_it_runs() -> None:
    fake = fake_records()
    async with client(create_app(fake)) as http:
        assert (await http.post("/_switches", json={"fail": True})).json()["fail"] is True
        assert (await http.get("/api/tx", params={"ref": "123456789012"})).status_code == 500
        await http.post("/_switches", json={"fail": False, "malformed": True})
        assert "data" not in (await http.get("/api/tx", params={"ref": "123456789012"})).json()
        assert fake.switches.calls == 2


async def test_a_token_is_required_when_configured() -> None:
    fake = FakeRecords(fake_records().records, token="t0k")
    async with client(create_app(fake)) as http:
        assert (await http.get("/api/tx", params={"ref": "123456789012"})).status_code == 401
        headers = {"Authorization": "Bearer t0k"}
        ok = await http.get("/api/tx", params={"ref": "123456789012"}, headers=headers)
        assert ok.status_code == 200


def test_the_command_refuses_a_bad_fixture_or_a_missing_token(tmp_path: Path) -> None:
    bad = tmp_path / "fixture.json"
    bad.write_text('["not", "an", "object"]', encoding="utf-8")
    result = CliRunner().invoke(main, ["records-fake", "--fixture", str(bad)])
    assert result.exit_code == 2
    assert "expected an object" in result.output
    result = CliRunner().invoke(
        main, ["records-fake", "--token-env", "NO_SUCH_VARIABLE_HERE"], env={}
    )
    assert result.exit_code == 2
    assert "NO_SUCH_VARIABLE_HERE is not set" in result.output

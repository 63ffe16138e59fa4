"""The records fake for tests: the shipped fixture and the [records] section that reads it."""

from __future__ import annotations

from bot.records.fake import DEFAULT_FIXTURE, FakeRecords, load_fixture
from bot.records.fake import serving_in_thread as serving

#: The [records] section matching the fake; `{url}` is the fake's base URL.
SECTION = """
[records]
url = "{url}/api/tx?ref={{reference}}&date={{date}}"
method = "GET"
headers = {{ Authorization = "Bearer ${{POSBOT_RECORDS_TOKEN}}" }}
timeout_s = {timeout}
[records.fields]
status = "/data/status"
amount = "/data/amount"
settled_on = "/data/settlement/date"
reason = "/data/reason"
[records.status_values]
SUCCESS = "success"
FAILED = "failed"
REVERSED = "reversed"
VOIDED = "voided"
REFUNDED = "refunded"
PREAUTH = "preauth"
UNKNOWN_TXN = "not_found"
"""


def fake_records(token: str | None = None) -> FakeRecords:
    return FakeRecords(load_fixture(DEFAULT_FIXTURE), token=token)


__all__ = ["SECTION", "fake_records", "serving"]

"""The records fake served on a free loopback port from a thread, for tests and benchmarks.

A thread of its own (with its own event loop) keeps the fake answering while the code under test
blocks or times out on its loop, as a real remote system would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from bot.records_fake import DEFAULT_FIXTURE, FakeRecords, create_app, load_fixture

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


@contextmanager
def serving(fake: FakeRecords) -> Iterator[str]:
    """The fake's base URL while it runs; stopped (without waiting for slow answers) after."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(fake),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the records fake failed to start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        fake.switches.slow_s = 0
        server.should_exit = True
        thread.join(timeout=10)

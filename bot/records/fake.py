"""A stand-in for an acquirer's transaction system: answers lookups by reference number.

Tests start it on loopback, and an operator can point a trial deployment at it
(`posbot records-fake`, docs/records-lookup.md) before connecting the real system. Switches make
it slow, failing (HTTP 500) or malformed (an answer [records.fields] cannot read); they can be
flipped while it runs (POST /_switches).

Its answers: ``{"code": "0000", "data": <the fixture's record>}``, or HTTP 404 for a reference
the fixture does not have. The matching [records] section is in docs/records-lookup.md.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

#: The fixture shipped with posbot: a few references, one per kind of answer.
DEFAULT_FIXTURE = Path(__file__).with_name("fake_fixture.json")


@dataclass
class Switches:
    """How the fake misbehaves; `calls` counts the lookups it was asked."""

    slow_s: float = 0.0
    fail: bool = False
    malformed: bool = False
    calls: int = 0


@dataclass
class FakeRecords:
    records: Mapping[str, Mapping[str, Any]]
    switches: Switches = field(default_factory=Switches)
    #: When set, a lookup without "Authorization: Bearer <token>" is refused (HTTP 401).
    token: str | None = None


def load_fixture(path: Path) -> dict[str, dict[str, Any]]:
    """{reference: record}; the record is what the fake returns under "data"."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path}: expected an object of reference -> record objects")
    return {str(reference): record for reference, record in data.items()}


async def _linger(request: Request, switches: Switches) -> None:
    """Wait `slow_s`, but stop early when the caller hung up or the switch is turned off, so
    a slow fake never outlives the test or the trial that made it slow."""
    waited = 0.0
    while waited < switches.slow_s and not await request.is_disconnected():
        await asyncio.sleep(0.05)
        waited += 0.05


def create_app(fake: FakeRecords) -> Starlette:
    """GET /api/tx?ref=... or POST /api/tx {"reference": ...}; /_switches reads or flips."""

    async def lookup(request: Request) -> Response:
        switches = fake.switches
        switches.calls += 1
        if fake.token is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {fake.token}".encode()):
                return JSONResponse({"code": "401", "message": "unauthorized"}, status_code=401)
        if switches.slow_s:
            await _linger(request, switches)
        if switches.fail:
            return JSONResponse({"code": "500", "message": "internal error"}, status_code=500)
        if switches.malformed:
            return JSONResponse({"code": "0000", "result": {"state": "OK"}})
        reference = request.query_params.get("ref") or request.query_params.get("reference")
        if request.method == "POST":
            try:
                body = await request.json()
            except ValueError:
                body = {}
            reference = reference or (body.get("reference") if isinstance(body, dict) else None)
        record = fake.records.get(reference or "")
        if record is None:
            return JSONResponse({"code": "404", "message": "no such transaction"}, 404)
        return JSONResponse({"code": "0000", "data": record})

    async def switches(request: Request) -> Response:
        if request.method == "POST":
            changes = await request.json()
            for name in ("slow_s", "fail", "malformed"):
                if name in changes:
                    setattr(fake.switches, name, type(getattr(fake.switches, name))(changes[name]))
        return JSONResponse(asdict(fake.switches))

    return Starlette(
        routes=[
            Route("/api/tx", lookup, methods=["GET", "POST"]),
            Route("/_switches", switches, methods=["GET", "POST"]),
        ]
    )


@contextmanager
def serving_in_thread(fake: FakeRecords, host: str = "127.0.0.1") -> Iterator[str]:
    """The fake on a free port, in a thread with its own event loop (so it keeps answering
    while the caller's loop waits or times out, as a remote system would); yields its base URL.
    For tests and benchmarks; `posbot records-fake` serves it in the foreground."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(fake),
            host=host,
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
        yield f"http://{host}:{port}"
    finally:
        fake.switches.slow_s = 0
        server.should_exit = True
        thread.join(timeout=10)

"""CPU of one conversation turn and of one statement, SQLite against PostgreSQL (on demand).

    .venv/bin/python benchmarks/turn_cost.py --merchants 50 --statements 5000

Why one webhook worker on PostgreSQL does fewer updates per second than polling on SQLite
even with its threads, HTTP server and inbox statements trimmed: both run the same turn
(`ConversationService._handle`, one transaction), and the same statement costs the bot
process several times more CPU when it goes to a server than when SQLite answers it in the
process. This measures both, in one process with nothing else running, one thread:

- the turn: the benchmarks' 12-step intake (harness.INTAKE) for `--merchants` chats, through
  the service as the bot's handlers call it (the inbox mark and the outbox rows included, the
  sending not), on a fresh SQLite file and on a fresh PostgreSQL database; the statements
  per turn (BEGIN and COMMIT not counted) and the CPU per turn;
- one statement (`SELECT 1` with a parameter) `--statements` times: through SQLAlchemy on
  each database, and through psycopg alone (one cursor; and in pipeline mode, the
  statements sent without waiting for each answer), which is what a hand-written
  PostgreSQL-only path would pay.

`POSBOT_BENCH_PG` names the server (default postgresql+psycopg://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from harness import INTAKE, PG_ROOT, drop_postgres, fresh_postgres
from sqlalchemy import create_engine, event, literal, select

from bot.config import Settings
from bot.conversation.messages import ChatRef, Incoming
from bot.wiring import build


def incoming(kind: str, value: str) -> Incoming:
    if kind == "press":
        return Incoming("button", text=value)
    if value.startswith("/"):
        return Incoming("command", command=value[1:])
    return Incoming("text", text=value)


def turns(url: str, merchants: int) -> tuple[float, float]:
    """(CPU ms per turn, statements per turn) of the whole intake for `merchants` chats."""
    os.environ["POSBOT_DATABASE_URL"] = url
    os.environ.setdefault("TELEGRAM_BOT_TOKEN", "1:bench")
    parts = build(Settings())
    service = parts.service
    statements = [0]

    @event.listens_for(parts.db.engine, "before_cursor_execute")
    def count(*_: object) -> None:
        statements[0] += 1

    update_id = [1_000_000]

    def merchant(chat: int) -> None:
        ref = ChatRef("telegram", chat, chat, "zh")
        for kind, value in INTAKE:
            update_id[0] += 1
            message, number = incoming(kind, value), update_id[0]
            service.db.run(
                lambda session, m=message, n=number: service._handle(session, ref, m, True, n)
            )

    for chat in range(20):  # connections opened, statements cached, templates compiled
        merchant(chat)
    statements[0] = 0
    started = time.process_time()
    for chat in range(1_000, 1_000 + merchants):
        merchant(chat)
    count_turns = merchants * len(INTAKE)
    cpu = (time.process_time() - started) / count_turns * 1000
    parts.db.dispose()
    return cpu, statements[0] / count_turns


def per_statement(run: Callable[[], object], times: int) -> float:
    """CPU µs per call of `run`, after a warm-up."""
    for _ in range(200):
        run()
    started = time.process_time()
    for _ in range(times):
        run()
    return (time.process_time() - started) / times * 1e6


def statements(sqlite_url: str, pg_url: str, times: int) -> list[tuple[str, float]]:
    one = select(literal(1))
    rows = []
    for name, url in (("SQLAlchemy, SQLite", sqlite_url), ("SQLAlchemy, PostgreSQL", pg_url)):
        engine = create_engine(url)
        with engine.connect() as connection:
            rows.append((name, per_statement(lambda c=connection: c.scalar(one), times)))
        engine.dispose()
    conninfo = pg_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        cursor = connection.cursor()

        def alone() -> object:
            cursor.execute("SELECT %s::int", (1,))
            return cursor.fetchone()

        rows.append(("psycopg alone, PostgreSQL", per_statement(alone, times)))
        with connection.pipeline():
            rows.append(
                (
                    "psycopg pipeline, PostgreSQL",
                    per_statement(lambda: cursor.execute("SELECT %s::int", (1,)), times),
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merchants", type=int, default=50)
    parser.add_argument("--statements", type=int, default=5_000)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="posbot-turns-"))
    sqlite_url = f"sqlite:///{workdir}/turns.sqlite3"
    pg_url = fresh_postgres("posbot_bench_turns")
    try:
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            env={**os.environ, "POSBOT_DATABASE_URL": pg_url},
            check=True,
            capture_output=True,
        )
        print("| database | CPU ms / turn | statements / turn |")
        print("|---|---|---|")
        for name, url in (("SQLite", sqlite_url), ("PostgreSQL", pg_url)):
            cpu, count = turns(url, args.merchants)
            print(f"| {name} | {cpu:.2f} | {count:.2f} |")
        print()
        print("| one statement | CPU µs |")
        print("|---|---|")
        for name, micros in statements(sqlite_url, pg_url, args.statements):
            print(f"| {name} | {micros:.0f} |")
    finally:
        drop_postgres(pg_url)
    print(f"\n(PostgreSQL server: {PG_ROOT})")


if __name__ == "__main__":
    main()

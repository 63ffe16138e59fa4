"""What one inbox retention tick costs on PostgreSQL with a large inbox: run on demand.

.venv/bin/python benchmarks/inbox_purge.py postgresql+psycopg://postgres@127.0.0.1/scratch \
    [--rows 1000000] [--without-index]

The database's public schema is DROPPED and rebuilt: give it a scratch database. It is filled
with `--rows` inbox rows processed over the last ten days (1% still pending), then a tick of
`purge_inbox` is timed five times with nothing old enough to forget (what almost every tick of a
worker's timer loop finds) and five times with a full batch due. `--without-index` drops
`ix_inbox_done` first, to see what the index saves.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import create_engine, text

from bot.conversation.privacy import purge_inbox
from bot.storage.db import Database
from bot.storage.models import Base

FILL = """
INSERT INTO inbox (update_id, chat_id, payload, status, received_at, processed_at)
SELECT g, g % 5000, '{}'::json,
       CASE WHEN g % 100 = 0 THEN 'pending' ELSE 'done' END,
       :now - (g * interval '1 second' * 864000 / :n),
       CASE WHEN g % 100 = 0 THEN NULL ELSE :now - (g * interval '1 second' * 864000 / :n) END
FROM generate_series(1, :n) g
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--without-index", action="store_true")
    args = parser.parse_args()
    engine = create_engine(args.url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(text(FILL), {"now": now, "n": args.rows})
        if args.without_index:
            connection.execute(text("DROP INDEX ix_inbox_done"))
        connection.execute(text("ANALYZE inbox"))
    engine.dispose()
    db = Database(args.url)
    for label, before in (
        ("nothing due", now - timedelta(days=11)),
        ("a batch due", now - timedelta(hours=48)),
    ):
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            with db.transaction() as session:
                removed = purge_inbox(session, before)
            timings.append(f"{removed} rows {1000 * (time.perf_counter() - started):.1f} ms")
        print(f"{label}: " + ", ".join(timings))
    db.dispose()


if __name__ == "__main__":
    main()

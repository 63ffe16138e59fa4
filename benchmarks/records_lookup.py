"""The latency a records lookup adds to a merchant's turn, against the fake: run on demand.

.venv/bin/python benchmarks/records_lookup.py [--n 300] [--timeout 3]

Four systems, all on loopback (so the figures are posbot's own cost plus the system's time):
the fake answering at once, answering after 200 ms (a plausible remote p50), answering after
its timeout, and failing while the circuit breaker is open. the figures are the lookup's wall time;
the last column subtracts the time the fake was told to take (or the timeout, when it is slower).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import tomllib

from bot.records.config import RecordsTable, resolve_records
from bot.records.fake import DEFAULT_FIXTURE, FakeRecords, load_fixture, serving_in_thread
from bot.records.http import RecordsClient
from flows.records_lookup import LookupKeys, Unavailable, Unreachable

SECTION = """
url = "{url}/api/tx?ref={{reference}}"
timeout_s = {timeout}
breaker_failures = {failures}
[fields]
status = "/data/status"
amount = "/data/amount"
settled_on = "/data/settlement/date"
reason = "/data/reason"
[status_values]
SUCCESS = "success"
REVERSED = "reversed"
"""
KEYS = LookupKeys(reference="123456789012")


def client(url: str, timeout: float, failures: int = 1000) -> RecordsClient:
    raw = tomllib.loads(SECTION.format(url=url, timeout=timeout, failures=failures))
    return RecordsClient(resolve_records(RecordsTable.model_validate(raw), "bench", environ={}))


async def timed(records: RecordsClient, n: int) -> list[float]:
    runs = []
    for _ in range(n):
        start = time.perf_counter()
        await records.lookup(KEYS)
        runs.append((time.perf_counter() - start) * 1000)
    return runs


def percentile(runs: list[float], share: float) -> float:
    ordered = sorted(runs)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def row(name: str, runs: list[float], system_ms: float) -> str:
    p50 = statistics.median(runs)
    return (
        f"| {name} | {len(runs)} | {p50:.1f} | {percentile(runs, 0.95):.1f} | "
        f"{max(runs):.1f} | {p50 - system_ms:.1f} |"
    )


async def measure(url: str, fake: FakeRecords, n: int, timeout_s: float) -> list[str]:
    timeout = timeout_s
    rows = []
    records = client(url, timeout)
    await timed(records, 20)  # warm: connection pooled, code paths loaded
    rows.append(row("answers at once", await timed(records, n), 0))
    fake.switches.slow_s = 0.2
    rows.append(row("answers after 200 ms", await timed(records, max(10, n // 10)), 200))
    fake.switches.slow_s = timeout * 3
    slow = await timed(records, 3)
    rows.append(row(f"slower than the {timeout:g} s timeout", slow, timeout * 1000))
    fake.switches.slow_s = 0
    await records.aclose()
    fake.switches.fail = True
    breaker = client(url, timeout, failures=1)
    first = await breaker.lookup(KEYS)
    assert isinstance(first, Unavailable)
    assert first.reason is Unreachable.SERVER_ERROR
    rows.append(row("failing, breaker open", await timed(breaker, n), 0))
    fake.switches.fail = False
    await breaker.aclose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args()
    fake = FakeRecords(load_fixture(DEFAULT_FIXTURE))
    with serving_in_thread(fake) as url:
        rows = asyncio.run(measure(url, fake, args.n, args.timeout))
    print(
        "| the system | lookups | p50 ms | p95 ms | max ms | p50 beyond the system or timeout ms |"
    )
    print("|---|---|---|---|---|---|")
    for line in rows:
        print(line)


if __name__ == "__main__":
    main()

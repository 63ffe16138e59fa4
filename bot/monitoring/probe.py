"""Reads whose answer must come within a deadline whatever the database does (/healthz, /metrics).

The read runs in a daemon thread of its own, off the event loop; a caller that stops waiting
leaves it behind. A probe starts a new read only when the previous one has finished, so a frozen
database strands one thread per probe, not one per request, and never blocks process exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Probe(Generic[T]):
    """`await probe()`: the result of `read`, its exception, or TimeoutError after `timeout`."""

    def __init__(self, read: Callable[[], T], timeout: float, name: str = "posbot-probe") -> None:
        self.read = read
        self.timeout = timeout
        self.name = name
        self._flight: asyncio.Future[T] | None = None

    async def __call__(self) -> T:
        if self._flight is None or self._flight.done():
            self._flight = self._start()
        return await asyncio.wait_for(asyncio.shield(self._flight), self.timeout)

    def _start(self) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        # Nobody may be waiting any more when it ends: its exception is not an unhandled one.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())

        def settle(result: T | None, error: BaseException | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]

        def work() -> None:
            try:
                result, error = self.read(), None
            except Exception as failure:
                result, error = None, failure
            # RuntimeError: the loop closed while the database kept us waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, result, error)

        threading.Thread(target=work, name=self.name, daemon=True).start()
        return future

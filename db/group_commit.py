"""Group commit: many concurrent requests' small writes in one transaction, each caller awaiting its own result.

Some writes are serialised by design: the audit chain (each row hashes the one before) and the
yearly application-number counter (one row). With a transaction per request, every request waits
for every earlier one's commit in turn, and at 100 concurrent clients the queue, not the CPU, set
intake latency. Here one writer thread takes whatever has queued while it was busy and writes it in
one transaction: one lock, one commit for the batch; the order within a batch is the order of arrival.

A caller's answer is its own result, so nothing is acknowledged before it is committed. If a batch
fails, its items are retried one by one, so one bad item fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

log = logging.getLogger("disclosure.group_commit")

Item = TypeVar("Item")
Result = TypeVar("Result")

IDLE_SECONDS = 30.0  # the writer thread ends when idle this long and starts again on the next item


class GroupCommit(Generic[Item, Result]):
    """`await submit(item)` returns `write(batch)[i]` for the item; `write` runs in one thread."""

    def __init__(self, name: str, write: Callable[[Sequence[Item]], Sequence[Result]], max_batch: int = 200) -> None:
        self.name, self._write, self.max_batch = name, write, max_batch
        self._queue: queue.SimpleQueue[tuple[Item, Future[Result]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batches = 0  # for tests and metrics: how many transactions served how many items
        self.items = 0

    async def submit(self, item: Item) -> Result:
        return await asyncio.wrap_future(self._enqueue(item))

    def _enqueue(self, item: Item) -> Future[Result]:
        future: Future[Result] = Future()
        self._queue.put((item, future))
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"group-commit-{self.name}", daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():  # else an item arrived as we timed out: keep going
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[tuple[Item, Future[Result]]]) -> None:
        live = [(item, future) for item, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            results = self._write([item for item, _ in live])
        except Exception as error:
            if len(live) == 1:
                live[0][1].set_exception(error)
                return
            log.warning("group commit %s: a batch of %d failed (%s); writing them one by one",
                        self.name, len(live), error)
            for item, future in live:
                try:
                    future.set_result(self._write([item])[0])
                except Exception as single_error:
                    future.set_exception(single_error)
            return
        self.batches += 1
        self.items += len(live)
        for (_, future), result in zip(live, results, strict=True):
            future.set_result(result)

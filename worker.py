"""The worker process: runs application workflows and their activities until told to stop.

`python worker.py` reads its settings from DISCLOSURE_* environment variables (core/config.py).
On SIGINT/SIGTERM it stops polling and lets tasks in flight finish.
"""

import asyncio
import logging
import signal

from core.config import get_settings
from core.temporal import build_worker, connect
from db.session import init_db, make_engine

log = logging.getLogger("disclosure.worker")


async def main() -> None:
    settings = get_settings()
    engine = make_engine(settings.database_url)
    init_db(engine)
    client = await connect(settings)
    worker = build_worker(client, settings, engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info("worker polling task queue %s on %s", settings.task_queue, settings.temporal_address)
        await stop.wait()
        log.info("worker stopping")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(main())

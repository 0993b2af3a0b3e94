"""`ovp serve`'s webhook sender: a process of its own beside the workers, so that sending events
takes none of the time of the processes that answer requests (each worker's event loop and, with
one worker, the one Python interpreter that decides every call). It claims events from the database
as any server's sender does (see ovp.webhooks.sender), and is started again if it dies."""

from __future__ import annotations

import asyncio
import logging
import logging.config
import os
import signal
import subprocess
import sys
import threading

import uvloop

from ovp.config import Settings
from ovp.processes.logs import logging_config
from ovp.processes.parent import end_with_the_server
from ovp.store.backends import open_database
from ovp.store.checkpoint import WalCheckpoints
from ovp.webhooks.sender import WebhookSender

log = logging.getLogger("ovp")

# Alone in its process, the sender looks for work often: a request that writes an event cannot
# wake it across processes.
POLL_S = 0.05
# The workers answer switches that wait for each decision; an event waits well a moment longer.
# Where the two want the same core, the scheduler gives the workers the larger share (nice 10
# weighs a tenth of nice 0), and the sender still has every moment they leave.
NICENESS = 10
RESTART_PAUSE_S = 1.0


class SenderProcess:
    """Runs the sender (`python -m ovp.processes.sender`, with the environment `ovp serve` made for its
    workers) until closed, starting it again whenever it ends."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._process: subprocess.Popen[bytes] | None = None
        self._closing = threading.Event()
        self._watcher: threading.Thread | None = None

    def start(self) -> None:
        self._spawn()
        self._watcher = threading.Thread(target=self._watch, name="ovp-webhook-sender", daemon=True)
        self._watcher.start()

    def _spawn(self) -> None:
        self._process = subprocess.Popen([sys.executable, "-m", "ovp.processes.sender"], stdin=subprocess.DEVNULL)

    def _watch(self) -> None:
        while not self._closing.is_set():
            process = self._process
            if process is None or process.poll() is None:
                self._closing.wait(0.5)
                continue
            if not self._closing.is_set():
                log.warning("the webhook sender ended (exit status %s): starting it again", process.returncode)
                self._closing.wait(RESTART_PAUSE_S)
                if not self._closing.is_set():
                    self._spawn()

    def close(self) -> None:
        """SIGTERM, then SIGKILL past the shutdown timeout: an event it was sending is sent again
        once its lease runs out."""
        self._closing.set()
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=self._settings.shutdown_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def run() -> None:
    """The sender process: its settings from the environment `ovp serve` made for its workers."""
    end_with_the_server()
    os.nice(NICENESS)
    settings = Settings()
    logging.config.dictConfig(logging_config(settings.log_format, access_log=False))
    # The workers' loop (Granian runs them on uvloop): a tenth to a fifth less CPU an event than asyncio's.
    uvloop.run(_send(settings))


async def _send(settings: Settings) -> None:
    # The workers checkpoint an SQLite file's write-ahead log; a COMMIT of the sender's that did
    # would hold the writers' lock all the while.
    database = open_database(settings.database_url, timeout_s=settings.db_timeout,
                             sqlite_synchronous=settings.sqlite_synchronous,
                             sqlite_checkpoints=WalCheckpoints.ELSEWHERE)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stopped.set)
    await database.start()
    sender = WebhookSender(database, idle_poll_s=POLL_S)
    await sender.start()
    log.info("webhook sender started [%d]", os.getpid())
    try:
        await stopped.wait()
    finally:
        await sender.close()
        await database.close()


if __name__ == "__main__":
    run()

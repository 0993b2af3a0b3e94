"""Tying a process of `ovp serve` (a worker, the webhook sender) to the server's own process."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys

log = logging.getLogger("ovp")

# The process id of `ovp serve`, whose workers and sender these are.
SERVER_VARIABLE = "OVP_SERVER_PID"

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def end_with_the_server() -> None:
    """Has the kernel kill this worker (or the webhook sender) when the server's process ends,
    however it ends (SIGKILL included): a worker left behind would go on serving the port, and the
    database, alone."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        log.warning("a worker cannot be tied to its server's process: prctl failed with errno %d", ctypes.get_errno())
    server = os.environ.get(SERVER_VARIABLE)
    if server is not None and os.getppid() != int(server):  # the server ended before the tie was made
        os.kill(os.getpid(), signal.SIGKILL)

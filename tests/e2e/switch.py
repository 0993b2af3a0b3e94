"""A real switch for the end-to-end tests: Kamailio running ovp's shipped configuration
(examples/kamailio/kamailio.cfg), SIPp as the carrier behind it and as callers in front of it, all
on 127.0.0.1, each process stopped by its own PID.

Kamailio and SIPp come from Debian's packages (kamailio, kamailio-utils-modules,
kamailio-extra-modules, sip-tester), which `make install` installs as root. On a machine where they
are missing and the tests do not run as root, the tests are skipped and say why; as root (CI), a
missing one fails them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[2]
KAMAILIO_CFG = ROOT / "examples" / "kamailio" / "kamailio.cfg"
CALLER = ROOT / "examples" / "kamailio" / "sipp" / "caller.xml"
CALLER_FROM_ADDRESS = ROOT / "examples" / "kamailio" / "sipp" / "caller_from_address.xml"
CARRIER = ROOT / "examples" / "kamailio" / "sipp" / "carrier.xml"
CARRIER_HANGS_UP = ROOT / "examples" / "kamailio" / "sipp" / "carrier_hangs_up.xml"
REGISTER = ROOT / "examples" / "kamailio" / "sipp" / "register.xml"
HOST = "127.0.0.1"
MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")
NEEDED_MODULES = ("http_client.so", "jansson.so", "dialog.so", "auth.so", "htable.so", "usrloc.so", "registrar.so")
READY_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
PACKAGES = "kamailio, kamailio-utils-modules, kamailio-extra-modules and sip-tester"


def installed(command: str) -> str | None:
    """The path of `command` ("kamailio" with the modules the configuration loads), None when missing."""
    path = shutil.which(command)
    if path is None or (command == "kamailio" and not all((MODULES / m).exists() for m in NEEDED_MODULES)):
        return None
    return path


def required(command: str) -> str:
    """The path of `command`; skips (not root) or fails (root: `make install` should have installed it)."""
    path = installed(command)
    if path is not None:
        return path
    reason = f"{command} (with its modules) is needed for the switch tests and is not installed: `make install` " \
             f"installs Debian's {PACKAGES}"
    if os.geteuid() != 0:
        pytest.skip(reason + " when it runs as root")
    pytest.fail(reason)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def sip_options_answered(port: int) -> bool:
    """Whether the SIP server on `port` answers an OPTIONS with 200 within half a second."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        sock.settimeout(0.5)
        local = sock.getsockname()[1]
        options = (
            f"OPTIONS sip:{HOST}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {HOST}:{local};branch=z9hG4bK{time.time_ns()}\r\n"
            f"From: <sip:probe@{HOST}>;tag=probe\r\nTo: <sip:{HOST}:{port}>\r\nCall-ID: probe-{time.time_ns()}\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        sock.sendto(options.encode(), (HOST, port))
        try:
            answer = sock.recv(4096)
        except TimeoutError:
            return False
        return answer.startswith(b"SIP/2.0 200")


@dataclass
class Process:
    """A background process of a test, with its output in a file."""

    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @classmethod
    def start(cls, command: Sequence[str], log_path: Path, cwd: Path) -> Process:
        log = log_path.open("wb")
        process = subprocess.Popen(list(command), cwd=cwd, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT)
        return cls(process, log_path, log)

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, stop_signal: int = signal.SIGTERM) -> None:
        """`stop_signal` to this process's PID, then SIGKILL if it will not go."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(stop_signal)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            self._log.close()


@dataclass
class Kamailio:
    port: int
    running: Process

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def log(self) -> str:
        return self.running.output()

    def wait_ready(self) -> bool:
        """Whether it answers OPTIONS before READY_TIMEOUT_S passes (False at once if it exited)."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline and self.running.process.poll() is None:
            if sip_options_answered(self.port):
                return True
        return False

    def stop(self) -> None:
        self.running.stop()


def kamailio_command(kamailio: str, directory: Path, port: int, ovp_url: str, key: str, upstream: str,
                     defines: Sequence[str] = ()) -> list[str]:
    """The command the operator's guide gives, with this run's ports."""
    return [
        kamailio, "-f", str(KAMAILIO_CFG), "-DD", "-E", "-w", str(directory),
        "-l", f"udp:{HOST}:{port}",
        "-A", f'OVP_URL="{ovp_url}"', "-A", f'OVP_KEY="{key}"', "-A", f'UPSTREAM="{upstream}"',
        *[argument for define in defines for argument in ("-A", define)],
    ]


def start_kamailio(directory: Path, ovp_url: str, key: str, upstream: str, defines: Sequence[str] = ()) -> Kamailio:
    """Kamailio on a free port, once it answers OPTIONS; fails the test with its output otherwise."""
    port = free_udp_port()
    command = kamailio_command(required("kamailio"), directory, port, ovp_url, key, upstream, defines)
    kamailio = Kamailio(port, Process.start(command, directory / f"kamailio-{port}.log", directory))
    if not kamailio.wait_ready():
        kamailio.stop()
        pytest.fail(f"Kamailio did not come up on {HOST}:{port}:\n{kamailio.log()}")
    return kamailio


@dataclass
class Carrier:
    """SIPp answering every call relayed to it, as a carrier would."""

    port: int
    running: Process
    log_file: Path

    @property
    def uri(self) -> str:
        return f"sip:{HOST}:{self.port}"

    def calls(self, event: str) -> list[str]:
        """The Call-IDs of the calls that reached it ("invite"), were hung up at it ("bye"), or that
        it hung up ("hungup")."""
        if not self.log_file.exists():
            return []
        return [line.split()[1] for line in self.log_file.read_text().splitlines() if line.startswith(event + " ")]

    def numbers(self, call_id: str) -> tuple[str, str]:
        """The caller id (the From user) and the number (the request URI's user) a call reached it with."""
        for line in self.log_file.read_text().splitlines() if self.log_file.exists() else []:
            event, found, *numbers = line.split()
            if event == "invite" and found == call_id and len(numbers) == 2:
                return numbers[0], numbers[1]
        raise AssertionError(f"no INVITE of {call_id} reached the carrier")

    def calls_by_then(self, event: str, expected: list[str], within_s: float = 5.0) -> list[str]:
        """calls(event), once it holds the `expected` Call-IDs (in any order) or `within_s` passed."""
        deadline = time.monotonic() + within_s
        while sorted(found := self.calls(event)) != sorted(expected) and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def stop(self) -> None:
        self.running.stop()


def start_carrier(directory: Path, hangs_up_after_ms: int | None = None) -> Carrier:
    """`hangs_up_after_ms`: the carrier hangs up each call itself, that long after answering it."""
    port = free_udp_port()
    log_file = directory / f"carrier-{port}-calls.log"
    scenario = ["-sf", str(CARRIER)] if hangs_up_after_ms is None else \
        ["-sf", str(CARRIER_HANGS_UP), "-d", str(hangs_up_after_ms)]
    running = Process.start(
        [required("sipp"), *scenario, "-i", HOST, "-p", str(port), "-mp", str(free_udp_port()),
         "-nostdin", "-default_behaviors", "all,-abortunexp", "-trace_logs", "-log_file", str(log_file)],
        directory / f"carrier-{port}.log", directory,
    )
    time.sleep(0.2)
    if running.process.poll() is not None:
        pytest.fail(f"SIPp (the carrier) did not start:\n{running.output()}")
    return Carrier(port, running, log_file)


@dataclass(frozen=True)
class Refusal:
    call_id: str
    status: int
    phrase: str
    reason_header: str  # the value of the answer's Reason header, "" without one


@dataclass(frozen=True)
class CallerRun:
    """What SIPp's callers saw: each call answered (and maybe hung up by the far end) or refused,
    and SIPp's own output."""

    answered: list[str]
    refused: list[Refusal]
    far_end_hung_up: list[str]
    returncode: int
    output: str

    @property
    def codes(self) -> list[str]:
        """The ovp code each refusal's reason phrase ends with (D13, D2, OVP5, ...)."""
        return sorted(refusal.phrase.rsplit(" ", 1)[-1] for refusal in self.refused)


def call(directory: Path, proxy: Kamailio, *, to: str, user_name: str, password: str, calls: int = 1,
         rate: float = 10.0, duration_ms: int = 1000, timeout_s: int = 60, scenario: Path = CALLER,
         port: int | None = None) -> CallerRun:
    """SIPp places `calls` calls to `to` through the proxy, `rate` per second, each hung up
    `duration_ms` after it is answered, from `port` (a free one if None); returns once every call is
    over. `scenario`: CALLER authenticates with `user_name` and `password`, CALLER_FROM_ADDRESS does not."""
    port = free_udp_port() if port is None else port
    log_file = directory / f"caller-{port}-calls.log"
    done = subprocess.run(
        [required("sipp"), "-sf", str(scenario), "-s", to, "-au", user_name, "-ap", password,
         "-m", str(calls), "-r", str(rate), "-d", str(duration_ms), "-i", HOST, "-p", str(port),
         "-mp", str(free_udp_port()), "-nostdin", "-default_behaviors", "all,-abortunexp",
         "-trace_logs", "-log_file", str(log_file),
         "-timeout", f"{timeout_s}s", "-timeout_error", proxy.address],
        cwd=directory, capture_output=True, text=True, timeout=timeout_s + 30, check=False,
    )
    answered: list[str] = []
    refused: list[Refusal] = []
    far_end_hung_up: list[str] = []
    for line in log_file.read_text().splitlines() if log_file.exists() else []:
        outcome, call_id, *rest = line.split(" ", 2)
        if outcome == "answered":
            answered.append(call_id)
        elif outcome == "far_end_hung_up":
            far_end_hung_up.append(call_id)
        elif outcome == "refused":
            answer, _, reason_header = rest[0].partition(" | ")
            status, _, phrase = answer.partition(" ")
            refused.append(Refusal(call_id, int(status), phrase, reason_header.strip()))
    return CallerRun(answered, refused, far_end_hung_up, done.returncode, done.stdout + done.stderr)


@dataclass(frozen=True)
class Registration:
    """What SIPp's phone saw of its REGISTER: registered, or refused with a status and phrase."""

    registered: bool
    refused: tuple[int, str] | None
    returncode: int
    output: str


PHONE = "ovp SIPp phone"  # the User-Agent of SIPp's phone


def register(directory: Path, proxy: Kamailio, *, user_name: str, password: str, expires: int, port: int,
             user_agent: str = PHONE, timeout_s: int = 15) -> Registration:
    """SIPp REGISTERs `user_name` through the proxy from `port` (its contact's port too), asking for
    `expires` seconds (0: removes the contact), as `user_agent`; returns once the registrar answered."""
    log_file = directory / f"register-{port}-{time.time_ns()}.log"
    done = subprocess.run(
        [required("sipp"), "-sf", str(REGISTER), "-s", user_name, "-au", user_name, "-ap", password,
         "-key", "expires", str(expires), "-key", "user_agent", user_agent, "-m", "1", "-i", HOST,
         "-p", str(port), "-mp", str(free_udp_port()),
         "-nostdin", "-trace_logs", "-log_file", str(log_file), "-timeout", f"{timeout_s}s",
         "-timeout_error", proxy.address],
        cwd=directory, capture_output=True, text=True, timeout=timeout_s + 30, check=False,
    )
    registered, refused = False, None
    for line in log_file.read_text().splitlines() if log_file.exists() else []:
        outcome, _call_id, *rest = line.split(" ", 2)
        if outcome == "registered":
            registered = True
        elif outcome == "refused":
            status, _, phrase = rest[0].partition(" ")
            refused = (int(status), phrase)
    return Registration(registered, refused, done.returncode, done.stdout + done.stderr)

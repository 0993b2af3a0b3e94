"""The API docs page in a real browser: headless Chromium (Debian's `chromium`) opens GET /docs on a
real `ovp serve`, and the page renders every operation of the OpenAPI document that server serves,
with nothing fetched from anywhere but that server.

Chromium runs once for the module: it loads the page, lets its scripts run (on virtual time, bounded),
then writes the rendered DOM, a screenshot and a NetLog of every request and connection it made.
Off this machine nothing can be reached anyway: every host name resolves to nothing but 127.0.0.1,
and every connection that does not go to loopback is sent to a proxy port on 127.0.0.1 that refuses
it. So the page rendering at all shows it needs nothing from outside, and the NetLog shows it asked
for nothing from outside.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from tests.e2e.servers import HOST, OvpServer, launch

pytestmark = pytest.mark.e2e

CHROMIUM_TIMEOUT = 60.0
VIRTUAL_TIME_BUDGET_MS = 10_000
WINDOW_SIZE = "1280,2000"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
# The contract's operations, named here so that an empty document cannot pass for a rendered one.
PROFILE_SUMMARIES = {
    "Get all outbound voice profiles",
    "Create an outbound voice profile",
    "Retrieve an outbound voice profile",
    "Updates an existing outbound voice profile.",
    "Delete an outbound voice profile",
}


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is not None:
        return path
    reason = "headless Chromium is needed for this test and is not installed: `make install` installs Debian's " \
             "chromium package"
    if os.geteuid() != 0:  # make install could not install it: a machine of a user's, not CI's
        pytest.skip(reason + " when it runs as root")
    pytest.fail(reason)


@dataclass
class Operation:
    method: str = ""
    path: str = ""
    summary: str = ""


class RenderedOperations(HTMLParser):
    """The operations Swagger UI rendered: each `.opblock-summary` with its method, path and summary."""

    VOID: ClassVar[frozenset[str]] = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
    )
    FIELDS: ClassVar[dict[str, str]] = {"opblock-summary-method": "method", "opblock-summary-description": "summary"}

    def __init__(self) -> None:
        super().__init__()
        self.operations: list[Operation] = []
        self.title = ""
        self._capturing: list[tuple[str, int]] = []  # (field, depth at which its element opened)
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if "opblock-summary" in classes:
            self.operations.append(Operation())
        if "opblock-summary-path" in classes and self.operations:
            self.operations[-1].path = attributes.get("data-path") or ""
        if tag == "h1" and "title" in classes:
            self._capturing.append(("title", self._depth))
        for name, field_name in self.FIELDS.items():
            if name in classes:
                self._capturing.append((field_name, self._depth))
        if tag not in self.VOID:
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        self._depth -= 1
        while self._capturing and self._capturing[-1][1] == self._depth:
            self._capturing.pop()

    def handle_data(self, data: str) -> None:
        for field_name, depth in self._capturing:
            if field_name == "title":
                # Only the title's own text, not the version badges nested in it.
                if self._depth == depth + 1:
                    self.title += data
            elif self.operations:
                operation = self.operations[-1]
                setattr(operation, field_name, getattr(operation, field_name) + data)


@dataclass
class Rendered:
    """What one Chromium run on /docs left behind."""

    origin: str
    dom: str
    console: list[str]
    net_log: dict[str, Any]
    screenshot: Path
    seconds: float
    output: str = field(repr=False)

    def events(self, *types: str) -> Iterator[dict[str, Any]]:
        """The NetLog's events of the given types that have parameters, each as its parameters."""
        names = {number: name for name, number in self.net_log["constants"]["logEventTypes"].items()}
        for event in self.net_log["events"]:
            params = event.get("params")
            if names.get(event["type"]) in types and isinstance(params, dict):
                yield params

    def page_requests(self) -> list[str]:
        """The URLs of every request made for the page: its own, and those of the frame it is the top of
        (including any to another site), as opposed to Chromium's own background requests."""
        site = f"http://{HOST}"
        return [
            params["url"]
            for params in self.events("URL_REQUEST_START_JOB")
            if "url" in params
            and (
                params.get("initiator") == self.origin
                or str(params.get("network_isolation_key", "")).split(" ")[0] == site
            )
        ]

    def tcp_connections(self) -> set[str]:
        """Every address Chromium tried to open a TCP connection to, for any reason."""
        return {
            params["address"] for params in self.events("TCP_CONNECT_ATTEMPT") if isinstance(params.get("address"), str)
        }

    def udp_datagrams_sent(self) -> int:
        """UDP datagrams sent (a UDP socket's "connect", as in Chromium's IPv6 reachability probe, sends none)."""
        return sum(1 for _ in self.events("UDP_BYTES_SENT"))


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium's path, looked for before any server is started."""
    return chromium_path()


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvpServer]:
    directory = tmp_path_factory.mktemp("ovp-docs")
    server = launch(directory, f"sqlite:///{directory / 'ovp.db'}", auth="open")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def rendered(chromium: str, docs_server: OvpServer, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    directory = tmp_path_factory.mktemp("chromium")
    screenshot = directory / "docs.png"
    net_log = directory / "netlog.json"
    # A port on loopback that is bound but never listens: every connection to it is refused at once.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as dead_end:
        dead_end.bind((HOST, 0))
        dead_port = dead_end.getsockname()[1]
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            f"--user-data-dir={directory / 'profile'}",
            f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {HOST}",
            f"--proxy-server=http://{HOST}:{dead_port}",  # loopback itself is never proxied
            f"--log-net-log={net_log}",
            "--enable-logging=stderr",
            "--v=0",
            f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}",
            f"--window-size={WINDOW_SIZE}",
            f"--screenshot={screenshot}",
            "--dump-dom",
            f"{docs_server.origin}/docs",
        ]
        started = time.monotonic()
        # A session of its own, so that a hung browser is ended with all its helper processes.
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            dom, errors = process.communicate(timeout=CHROMIUM_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            _, errors = process.communicate(timeout=10.0)
            pytest.fail(f"Chromium did not finish within {CHROMIUM_TIMEOUT} s; its output:\n{errors}")
        seconds = time.monotonic() - started
    assert process.returncode == 0, f"Chromium exited with status {process.returncode}; its output:\n{errors}"
    assert net_log.exists(), f"Chromium wrote no NetLog; its output:\n{errors}"
    console = [line for line in errors.splitlines() if ":CONSOLE" in line]
    return Rendered(
        origin=docs_server.origin,
        dom=dom,
        console=console,
        net_log=json.loads(net_log.read_text()),
        screenshot=screenshot,
        seconds=seconds,
        output=errors,
    )


def served_operations(server: OvpServer) -> list[Operation]:
    document = httpx.get(f"{server.origin}/v2/openapi.json", timeout=10.0).json()
    return [
        Operation(method.upper(), path, operation.get("summary", ""))
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in METHODS
    ]


def test_the_page_renders_every_operation_of_the_served_document(rendered: Rendered, docs_server: OvpServer) -> None:
    page = RenderedOperations()
    page.feed(rendered.dom)
    page.close()
    shown = {(op.method, op.path, op.summary.strip()) for op in page.operations}
    served = {(op.method, op.path, op.summary) for op in served_operations(docs_server)}
    assert "Failed to load API definition" not in rendered.dom
    assert {summary for _, _, summary in shown} >= PROFILE_SUMMARIES, shown
    assert shown == served
    assert len(page.operations) == len(served)
    assert page.title.strip() == "ovp: Telnyx-style outbound voice profiles"
    assert rendered.screenshot.stat().st_size > 10_000, "the screenshot is (nearly) empty"


def test_the_page_runs_without_a_script_error_or_a_refused_load(rendered: Rendered) -> None:
    # Uncaught errors, Content-Security-Policy refusals and failed loads all reach the console.
    assert rendered.console == []


def test_the_page_and_its_assets_come_from_this_server_alone(rendered: Rendered) -> None:
    requests = rendered.page_requests()
    elsewhere = [url for url in requests if not url.startswith(f"{rendered.origin}/")]
    assert elsewhere == [], f"the page asked for something off this server: {elsewhere}"
    paths = {url.removeprefix(rendered.origin).split("?")[0] for url in requests}
    assert paths >= {
        "/docs",
        "/docs/static/swagger-ui.css",
        "/docs/static/swagger-ui-bundle.js",
        "/docs/static/ovp-docs.js",
        "/v2/openapi.json",
    }, paths


def test_chromium_opened_no_connection_off_loopback(rendered: Rendered) -> None:
    addresses = rendered.tcp_connections()
    assert f"{HOST}:{rendered.origin.rsplit(':', 1)[1]}" in addresses, addresses
    assert {address.rsplit(":", 1)[0] for address in addresses} == {HOST}, addresses
    assert rendered.udp_datagrams_sent() == 0

"""ovp's pytest plugin: a real ovp, in-process and in memory, for tests of code that uses Telnyx.

Installed with ovp, it gives every test suite three fixtures:

- `ovp_server`: one ovp per test session (per worker under pytest-xdist), serving open mode on a
  free loopback port, with an in-memory database;
- `ovp_token`: a bearer token of the test's own, so each test sees only its own data;
- `ovp_client`: a `telnyx.Telnyx` client bound to that server and token.

    def test_office_profile(ovp_client):
        profile = ovp_client.outbound_voice_profiles.create(name="office")
        assert ovp_client.outbound_voice_profiles.retrieve(profile.data.id).data.name == "office"
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import uvicorn

from ovp.api.app import OvpApp, create_app
from ovp.config import Settings

if TYPE_CHECKING:
    import telnyx

HOST = "127.0.0.1"
START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class OvpServer:
    app: OvpApp
    port: int

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to hand a Telnyx SDK as its base URL."""
        return f"{self.origin}/v2"


@pytest.fixture(scope="session")
def ovp_server() -> Iterator[OvpServer]:
    app = create_app(Settings(database_url="sqlite:///:memory:", auth="open"))
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="ovp-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the in-process ovp server did not start")
        time.sleep(0.01)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    yield OvpServer(app, port)
    server.should_exit = True
    thread.join(timeout=START_TIMEOUT_S)


@pytest.fixture
def ovp_token(request: pytest.FixtureRequest) -> str:
    """In open mode each token is an account: this test's own."""
    return f"test-{request.node.name[:40]}-{secrets.token_hex(6)}"


@pytest.fixture
def ovp_client(ovp_server: OvpServer, ovp_token: str) -> Iterator[telnyx.Telnyx]:
    import telnyx  # the SDK is the test suite's dependency, not ovp's

    with telnyx.Telnyx(api_key=ovp_token, base_url=ovp_server.base_url) as client:
        yield client

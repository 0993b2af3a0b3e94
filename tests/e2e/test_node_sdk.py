"""npm's `telnyx` SDK against real `ovp serve` processes: runs the Node test suite in tests/node.

That suite (`node --test`) drives every operation and error through the SDK, and runs the JavaScript
example from Telnyx's documentation for PATCH /v2/outbound_voice_profiles/{id} as written, with only
`baseURL` added. `make install` installs Node's side (`npm ci` in tests/node); without it, or without
`node`, this test fails and says so: it never skips.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.servers import OvpServer, clean_environment, launch

pytestmark = pytest.mark.e2e

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
MINIMUM_NODE = 20  # telnyx on npm supports "Node.js 20 LTS or later"
NODE_TIMEOUT = 120.0
MINIMUM_TESTS = 29
INSTALL_HINT = "run `make install` (it runs `npm ci` in tests/node)"


def node_executable() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"`node` is not on PATH: install Node.js {MINIMUM_NODE} or later, then {INSTALL_HINT}")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=False)
    match = re.fullmatch(r"v(\d+)\.\d+\.\d+\S*", version.stdout.strip())
    if version.returncode != 0 or match is None:
        pytest.fail(f"`{node} --version` did not answer a version: {version.stdout!r} {version.stderr!r}")
    if int(match.group(1)) < MINIMUM_NODE:
        pytest.fail(f"Node.js {version.stdout.strip()} is too old: the telnyx SDK needs {MINIMUM_NODE} or later")
    return node


def check_installed() -> None:
    """tests/node/node_modules holds telnyx at exactly the version package-lock.json pins."""
    lock = json.loads((NODE_DIR / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/telnyx"]["version"]
    installed_manifest = NODE_DIR / "node_modules" / "telnyx" / "package.json"
    if not installed_manifest.is_file():
        pytest.fail(f"tests/node/node_modules has no telnyx SDK: {INSTALL_HINT}")
    installed = json.loads(installed_manifest.read_text())["version"]
    if installed != pinned:
        pytest.fail(f"tests/node has telnyx {installed} installed but package-lock.json pins {pinned}: {INSTALL_HINT}")


@contextmanager
def servers(tmp_path: Path, database_url: str) -> Iterator[tuple[OvpServer, OvpServer]]:
    """An open-mode server for the SDK's own accounts on `database_url` (SQLite or PostgreSQL), and
    a keys-mode server without a single key (where every key is unknown) on an SQLite file of its
    own; both stopped by PID at teardown."""
    open_server = launch(tmp_path, database_url, auth="open")
    try:
        keys_server = launch(tmp_path, f"sqlite:///{tmp_path / 'keys.db'}", auth="keys")
    except BaseException:
        open_server.stop()
        raise
    try:
        yield open_server, keys_server
    finally:
        try:
            keys_server.stop()
        finally:
            open_server.stop()


def decoded(captured: str | bytes | None) -> str:
    """What a timed-out run captured, which subprocess hands over as bytes even with text=True."""
    if isinstance(captured, bytes):
        return captured.decode(errors="replace")
    return captured or ""


def summary(output: str, name: str) -> int | None:
    """A count from node's TAP summary, such as `# pass 18`."""
    match = re.search(rf"^# {name} (\d+)$", output, re.MULTILINE)
    return int(match.group(1)) if match else None


def test_the_node_sdk_drives_every_operation_and_error(tmp_path: Path, file_database_url: str) -> None:
    # Checked in the test itself, before any server starts, so that a missing install is a failure.
    node = node_executable()
    check_installed()
    with servers(tmp_path, file_database_url) as (open_server, keys_server):
        run_node_suite(node, open_server, keys_server)


def run_node_suite(node: str, open_server: OvpServer, keys_server: OvpServer) -> None:
    token = f"e2e-node-{secrets.token_hex(8)}"
    env = {
        **clean_environment(),
        "OVP_BASE_URL": open_server.base_url,
        "OVP_API_KEY": token,
        "OVP_KEYS_BASE_URL": keys_server.base_url,
        "TELNYX_API_KEY": token,
        "NO_COLOR": "1",
    }
    try:
        run = subprocess.run(
            [node, "--test", "--test-reporter=tap"],
            cwd=NODE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(
            f"`node --test` in tests/node took more than {NODE_TIMEOUT} s; its output so far:\n"
            f"{decoded(expired.stdout)}\n{decoded(expired.stderr)}\n"
            f"open-mode server log:\n{open_server.log()}"
        )
    output = f"{run.stdout}\n{run.stderr}"
    report = (
        f"`node --test` in tests/node exited with {run.returncode}; its output:\n{output}\n"
        f"open-mode server log:\n{open_server.log()}\nkeys-mode server log:\n{keys_server.log()}"
    )
    assert run.returncode == 0, report
    passed = summary(run.stdout, "pass")
    assert passed is not None, report
    assert passed >= MINIMUM_TESTS, report
    for unwanted in ("fail", "cancelled", "skipped", "todo"):
        assert summary(run.stdout, unwanted) == 0, report

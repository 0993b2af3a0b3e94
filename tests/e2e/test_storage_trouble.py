"""Storage trouble under a served SQLite file is told plainly: a full disk or read-only storage is a
503 that says so, never a 500, /readyz names the cause, service comes back by itself once the
storage does, and nothing stored is corrupted. A database file deleted or replaced under the server
is noticed: writes are refused rather than acknowledged into a file that is gone."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import PROFILES, OvpServer, free_port, launch, run_ovp

pytestmark = pytest.mark.e2e

TMPFS_SIZE = "4m"
RECOVERY_S = 10.0


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A file system of a few MiB of the test's own (a tmpfs), which it may fill and make read-only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(mount_point)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"this machine does not let the test mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(directory: Path) -> Path:
    """Fills the file system with one file; answers it."""
    filler = directory / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def _wait_for(check: object, what: str) -> None:
    deadline = time.monotonic() + RECOVERY_S
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not {what} within {RECOVERY_S} s"
        time.sleep(0.1)


def _refused_plainly(response: httpx.Response, words: str) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "10007"
    assert words in error["detail"]
    assert "Traceback" not in response.text
    assert response.headers["retry-after"] == "1"


def _writes_until_refused(client: httpx.Client, profile_id: str) -> httpx.Response:
    """PATCHes with growing names until the storage refuses one (SQLite's page cache may take a
    few writes before it needs a new page)."""
    for n in range(200):
        response = client.patch(f"{PROFILES}/{profile_id}", json={"name": f"filling {n} " + "x" * 200})
        if response.status_code != 200:
            return response
    raise AssertionError("the full disk never refused a write")


def _serve(directory: Path, tmp_path: Path) -> OvpServer:
    return launch(tmp_path, f"sqlite:///{directory / 'ovp.db'}", auth="open")


def test_a_full_disk_is_a_plain_503_and_service_resumes_once_space_is_freed(small_disk: Path, tmp_path: Path) -> None:
    server = _serve(small_disk, tmp_path)
    try:
        with server.http("full-disk") as client:
            kept = [client.post(PROFILES, json={"name": f"kept {n}"}).json()["data"] for n in range(20)]
            filler = _fill(small_disk)
            _refused_plainly(_writes_until_refused(client, kept[0]["id"]), "disk is full")
            _refused_plainly(client.post(PROFILES, json={"name": "refused"}), "disk is full")
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["cause"] == "disk full"
            assert client.get(f"{PROFILES}/{kept[1]['id']}").status_code == 200  # reads go on
            assert "Traceback" not in server.log()

            filler.unlink()
            _wait_for(lambda: client.get("/readyz").status_code == 200, "ready again")
            assert client.post(PROFILES, json={"name": "after"}).status_code == 200
            for profile in kept[1:]:
                assert client.get(f"{PROFILES}/{profile['id']}").json()["data"]["name"] == profile["name"]
    finally:
        server.stop()
    log = server.log()
    assert log.count("database unavailable: disk full") == 1, log
    with sqlite3.connect(small_disk / "ovp.db") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_read_only_storage_stops_serve_with_one_clear_line(small_disk: Path) -> None:
    """Linux will not make storage read-only under a process that writes to it (a remount answers
    EBUSY), so read-only storage is met at start: `ovp serve` says so and exits."""
    url = f"sqlite:///{small_disk / 'ovp.db'}"
    assert run_ovp("db", "upgrade", "--database", url).returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    started = run_ovp("serve", "--auth", "open", "--port", str(free_port()), "--database", url)
    assert started.returncode == 1
    assert started.stderr.startswith(f"ovp: error: cannot use the database {url}: "), started.stderr
    assert "Traceback" not in started.stderr
    assert len(started.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_database_file_deleted_or_replaced_under_the_server_refuses_writes(tmp_path: Path, how: str) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    server = _serve(directory, tmp_path)
    try:
        with server.http("gone") as client:
            kept = client.post(PROFILES, json={"name": "kept"}).json()["data"]
            database = directory / "ovp.db"
            for path in directory.glob("ovp.db*"):
                path.unlink()
            if how == "replaced":
                sqlite3.connect(database).close()  # another, empty database now at the path
            _refused_plainly(client.patch(f"{PROFILES}/{kept['id']}", json={"name": "lost"}), "restart ovp")
            _refused_plainly(client.post(PROFILES, json={"name": "lost"}), "restart ovp")
            ready = client.get("/readyz")
            assert (ready.status_code, ready.json()["cause"]) == (503, "file replaced")
    finally:
        server.stop()

"""What an operator relies on, against real `ovp serve` processes: overload is shed and the probes
still answer, SIGTERM ends the server in time, rate limits hold across workers and servers as
Telnyx answers them, /metrics adds up, and every answer and log line carries its request id."""

from __future__ import annotations

import json
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import telnyx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.flood import WRK, flood
from tests.e2e.servers import HOST, PROFILES, child_processes, free_port, launch, run_ovp

pytestmark = pytest.mark.e2e

FLOOD_CONNECTIONS = 1000
FLOOD_S = 6
# A probe that waits this long was starved (its connection left in the kernel's queue, or its
# request unread), not merely slowed by the load. The p99 a probe gets under this flood is a
# figure for the benchmark (`python -m bench.flood`), not for a timed assertion here.
STARVED_S = 1.0


def _rss_kib(pid: int) -> int:
    """The resident memory of the server: its process and its workers."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) + sum(_rss_kib(child) for child in child_processes(pid))
    raise AssertionError("no VmRSS")


@pytest.mark.alone
@pytest.mark.skipif(WRK is None, reason="wrk is not installed (make install installs it when it runs as root)")
def test_a_flood_of_1000_connections_leaves_the_probes_answering_and_memory_flat(tmp_path: Path) -> None:
    """The probes of the admin listener (its own port, a thread of the server's main process)."""
    admin_port = free_port()
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'ovp.db'}", auth="open",
                    extra=("--admin-port", str(admin_port)))
    try:
        with server.http("flood") as client:
            profile = client.post(PROFILES, json={"name": "office"}).json()["data"]
        before = _rss_kib(server.pid)
        with flood(tmp_path, f"{server.origin}{PROFILES}/{profile['id']}", token="flood") as running:
            time.sleep(0.3)  # wrk is still opening its connections: the probes must be accepted among them
            latencies: list[float] = []
            peak = before
            # A new connection for every probe: each must be accepted while the flood runs.
            while running.poll() is None:
                for path in ("/healthz", "/readyz"):
                    began = time.monotonic()
                    assert httpx.get(f"http://{HOST}:{admin_port}{path}", timeout=10.0).status_code == 200
                    latencies.append(time.monotonic() - began)
                peak = max(peak, _rss_kib(server.pid))
                time.sleep(0.02)
        assert len(latencies) > 20, f"only {len(latencies)} probes in {FLOOD_S} s"
        assert max(latencies) < STARVED_S, (
            f"a probe waited {max(latencies) * 1000:.0f} ms; median {statistics.median(latencies) * 1000:.0f} ms")
        assert peak < before + 64 * 1024, f"RSS grew from {before} KiB to {peak} KiB"
    finally:
        server.stop()


def test_sigterm_finishes_requests_in_progress_and_ends_in_time_whatever_the_clients_do(tmp_path: Path) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'ovp.db'}", auth="open",
                    extra=("--shutdown-timeout", "2", "--body-timeout", "60"))
    with server.http("stop") as client:
        client.post("/_ovp/admin/faults", json={"method": "GET", "path": PROFILES, "delay_ms": 1000})
    answered: list[int] = []
    slow = threading.Thread(target=lambda: answered.append(
        httpx.get(f"{server.origin}{PROFILES}", headers={"Authorization": "Bearer stop"}, timeout=30).status_code))
    try:
        half = socket.create_connection((HOST, server.port))  # a client stuck halfway through its body
        half.sendall(b"PATCH /v2/outbound_voice_profiles/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"name\"")
        slow.start()
        time.sleep(0.3)  # the slow GET is in progress
        began = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=15)
        took = time.monotonic() - began
        slow.join(timeout=10)
        half.close()
    finally:
        server.stop()
    assert answered == [200], "the request in progress was not finished"
    assert took < 2 + 3, f"the server took {took:.1f} s to stop"
    # A server may also end by the signal itself once it has shut down: the status then says SIGTERM.
    assert server.process.returncode in (0, -signal.SIGTERM)


def _key(url: str, account: str, *extra: str) -> str:
    created = run_ovp("keys", "create", "--account", account, "--database", url, *extra)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def test_rate_limits_answer_as_telnyx_does_per_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ovp.db'}"
    default_key, own_key = _key(url, "acme"), _key(url, "acme", "--rate-limit", "2/hour")
    server = launch(tmp_path, url, auth="keys", extra=("--rate-limit", "5/hour"))
    try:
        with server.http(default_key) as client:
            answers = [client.get(PROFILES) for _ in range(7)]
        assert [answer.status_code for answer in answers] == [200] * 5 + [429] * 2
        assert [answer.headers["x-ratelimit-remaining"] for answer in answers] == ["4", "3", "2", "1", "0", "0", "0"]
        assert all(answer.headers["x-ratelimit-limit"] == "5" for answer in answers)
        assert all(0 < int(answer.headers["x-ratelimit-reset"]) <= 3600 for answer in answers)
        refused = answers[-1].json()["errors"][0]
        assert (refused["code"], refused["title"]) == ("10011", "Too many requests")
        with server.http(own_key) as client:
            assert [client.get(PROFILES).status_code for _ in range(3)] == [200, 200, 429]
    finally:
        server.stop()


def test_rate_limits_hold_across_servers_sharing_redis(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ovp.db'}"
    key = _key(url, "acme", "--rate-limit", "6/hour")
    shared = ("--rate-limit-storage", "redis://127.0.0.1:6379")
    servers = [launch(tmp_path, url, auth="keys", extra=shared), launch(tmp_path, url, auth="keys", extra=shared)]
    try:
        statuses = []
        for n in range(10):
            with servers[n % 2].http(key) as client:
                statuses.append(client.get(PROFILES).status_code)
        assert statuses.count(200) == 6
        assert statuses[6:] == [429] * 4
    finally:
        for server in servers:
            server.stop()


def test_several_workers_need_a_shared_rate_limit_store(tmp_path: Path) -> None:
    refused = run_ovp("serve", "--workers", "2", "--database", f"sqlite:///{tmp_path / 'ovp.db'}")
    assert refused.returncode == 2
    assert "--rate-limit-storage" in refused.stderr


def test_the_sdk_retries_a_429_by_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ovp.db'}"
    key = _key(url, "acme", "--rate-limit", "2/second")
    server = launch(tmp_path, url, auth="keys")
    try:
        with telnyx.Telnyx(api_key=key, base_url=server.base_url, max_retries=3, timeout=10.0) as client:
            created = [client.outbound_voice_profiles.create(name=f"retried {n}").data for n in range(5)]
        names = [profile.name for profile in created if profile is not None]
        assert names == [f"retried {n}" for n in range(5)]
        assert server.log().count(" 429 ") >= 1, "no request was limited, so nothing was retried"
    finally:
        server.stop()


def _samples(origin: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{origin}/metrics", timeout=10).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_metrics_add_up_across_workers(tmp_path: Path) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'ovp.db'}", auth="open", extra=("--workers", "2"))
    try:
        with server.http("metrics") as client:
            client.put("/ovp/rates", content="prefix,rate\n1,0.01\n", headers={"Content-Type": "text/csv"})
            for n in range(20):  # new connections, spread over both workers by the kernel
                with server.http("metrics") as fresh:
                    assert fresh.post(PROFILES, json={"name": f"counted {n}"}).status_code == 200
            profile = client.post(PROFILES, json={"name": "calls", "whitelisted_destinations": ["US"]}).json()["data"]
            for number in ("+14155552671", "+442071838750"):
                client.post("/ovp/call_authorizations",
                            json={"outbound_voice_profile_id": profile["id"], "to": number, "from": "+12025550100"})
        samples = _samples(server.origin)
    finally:
        server.stop()
    created = samples[("ovp_http_requests_total",
                       (("method", "POST"), ("route", "/v2/outbound_voice_profiles"), ("status", "200")))]
    assert created == 21
    assert samples[("ovp_call_authorizations_total", (("code", ""), ("decision", "allowed")))] == 1
    assert samples[("ovp_call_authorizations_total", (("code", "D13"), ("decision", "rejected")))] == 1
    assert samples[("ovp_active_calls", ())] == 1
    assert samples[("ovp_database_available", ())] == 1
    assert samples[("ovp_group_commit_size_count", ())] >= 23
    writes = (("backend", "sqlite"), ("operation", "write"))
    assert samples[("ovp_database_operation_duration_seconds_count", writes)] >= 23
    assert len(set(re.findall(r"Started server process \[(\d+)\]", server.log()))) == 2


def test_every_answer_and_log_line_carries_its_request_id(tmp_path: Path) -> None:
    database = tmp_path / "ovp.db"
    server = launch(tmp_path, f"sqlite:///{database}", auth="open", extra=("--log-format", "json"))
    try:
        with server.http("ids") as client:
            profile = client.post(PROFILES, json={"name": "office"}).json()["data"]
            chosen = client.get(PROFILES, headers={"X-Request-Id": "trace-abc-123"})
            made = client.get(PROFILES)
            with sqlite3.connect(database) as connection:  # break the store behind the server's back
                connection.execute("DROP TABLE outbound_voice_profiles")
            failed = client.get(f"{PROFILES}/{profile['id']}")
    finally:
        server.stop()  # the last access line is written after its answer goes out: a stop flushes it
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert chosen.headers["x-request-id"] == "trace-abc-123"
    assert len(made.headers["x-request-id"]) == 32
    by_id = {line["request_id"]: line for line in lines if line["logger"] == "ovp.access"}
    access = by_id["trace-abc-123"]
    assert (access["method"], access["path"], access["status"]) == ("GET", PROFILES, 200)
    assert access["account"].startswith("open:")
    assert access["level"] == "INFO"
    assert access["time"].endswith("Z")
    assert made.headers["x-request-id"] in by_id
    assert all({"time", "level", "logger", "request_id", "message"} <= set(line) for line in lines)
    assert failed.status_code == 500
    traced = [line for line in lines if line["level"] == "ERROR" and "traceback" in line]
    assert [line["request_id"] for line in traced] == [failed.headers["x-request-id"]]


def test_a_failure_at_start_up_stops_the_server_with_one_clear_line(tmp_path: Path) -> None:
    """The app's start-up (migrations in-process, as test clients run it) fails on a database that is
    not there, under the server ovp serves with: the server exits with a non-zero status instead of
    serving."""
    script = (
        "from granian import Granian\n"
        "from ovp.api.app import create_app\n"
        "from ovp.config import Settings\n"
        "from ovp.server.run import granian_options\n"
        "def make_app():\n"
        "    return create_app(Settings(database_url='postgresql://nobody@127.0.0.1:1/none', auth='open'))\n"
        f"options = granian_options(Settings(port={free_port()}, auth='open'))\n"
        "options['respawn_failed_workers'] = False  # a worker that fails to start stops the server at once\n"
        "Granian('__main__:make_app', **options).serve()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "start-up failed" in done.stderr or "Application startup failed" in done.stderr, done.stderr


def test_a_rate_limit_is_told_as_it_was_given(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ovp.db'}"
    key = _key(url, "acme", "--rate-limit", "2/second")
    server = launch(tmp_path, url, auth="keys")
    try:
        with server.http(key) as client:
            answers = [client.get(PROFILES) for _ in range(6)]
    finally:
        server.stop()
    limited = [answer for answer in answers if answer.status_code == 429]
    assert limited, [answer.status_code for answer in answers]
    assert limited[0].json()["errors"][0]["detail"] == "Rate limit exceeded: at most 2 requests a second for this key."


def test_an_ignored_field_is_named_to_the_sdk_and_in_the_access_log(tmp_path: Path) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'ovp.db'}", auth="open", extra=("--log-format", "json"))
    try:
        with server.client("ignored") as client:
            raw = client.outbound_voice_profiles.with_raw_response.create(
                name="office", extra_body={"concurrent_calls": 5})
            profile = raw.parse().data
    finally:
        server.stop()  # the access line is written after the answer goes out: a stop flushes it
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert profile is not None
    assert profile.name == "office"  # the SDK reads the answer as ever
    assert raw.headers["ovp-ignored-fields"] == "concurrent_calls"
    created = [line for line in lines if line["logger"] == "ovp.access" and line["method"] == "POST"]
    assert created[0]["ignored_fields"] == ["concurrent_calls"]
    assert created[0]["message"].endswith(" ignored=concurrent_calls")

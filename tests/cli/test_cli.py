"""The `ovp` command as a user runs it: a real process, its output and its exit status."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ovp.api.app import create_app
from ovp.config import Settings
from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.refusal import Refusal
from ovp.domain.webhooks import events
from ovp.store import calls as call_store
from ovp.store import refusals as refusal_store
from ovp.store import webhooks as webhook_store
from ovp.store.database import Transaction
from tests.conftest import PROFILES, bearer
from tests.databases import migrated_database

OVP = str(Path(sys.executable).with_name("ovp"))


def ovp(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OVP, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--bogus"],
        ["serve", "--port", "http"],
        ["serve", "--auth", "nobody"],
        ["serve", "--workers", "0"],
        ["serve", "--database", "mysql://localhost/x"],
        ["serve", "--workers", "2", "--database", "sqlite:///:memory:"],
        ["keys", "create"],
        ["nonsense"],
    ],
)
def test_a_bad_flag_is_one_line_and_status_2(args: list[str]) -> None:
    result = ovp(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("ovp: error: ")
    assert "Traceback" not in result.stderr


def test_a_bad_environment_value_is_caught_like_a_flag(tmp_path: Path) -> None:
    result = subprocess.run(
        [OVP, "serve"], capture_output=True, text=True, timeout=60, check=False,
        env={"OVP_PORT": "eighty", "PATH": "/usr/bin:/bin"}, cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "--port" in result.stderr


@pytest.mark.parametrize("command", [[], ["serve"], ["db"], ["db", "upgrade"], ["keys"], ["keys", "create"],
                                     ["keys", "list"], ["keys", "revoke"]])
def test_help_everywhere(command: list[str]) -> None:
    result = ovp(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: ovp")


def test_an_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = ovp("db", "upgrade", "--database", "postgresql://ovp@127.0.0.1:9/none")
    assert result.returncode == 1
    assert result.stderr.startswith("ovp: error: cannot use the database")
    assert result.stderr.count("\n") == 1


def test_keys_are_shown_once_listed_without_secret_and_revoked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    created = ovp("keys", "create", "--account", "acme", "--database", url)
    assert created.returncode == 0, created.stderr
    secret = created.stdout.strip()
    assert len(secret) >= 32  # at least 128 random bits, as text
    key_id = created.stderr.split()[2]

    listed = ovp("keys", "list", "--database", url)
    assert key_id in listed.stdout
    assert "acme" in listed.stdout
    assert secret not in listed.stdout
    assert secret not in (tmp_path / "keys.db").read_bytes().decode("latin-1")

    app = create_app(Settings(database_url=url, auth="keys"))
    with TestClient(app) as client:
        assert client.get(PROFILES, headers=bearer(secret)).status_code == 200
        assert client.get(PROFILES, headers=bearer(secret + "x")).status_code == 401
        assert ovp("keys", "revoke", key_id, "--database", url).returncode == 0
        assert client.get(PROFILES, headers=bearer(secret)).status_code == 401
    row = next(line for line in ovp("keys", "list", "--database", url).stdout.splitlines() if key_id in line)
    assert row.split()[-2].endswith("Z")  # the revocation time, where an active key shows "-"
    assert row.split()[-1] == "default"  # the server's rate limit; `--rate-limit` gives a key its own
    again = ovp("keys", "revoke", key_id, "--database", url)
    assert again.returncode == 1
    assert "no active key" in again.stderr


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ovp.db'}"
    assert ovp("db", "upgrade", "--database", url).returncode == 0
    assert ovp("db", "upgrade", "--database", url).returncode == 0


def test_the_database_password_is_never_printed() -> None:
    result = ovp("db", "upgrade", "--database", "postgresql://ovp:s3cret@127.0.0.1:9/none")
    assert result.returncode == 1
    assert "s3cret" not in result.stderr
    assert "***" in result.stderr


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["keys", "list", "--database", "postgresql://u@h:notaport/db"], "--database"),
        (["keys", "create", "--account", "open:0123", "--database", "sqlite:///unused.db"], "--account"),
        (["keys", "create", "--account", "acme", "--database", "sqlite:///:memory:"], "--database"),
    ],
)
def test_values_that_cannot_work_are_refused_in_one_line(args: list[str], complaint: str) -> None:
    result = ovp(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert complaint in result.stderr


def test_serve_refuses_a_seed_outside_open_mode_or_in_memory() -> None:
    seed = str(Path(__file__).parents[2] / "examples" / "seed.json")
    for args in (["serve", "--seed", seed], ["serve", "--auth", "open", "--seed", seed, "--database", "sqlite:///:memory:"]):
        result = ovp(*args)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1, result.stderr
        assert "--seed" in result.stderr


def test_rates_import_loads_an_accounts_deck(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ovp.db'}"
    deck = tmp_path / "deck.csv"
    deck.write_text("\ufeffprefix,rate,description\n1,0.01,North America\n44,0.02,United Kingdom\n", encoding="utf-8")
    result = ovp("rates", "import", str(deck), "--token", "t", "--database", url)
    assert result.returncode == 0, result.stderr
    assert "2 rates loaded" in result.stderr
    with TestClient(create_app(Settings(database_url=url, auth="open"))) as client:
        listed = client.get("/ovp/rates", headers=bearer("t")).json()["data"]
        assert [(rate["prefix"], rate["rate"]) for rate in listed] == [("1", "0.01"), ("44", "0.02")]
        assert client.get("/ovp/rates", headers=bearer("other")).json()["data"] == []


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("1,abc\n", ["--account", "acme"], "line 1: 'abc' is not a rate"),
        ("1,0.01\n", [], "give exactly one of --account and --token"),
        ("1,0.01\n", ["--account", "a", "--token", "t"], "give exactly one of --account and --token"),
    ],
)
def test_rates_import_refuses_bad_input_in_one_line(tmp_path: Path, content: str, args: list[str], message: str
                                                    ) -> None:
    deck = tmp_path / "deck.csv"
    deck.write_text(content, encoding="utf-8")
    result = ovp("rates", "import", str(deck), *args, "--database", f"sqlite:///{tmp_path / 'ovp.db'}")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_calls_purge_deletes_only_old_calls_that_hold_no_slot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ovp.db'}"
    now_ms = int(time.time() * 1000)
    day_ms = 24 * 3600 * 1000
    old = Authorization(1, 7, None, "+14155552671", "x", "US", "1", "0.01", "60/60", 0, "{}",
                        authorized_ms=now_ms - 3 * day_ms, expires_ms=now_ms - 3 * day_ms + 60_000,
                        max_duration_secs=60)
    rows = [
        old,  # expired long ago: purged
        replace(old, id=2, ended_ms=old.authorized_ms + 1000, duration_secs=1, billed_secs=60, cost_micros=1),
        replace(old, id=3, expires_ms=now_ms + day_ms),  # old, yet still holding its slot: kept
        replace(old, id=4, authorized_ms=now_ms, expires_ms=now_ms + 60_000),  # recent: kept
    ]
    def store(tx: Transaction) -> None:
        for row in rows:
            call_store.insert(tx, "acme", row)
        call_store.end(tx, "acme", replace(old, id=4, ended_ms=now_ms, duration_secs=1, billed_secs=60,
                                           cost_micros=1), "2020-01-01")
        refused = Refusal(5, 7, None, None, "+14155552671", "x", "US", 403, "D2", "Concurrent calls limit reached",
                          decided_ms=now_ms - 3 * day_ms)
        refusal_store.record(tx, "acme", refused)  # old: purged
        refusal_store.record(tx, "acme", replace(refused, id=6, decided_ms=now_ms))  # recent: kept
        for name in ("old delivered", "old pending", "recent delivered"):
            webhook_store.record(tx, "acme", replace(events.rejected(replace(refused, connection_id=9)),
                                                      delivery_id=name))

    with migrated_database(url) as database:
        database.write(store)
    with sqlite3.connect(tmp_path / "ovp.db") as raw:  # settled, and written three days ago
        raw.execute("UPDATE webhook_events SET status = 'delivered' WHERE id LIKE '%delivered'")
        raw.execute("UPDATE webhook_events SET created_ms = ? WHERE id LIKE 'old%'", (now_ms - 3 * day_ms,))
    result = ovp("calls", "purge", "--older-than", "2", "--database", url)
    assert result.returncode == 0, result.stderr
    assert "purged 2 call authorizations, 1 refusals, 1 webhook deliveries and 1 days of spend" in result.stderr
    with sqlite3.connect(tmp_path / "ovp.db") as raw:
        assert sorted(row[0] for row in raw.execute("SELECT id FROM webhook_events")) == [
            "old pending", "recent delivered"]
    with migrated_database(url) as database:
        kept = database.read(lambda tx: [call_store.get(tx, "acme", n) is not None for n in (1, 2, 3, 4)])
        refusals_kept = database.read(lambda tx: [refusal_store.get(tx, "acme", n) is not None for n in (5, 6)])
    assert kept == [False, False, True, True]
    assert refusals_kept == [False, True]
    assert ovp("calls", "purge", "--older-than", "1", "--database", url).returncode == 2


def test_version_and_the_environment_variables_in_help() -> None:
    version = ovp("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("ovp ")
    serve_help = ovp("serve", "--help").stdout
    for variable in ("OVP_PORT", "OVP_DATABASE_URL", "OVP_DB_TIMEOUT", "OVP_RATE_LIMIT", "OVP_LOG_FORMAT"):
        assert variable in serve_help


def test_keys_mode_in_memory_is_refused_since_it_could_never_hold_a_key() -> None:
    result = ovp("serve", "--database", "sqlite:///:memory:")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "in-memory database could never hold one" in result.stderr


def test_open_mode_refuses_a_database_that_holds_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    assert ovp("keys", "create", "--account", "acme", "--database", url).returncode == 0
    result = ovp("serve", "--auth", "open", "--database", url)
    assert result.returncode == 2
    assert "holds API keys" in result.stderr
    assert "Traceback" not in result.stderr


def test_rates_import_refuses_an_account_no_key_belongs_to(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ovp.db'}"
    deck = tmp_path / "deck.csv"
    deck.write_text("1,0.01\n", encoding="utf-8")
    refused = ovp("rates", "import", str(deck), "--account", "nobody", "--database", url)
    assert refused.returncode == 2
    assert "no API key belongs to the account 'nobody'" in refused.stderr
    assert ovp("keys", "create", "--account", "nobody", "--database", url).returncode == 0
    assert ovp("rates", "import", str(deck), "--account", "nobody", "--database", url).returncode == 0


def test_every_command_names_its_database_as_an_absolute_url(tmp_path: Path) -> None:
    """A relative path is the working directory's: the command says which file it was."""
    created = subprocess.run([OVP, "keys", "create", "--account", "me"], capture_output=True, text=True, timeout=60,
                             check=False, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert created.returncode == 0, created.stderr
    assert f"in sqlite:///{tmp_path / 'ovp.db'}." in created.stderr
    listed = subprocess.run([OVP, "keys", "list"], capture_output=True, text=True, timeout=60, check=False,
                            cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert f"the keys of sqlite:///{tmp_path / 'ovp.db'}" in listed.stderr
    upgraded = ovp("db", "upgrade", "--database", f"sqlite:///{tmp_path / 'ovp.db'}")
    assert f"the database sqlite:///{tmp_path / 'ovp.db'} is up to date" in upgraded.stderr


@pytest.mark.parametrize("command", [["keys", "list"], ["keys", "revoke", "key_x"],
                                     ["calls", "purge", "--older-than", "30"]])
def test_a_command_that_only_reads_makes_no_database_where_there_is_none(tmp_path: Path, command: list[str]) -> None:
    result = subprocess.run([OVP, *command], capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert result.stderr == (f"ovp: error: there is no database at sqlite:///{tmp_path / 'ovp.db'}: give --database "
                             "(or OVP_DATABASE_URL) the one your server uses, which `ovp serve` names as it starts\n")
    assert list(tmp_path.iterdir()) == []


def test_rates_import_into_an_account_makes_no_database_where_there_is_none(tmp_path: Path) -> None:
    deck = tmp_path / "deck.csv"
    deck.write_text("1,0.01\n", encoding="utf-8")
    result = subprocess.run([OVP, "rates", "import", "deck.csv", "--account", "me"], capture_output=True, text=True,
                            timeout=60, check=False, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert f"no API key belongs to the account 'me' in sqlite:///{tmp_path / 'ovp.db'}" in result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["deck.csv"]


def test_a_port_in_use_is_one_line_and_nothing_says_the_server_serves(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ovp("serve", "--auth", "open", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr == (f"ovp: error: cannot listen on 127.0.0.1:{port} for the API (address already in use): "
                             f"another process listens there (`ss -ltnp 'sport = :{port}'` names it): stop it, or give "
                             "--port another port\n")

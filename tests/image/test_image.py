"""ovp's container image (Containerfile), run by podman as docs/container.md runs it: its probes and
health check, the official SDK against it, its data kept on its volume across containers, keys mode
with a key made in the container, SIGTERM, its user, and an existing PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest
import telnyx
from telnyx.types import OutboundVoiceProfile

from tests.databases import SKIPPED_REASON, libpq_url, postgres_admin_url, scratch_postgres_database
from tests.image.podman import Podman, image_under_test, podman

pytestmark = pytest.mark.image

OPEN_MODE = {"OVP_AUTH": "open"}
# Seconds ovp may take to stop on SIGTERM, given to it and to `podman stop`, which kills past them.
SHUTDOWN_S = 5
KILLED = "137"


def created(client: telnyx.Telnyx, name: str, concurrent_call_limit: int | None = None) -> OutboundVoiceProfile:
    made = client.outbound_voice_profiles.create(name=name, concurrent_call_limit=concurrent_call_limit).data
    assert made is not None
    assert made.id is not None
    return made


def retrieved(client: telnyx.Telnyx, profile_id: str | None) -> OutboundVoiceProfile:
    found = client.outbound_voice_profiles.retrieve(str(profile_id)).data
    assert found is not None
    return found


@pytest.fixture
def runner() -> Iterator[Podman]:
    with image_under_test() as runner:
        yield runner


def test_its_probes_and_health_check_answer_and_no_process_is_root(runner: Podman) -> None:
    container = runner.run(volume=runner.volume(), env=OPEN_MODE)
    assert httpx.get(f"{container.origin}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{container.admin}/healthz").json()["status"] == "ok"
    podman("healthcheck", "run", container.name)  # the image's HEALTHCHECK: fails on a status but 0
    table = podman("top", container.name, "user", "huser", "args").stdout
    processes = [line.split() for line in table.splitlines()[1:]]
    assert len(processes) >= 3, processes  # the server, its worker and the webhook sender
    assert {(user, host_user) for user, host_user, *_ in processes} == {("ovp", "10001")}, processes


def test_a_profile_the_sdk_made_outlives_its_container_which_sigterm_stops_in_time(runner: Podman) -> None:
    volume = runner.volume()
    first = runner.run(volume=volume, env={**OPEN_MODE, "OVP_SHUTDOWN_TIMEOUT": str(SHUTDOWN_S)})
    made = created(first.client("a-token"), name="in a container", concurrent_call_limit=3)
    assert retrieved(first.client("a-token"), made.id).name == "in a container"

    podman("stop", "--time", str(SHUTDOWN_S), first.name)  # SIGTERM, then SIGKILL past SHUTDOWN_S
    status = first.inspect("{{.State.ExitCode}}")
    assert status == "0", f"status {status} ({KILLED}: killed past {SHUTDOWN_S} s):\n{first.logs()}"

    second = runner.run(volume=volume, env=OPEN_MODE)
    kept = retrieved(second.client("a-token"), made.id)
    assert (kept.name, kept.concurrent_call_limit) == ("in a container", 3)


def test_keys_mode_takes_a_key_made_in_the_container_and_refuses_a_wrong_one(runner: Podman) -> None:
    container = runner.run(volume=runner.volume())  # the image's default mode: keys
    key = container.exec("ovp", "keys", "create", "--account", "me").strip()
    assert created(container.client(key), name="keyed").name == "keyed"
    wrong = key[:-1] + ("A" if key[-1] != "A" else "B")
    with pytest.raises(telnyx.AuthenticationError):
        container.client(wrong).outbound_voice_profiles.list()


def test_it_migrates_and_serves_an_existing_postgresql_database(runner: Podman) -> None:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip(SKIPPED_REASON)
    with scratch_postgres_database(admin_url, migrated=False) as url:
        container = runner.run(env={**OPEN_MODE, "OVP_DATABASE_URL": url}, host_network=True)
        made = created(container.client("a-token"), name="on postgresql")
        with psycopg.connect(libpq_url(url)) as connection:
            row = connection.execute("SELECT name FROM outbound_voice_profiles WHERE id = %s",
                                     (int(str(made.id)),)).fetchone()
        assert row == ("on postgresql",)

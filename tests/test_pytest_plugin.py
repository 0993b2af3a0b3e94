"""ovp's pytest plugin, used as a user would: an example test suite run by pytest itself, also
under pytest-xdist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

EXAMPLE = '''
import httpx
import telnyx
import pytest

SEED = "SEED_PATH"


def test_create_and_read_back(ovp_client):
    profile = ovp_client.outbound_voice_profiles.create(name="office", tags=["example"])
    found = ovp_client.outbound_voice_profiles.retrieve(profile.data.id)
    assert found.data.name == "office"
    assert found.data.tags == ["example"]


def test_each_test_has_an_account_of_its_own(ovp_client):
    assert ovp_client.outbound_voice_profiles.list().data == []
    ovp_client.outbound_voice_profiles.create(name="mine only")


def test_errors_are_the_sdk_s_own(ovp_client):
    with pytest.raises(telnyx.NotFoundError):
        ovp_client.outbound_voice_profiles.retrieve("1293384261075731499")


def test_the_admin_surface_is_at_hand(ovp_server, ovp_token):
    headers = {"Authorization": f"Bearer {ovp_token}"}
    with httpx.Client(base_url=ovp_server.origin, headers=headers) as http:
        assert http.post("/_ovp/admin/reset").status_code == 200


def test_ovp_admin_seeds_injects_faults_and_reads_the_journal(ovp_admin, ovp_client):
    assert ovp_admin.seed(SEED) == {"loaded_profiles": 1, "loaded_connections": 0, "loaded_billing_groups": 0,
                                    "loaded_ips": 0, "loaded_fqdns": 0}
    assert ovp_client.outbound_voice_profiles.retrieve("1293384261075731499").data.name
    fault = ovp_admin.arm_fault(method="POST", path="/v2/outbound_voice_profiles", status=503)
    assert ovp_admin.faults() == [fault]
    with pytest.raises(telnyx.InternalServerError):
        ovp_client.with_options(max_retries=0).outbound_voice_profiles.create(name="refused")
    assert [(entry["status"], entry["body"]) for entry in ovp_admin.journal()][-1] == (503, {"name": "refused"})
    assert ovp_admin.clear_journal() >= 1
    assert ovp_admin.reset() == 1
    assert ovp_client.outbound_voice_profiles.list().data == []


def test_ovp_admin_moves_the_clock(ovp_admin, ovp_client):
    assert ovp_admin.freeze_clock("2026-12-31T23:59:50Z") == "2026-12-31T23:59:50.000Z"
    assert ovp_client.outbound_voice_profiles.create(name="eve").data.created_at == "2026-12-31T23:59:50.000Z"
    assert ovp_admin.advance_clock(10) == "2027-01-01T00:00:00.000Z"
    assert ovp_client.outbound_voice_profiles.create(name="day").data.created_at == "2027-01-01T00:00:00.000Z"


def test_a_clock_moved_by_a_test_is_on_the_wall_clock_for_the_next(ovp_client):
    created = ovp_client.outbound_voice_profiles.create(name="now").data.created_at
    assert not created.startswith(("2026-12-31T23:59", "2027-01-01T00:00:00"))
'''

SEED = Path(__file__).parents[1] / "examples" / "seed.json"



@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_the_fixtures_work_in_a_users_suite(pytester: pytest.Pytester, extra: list[str]) -> None:
    pytester.makepyfile(test_example=EXAMPLE.replace("SEED_PATH", str(SEED)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *extra, timeout=120)
    result.assert_outcomes(passed=7)


def test_importing_the_plugin_loads_no_application_code() -> None:
    """pytest imports the plugin in every suite wherever ovp is installed: it must cost nothing there."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, ovp.testing; print(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split()
    heavy = [name for name in loaded if name.startswith(("ovp.api", "ovp.store", "ovp.services", "uvicorn",
                                                         "sqlalchemy", "asyncpg", "pydantic", "telnyx"))]
    assert heavy == []

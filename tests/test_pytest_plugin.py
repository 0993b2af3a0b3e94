"""ovp's pytest plugin, used as a user would: an example test suite run by pytest itself, also
under pytest-xdist."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

EXAMPLE = '''
import httpx
import telnyx
import pytest


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
'''


@pytest.mark.parametrize("extra", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_the_fixtures_work_in_a_users_suite(pytester: pytest.Pytester, extra: list[str]) -> None:
    pytester.makepyfile(test_example=EXAMPLE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *extra, timeout=120)
    result.assert_outcomes(passed=4)

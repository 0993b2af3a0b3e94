"""The runner of the SDK's generated tests (make sdk-tests), in its parts that need no sdist: the
rewrite of a test file, the pytest settings, the deselection list, the report, and the seed, which
ovp must take as it is."""

from __future__ import annotations

import pytest

from tests.conftest import Api
from tests.sdk_generated import seed, workdir
from tests.sdk_generated.deselection import DESELECTED, BadDeselection, deselections, unused
from tests.sdk_generated.report import Outcome, failures, table
from tests.sdk_generated.substitutions import SUBSTITUTIONS, Substitution
from tests.sdk_generated.workdir import StaleRewrite, pytest_ini, rewrite

GENERATED = '''from tests.utils import assert_matches_type


class TestThings:
    @pytest.mark.skip(reason="Mock server tests are disabled")
    @parametrize
    def test_method_retrieve(self, client: Telnyx) -> None:
        thing = client.things.retrieve(
            "id",
        )
        other = client.things.create(outbound={"outbound_voice_profile_id": "id",
            "id",
        })
'''
RULE = Substitution("test_things.py", '"id",', '"42",', "why")


def test_a_rewrite_drops_the_skip_markers_and_substitutes_whole_lines_only() -> None:
    text, done = rewrite(GENERATED, "test_things.py", [RULE, Substitution("other.py", '"id",', '"7",', "other")])
    assert "pytest.mark.skip" not in text
    assert text.count('"42",') == 2
    assert '"outbound_voice_profile_id": "id",' in text
    assert [(each.rule, each.lines) for each in done] == [(RULE, (9, 12))]


def test_an_id_the_server_makes_is_read_from_the_plugin() -> None:
    text, _ = rewrite(GENERATED, "test_things.py", [Substitution("test_things.py", '"id",', 'seeded_id("x"),', "why")])
    assert f"{workdir.UTILS_IMPORT}\nfrom {workdir.PLUGIN} import seeded_id\n" in text
    assert 'seeded_id("x"),' in text


def test_a_rule_that_matches_nothing_fails_the_rewrite() -> None:
    with pytest.raises(StaleRewrite, match='no line is "gone",'):
        rewrite(GENERATED, "test_things.py", [Substitution("test_things.py", '"gone",', '"1",', "why")])


def test_the_sdists_pytest_settings_are_kept_but_one_test_at_a_time() -> None:
    ini = pytest_ini('[tool.pytest.ini_options]\ntestpaths = ["tests"]\naddopts = "--tb=short -n auto"\n'
                     'xfail_strict = true\nasyncio_mode = "auto"\nfilterwarnings = ["error"]\n')
    assert ini == ("[pytest]\naddopts = --tb=short\nxfail_strict = true\nasyncio_mode = auto\n"
                   "filterwarnings =\n    error\n")


def test_a_deselection_needs_its_reason_and_one_that_deselects_nothing_is_stale() -> None:
    listed = deselections("# comment\n\ntest_a.py::test_one page[number]=0 is refused\n")
    assert listed == {"test_a.py::test_one": "page[number]=0 is refused"}
    with pytest.raises(BadDeselection, match="line 1"):
        deselections("test_a.py::test_one\n")
    ran = [Outcome("test_a.py", "TestA::test_two[loose]", "passed", "")]
    assert unused(listed, ran, ["test_a.py"]) == ["test_a.py::test_one"]
    assert unused(listed, ran, ["test_b.py"]) == []


def test_the_committed_lists_name_files_that_are_run() -> None:
    named = {name.partition("::")[0] for name in deselections(DESELECTED.read_text())}
    named |= {rule.file for rule in SUBSTITUTIONS}
    assert named <= set(workdir.RESOURCE_FILES)


def test_the_report_counts_per_file_and_gathers_a_failures_variants() -> None:
    found = [Outcome("test_a.py", "TestA::test_one[loose]", "failed", "404"),
             Outcome("test_a.py", "TestAsyncA::test_one[aiohttp]", "failed", "404"),
             Outcome("test_a.py", "TestA::test_two[loose]", "passed", ""),
             Outcome("test_a.py", "TestA::test_three[loose]", "deselected", "page 0")]
    assert [line.split() for line in table(found, ["test_a.py", "test_b.py"])[1:]] == [
        ["test_a.py", "1/3", "1", "0"], ["test_b.py", "0/0", "0", "0"], ["all", "1/3", "1", "0"]]
    assert failures(found) == ["test_a.py::test_one [sync loose, async aiohttp]: 404"]


def test_ovp_takes_the_seed_and_the_call_makes_a_delivery(api: Api) -> None:
    loaded = api.request("POST", "/_ovp/admin/seed", json=seed.SEED)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["data"] == {"loaded_profiles": 1, "loaded_connections": 5, "loaded_billing_groups": 2,
                                     "loaded_ips": 1, "loaded_fqdns": 1}
    assert api.request("POST", "/ovp/call_authorizations", json=seed.CALL).status_code == 200
    (delivery,) = api.request("GET", "/v2/webhook_deliveries").json()["data"]
    assert api.request("GET", f"/v2/webhook_deliveries/{delivery['id']}").status_code == 200

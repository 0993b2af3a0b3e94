"""The runner's copy of the generated tests: the sdist's tests/conftest.py, tests/utils.py and the
chosen files of tests/api_resources, with their skip markers removed and ids substituted, and the
plugin that resets and seeds the account before each test (tests/ovp_account.py)."""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.sdk_generated.substitutions import Substitution

# The files of tests/api_resources of the resources ovp serves.
RESOURCE_FILES = (
    "test_outbound_voice_profiles.py", "test_credential_connections.py", "test_ip_connections.py",
    "test_fqdn_connections.py", "test_ips.py", "test_fqdns.py", "test_billing_groups.py", "test_connections.py",
    "test_call_control_applications.py", "test_texml_applications.py", "test_webhook_deliveries.py",
    "test_detail_records.py", "credential_connections/test_actions.py",
    "fqdn_connections/test_fqdn_authentication.py",
)
SUPPORT_FILES = ("tests/__init__.py", "tests/conftest.py", "tests/utils.py", "tests/api_resources/__init__.py")
RESOURCES = Path("tests/api_resources")
SKIP_MARKER = '@pytest.mark.skip(reason="Mock server tests are disabled")'
PLUGIN = "tests.ovp_account"  # the plugin's module in the copy, loaded with -p
SEEDED_CALL = "seeded_id("
UTILS_IMPORT = "from tests.utils import assert_matches_type"


class StaleRewrite(RuntimeError):
    """A file of the sdist no longer looks as the runner expects: a substitution matched no line,
    or skip markers were left."""


@dataclass(frozen=True)
class Substituted:
    rule: Substitution
    lines: tuple[int, ...]  # 1-based, in the sdist's file


def rewrite(text: str, file: str, rules: Iterable[Substitution]) -> tuple[str, list[Substituted]]:
    """`text` without its skip markers, with `rules` of `file` applied; what each rule replaced."""
    mine = [rule for rule in rules if rule.file == file]
    done: dict[Substitution, list[int]] = {rule: [] for rule in mine}
    kept: list[str] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        stripped = line.strip()
        if stripped == SKIP_MARKER:
            continue
        for rule in mine:
            if stripped == rule.old:
                line = line.replace(rule.old, rule.new, 1)
                done[rule].append(number)
                break
        kept.append(line)
    result = "".join(kept)
    if any(SEEDED_CALL in rule.new and found for rule, found in done.items()):
        result = result.replace(UTILS_IMPORT, f"{UTILS_IMPORT}\nfrom {PLUGIN} import seeded_id", 1)
    unmatched = [rule.old for rule, found in done.items() if not found]
    if unmatched:
        raise StaleRewrite(f"{file}: no line is {', '.join(unmatched)}")
    if "Mock server tests are disabled" in result:
        raise StaleRewrite(f"{file}: a skip marker of another form is left")
    return result, [Substituted(rule, tuple(found)) for rule, found in done.items()]


def pytest_ini(sdist_pyproject: str) -> str:
    """The sdist's own pytest settings, but one test at a time (its -n auto): the tests share one
    account, which each of them resets."""
    options = tomllib.loads(sdist_pyproject)["tool"]["pytest"]["ini_options"]
    lines = ["[pytest]"]
    for name, value in options.items():
        if name == "testpaths":
            continue
        if name == "addopts":
            value = " ".join(part for part in str(value).replace("-n auto", "").split())
        if isinstance(value, list):
            lines.append(f"{name} =" + "".join(f"\n    {item}" for item in value))
        else:
            lines.append(f"{name} = {str(value).lower() if isinstance(value, bool) else value}")
    return "\n".join(lines) + "\n"


def prepare(sdist: Path, work: Path, plugin: Path, rules: Sequence[Substitution]) -> list[Substituted]:
    """Makes `work` afresh from the unpacked `sdist`; answers what was substituted where."""
    strays = sorted({rule.file for rule in rules} - set(RESOURCE_FILES))
    if strays:
        raise StaleRewrite(f"substitutions for files not run: {', '.join(strays)}")
    if work.exists():
        shutil.rmtree(work)
    for name in SUPPORT_FILES:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sdist / name, work / name)
    shutil.copyfile(plugin, work / (PLUGIN.replace(".", "/") + ".py"))
    (work / "pytest.ini").write_text(pytest_ini((sdist / "pyproject.toml").read_text()))
    substituted: list[Substituted] = []
    for file in RESOURCE_FILES:
        source, target = sdist / RESOURCES / file, work / RESOURCES / file
        target.parent.mkdir(parents=True, exist_ok=True)
        package = source.parent / "__init__.py"
        if package.exists():
            shutil.copyfile(package, target.parent / "__init__.py")
        text, done = rewrite(source.read_text(), file, rules)
        target.write_text(text)
        substituted.extend(done)
    return substituted

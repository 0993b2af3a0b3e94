"""Settings are declared once (ovp.config): the docs' table, `ovp serve --help` and the environment
all follow the declarations."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ovp.cli import cli
from ovp.config import Settings, environment_variable
from ovp.flags import documented, flag_of, settings_from, settings_table

OPERATING = Path(__file__).parents[2] / "docs" / "operating.md"
TABLE = re.compile(r"<!-- settings table: made from src/ovp/config.py -->\n(.*?)\n<!-- end of the settings table -->",
                   re.DOTALL)


def test_the_docs_table_is_the_declarations_table() -> None:
    found = TABLE.search(OPERATING.read_text())
    assert found is not None, "docs/operating.md has lost its settings table's markers"
    assert found.group(1) == settings_table(), (
        "docs/operating.md's settings table differs from src/ovp/config.py; put this one in its place:\n"
        + settings_table())


def test_serve_help_names_every_setting_with_its_variable_and_default() -> None:
    shown = " ".join(CliRunner().invoke(cli, ["serve", "--help"], terminal_width=1000).output.split())
    for name in documented():
        field = Settings.model_fields[name]
        assert flag_of(name) in shown
        assert f"{field.description} [{environment_variable(name)}; default:" in shown


def test_a_flag_wins_over_its_variable_which_wins_over_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVP_WORKERS", "3")
    monkeypatch.setenv("OVP_IDLE_TIMEOUT", "7.5")
    settings = settings_from({"workers": 2, "idle_timeout": None})
    assert (settings.workers, settings.idle_timeout, settings.port) == (2, 7.5, 8000)


def test_the_environment_made_for_workers_makes_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    chosen = Settings(port=8123, auth="open", admin_port=9000, rate_limit="6000/minute", access_log=False)
    for variable, value in chosen.to_environment().items():
        monkeypatch.setenv(variable, value)
    assert Settings() == chosen


def test_a_bad_variable_is_a_usage_error_naming_it_and_its_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVP_RATE_LIMIT", "often")
    with pytest.raises(click.BadParameter) as refused:
        settings_from({})
    assert refused.value.param_hint == "OVP_RATE_LIMIT (--rate-limit)"
    assert "'often' is not a rate limit" in refused.value.message

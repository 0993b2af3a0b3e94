"""The `ovp` command's flags made from the settings' declarations (ovp.config): one flag a setting,
with its type, range, environment variable, default and help; and the settings table of
docs/operating.md, from the same declarations.

A flag left out is None, so that the settings read the variable or the default themselves: the
environment is read in one place (pydantic-settings), for `ovp serve` and its workers alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

import annotated_types
import click
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from ovp.config import Settings, check_database_url, environment_variable

F = TypeVar("F", bound=Callable[..., Any])


def flag_of(name: str) -> str:
    extra = _extra(Settings.model_fields[name])
    return str(extra["flag"] or "--" + name.replace("_", "-"))


def documented() -> list[str]:
    """The settings a user may give, in their declared order."""
    return [name for name, field in Settings.model_fields.items() if not _extra(field)["internal"]]


def settings_options(function: F) -> F:
    """Adds a flag for every documented setting; the command receives each as a keyword (None:
    not given)."""
    for name in reversed(documented()):
        field = Settings.model_fields[name]
        flag = flag_of(name)
        declarations = [f"{flag}/--no-{flag[2:]}" if _is_bool(field) else flag, name]
        function = click.option(*declarations, type=None if _is_bool(field) else _click_type(field), default=None,
                                help=f"{field.description} [{environment_variable(name)}; default: "
                                     f"{shown_default(field)}]")(function)
    return function


def settings_from(given: Mapping[str, Any]) -> Settings:
    """The settings: the flags given, else their variables, else their defaults; a bad value is a
    usage error that names its flag or variable."""
    flags = {name: value for name, value in given.items() if value is not None}
    try:
        return Settings(**flags)
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        name = str(problem["loc"][0]) if problem["loc"] else ""
        where = (flag_of(name) if name in flags else f"{environment_variable(name)} ({flag_of(name)})" if name
                 else "settings")
        message = str(problem["msg"]).removeprefix("Value error, ")
        raise click.BadParameter(message, param_hint=where) from None


def database_option(function: F) -> F:
    """`--database` for the commands other than `serve`, declared as its setting is."""
    name = "database_url"
    field = Settings.model_fields[name]
    return click.option(
        flag_of(name), name, envvar=environment_variable(name), show_envvar=True, default=field.default,
        show_default=True, help=field.description,
        callback=lambda _ctx, _param, url: _checked_url(url),
    )(function)


def _checked_url(url: str) -> str:
    try:
        return check_database_url(url)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


def settings_table() -> str:
    """The Markdown table of docs/operating.md's settings."""
    lines = ["| flag | variable | default | what it does |", "|---|---|---|---|"]
    for name in documented():
        field = Settings.model_fields[name]
        flag = flag_of(name)
        shown_flag = f"`{flag}` / `--no-{flag[2:]}`" if _is_bool(field) else f"`{flag}`"
        lines.append(f"| {shown_flag} | `{environment_variable(name)}` | {_markdown_default(field)} | "
                     f"{field.description} |")
    return "\n".join(lines)


def shown_default(field: FieldInfo) -> str:
    if field.default is None:
        return "none"
    if isinstance(field.default, bool):
        return "on" if field.default else "off"
    return f"{field.default:g}" if isinstance(field.default, float) else str(field.default)


def _markdown_default(field: FieldInfo) -> str:
    return "none" if field.default is None else f"`{shown_default(field)}`"


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    assert isinstance(extra, dict), "every setting is declared with ovp.config.setting"
    return extra


def _is_bool(field: FieldInfo) -> bool:
    return field.annotation is bool


def _click_type(field: FieldInfo) -> click.ParamType[Any]:
    annotation = field.annotation
    optional = [argument for argument in get_args(annotation) if argument is not type(None)]
    if optional and get_origin(annotation) is not Literal:
        annotation = optional[0]
    if get_origin(annotation) is Literal:
        return click.Choice([str(value) for value in get_args(annotation)], case_sensitive=False)
    low = next((item.ge for item in field.metadata if isinstance(item, annotated_types.Ge)), None)
    high = next((item.le for item in field.metadata if isinstance(item, annotated_types.Le)), None)
    if annotation is int:
        return click.IntRange(low, high)  # type: ignore[arg-type]
    if annotation is float:
        return click.FloatRange(low, high)  # type: ignore[arg-type]
    return click.STRING

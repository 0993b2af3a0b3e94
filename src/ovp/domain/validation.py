"""Turns pydantic's validation errors into Telnyx problems, each with its code and pointer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ovp.domain.errors import InvalidInput, Problem, ProblemList

Model = TypeVar("Model", bound=BaseModel)

MISSING = ("10004", "Missing required parameter")
WRONG_TYPE = ("10026", "Invalid parameter type")
NOT_IN_ENUM = ("10032", "Invalid enumerated value")
OUT_OF_RANGE = ("10033", "Value outside of range")
BAD_LENGTH = ("10025", "String length out of range")
BAD_VALUE = ("10015", "Bad Request")

_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal", "too_long", "too_short"}
# One bad request is answered with at most this many problems, so it cannot cost much to answer.
MAX_PROBLEMS = 100
_LENGTH_ERRORS = {"string_too_short", "string_too_long"}
_TYPE_SUFFIXES = ("_type", "_parsing")


def pointer_for(location: Sequence[int | str]) -> str:
    """An RFC 6901 JSON pointer for a pydantic error location."""
    parts = (str(part).replace("~", "~0").replace("/", "~1") for part in location)
    return "".join("/" + part for part in parts)


def _code_and_title(error: ErrorDetails) -> tuple[str, str]:
    kind = error["type"]
    if kind == "missing":
        return MISSING
    if kind in ("literal_error", "enum"):
        return NOT_IN_ENUM
    if kind in _RANGE_ERRORS:
        return OUT_OF_RANGE
    if kind in _LENGTH_ERRORS:
        return BAD_LENGTH
    if kind.endswith(_TYPE_SUFFIXES) or kind == "model_attributes_type":
        return WRONG_TYPE
    return BAD_VALUE


def _detail(error: ErrorDetails) -> str:
    name = ".".join(str(part) for part in error["loc"]) or "body"
    message: str = error["msg"]
    if error["type"] in ("model_type", "model_attributes_type", "dict_type"):
        message = "Input should be a JSON object"
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return f"{name}: {message}"


def body_problems(error: ValidationError) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for item in error.errors(include_url=False):
        code, title = _code_and_title(item)
        pointer = pointer_for(item["loc"])
        if (pointer, code) in seen:
            continue
        seen.add((pointer, code))
        problems.append(Problem(code=code, title=title, detail=_detail(item), pointer=pointer))
        if len(problems) == MAX_PROBLEMS:
            break
    return problems


def integral_numbers_as_integers(value: object) -> object:
    """`value` with every integral number written as a float (5.0) made an int: in JSON, and in the
    JSON Schema of ovp's document, 5.0 is the integer 5, which the strict models take only as an int
    (a float field takes an int as it is)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: integral_numbers_as_integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [integral_numbers_as_integers(item) for item in value]
    return value


def parse_object(model: type[Model], body: object) -> Model:
    """A JSON object body validated by `model`; raises InvalidInput listing every problem."""
    if not isinstance(body, dict):
        code, title = WRONG_TYPE
        raise InvalidInput([Problem(code, title, "The request body must be a JSON object.", pointer="")])
    try:
        return model.model_validate(integral_numbers_as_integers(body))
    except ValidationError as error:
        raise InvalidInput(body_problems(error)) from None


def parse_object_checked(model: type[Model], body: object,
                         check: Callable[[dict[str, Any]], Iterable[Problem]]) -> Model:
    """parse_object, with the problems `check` finds in an object body beside its fields' (a rule
    across fields): every one at once."""
    problems = ProblemList()
    parsed: Model | None = None
    try:
        parsed = parse_object(model, body)
    except InvalidInput as error:
        problems.extend(error.problems)
    if isinstance(body, dict):
        problems.extend(list(check(body)))
    problems.raise_if_any()
    assert parsed is not None
    return parsed

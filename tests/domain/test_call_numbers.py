"""A call's numbers as a connection's outbound settings make them: localization and caller id override."""

from __future__ import annotations

import pytest

from ovp.domain.calls.numbers import Outbound, is_valid_caller_id, parse_destination


@pytest.mark.parametrize(
    ("dialled", "localization", "number", "country"),
    [
        ("4155552671", "US", "+14155552671", "US"),  # national, ten digits
        ("14155552671", "US", "+14155552671", "US"),  # national with the trunk prefix
        ("011442071838750", "US", "+442071838750", "GB"),  # the US international prefix
        ("02071838750", "GB", "+442071838750", "GB"),  # national, with the trunk 0
        ("00442071838750", "DE", "+442071838750", "GB"),  # 00 from Germany
        ("+442071838750", "US", "+442071838750", "GB"),  # E.164 whatever the country
    ],
)
def test_a_number_dialled_without_its_plus_is_read_by_the_connection_country(
    dialled: str, localization: str, number: str, country: str
) -> None:
    destination = parse_destination(dialled, localization)
    assert destination is not None
    assert (destination.number, destination.country) == (number, country)
    assert Outbound(localization=localization).to(dialled) == number


@pytest.mark.parametrize(("dialled", "localization"), [("4155552671", None), ("415555", "US"), ("415-555-2671", "US"),
                                                       ("tel:4155552671", "US"), ("", "US")])
def test_a_number_no_rule_reads_as_valid_has_no_destination(dialled: str, localization: str | None) -> None:
    assert parse_destination(dialled, localization) is None
    assert Outbound(localization=localization).to(dialled) == dialled  # answered as dialled


@pytest.mark.parametrize(
    ("override_type", "dialled", "presented"),
    [
        ("always", "+14155552671", "+13125550100"),
        ("always", "911", "+13125550100"),
        ("normal", "+14155552671", "+13125550100"),
        ("normal", "911", "pbxtrunk1"),  # an emergency call keeps the caller's own
        ("emergency", "911", "+13125550100"),
        ("emergency", "+14155552671", "pbxtrunk1"),
    ],
)
def test_the_caller_id_override_applies_by_its_type(override_type: str, dialled: str, presented: str) -> None:
    outbound = Outbound("+13125550100", override_type, "US")  # type: ignore[arg-type]
    assert outbound.caller_id("pbxtrunk1", dialled) == presented


def test_no_override_presents_the_caller_own() -> None:
    assert Outbound(localization="US").caller_id("pbxtrunk1", "+14155552671") == "pbxtrunk1"


@pytest.mark.parametrize(("caller", "valid"), [("+12025550100", True), ("12025550100", False), ("pbxtrunk1", False),
                                               ("", False), ("+0123", False)])
def test_only_an_e164_caller_id_is_valid(caller: str, valid: bool) -> None:
    assert is_valid_caller_id(caller) is valid

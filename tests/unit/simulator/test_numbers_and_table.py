"""The simulator's number normalisation and its scenario table (the README documents both)."""

from __future__ import annotations

import pytest

from app.simulator.errors import SimError
from app.simulator.numbers import normalize_number, normalize_target
from app.simulator.scenarios import ANSWERED, SCENARIOS, scenario_for


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+14255550100", "+14255550100"),
        ("tel:+14255550100", "+14255550100"),
        ("tel : +1 (425) 555-0100", "+14255550100"),
        ("4255550100", "+14255550100"),
        ("+44 20 7946 0000", "+442079460000"),
        ("tel:+14255554321;ext=54321", "+14255554321"),
        ("425.555.0100", "+14255550100"),
    ],
)
def test_numbers_that_normalise(raw: str, expected: str) -> None:
    assert normalize_number(raw, "to") == expected


@pytest.mark.parametrize("raw", ["", "abc", "12", "+1234567890123456", "٤٢٥٥٥٥٠١٠٠٠", "sip:x"])
def test_numbers_that_do_not(raw: str) -> None:
    with pytest.raises(SimError) as caught:
        normalize_number(raw, "phoneNumber")
    assert (caught.value.status, caught.value.subcode) == (400, "NormalizationFailed")
    assert caught.value.parameters == {"phoneNumber": "cannot be normalised"}


def test_targets() -> None:
    assert normalize_target("SIP:Bob@Contoso.com") == "sip:bob@contoso.com"
    assert normalize_target("tel:+14255550101") == "tel:+14255550101"


def test_scenario_table_matches_the_contract() -> None:
    """The dialled numbers do what the scenario table in README.md promises."""
    expected = {
        "+14255550101": "Busy",
        "+14255550102": "Declined",
        "+14255550103": "Missed",
        "+14255550104": "PstnCallFailed",
        "+14255550107": "Unreachable",
        "+14255550108": "DestinationNotFound",
        "+14255550109": "DoNotDisturb",
        "+14255550110": "QuantumFluxOverload",
    }
    assert {n: s.subcode for n, s in SCENARIOS.items() if not s.answered} == expected
    assert SCENARIOS["+14255550105"].forwarded_to == ("tel:+14255550199", "Front desk")
    assert SCENARIOS["+14255550106"].hangup_after_s is not None
    assert scenario_for("tel:+14255550100") is ANSWERED
    assert scenario_for("tel:+33123456789") is ANSWERED
    assert scenario_for("sip:bob@contoso.com") is ANSWERED

"""`ucwa-phone call` with what people actually dial, against a server that applies a dial plan."""

from __future__ import annotations

import pytest

from app.simulator import SimConfig
from app.simulator.serve import SimServer
from tests.integration.test_cli_call import call, lines


@pytest.fixture
def sim_config() -> SimConfig:
    # The realistic server's dial plan (extensions, US national numbers, known SIP users).
    return SimConfig(speed=50, max_poll_s=0.5, dial_plan=True)


@pytest.mark.parametrize("number", ["5500", "4255550100", "sip:bob@contoso.com", "bob@contoso.com"])
def test_extensions_national_numbers_and_sip_addresses_are_called(
    sim_server: SimServer, number: str
) -> None:
    code, out, err = call(
        number,
        "--server",
        sim_server.discovery_url,
        "--user",
        "alice@contoso.com",
        "--hangup-after",
        "0.2",
        "--json",
    )
    assert code == 0, err
    states = [item["state"] for item in lines(out)]
    assert "connected" in states and states[-1] == "ended"


def test_a_number_the_dial_plan_cannot_complete_is_explained(sim_server: SimServer) -> None:
    code, out, err = call(
        "12", "--server", sim_server.discovery_url, "--user", "alice@contoso.com", "--json"
    )
    assert code == 1, err
    assert err.strip().splitlines()[-1] == (
        'ucwa-phone call: failed: The server could not turn "12" into a phone number it can call.'
    )
    assert lines(out)[-1]["state"] == "failed"

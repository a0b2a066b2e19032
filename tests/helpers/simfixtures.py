"""pytest fixtures that run the UCWA simulator (in-process and over real loopback HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.simulator import SimConfig, Simulator
from app.simulator.config import Profile
from app.simulator.serve import SimServer


@pytest.fixture(scope="module")
def sim_profile() -> Profile:
    """The simulator profile of `sim_config` and `shared_sim_config`: the realistic server, so
    the client meets what a real one does. A module that tests the permissive simulator's own
    behaviour overrides this fixture with "permissive"."""
    return "realistic"


@pytest.fixture
def sim_config(sim_profile: Profile) -> SimConfig:
    """Fast timings for tests; override this fixture in a module to change them."""
    return SimConfig(profile=sim_profile, speed=50, max_poll_s=0.5)


@pytest.fixture
def sim(sim_config: SimConfig) -> Iterator[Simulator]:
    """A fresh simulator; use `sim.asgi` with httpx.ASGITransport, or `sim_server`."""
    simulator = Simulator(sim_config)
    yield simulator
    simulator.close()


@pytest.fixture
def sim_server(sim: Simulator) -> Iterator[SimServer]:
    """The simulator served over real HTTP on 127.0.0.1 (uvicorn in a background thread)."""
    with SimServer(sim) as server:
        yield server


@pytest.fixture
def sim_credentials(sim_config: SimConfig) -> tuple[str, str]:
    """(user, password) of the first configured account (the demo account by default)."""
    user, password = next(iter(sim_config.users.items()))
    return user, password


@pytest.fixture(scope="module")
def shared_sim_config(sim_profile: Profile) -> SimConfig:
    """Timings of `shared_server`; override in a module to change them."""
    return SimConfig(profile=sim_profile, speed=50, max_poll_s=0.5)


@pytest.fixture(scope="module")
def shared_server(shared_sim_config: SimConfig) -> Iterator[SimServer]:
    """One simulator for a whole module, for tests that each work in their own application
    (a server's shutdown costs ~0.2 s, which adds up over many read-only tests)."""
    simulator = Simulator(shared_sim_config)
    with SimServer(simulator) as server:
        yield server
    simulator.close()

"""A UCWA 2.0 server simulator (ASGI, Starlette); imports neither Qt nor the client."""

from __future__ import annotations

from app.simulator.config import SimConfig
from app.simulator.faults import Faults
from app.simulator.simulator import Simulator
from app.simulator.state import RequestRecord

__all__ = ["Faults", "RequestRecord", "SimConfig", "Simulator"]

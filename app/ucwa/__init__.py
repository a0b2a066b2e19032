"""UCWA 2.0 protocol client for call via work; imports no Qt (public API in __all__)."""

from __future__ import annotations

from app.ucwa.auth import AuthChallenge, TokenProvider, UcwaAuth
from app.ucwa.calls import CallAction, CallSnapshot, CallState
from app.ucwa.discovery import DiscoveryCache, DiscoveryError, FileDiscoveryCache
from app.ucwa.errors import (
    ApplicationGone,
    AuthenticationError,
    CallFailed,
    CertificateError,
    InvalidNumber,
    LocalError,
    LocalProtocolError,
    RemoteProtocolError,
    ServerError,
    SessionTakenOver,
    TransportError,
    UcwaError,
)
from app.ucwa.listener import SessionListener
from app.ucwa.reasons import CallReason
from app.ucwa.session import UcwaSession
from app.ucwa.status import ConnectionState, SessionStatus

__all__ = [
    "ApplicationGone",
    "AuthChallenge",
    "AuthenticationError",
    "CallAction",
    "CallFailed",
    "CallReason",
    "CallSnapshot",
    "CallState",
    "CertificateError",
    "ConnectionState",
    "DiscoveryCache",
    "DiscoveryError",
    "FileDiscoveryCache",
    "InvalidNumber",
    "LocalError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "ServerError",
    "SessionListener",
    "SessionStatus",
    "SessionTakenOver",
    "TokenProvider",
    "TransportError",
    "UcwaAuth",
    "UcwaError",
    "UcwaSession",
]

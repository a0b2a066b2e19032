"""Why a call ended: CallReason, and plain sentences for UCWA codes and subcodes."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "GENERIC_CALL_FAILURE",
    "CallReason",
    "is_cancel",
    "is_normalization_failure",
    "normalization_failed_message",
    "reason_message",
]

GENERIC_CALL_FAILURE = "The call could not be completed."


@dataclass(frozen=True, slots=True)
class CallReason:
    """Why a call ended or failed: UCWA code/subcode plus one plain sentence."""

    code: str | None
    subcode: str | None
    message: str  # plain language, e.g. "The line was busy."
    diagnostics: str | None = None  # X-Ms-Diagnostics text when the reason came from an HTTP answer


# Keyed by casefolded subcode: servers disagree on spelling and case (docs/protocol.md §12 #6).
_BY_SUBCODE: dict[str, str] = {
    # call outcomes (asynchronous reasons)
    "busy": "The line was busy.",
    "declined": "The call was declined.",
    "donotdisturb": "The person you called does not want to be disturbed right now.",
    "missed": "There was no answer.",
    "timeout": "There was no answer.",
    "pstncallfailed": "Your phone did not answer.",
    "unreachable": "The number could not be reached.",
    "destinationnotfound": "That number does not exist.",
    "canceled": "The call was cancelled.",
    "cancelled": "The call was cancelled.",
    "callterminated": "The other party hung up.",
    "forwarded": "The call was forwarded.",
    "transferred": "The call was transferred.",
    "transferdeclined": "The transfer was declined.",
    "transfertargetdeclined": "The transfer was declined.",
    "connectedelsewhere": "The call was answered on another device.",
    "replaced": "The call was replaced by another call.",
    "dialoutnotallowed": "You are not allowed to call that number.",
    "federationrequired": "You are not allowed to call that address.",
    "conversationnotfound": "The call no longer exists.",
    # synchronous errors (HTTP answers)
    "normalizationfailed": "The server could not understand that phone number.",
    "parametervalidationfailure": "The server rejected the request as incomplete or invalid.",
    "callbackchannelerror": "The server could not reach this app's event channel.",
    "applicationnotfound": "The server no longer knows this session.",
    "inactiveapplicationexpired": "The session expired after a period of inactivity.",
    "toomanyapplications": "You are signed in on too many devices.",
    "useragentnotallowed": "The server does not allow this app.",
    "cannotredirect": "The server could not move this session to another pool.",
    "anotheroperationpending": "Another request is still in progress; try again in a moment.",
    "alreadyexists": "That was already done.",
    "pgetreplaced": "Another connection replaced this one.",
    "makemeavailablerequired": "The server wants this app to announce itself first.",
    "toomanyconversations": "You have too many calls and conversations open.",
    "modalitynotsupported": "Phone calls are not supported for this conversation.",
    "operationnotsupported": "The server does not support that operation.",
    "apiversionnotsupported": "The server does not support this version of the protocol.",
    "phonenumberconflict": "That phone number conflicts with your settings.",
    "limitexceeded": "A server limit was exceeded.",
}

# Used when the subcode is missing, "None" (docs/protocol.md §12 #23) or unknown.
_BY_CODE: dict[str, str] = {
    "badrequest": "The server rejected the request.",
    "forbidden": "You are not allowed to do that.",
    "notfound": "The server could not find what was asked for.",
    "conflict": "The request conflicts with the current state of the call.",
    "gone": "The server no longer has this session.",
    "servicefailure": "The server ran into a problem.",
    "serviceunavailable": "The server is busy or down; try again later.",
    "timeout": "The server did not answer in time.",
    "gatewaytimeout": "The server did not answer in time.",
    "toomanyrequests": "Too many requests; try again in a moment.",
    "preconditionfailed": "The data changed on the server; try again.",
    "preconditionrequired": "The server wants a conditional request.",
    "methodnotallowed": "The server does not allow that request.",
    "unsupportedmediatype": "The server did not accept the request format.",
    "entitytoolarge": "The request was too large.",
    "notacceptable": "The server cannot answer in the requested format.",
    "remotefailure": GENERIC_CALL_FAILURE,
    "localfailure": GENERIC_CALL_FAILURE,
    "informational": "The call ended.",
}


def _key(value: str | None) -> str:
    return (value or "").strip().casefold()


def reason_message(code: str | None, subcode: str | None) -> str:
    """One plain sentence for a code/subcode pair; never fails, unknown values get a generic one."""
    return _BY_SUBCODE.get(_key(subcode)) or _BY_CODE.get(_key(code)) or GENERIC_CALL_FAILURE


def is_cancel(subcode: str | None) -> bool:
    """True for either spelling of a cancellation, in any case (docs/protocol.md §12 #6)."""
    return _key(subcode) in ("canceled", "cancelled")


def is_normalization_failure(subcode: str | None) -> bool:
    """The server's dial plan could not make a callable number of the ``to`` it was sent."""
    return _key(subcode) == "normalizationfailed"


def normalization_failed_message(dialled: str) -> str:
    """The sentence for 400 NormalizationFailed, naming what the user dialled."""
    return f'The server could not turn "{dialled}" into a phone number it can call.'

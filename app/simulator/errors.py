"""UCWA error bodies ({code, subcode, message}) with X-Ms-Diagnostics on every error response."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.responses import Response

# HTTP status -> UCWA ErrorCode (docs/protocol.md §8.2).
STATUS_CODES: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",  # not in the ErrorCode enum: real servers send no body; we send one anyway
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    408: "ClientTimeout",
    409: "Conflict",
    410: "Gone",
    412: "PreconditionFailed",
    413: "EntityTooLarge",
    415: "UnsupportedMediaType",
    428: "PreconditionRequired",
    429: "TooManyRequests",
    500: "ServiceFailure",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "Timeout",
}

# Diagnostic ids are opaque to clients; these only make the header look like the real one.
_DIAG_IDS: dict[str, int] = {
    "ApplicationNotFound": 2,
    "InactiveApplicationExpired": 3,
    "ParameterValidationFailure": 4,
    "NormalizationFailed": 5,
    "PGetReplaced": 6,
    "CallbackChannelError": 7,
    "AlreadyExists": 8,
    "MakeMeAvailableRequired": 9,
    "DeserializationFailure": 10,
}

JSON_TYPE = "application/json; charset=utf-8"


class SimError(Exception):
    """Raised by handlers; turned into a UCWA error response by the dispatcher."""

    def __init__(
        self,
        status: int,
        subcode: str | None = None,
        message: str | None = None,
        *,
        code: str | None = None,
        parameters: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code or STATUS_CODES.get(status, 'Error')} {subcode or ''}")
        self.status = status
        self.code = code or STATUS_CODES.get(status, "ServiceFailure")
        self.subcode = subcode
        self.message = message
        self.parameters = dict(parameters) if parameters else None
        self.headers = dict(headers) if headers else {}

    def response(self, fqdn: str) -> Response:
        return error_response(
            self.status,
            self.subcode,
            self.message,
            code=self.code,
            parameters=self.parameters,
            headers=self.headers,
            fqdn=fqdn,
        )


def diagnostics(status: int, subcode: str | None, reason: str, fqdn: str) -> str:
    """An X-Ms-Diagnostics value: `<number>;source="<fqdn>";reason="<text>"`."""
    number = 28020 if status == 401 else status * 100 + _DIAG_IDS.get(subcode or "", 0)
    safe = reason.replace('"', "'").replace("\r", " ").replace("\n", " ")
    return f'{number};source="{fqdn}";reason="{safe}"'


def error_response(
    status: int,
    subcode: str | None = None,
    message: str | None = None,
    *,
    code: str | None = None,
    parameters: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    fqdn: str = "lyncweb.contoso.com",
) -> Response:
    """A UCWA error: JSON body with code (+ subcode where defined) and X-Ms-Diagnostics."""
    code = code or STATUS_CODES.get(status, "ServiceFailure")
    message = message or _default_message(status, subcode)
    body: dict[str, object] = {"code": code}
    if subcode:
        body["subcode"] = subcode
    body["message"] = message
    if parameters:
        body["parameters"] = dict(parameters)
    response = Response(
        json.dumps(body).encode(), status_code=status, media_type=JSON_TYPE, headers=headers
    )
    response.headers["X-Ms-Diagnostics"] = diagnostics(status, subcode, message, fqdn)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _default_message(status: int, subcode: str | None) -> str:
    messages = {
        "ApplicationNotFound": "The application does not exist.",
        "InactiveApplicationExpired": "The application expired because it was inactive.",
        "PGetReplaced": "This event-channel request was replaced by a newer one.",
        "CallbackChannelError": "The event channel of this application is not reachable.",
        "AlreadyExists": "The resource already exists.",
        "MakeMeAvailableRequired": "makeMeAvailable must be called first.",
        "NormalizationFailed": "The phone number could not be normalised.",
        "ParameterValidationFailure": "One or more parameters are invalid.",
        "DeserializationFailure": "The request body could not be read.",
    }
    if subcode in messages:
        return messages[subcode]
    if status == 401:
        return "No valid security token."
    return "An error occurred. Please retry. If the problem persists, contact your support team."

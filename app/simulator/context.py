"""Per-request helpers: origin, case-insensitive query/body, bounded body reading, auth."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from app.simulator.errors import SimError

if TYPE_CHECKING:
    from app.simulator.simulator import Simulator

_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class Ctx:
    """What a handler needs about one request."""

    def __init__(self, request: Request, sim: Simulator, params: dict[str, str]) -> None:
        self.request = request
        self.sim = sim
        self.params = params
        self.method = request.method.upper()
        self.origin = _origin(request)
        # Query names are matched case-insensitively; the first occurrence wins.
        self.query: dict[str, str] = {}
        for key, value in parse_qsl(request.url.query, keep_blank_values=True):
            self.query.setdefault(key.lower(), value)
        self._body: bytes | None = None
        self.user: str | None = None

    @property
    def fqdn(self) -> str:
        return self.sim.config.server_fqdn

    async def body(self) -> bytes:
        """The request body, at most config.max_body_bytes (else 413)."""
        if self._body is None:
            limit = self.sim.config.max_body_bytes
            declared = self.request.headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                raise SimError(413, message="The request body is too large.")
            chunks: list[bytes] = []
            size = 0
            async for chunk in self.request.stream():
                size += len(chunk)
                if size > limit:
                    raise SimError(413, message="The request body is too large.")
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json_input(self) -> dict[str, Any]:
        """POST/PUT input: JSON body fields merged over query parameters, names lower-cased.

        An empty body is fine; a non-empty one must be JSON (415 otherwise) and an object
        (400 DeserializationFailure otherwise). `_links`/`_embedded` are ignored
        (docs/protocol.md §1.4).
        """
        merged: dict[str, Any] = dict(self.query)
        raw = await self.body()
        if not raw.strip():
            return merged
        ctype = self.request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype and not (ctype == "application/json" or ctype.endswith("+json")):
            raise SimError(415, message=f"Content-Type {ctype[:60]!r} is not supported here.")
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise SimError(400, "DeserializationFailure") from None
        if not isinstance(doc, dict):
            raise SimError(400, "DeserializationFailure", "The body must be a JSON object.")
        for key, value in doc.items():
            if key.startswith("_"):
                continue
            merged[key.lower()] = value
        return merged

    async def form_input(self) -> dict[str, str]:
        raw = await self.body()
        fields: dict[str, str] = {}
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return fields
        for key, value in parse_qsl(text, keep_blank_values=True):
            fields.setdefault(key.lower(), value)
        return fields

    def bearer(self) -> str | None:
        header = self.request.headers.get("authorization", "")
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return value.strip()


def _origin(request: Request) -> str:
    scheme = request.url.scheme if request.url.scheme in ("http", "https") else "http"
    host = request.headers.get("host", "")
    if not _HOST.fullmatch(host):
        server = request.scope.get("server")
        if server:
            name, port = server[0], server[1]
            host = f"[{name}]" if ":" in str(name) else str(name)
            if port is not None:
                host += f":{port}"
        else:
            host = "localhost"
    return f"{scheme}://{host}"


def text_field(data: dict[str, Any], name: str, *, limit: int, required: bool) -> str | None:
    """A string input field: missing/empty -> None (or 400 if required), too long -> 400."""
    value = data.get(name.lower())
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SimError(
                400,
                "ParameterValidationFailure",
                f"'{name}' is required",
                parameters={name: "required"},
            )
        return None
    if not isinstance(value, str):
        raise SimError(
            400,
            "ParameterValidationFailure",
            f"'{name}' must be a string",
            parameters={name: "must be a string"},
        )
    if len(value) > limit:
        raise SimError(
            400,
            "ParameterValidationFailure",
            f"'{name}' is longer than {limit} characters",
            parameters={name: f"longer than {limit} characters"},
        )
    return value

"""Each kind of failure gets its own advice; the server's text is found wherever it is carried."""

from __future__ import annotations

import socket

import pytest

from app.auth.errors import AccountLocked, InteractionRequired, ProviderUnreachable
from app.diagnostics.advice import ADVICE, Failure, classify, diagnostics_of
from app.diagnostics.steps import Outcome, Step, StepResult
from app.ucwa.errors import AuthenticationError, CertificateError, ServerError, TransportError


def _caused(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("error", "step", "kind"),
    [
        (CertificateError("lync.contoso.com"), Step.DISCOVERY, Failure.TLS),
        (
            _caused(TransportError("Could not connect"), socket.gaierror(-2, "Name unknown")),
            Step.DISCOVERY,
            Failure.NAME,
        ),
        (TransportError("Could not connect to x."), Step.DISCOVERY, Failure.CONNECT),
        (_caused(TransportError("slow"), TimeoutError()), Step.APPLICATION, Failure.TIMEOUT),
        (ServerError(404), Step.DISCOVERY, Failure.DISCOVERY_NOT_FOUND),
        (ServerError(404), Step.APPLICATION, Failure.NOT_FOUND),
        (ServerError(403, "Forbidden"), Step.APPLICATION, Failure.FORBIDDEN),
        (ServerError(503), Step.APPLICATION, Failure.BUSY),
        (AccountLocked(), Step.SIGN_IN, Failure.CREDENTIALS),
        (InteractionRequired(), Step.SIGN_IN, Failure.NO_PASSWORD),
        (ProviderUnreachable("login.contoso.com"), Step.SIGN_IN, Failure.CONNECT),
        (
            AuthenticationError("refused", code="UntrustedServer"),
            Step.SIGN_IN,
            Failure.UNTRUSTED,
        ),
    ],
)
def test_each_failure_is_classified_by_what_went_wrong(
    error: BaseException, step: Step, kind: Failure
) -> None:
    assert classify(error, step) is kind
    assert ADVICE[kind].endswith(".")


def test_advice_never_suggests_turning_verification_off() -> None:
    assert not any("verif" in text.lower() for text in ADVICE.values())


def test_the_server_text_is_found_on_a_wrapped_cause() -> None:
    inner = ServerError(503, diagnostics='50300;reason="busy"')
    outer = _caused(AuthenticationError("Sign-in failed."), inner)
    assert diagnostics_of(outer) == '50300;reason="busy"'
    assert diagnostics_of(TransportError("x")) is None


def test_a_failed_step_prints_its_server_text_and_advice_on_their_own_lines() -> None:
    result = StepResult(
        Step.APPLICATION, Outcome.FAILED, 7, "busy", diagnostics="50300", advice="Try later."
    )
    assert result.line().splitlines() == [
        "✘ Create the application            7 ms  busy",
        "    X-Ms-Diagnostics: 50300",
        "    Try: Try later.",
    ]
    skipped = StepResult(Step.EVENT_POLL, Outcome.SKIPPED)
    assert skipped.line().endswith("skipped")

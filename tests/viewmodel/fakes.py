"""Fakes of the view-models' ports (CallService, SignInService) and an await helper for Qt tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from pytestqt.qtbot import QtBot

from app.ucwa.calls import CallAction, CallSnapshot, CallState
from app.ucwa.dialing import DialTarget, dial_target_from_server
from app.ucwa.people import Contact, ContactNumber
from app.ucwa.reasons import CallReason
from app.ucwa.status import ConnectionState, SessionStatus
from app.viewmodel.ports import Account, CallService, SessionListener

T = TypeVar("T")

USER = "alice@contoso.com"
PHONES = [("+14255550123", "Work"), ("+14255550124", "Mobile")]


def run(qtbot: QtBot, coro: Coroutine[Any, Any, T], timeout_ms: int = 3000) -> T:
    """Run ``coro`` on the (already running) qasync loop and wait for it from a sync test."""
    task = asyncio.get_running_loop().create_task(coro)
    qtbot.waitUntil(task.done, timeout=timeout_ms)
    return task.result()


def _contact(name: str, email: str, title: str, *numbers: tuple[str, str]) -> Contact:
    return Contact(
        name=name,
        title=title,
        department="Engineering",
        sip_uri=f"sip:{email}",
        emails=(email,),
        numbers=tuple(
            ContactNumber(kind, uri, dial_target_from_server(uri, "US")) for kind, uri in numbers
        ),
    )


DIRECTORY = (
    _contact(
        "Carol Diaz",
        "carol@contoso.com",
        "Engineer 2",
        ("work", "tel:+1425554321;ext=54321"),
        ("mobile", "tel:4255551212;phone-context=defaultprofile"),
    ),
    _contact("Carlos Gomez", "carlos@contoso.com", "Sales Lead", ("work", "tel:+14255550170")),
    _contact("Uma Shah", "uma@contoso.com", "Designer"),
)


class FakeCallService:
    """Behaves like UcwaSession towards its listeners, with scripted answers and a call log."""

    def __init__(
        self,
        *,
        sign_in_error: BaseException | None = None,
        start_error: BaseException | None = None,
        phones: list[tuple[str, str]] | None = None,
    ) -> None:
        self.status = SessionStatus(ConnectionState.SIGNED_OUT)
        self.call = CallSnapshot(CallState.IDLE)
        self.listeners: list[SessionListener] = []
        self.calls: list[tuple[Any, ...]] = []  # (method, args...)
        self.sign_in_error = sign_in_error
        self.start_error = start_error
        self.phones = PHONES if phones is None else phones
        self.closed = False
        self.directory: list[Contact] = list(DIRECTORY)
        self.search_gate: asyncio.Event | None = None
        self.search_error: BaseException | None = None

    # -- driving it from a test ---------------------------------------------------------------
    def push_status(self, state: ConnectionState, detail: str | None = None) -> None:
        self.status = SessionStatus(state, USER, detail)
        for listener in list(self.listeners):
            listener.on_status(self.status)

    def push(self, state: CallState, *actions: CallAction, **fields: Any) -> None:
        fields.setdefault("number", self.call.number or "+442079460000")
        fields.setdefault("call_id", "op-1")
        self.call = CallSnapshot(state, actions=frozenset(actions), **fields)
        for listener in list(self.listeners):
            listener.on_call(self.call)

    # -- CallService --------------------------------------------------------------------------
    def add_listener(self, listener: SessionListener) -> None:
        self.listeners.append(listener)

    def remove_listener(self, listener: SessionListener) -> None:
        self.listeners.remove(listener)

    async def sign_in(self) -> None:
        self.calls.append(("sign_in",))
        self.push_status(ConnectionState.SIGNING_IN)
        await asyncio.sleep(0)
        if self.sign_in_error is not None:
            self.push_status(ConnectionState.FAILED, str(self.sign_in_error))
            raise self.sign_in_error
        self.push_status(ConnectionState.SIGNED_IN)

    async def my_phones(self) -> list[tuple[str, str]]:
        self.calls.append(("my_phones",))
        return list(self.phones)

    async def set_callback_number(self, number: str | None) -> None:
        self.calls.append(("set_callback_number", number))

    async def search_people(self, query: str, limit: int = 10) -> list[Contact]:
        """The directory's people whose name or e-mail address contains ``query``; a test may
        hold the answer (``search_gate``) or make it fail (``search_error``)."""
        self.calls.append(("search_people", query, limit))
        if self.search_gate is not None:
            await self.search_gate.wait()
        else:
            await asyncio.sleep(0)
        if self.search_error is not None:
            raise self.search_error
        needle = query.casefold()
        return [
            c
            for c in self.directory
            if needle in c.name.casefold() or any(needle in e for e in c.emails)
        ][:limit]

    async def start_call(self, number: str | DialTarget, callback: str | None = None) -> None:
        if isinstance(number, DialTarget):
            number = number.number
        self.calls.append(("start_call", number, callback))
        await asyncio.sleep(0)
        if self.start_error is not None:
            raise self.start_error
        self.push(CallState.CALLING_YOU, CallAction.CANCEL, number=number)

    async def hold(self) -> None:
        self.calls.append(("hold",))
        self.push(CallState.ON_HOLD, CallAction.RESUME, CallAction.HANG_UP, connected_at=1.0)

    async def resume(self) -> None:
        self.calls.append(("resume",))
        self.push(CallState.CONNECTED, CallAction.HOLD, CallAction.HANG_UP, connected_at=1.0)

    async def hang_up(self) -> None:
        self.calls.append(("hang_up",))
        self.push(CallState.ENDING)
        await asyncio.sleep(0)
        self.push(CallState.ENDED, reason=CallReason(None, None, "You hung up."))

    async def aclose(self) -> None:
        self.calls.append(("aclose",))
        self.closed = True

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]


class FakeSignInService:
    """Hands out FakeCallService sessions and remembers what it was asked."""

    def __init__(self, **session_kwargs: Any) -> None:
        self.session_kwargs = session_kwargs
        self.opened: list[tuple[Account, str | None]] = []
        self.sessions: list[FakeCallService] = []
        self.forgotten: list[Account] = []
        self.device_code: str | None = None
        self.notice_text: str | None = None

    async def open_session(
        self, account: Account, password: str | None, *, show_device_code: Callable[[str], None]
    ) -> CallService:
        self.opened.append((account, password))
        if self.device_code:
            show_device_code(self.device_code)
        session = FakeCallService(**self.session_kwargs)
        self.sessions.append(session)
        return session

    async def forget(self, account: Account) -> None:
        self.forgotten.append(account)

    async def notice(self) -> str | None:
        return self.notice_text

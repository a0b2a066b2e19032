"""The main window on the real view-models over a fake session: what the `real` fixture gives."""

from __future__ import annotations

from dataclasses import dataclass

from app.ucwa.calls import CallAction, CallState
from app.ucwa.reasons import CallReason
from app.ui.mainwindow import MainWindow
from app.viewmodel.ports import Account
from app.viewmodel.shell import AppViewModel
from tests.viewmodel.fakes import USER, FakeCallService, FakeSignInService

ACCOUNT = Account(address=USER, server="https://lyncdiscover.contoso.com/", user=USER)


@dataclass
class Real:
    """The shell, its sign-in service (holding the fake session) and the shown window."""

    shell: AppViewModel
    service: FakeSignInService
    win: MainWindow

    @property
    def session(self) -> FakeCallService:
        return self.service.sessions[-1]

    def connected(self) -> None:
        self.session.push(
            CallState.CONNECTED, CallAction.HOLD, CallAction.HANG_UP, connected_at=1.0
        )

    def ended(self) -> None:
        self.session.push(CallState.ENDED, reason=CallReason(None, None, "You hung up."))

"""The UI tests' fake view-models, the views' Protocols and the real view-models name the same
signals, Properties and slots, so renaming one on any side fails here instead of only in the app."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import pytest
from PySide6.QtCore import Property, QMetaMethod, QObject, Signal, Slot

from app.viewmodel import protocols
from app.viewmodel.call import CallViewModel
from app.viewmodel.diagnostics import DiagnosticsViewModel
from app.viewmodel.dialer import DialerViewModel
from app.viewmodel.history import HistoryViewModel
from app.viewmodel.ports import CallService, SignInService
from app.viewmodel.properties import NotifyProperty
from app.viewmodel.search import SearchViewModel
from app.viewmodel.settings import SettingsViewModel
from app.viewmodel.shell import AppViewModel
from app.viewmodel.signin import SignInViewModel
from app.viewmodel.tray import TrayViewModel
from tests.ui import fakes
from tests.viewmodel.fakes import FakeCallService, FakeSignInService

PAIRS = [
    (DialerViewModel, fakes.FakeDialerViewModel, protocols.DialerSurface),
    (SearchViewModel, fakes.FakeSearchViewModel, protocols.SearchSurface),
    (CallViewModel, fakes.FakeCallViewModel, protocols.CallSurface),
    (SignInViewModel, fakes.FakeSignInViewModel, protocols.SignInSurface),
    (AppViewModel, fakes.FakeAppViewModel, protocols.ShellSurface),
    (SettingsViewModel, fakes.FakeSettingsViewModel, protocols.SettingsSurface),
    (TrayViewModel, fakes.FakeTrayViewModel, protocols.TraySurface),
    (DiagnosticsViewModel, fakes.FakeDiagnosticsViewModel, protocols.DiagnosticsSurface),
    (HistoryViewModel, fakes.FakeHistoryViewModel, protocols.HistorySurface),
]
# The child view-models the shell hands to the views (plain attributes, not Qt members).
CHILDREN = {AppViewModel: {"dialer", "call", "signin", "settings"}, DialerViewModel: {"search"}}


@dataclass(frozen=True)
class Surface:
    """A QObject class's own Qt members (QObject's are left out), with their Qt signatures."""

    signals: frozenset[str]  # "numberChanged(QString)"
    slots: frozenset[str]  # "setNumber(QString)"
    properties: frozenset[str]  # "number: QString, notify numberChanged, read-only"

    @property
    def names(self) -> set[str]:
        return {s.split("(")[0] for s in self.signals | self.slots} | {
            p.split(":")[0] for p in self.properties
        }


def surface(cls: type[QObject]) -> Surface:
    meta, base = cls.staticMetaObject, QObject.staticMetaObject
    signals, slots, properties = set(), set(), set()
    for i in range(base.methodCount(), meta.methodCount()):
        method = meta.method(i)
        signature = bytes(method.methodSignature().data()).decode()
        if method.methodType() == QMetaMethod.MethodType.Signal:
            signals.add(signature)
        elif method.methodType() == QMetaMethod.MethodType.Slot:
            slots.add(signature)
    for i in range(base.propertyCount(), meta.propertyCount()):
        prop = meta.property(i)
        notify = bytes(prop.notifySignal().name().data()).decode() if prop.hasNotifySignal() else ""
        access = "writable" if prop.isWritable() else "read-only"
        properties.add(f"{prop.name()}: {prop.typeName()}, notify {notify}, {access}")
    return Surface(frozenset(signals), frozenset(slots), frozenset(properties))


def protocol_names(protocol: type) -> set[str]:
    return {
        name
        for klass in protocol.__mro__
        if klass not in (object, QObject) and klass.__name__ not in ("Protocol", "Generic")
        for name in vars(klass)
        if not name.startswith("_")
    }


def mismatch(real: Surface, fake: Surface) -> list[str]:
    """Plain lines naming what only one side has ([] when the surfaces are the same)."""
    lines = []
    for kind in ("signals", "slots", "properties"):
        mine, theirs = getattr(real, kind), getattr(fake, kind)
        lines += [f"{kind}: only the real view-model has {x}" for x in sorted(mine - theirs)]
        lines += [f"{kind}: only the fake has {x}" for x in sorted(theirs - mine)]
    return lines


@pytest.mark.parametrize(("real", "fake", "protocol"), PAIRS, ids=lambda c: c.__name__)
def test_each_fake_has_exactly_the_real_view_models_surface(
    real: type[QObject], fake: type[QObject], protocol: type
) -> None:
    assert mismatch(surface(real), surface(fake)) == []


@pytest.mark.parametrize(("real", "fake", "protocol"), PAIRS, ids=lambda c: c.__name__)
def test_each_protocol_names_exactly_the_real_view_models_surface(
    real: type[QObject], fake: type[QObject], protocol: type
) -> None:
    expected = surface(real).names | CHILDREN.get(real, set())
    assert protocol_names(protocol) == expected


def test_the_fake_shell_hands_out_the_fake_children() -> None:
    shell = fakes.FakeAppViewModel()
    assert isinstance(shell.dialer, fakes.FakeDialerViewModel)
    assert isinstance(shell.call, fakes.FakeCallViewModel)
    assert isinstance(shell.signin, fakes.FakeSignInViewModel)
    assert isinstance(shell.settings, fakes.FakeSettingsViewModel)
    assert isinstance(shell.dialer.search, fakes.FakeSearchViewModel)


class _Real(QObject):
    readyChanged = Signal(bool)
    ready = NotifyProperty(bool, readyChanged)

    def __init__(self) -> None:
        super().__init__()
        self._ready = False

    @Slot()
    def go(self) -> None: ...


class _FakeWithARenamedSignal(QObject):
    readyToggled = Signal(bool)
    ready = Property(bool, lambda self: False, notify=readyToggled)

    @Slot()
    def go(self) -> None: ...


class _FakeWithASlotTakingAnArgument(QObject):
    readyChanged = Signal(bool)
    ready = Property(bool, lambda self: False, notify=readyChanged)

    @Slot(int)
    def go(self, n: int) -> None: ...


def test_a_signal_renamed_on_one_side_is_reported() -> None:
    assert mismatch(surface(_Real), surface(_FakeWithARenamedSignal)) == [
        "signals: only the real view-model has readyChanged(bool)",
        "signals: only the fake has readyToggled(bool)",
        "properties: only the real view-model has ready: bool, notify readyChanged, read-only",
        "properties: only the fake has ready: bool, notify readyToggled, read-only",
    ]


def test_a_slot_whose_arguments_changed_is_reported() -> None:
    assert mismatch(surface(_Real), surface(_FakeWithASlotTakingAnArgument)) == [
        "slots: only the real view-model has go()",
        "slots: only the fake has go(int)",
    ]


@pytest.mark.parametrize(
    ("port", "fake"),
    [(CallService, FakeCallService), (SignInService, FakeSignInService)],
    ids=lambda c: c.__name__,
)
def test_the_fake_services_offer_every_port_method_with_its_parameters(
    port: type, fake: type
) -> None:
    for name in protocol_names(port):
        declared = inspect.getattr_static(port, name)
        if isinstance(declared, property):
            continue  # FakeCallService keeps status and call as plain attributes, checked below
        offered = getattr(fake, name, None)
        assert offered is not None, f"{fake.__name__} lacks {name}"
        assert list(inspect.signature(offered).parameters) == list(
            inspect.signature(declared).parameters
        ), name
        assert inspect.iscoroutinefunction(offered) == inspect.iscoroutinefunction(declared), name
    if port is CallService:
        service = FakeCallService()
        assert {"status", "call"} <= set(vars(service))

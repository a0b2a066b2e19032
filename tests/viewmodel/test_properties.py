"""NotifyProperty: a view-model's Qt Property that notifies only on a real change."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from app.viewmodel.properties import NotifyProperty


class _Model(QObject):
    textChanged = Signal(str)
    text = NotifyProperty(str, textChanged)
    itemsChanged = Signal(list)
    items = NotifyProperty(list, itemsChanged)

    def __init__(self) -> None:
        super().__init__()
        self._text = ""
        self._items: list[str] = []


def test_setting_a_new_value_stores_it_and_notifies_once(qtbot: QtBot) -> None:
    model = _Model()
    seen: list[str] = []
    model.textChanged.connect(seen.append)
    assert _Model.text.set(model, "ready") is True
    assert _Model.text.set(model, "ready") is False
    assert model.text == model.property("text") == "ready"
    assert seen == ["ready"]


def test_qt_sees_a_read_only_property_with_its_notify_signal(qtbot: QtBot) -> None:
    meta = _Model.staticMetaObject.property(_Model.staticMetaObject.indexOfProperty("text"))
    assert not meta.isWritable()
    assert bytes(meta.notifySignal().name().data()) == b"textChanged"


def test_a_list_is_handed_out_as_a_copy(qtbot: QtBot) -> None:
    model = _Model()
    _Model.items.set(model, ["+14255550100"])
    model.items.append("+14255550101")
    assert model.items == ["+14255550100"]

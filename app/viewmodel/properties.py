"""NotifyProperty: a typed read-only Qt Property that its owner changes through ``set``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from PySide6.QtCore import Property, QObject, Signal

T = TypeVar("T")


class NotifyProperty(Property, Generic[T]):
    """A Qt Property read from ``self._<name>`` and changed only by its owner through ``set``.

    Declared next to its notify signal::

        numberChanged = Signal(str)
        number = NotifyProperty(str, numberChanged)

    Views and QML read it like any Qt Property (``vm.number`` is a ``str`` to mypy as well). The
    view-model changes it with ``DialerViewModel.number.set(self, text)``: the value is stored,
    and the notify signal is emitted only when the value really changed. Its type is checked by
    mypy against the Property's (``set`` takes a ``T``), not at run time. No property name is
    spelled as a string anywhere.
    """

    def __init__(self, type_: type[T], notify: Signal) -> None:
        self._attr = ""  # "_<name>", known once the class body assigns this to <name>
        self._notify = notify
        super().__init__(type_, self._read, notify=notify)

    def __set_name__(self, owner: type, name: str) -> None:
        self._attr = "_" + name

    def _read(self, obj: QObject) -> Any:
        value = getattr(obj, self._attr)
        # A list goes out as a copy: whoever reads it cannot change the view-model behind its back.
        return list(value) if isinstance(value, list) else value

    def set(self, obj: QObject, value: T) -> bool:
        """Store ``value`` on ``obj`` and emit the notify signal; False if nothing changed."""
        if getattr(obj, self._attr) == value:
            return False
        setattr(obj, self._attr, value)
        self._notify.__get__(obj, type(obj)).emit(value)
        return True

    if TYPE_CHECKING:  # how mypy sees the C descriptor underneath: class → itself, instance → T

        @overload
        def __get__(self, obj: None, owner: type | None = None) -> NotifyProperty[T]: ...
        @overload
        def __get__(self, obj: QObject, owner: type | None = None) -> T: ...
        def __get__(self, obj: QObject | None, owner: type | None = None) -> Any: ...

"""Small typed helpers for building widgets."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

T = TypeVar("T", bound=QObject)


def named(obj: T, name: str) -> T:
    """`obj` with its objectName set (tests, xdotool and the stylesheet find widgets by name).

    Passing objectName= to the constructor works at run time, but PySide6's stubs reject it.
    """
    obj.setObjectName(name)
    return obj


def confirm_destructive(
    parent: QWidget,
    *,
    name: str,
    title: str,
    question: str,
    action: str,
    on_yes: Callable[[], None],
    on_closed: Callable[[], None],
) -> QMessageBox:
    """Open (never exec(): a nested loop would re-enter the asyncio tasks) a question whose
    default is Cancel; ``on_yes`` runs only when the destructive ``action`` button was chosen,
    ``on_closed`` whenever the box closes."""
    cancel = QMessageBox.StandardButton.Cancel
    box = named(QMessageBox(QMessageBox.Icon.Question, title, question, cancel, parent), name)
    chosen = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(cancel)

    def done(_result: int) -> None:
        on_closed()
        if box.clickedButton() is chosen:
            on_yes()
        box.deleteLater()

    box.finished.connect(done)
    box.open()
    return box

"""Small typed helpers for building widgets."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject

T = TypeVar("T", bound=QObject)


def named(obj: T, name: str) -> T:
    """`obj` with its objectName set (tests, xdotool and the stylesheet find widgets by name).

    Passing objectName= to the constructor works at run time, but PySide6's stubs reject it.
    """
    obj.setObjectName(name)
    return obj

"""The dialer: number field, inline hint, keypad, recent numbers and the "Ring me at" selector."""

from __future__ import annotations

import unicodedata

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QFocusEvent, QFont, QFontMetrics, QKeyEvent, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui import assets
from app.ui.qtutil import named
from app.ui.search_popup import SearchPopup
from app.ui.state_indicator import keep_numbers_whole
from app.viewmodel.protocols import DialerSurface

# (key, letters, object name suffix, accessible name)
_KEYS = (
    ("1", "", "1", "1"), ("2", "ABC", "2", "2"), ("3", "DEF", "3", "3"),
    ("4", "GHI", "4", "4"), ("5", "JKL", "5", "5"), ("6", "MNO", "6", "6"),
    ("7", "PQRS", "7", "7"), ("8", "TUV", "8", "8"), ("9", "WXYZ", "9", "9"),
    ("*", "", "Star", "Star"), ("0", "+", "0", "0"), ("#", "", "Hash", "Hash"),
)  # fmt: skip

LONG_PRESS_MS = 600
_OTHER = "other"  # item data of the "Another number…" entry


def dial_chars(text: str) -> str:
    """The characters of ``text`` that count as the number (digits, +, *, #), digits as ASCII."""
    out = []
    for ch in text:
        if ch in "+*#":
            out.append(ch)
        elif ch.isdigit():
            out.append(str(unicodedata.digit(ch, 0)))
    return "".join(out)


def cursor_after(text: str, count: int) -> int:
    """The position in ``text`` just after its ``count``-th dial character (0 = the start)."""
    if count <= 0:
        return 0
    seen = 0
    for index, ch in enumerate(text):
        if dial_chars(ch):
            seen += 1
            if seen == count:
                return index + 1
    return len(text)


def _count_kept(before: str, after: str, count: int) -> int:
    """How many of the first ``count`` dial characters of ``before`` survive in ``after``: the same
    number, one fewer when the one removed was before the cursor, at most all of ``after``."""
    if after == before:
        return count
    if len(after) == len(before) - 1:
        if count > 0 and after == before[: count - 1] + before[count:]:
            return count - 1  # the character just before the cursor went (also inside "555")
        index = next(
            (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b), len(after)
        )
        if after == before[:index] + before[index + 1 :]:
            return count - 1 if index < count else count
    return min(count, len(after))


class KeypadButton(QPushButton):
    """A keypad key drawn as a big digit over its small letters (2 over ABC)."""

    def __init__(self, key: str, letters: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.letters = letters
        self.setProperty("keypad", True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def _fonts(self) -> tuple[QFont, QFont]:
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.4)
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.72))
        small.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 115)
        return big, small

    def sizeHint(self) -> QSize:
        big, small = self._fonts()
        bm, sm = QFontMetrics(big), QFontMetrics(small)
        width = max(bm.horizontalAdvance("0") * 3, sm.horizontalAdvance("WXYZ")) + 24
        height = bm.height() + sm.height() + 14
        return QSize(width, height)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.text = ""
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)
        big, small = self._fonts()
        bm, sm = QFontMetrics(big), QFontMetrics(small)
        block = bm.height() + sm.height()
        top = (self.height() - block) // 2
        role = QPalette.ColorRole.ButtonText
        painter.setPen(self.palette().color(role))
        painter.setFont(big)
        painter.drawText(
            QRect(0, top, self.width(), bm.height()), Qt.AlignmentFlag.AlignCenter, self.key
        )
        if self.letters:
            color = self.palette().color(QPalette.ColorGroup.Disabled, role)
            painter.setPen(color if self.isEnabled() else self.palette().color(role))
            painter.setFont(small)
            painter.drawText(
                QRect(0, top + bm.height(), self.width(), sm.height()),
                Qt.AlignmentFlag.AlignCenter,
                self.letters,
            )


class DialerView(QWidget):
    """Binds to a DialerViewModel. The field sends only user edits (textEdited) to the VM and takes
    the VM's formatted text back only when it differs, so there is no loop and the cursor stays put.

    Signals:
        longPressPlus(): the 0 key was held long enough to enter "+" (for tests; screen readers
            hear the "+" through the number field's text, not through this signal).
    """

    longPressPlus = Signal()

    def __init__(self, vm: DialerSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._vm = vm

        self.numberLabel = named(QLabel(self.tr("&Number to call"), self), "numberLabel")
        self.number = named(QLineEdit(self), "number")
        self.number.setAccessibleName(self.tr("Number to call"))
        self.number.setAccessibleDescription(
            self.tr("Type or paste a phone number; Enter calls it")
        )
        self.number.setPlaceholderText(self.tr("+1 425 555 0100 or a name"))
        self.number.setClearButtonEnabled(False)
        font = QFont(self.number.font())
        font.setPointSizeF(font.pointSizeF() * 1.35)
        self.number.setFont(font)
        self.numberLabel.setBuddy(self.number)

        self.backspaceButton = named(QToolButton(self), "backspaceButton")
        self.backspaceButton.setAccessibleName(self.tr("Delete last digit"))
        self.backspaceButton.setAccessibleDescription(self.tr("Removes the last character"))
        self.backspaceButton.setToolTip(self.tr("Delete last digit"))
        self.backspaceButton.setAutoRepeat(True)  # hold to delete several, like a phone
        self.recentButton = named(QToolButton(self), "recentButton")
        self.recentButton.setAccessibleName(self.tr("Recent numbers"))
        self.recentButton.setAccessibleDescription(self.tr("Pick a number you called before"))
        self.recentButton.setToolTip(self.tr("Recent numbers"))
        self.recentButton.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.recentMenu = named(QMenu(self.recentButton), "recentMenu")
        self.recentButton.setMenu(self.recentMenu)

        self.hint = named(QLabel(self), "numberHint")
        self.hint.setWordWrap(True)
        self.hint.setAccessibleName(self.tr("Number hint"))
        self.search = SearchPopup(vm.search, self)

        self.keys: dict[str, KeypadButton] = {}
        grid = QGridLayout()
        grid.setSpacing(8)
        for index, (key, letters, suffix, spoken) in enumerate(_KEYS):
            button = KeypadButton(key, letters, self)
            button.setObjectName(f"key{suffix}")
            button.setAccessibleName(spoken)
            button.setAccessibleDescription(
                self.tr("Adds %s to the number; hold for +") % key
                if key == "0"
                else self.tr("Adds %s to the number") % key
            )
            grid.addWidget(button, index // 3, index % 3)
            self.keys[key] = button
            if key != "0":
                button.clicked.connect(lambda _=False, k=key: self._vm.appendDigit(k))
        # 0 enters "+" when held: a single-shot timer owned by the view, alive only while pressed.
        self._long_press = QTimer(self, singleShot=True, interval=LONG_PRESS_MS)
        self._long_press.timeout.connect(self._on_zero_held)
        self.keys["0"].pressed.connect(self._long_press.start)
        self.keys["0"].released.connect(self._on_zero_released)

        field = QHBoxLayout()
        field.setSpacing(6)
        field.addWidget(self.number, 1)
        field.addWidget(self.backspaceButton)
        field.addWidget(self.recentButton)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.numberLabel)
        layout.addLayout(field)
        layout.addWidget(self.hint)
        layout.addWidget(self.search)
        layout.addSpacing(6)
        layout.addLayout(grid)
        # View -> VM: user actions only.
        self.number.textEdited.connect(self._on_edited)
        self.number.returnPressed.connect(vm.dial)
        self.number.installEventFilter(self)  # Up, Down and Esc move in the people found
        self.search.activated.connect(vm.dial)
        self.backspaceButton.clicked.connect(vm.backspace)
        self.recentMenu.triggered.connect(lambda action: vm.chooseRecent(action.data()))
        # VM -> view.
        vm.numberChanged.connect(self._on_vm_number)
        vm.hintChanged.connect(self._on_vm_hint)
        vm.numberValidChanged.connect(self._on_vm_hint)
        vm.recentNumbersChanged.connect(self._on_vm_recent)
        self._on_vm_number()
        self._on_vm_hint()
        self._on_vm_recent()
        self.retint()

    def focus_chain(self) -> list[QWidget]:
        """Widgets in their Tab order, for the window to link up."""
        keys = [self.keys[k] for k, *_ in _KEYS]
        return [self.number, self.backspaceButton, self.recentButton, *keys]

    def retint(self) -> None:
        text = self.palette().color(QPalette.ColorRole.ButtonText)
        self.backspaceButton.setIcon(assets.glyph("action-backspace", text))
        self.recentButton.setIcon(assets.glyph("action-recent", text))

    @Slot()
    def _on_vm_number(self) -> None:
        text = self._vm.number
        if self.number.text() != text:  # keep the cursor when nothing changed
            self.number.setText(text)

    @Slot(str)
    def _on_edited(self, text: str) -> None:
        """A user edit: the VM cleans and reformats it. The field then shows exactly the VM's text
        (the VM emits nothing when a rejected character left its number as it was) with the
        cursor after the same digits as before, not at the end."""
        before = dial_chars(text)
        count = len(dial_chars(text[: self.number.cursorPosition()]))
        self._vm.setNumber(text)
        shown = self._vm.number
        if self.number.text() == shown and shown == text:
            return  # nothing was reformatted: Qt's cursor is right
        self.number.setText(shown)
        self.number.setCursorPosition(
            cursor_after(shown, _count_kept(before, dial_chars(shown), count))
        )

    @Slot()
    def _on_vm_hint(self) -> None:
        hint = self._vm.hint
        self.hint.setText(keep_numbers_whole(hint))
        self.hint.setVisible(bool(hint))
        # Screen readers hear why the number is not accepted, from the field itself.
        self.number.setAccessibleDescription(
            hint or self.tr("Type or paste a phone number; Enter calls it")
        )

    @Slot()
    def _on_vm_recent(self) -> None:
        self.recentMenu.clear()
        numbers = list(self._vm.recentNumbers or [])
        for index, number in enumerate(numbers):
            action = self.recentMenu.addAction(number)
            action.setData(index)
        self.recentButton.setEnabled(bool(numbers))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.number and isinstance(event, QKeyEvent) and self._vm.search.showing:
            key = event.key()
            if event.type() == QEvent.Type.ShortcutOverride and key == Qt.Key.Key_Escape:
                event.accept()  # Esc closes the list here; it must not hang up a call
            elif event.type() == QEvent.Type.KeyPress:
                if key == Qt.Key.Key_Down:
                    self._vm.search.moveDown()
                    return True
                if key == Qt.Key.Key_Up:
                    self._vm.search.moveUp()
                    return True
                if key == Qt.Key.Key_Escape:
                    self._vm.search.dismiss()
                    return True
        return super().eventFilter(obj, event)

    @Slot()
    def _on_zero_held(self) -> None:
        self._vm.appendDigit("+")
        self.longPressPlus.emit()

    @Slot()
    def _on_zero_released(self) -> None:
        # Released before the long-press fired: an ordinary 0.
        if self._long_press.isActive():
            self._long_press.stop()
            self._vm.appendDigit("0")


class CallbackSelector(QWidget):
    """ "Ring me at": the user's own phones from the VM plus "Another number…" (typed, E.164)."""

    def __init__(self, vm: DialerSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ringRow")
        self._vm = vm
        self.callbackLabel = named(QLabel(self.tr("Ring &me at"), self), "callbackLabel")
        self.callback = named(QComboBox(self), "callbackCombo")
        self.callback.setAccessibleName(self.tr("Ring me at"))
        self.callback.setAccessibleDescription(
            self.tr("The phone the server rings first; it then connects you to the number")
        )
        self.callback.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.callback.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.callbackLabel.setBuddy(self.callback)
        self.customCallback = named(QLineEdit(self), "customCallback")
        self.customCallback.setAccessibleName(self.tr("Other number to ring"))
        self.customCallback.setAccessibleDescription(
            self.tr("A phone number in international format, e.g. +14255550123; Enter to use it")
        )
        self.customCallback.setPlaceholderText(self.tr("Your other number, e.g. +14255550123"))
        self.customCallback.hide()
        self.callbackHint = named(QLabel(self), "callbackHint")
        self.callbackHint.setWordWrap(True)
        self.callbackHint.hide()

        ring = QHBoxLayout()
        ring.setSpacing(8)
        ring.addWidget(self.callbackLabel)
        ring.addWidget(self.callback, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(ring)
        layout.addWidget(self.customCallback)
        layout.addWidget(self.callbackHint)

        self.callback.activated.connect(self._on_callback_activated)
        self.customCallback.returnPressed.connect(self._on_custom_entered)
        self.customCallback.installEventFilter(self)  # Esc and leaving the field (below)
        vm.callbackChoicesChanged.connect(self._on_vm_callbacks)
        vm.callbackIndexChanged.connect(self._on_vm_callbacks)
        vm.callbackHintChanged.connect(self._on_vm_callback_hint)  # why "other number" was refused
        self._on_vm_callbacks()

    def focus_chain(self) -> list[QWidget]:
        return [self.callback, self.customCallback]

    @Slot()
    def _on_vm_callbacks(self) -> None:
        choices = list(self._vm.callbackChoices or [])
        self.callback.blockSignals(True)  # rebuilding the list is not a user choice
        self.callback.clear()
        for choice in choices:
            self.callback.addItem(choice)
        self.callback.addItem(self.tr("Another number…"), _OTHER)
        index = int(self._vm.callbackIndex)
        if 0 <= index < len(choices):
            self.callback.setCurrentIndex(index)
            self.customCallback.hide()
        self.callback.blockSignals(False)

    @Slot()
    def _on_vm_callback_hint(self) -> None:
        hint = self._vm.callbackHint
        self.callbackHint.setText(hint)
        self.callbackHint.setVisible(bool(hint))
        self.customCallback.setAccessibleDescription(
            hint or self.tr("A phone number in international format, e.g. +14255550123")
        )

    @Slot(int)
    def _on_callback_activated(self, index: int) -> None:
        if self.callback.itemData(index) == _OTHER:
            self.customCallback.show()
            self.customCallback.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.customCallback.hide()
        self._vm.setCallbackIndex(index)

    @Slot()
    def _on_custom_entered(self) -> None:
        text = self.customCallback.text().strip()
        if text:
            self._vm.setCustomCallback(text)
            if not self._vm.callbackHint:  # accepted (maybe the number already chosen): show it
                self._on_vm_callbacks()

    def _choosing_other(self) -> bool:
        return self.customCallback.isVisible() and self.callback.currentData() == _OTHER

    def _show_vm_choice(self) -> None:
        """Put the combo back on the phone the VM actually uses."""
        index = int(self._vm.callbackIndex)
        if 0 <= index < self.callback.count() - 1:
            self.callback.setCurrentIndex(index)

    def _cancel_custom(self) -> None:
        self._show_vm_choice()
        self.customCallback.hide()
        self.callbackHint.hide()
        self.callback.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_custom_left(self) -> None:
        if not self._choosing_other():
            return
        if self.customCallback.text().strip():
            self._on_custom_entered()  # a valid number is taken as if Enter was pressed
        if self.callback.currentData() != _OTHER:
            return
        # Not accepted: the combo must not claim "Another number…" while the old phone is used.
        # A refused number stays in view with its hint; an empty field goes away.
        self._show_vm_choice()
        if not self.customCallback.text().strip():
            self.customCallback.hide()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.customCallback:
            kind = event.type()
            escape = isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape
            if kind == QEvent.Type.ShortcutOverride and escape:
                event.accept()  # Esc leaves this field; it must not hang up the call
            elif kind == QEvent.Type.KeyPress and escape:
                self._cancel_custom()
                return True  # nor close the Settings dialog
            elif (
                kind == QEvent.Type.FocusOut
                and isinstance(event, QFocusEvent)
                and event.reason()
                not in (Qt.FocusReason.ActiveWindowFocusReason, Qt.FocusReason.PopupFocusReason)
            ):
                self._on_custom_left()
        return super().eventFilter(obj, event)

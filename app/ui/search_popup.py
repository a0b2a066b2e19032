"""The people found for a name typed into the number field: one row per number, under the field."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.ui.qtutil import named
from app.viewmodel.protocols import SearchSurface

_ROW = Qt.ItemDataRole.UserRole  # the view-model's row index of a number item
MAX_VISIBLE_ITEMS = 7


class SearchPopup(QWidget):
    """Binds to a SearchViewModel. Each person is a heading (name, title · department) followed by
    their numbers; only numbers can be chosen. The number field keeps the focus: it sends the
    arrow keys here through the view-model (moveUp/moveDown), and Enter dials the chosen row.

    Signals:
        activated(): a number row was clicked twice or activated: dial it.
    """

    activated = Signal()

    def __init__(self, vm: SearchSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchPopup")
        self._vm = vm
        self._items: list[QListWidgetItem] = []  # number items, by the view-model's row index
        self.message = named(QLabel(self), "searchMessage")
        self.message.setWordWrap(True)
        self.list = named(QListWidget(self), "searchResults")
        self.list.setAccessibleName(self.tr("People found"))
        self.list.setAccessibleDescription(self.tr("Up and Down choose a number; Enter calls it"))
        # Typing goes on in the number field: the list never takes the focus from it.
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setUniformItemSizes(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.message)
        layout.addWidget(self.list)
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_activated)
        self.list.itemDoubleClicked.connect(self._on_activated)
        vm.resultsChanged.connect(self._on_vm_results)
        vm.currentIndexChanged.connect(self._on_vm_current)
        vm.messageChanged.connect(self._on_vm_message)
        vm.busyChanged.connect(self._on_vm_message)
        vm.busyChanged.connect(self._on_vm_showing)
        vm.showingChanged.connect(self._on_vm_showing)
        self._on_vm_results()
        self._on_vm_message()
        self._on_vm_showing()

    def number_items(self) -> list[QListWidgetItem]:
        """The rows that can be dialled, in the view-model's order."""
        return list(self._items)

    @Slot()
    def _on_vm_results(self) -> None:
        self.list.clear()
        self._items = []
        person: tuple[str, str] | None = None
        bold = QFont(self.list.font())
        bold.setBold(True)
        for index, row in enumerate(self._vm.results or []):
            who = (str(row.get("person", "")), str(row.get("about", "")))
            if who != person:
                person = who
                heading = QListWidgetItem(" — ".join(p for p in who if p), self.list)
                heading.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a heading is never chosen
                heading.setFont(bold)
            item = QListWidgetItem(f"    {row.get('kind', '')}   {row.get('number', '')}")
            item.setData(_ROW, index)
            item.setToolTip(self.tr("Call %s") % who[0])
            self.list.addItem(item)
            self._items.append(item)
        rows = max(1, min(MAX_VISIBLE_ITEMS, self.list.count()))
        self.list.setFixedHeight(rows * max(1, self.list.sizeHintForRow(0)) + 6)
        self.list.setVisible(bool(self._items))
        self._on_vm_current()

    @Slot()
    def _on_vm_current(self) -> None:
        index = int(self._vm.currentIndex)
        if 0 <= index < len(self._items):
            item = self._items[index]
            self.list.setCurrentItem(item)
            self.list.scrollToItem(item)
        else:
            self.list.setCurrentRow(-1)

    @Slot()
    def _on_vm_message(self) -> None:
        text = self._vm.message
        if not text and self._vm.busy and not self._items:
            text = self.tr("Searching the address book…")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    @Slot()
    def _on_vm_showing(self) -> None:
        self.setVisible(bool(self._vm.showing or self._vm.busy))

    def _row_of(self, item: QListWidgetItem) -> int | None:
        value: Any = item.data(_ROW)
        return value if isinstance(value, int) else None

    @Slot(QListWidgetItem)
    def _on_clicked(self, item: QListWidgetItem) -> None:
        row = self._row_of(item)
        if row is not None:
            self._vm.setCurrentIndex(row)
        else:
            self._on_vm_current()  # a heading was clicked: keep the chosen number

    @Slot(QListWidgetItem)
    def _on_activated(self, item: QListWidgetItem) -> None:
        row = self._row_of(item)
        if row is not None:
            self._vm.setCurrentIndex(row)
            self.activated.emit()

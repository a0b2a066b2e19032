"""The call history window: search, the calls newest first, redial, copy, delete, export."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer, Slot
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.qtutil import confirm_destructive, named
from app.viewmodel.protocols import HistorySurface

COLUMNS = (("number", "Number"), ("who", "Who"), ("when", "When"), ("duration", "Duration"),
           ("outcome", "Outcome"))  # fmt: skip
_ID = Qt.ItemDataRole.UserRole


SEARCH_DEBOUNCE_MS = 200  # typing pauses this long before the history is searched


class HistoryView(QDialog):
    """Non-modal; shown with show(), never exec() (a nested loop would re-enter asyncio).

    Enter or a double-click redials the selected call (and closes the window, so the call is
    seen); the view-model refuses during a call and says why in the message line.
    """

    def __init__(self, history: HistorySurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyView")
        self._history = history
        self._confirm: QMessageBox | None = None
        self.setWindowTitle(self.tr("Call history — UCWA Phone"))
        self.setModal(False)
        self.resize(640, 420)

        self.searchField = named(QLineEdit(self), "historySearch")
        self.searchField.setPlaceholderText(self.tr("Search by number or name"))
        self.searchField.setAccessibleName(self.tr("Search the call history"))
        self.searchField.setClearButtonEnabled(True)
        self.demoLabel = named(QLabel(self.tr("Demo calls (kept apart from real ones)"), self),
                               "historyDemo")  # fmt: skip
        self.table = named(QTableWidget(0, len(COLUMNS), self), "historyTable")
        self.table.setHorizontalHeaderLabels([self.tr(title) for _, title in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.setAccessibleName(self.tr("Calls, newest first"))
        self.emptyLabel = named(QLabel(self.tr("No calls yet."), self), "historyEmpty")
        self.message = named(QLabel(self), "historyMessage")
        self.message.setWordWrap(True)

        self.callButton = named(QPushButton(self.tr("&Call again"), self), "historyCall")
        self.copyButton = named(QPushButton(self.tr("C&opy number"), self), "historyCopy")
        self.deleteButton = named(QPushButton(self.tr("&Delete"), self), "historyDelete")
        self.clearButton = named(QPushButton(self.tr("C&lear all…"), self), "historyClear")
        self.exportButton = named(QPushButton(self.tr("&Export CSV…"), self), "historyExport")
        buttons = QHBoxLayout()
        for button in (self.callButton, self.copyButton, self.deleteButton):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.clearButton)
        buttons.addWidget(self.exportButton)
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)  # Return redials the selected row, nothing else

        layout = QVBoxLayout(self)
        layout.addWidget(self.searchField)
        layout.addWidget(self.demoLabel)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.emptyLabel)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        # Each search is a query of the history file on this thread: once typing pauses.
        self._searchTimer = QTimer(self)
        self._searchTimer.setSingleShot(True)
        self._searchTimer.setInterval(SEARCH_DEBOUNCE_MS)
        self._searchTimer.timeout.connect(self._search_now)
        self.searchField.textChanged.connect(self._searchTimer.start)
        self.searchField.returnPressed.connect(self._focus_table)
        self.table.cellDoubleClicked.connect(lambda _r, _c: self.redial_selected())
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.itemSelectionChanged.connect(self._sync_buttons)
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            shortcut = QShortcut(QKeySequence(key), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.redial_selected)
        self.callButton.clicked.connect(self.redial_selected)
        self.copyButton.clicked.connect(self.copy_selected)
        self.deleteButton.clicked.connect(self.delete_selected)
        self.clearButton.clicked.connect(self.ask_clear)
        self.exportButton.clicked.connect(self.ask_export)
        history.rowsChanged.connect(self._show_rows)
        history.messageChanged.connect(self.message.setText)
        history.demoChanged.connect(self.demoLabel.setVisible)
        self.demoLabel.setVisible(history.demo)
        self.message.setText(history.message)
        self._show_rows()

    # ---- rows -------------------------------------------------------------------------------

    @Slot()
    def _show_rows(self) -> None:
        selected = self.selected_id()
        rows = self._history.rows
        self.table.setRowCount(len(rows))
        for r, data in enumerate(rows):
            for c, (key, _title) in enumerate(COLUMNS):
                item = QTableWidgetItem(str(data[key]))
                item.setData(_ID, data["id"])
                if key == "outcome" and data["reason"]:
                    item.setToolTip(data["reason"])
                self.table.setItem(r, c, item)
            if data["id"] == selected:
                self.table.selectRow(r)
        if self.selected_id() is None and rows:
            self.table.selectRow(0)
        self.emptyLabel.setVisible(not rows)
        self.clearButton.setEnabled(bool(rows))
        self._sync_buttons()

    def selected_id(self) -> int | None:
        items = self.table.selectedItems()
        return int(items[0].data(_ID)) if items else None

    def _selected_number(self) -> str:
        wanted = self.selected_id()
        return next((str(r["dial"]) for r in self._history.rows if r["id"] == wanted), "")

    @Slot()
    def _sync_buttons(self) -> None:
        has = self.selected_id() is not None
        for button in (self.callButton, self.copyButton, self.deleteButton):
            button.setEnabled(has)

    @Slot()
    def _focus_table(self) -> None:
        if self._searchTimer.isActive():  # Enter: the rows for what was typed, at once
            self._search_now()
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot()
    def _search_now(self) -> None:
        self._searchTimer.stop()
        self._history.setSearch(self.searchField.text())

    # ---- commands ---------------------------------------------------------------------------

    @Slot()
    def redial_selected(self) -> None:
        entry = self.selected_id()
        if entry is None:
            return
        self._history.redial(entry)
        if not self._history.message:  # refused ones say why here; placed ones show the call
            self.close()

    @Slot()
    def copy_selected(self) -> None:
        number = self._selected_number()
        if number:
            QGuiApplication.clipboard().setText(number)

    @Slot()
    def delete_selected(self) -> None:
        entry = self.selected_id()
        if entry is not None:
            self._history.deleteEntry(entry)

    @Slot()
    def ask_clear(self) -> None:
        self._confirm = confirm_destructive(
            self,
            name="confirmClearHistory",
            title=self.tr("Clear call history"),
            question=self.tr("Remove every call from the history? This cannot be undone."),
            action=self.tr("Clear all"),
            on_yes=self._history.clearAll,
            on_closed=self._forget_confirm,
        )

    def _forget_confirm(self) -> None:
        self._confirm = None

    @property
    def confirm_box(self) -> QMessageBox | None:
        return self._confirm

    @Slot()
    def ask_export(self) -> None:
        dialog = QFileDialog(self, self.tr("Export call history"), "call-history.csv")
        dialog.setObjectName("exportHistory")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter(self.tr("CSV files (*.csv)"))
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(self._history.exportCsv)
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        dialog.open()

    @Slot(QPoint)
    def _context_menu(self, pos: QPoint) -> None:
        if self.table.itemAt(pos) is None:
            return
        menu = QMenu(self)
        # One menu per right-click: gone once hidden (an action taken, Esc, a click elsewhere).
        menu.aboutToHide.connect(menu.deleteLater)
        menu.addAction(self.tr("Call again"), self.redial_selected)
        menu.addAction(self.tr("Copy number"), self.copy_selected)
        menu.addAction(self.tr("Delete"), self.delete_selected)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    def showEvent(self, event: QShowEvent) -> None:
        self._history.refresh()
        super().showEvent(event)
        self.searchField.setFocus(Qt.FocusReason.OtherFocusReason)

"""Non-modal error banner with a Details expander, and the Demo badge."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from app.ui import assets
from app.ui.qtutil import named
from app.viewmodel.protocols import ShellSurface


class ErrorBanner(QWidget):
    """Shows shell.errorText in plain words; Details reveals shell.errorDetails (code, subcode,
    X-Ms-Diagnostics). Never modal, never a traceback. Dismiss calls shell.dismissError().
    """

    def __init__(self, shell: ShellSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self._shell = shell
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAccessibleName(self.tr("Error"))

        self.icon = named(QLabel(self), "errorIcon")
        self.message = named(QLabel(self), "errorMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detailsButton = named(QToolButton(self), "errorDetailsButton")
        self.detailsButton.setText(self.tr("Details"))
        self.detailsButton.setCheckable(True)
        self.detailsButton.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.detailsButton.setArrowType(Qt.ArrowType.RightArrow)
        self.detailsButton.setAccessibleName(self.tr("Error details"))
        self.detailsButton.setAccessibleDescription(
            self.tr("Show the server's error code and diagnostics")
        )
        self.dismissButton = named(QToolButton(self), "errorDismissButton")
        self.dismissButton.setAccessibleName(self.tr("Dismiss error"))
        self.dismissButton.setAccessibleDescription(self.tr("Hide this message"))
        self.dismissButton.setToolTip(self.tr("Dismiss"))
        self.details = named(QLabel(self), "errorDetails")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.details.setAccessibleName(self.tr("Error details"))
        self.details.hide()

        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.message, 1)
        top.addWidget(self.detailsButton, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.dismissButton, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 8, 10)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.details)

        self.detailsButton.toggled.connect(self._on_details_toggled)
        self.dismissButton.clicked.connect(self._on_dismiss)
        shell.errorTextChanged.connect(self.refresh)
        shell.errorDetailsChanged.connect(self.refresh)
        self.retint()
        self.refresh()

    def retint(self) -> None:
        color, _ = assets.accent("bad", self.palette())
        side = self.fontMetrics().height()
        self.icon.setPixmap(
            assets.render_svg(
                assets.svg_bytes("alert", color), QSize(side, side), self.devicePixelRatioF()
            )
        )
        text = self.palette().color(QPalette.ColorRole.WindowText)
        self.dismissButton.setIcon(assets.glyph("action-close", text))

    @Slot()
    def refresh(self) -> None:
        message, details = self._shell.errorText, self._shell.errorDetails
        self.message.setText(message)
        self.details.setText(details)
        self.detailsButton.setVisible(bool(details))
        if not details:
            self.detailsButton.setChecked(False)
        self.setAccessibleDescription(message)
        self.setVisible(bool(message))

    @Slot(bool)
    def _on_details_toggled(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.detailsButton.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    @Slot()
    def _on_dismiss(self) -> None:
        self.detailsButton.setChecked(False)
        if self._shell.errorText:
            self._shell.dismissError()
        self.refresh()


class DemoBadge(QWidget):
    """The "Demo — calls are simulated" badge; "Set up your account" emits setupRequested."""

    def __init__(self, shell: ShellSurface, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demoBadge")
        self._shell = shell
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setAccessibleName(self.tr("Demo mode"))
        self.setAccessibleDescription(
            self.tr("Calls are simulated; no real phone rings until you set up your account")
        )
        self.label = named(QLabel(self.tr("Demo — calls are simulated"), self), "demoLabel")
        self.label.setWordWrap(True)
        self.setupButton = named(QPushButton(self.tr("Set up your account"), self), "setupLink")
        self.setupButton.setFlat(True)
        self.setupButton.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setupButton.setAccessibleName(self.tr("Set up your account"))
        self.setupButton.setAccessibleDescription(
            self.tr("Sign in to your Skype for Business server instead of the demo")
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.setSpacing(8)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.setupButton)
        self.setupButton.clicked.connect(shell.setupRequested)
        shell.demoChanged.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        self.setVisible(bool(self._shell.demo))

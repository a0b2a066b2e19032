"""The large call-state card: accent colour, icon and words together, never colour alone."""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from app.ui import assets
from app.ui.qtutil import named


@dataclass(frozen=True)
class Look:
    """What the indicator shows for one state."""

    kind: str  # accent family: neutral, progress, good, paused, bad (see assets.accent)
    icon: str  # icons/<icon>.svg
    headline: str  # big words: "Calling your phone — pick up"
    detail: str = ""  # second line: who, why it ended, who is signed in
    timer: str = ""  # "00:42" while connected


# A space inside a phone number ("+1 425-555-0100"): wrapping there splits the number in two.
_NUMBER_SPACE = re.compile(r"(?<=[\d+]) (?=\d)")


def keep_numbers_whole(text: str) -> str:
    return _NUMBER_SPACE.sub("\u00a0", text)


class _Disc(QWidget):
    """A filled accent circle with the state glyph on it, painted at the screen's pixel ratio."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._icon = "state-idle"
        self._kind = "neutral"
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_look(self, kind: str, icon: str) -> None:
        if (kind, icon) != (self._kind, self._icon):
            self._kind, self._icon = kind, icon
            self.update()

    def sizeHint(self) -> QSize:
        side = self.fontMetrics().height() * 3  # grows with the font, so 200% stays in proportion
        return QSize(side, side)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event: QPaintEvent) -> None:
        fill, on = assets.accent(self._kind, self.palette())
        side = min(self.width(), self.height())
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawEllipse(QRectF(0, 0, side, side))
        glyph = int(side * 0.5)
        offset = (side - glyph) // 2
        pixmap = assets.render_svg(
            assets.svg_bytes(self._icon, on), QSize(glyph, glyph), self.devicePixelRatioF()
        )
        painter.drawPixmap(offset, offset, pixmap)
        painter.end()


class StateIndicator(QWidget):
    """Card showing the call or connection state; its accessible description follows each change."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stateIndicator")
        self.setAccessibleName(self.tr("Call state"))
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._look = Look("neutral", "state-idle", "")

        self.disc = _Disc(self)
        self.headline = named(QLabel(self), "stateHeadline")
        self.headline.setWordWrap(True)
        font = QFont(self.headline.font())
        font.setPointSizeF(font.pointSizeF() * 1.45)
        font.setWeight(QFont.Weight.DemiBold)
        self.headline.setFont(font)
        self.detail = named(QLabel(self), "stateDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.timer = named(QLabel(self), "callTimer")
        timer_font = QFont(font)
        timer_font.setFeature(QFont.Tag("tnum"), 1)  # digits of equal width: no jitter each second
        self.timer.setFont(timer_font)
        self.timer.setAccessibleName(self.tr("Call duration"))

        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.headline)
        words.addWidget(self.detail)
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 16, 16, 16)
        row.setSpacing(14)
        row.addWidget(self.disc, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addLayout(words, 1)
        row.addWidget(self.timer, 0, Qt.AlignmentFlag.AlignVCenter)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.set_look(Look("neutral", "state-idle", ""))

    @property
    def look(self) -> Look:
        return self._look

    def set_look(self, look: Look) -> None:
        changed_state = (look.kind, look.icon, look.headline, look.detail) != (
            self._look.kind,
            self._look.icon,
            self._look.headline,
            self._look.detail,
        )
        self._look = look
        self.disc.set_look(look.kind, look.icon)
        self.headline.setText(keep_numbers_whole(look.headline))
        self.detail.setText(keep_numbers_whole(look.detail))
        self.detail.setVisible(bool(look.detail))
        self.set_timer(look.timer)
        self.setProperty("kind", look.kind)
        if changed_state or not self.accessibleDescription():
            # Only on a state change, not every timer tick, so screen readers are not flooded.
            words = ". ".join(part for part in (look.headline, look.detail) if part)
            self.setAccessibleDescription(words)
        self.update()

    def set_timer(self, text: str) -> None:
        self.timer.setText(text)
        self.timer.setVisible(bool(text))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.update()  # light/dark switch: accents are chosen per palette at paint time
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        fill, _ = assets.accent(self._look.kind, self.palette())
        base = self.palette().color(QPalette.ColorRole.Base)
        tint = QColor(base)
        # A faint wash of the accent over the base colour; text stays on a near-base background,
        # so its contrast is the palette's own.
        alpha = 0.10
        tint.setRgbF(
            base.redF() * (1 - alpha) + fill.redF() * alpha,
            base.greenF() * (1 - alpha) + fill.greenF() * alpha,
            base.blueF() * (1 - alpha) + fill.blueF() * alpha,
        )
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        path = QPainterPath()
        path.addRoundedRect(rect, 12, 12)
        painter.fillPath(path, tint)
        painter.setClipPath(path)
        painter.fillRect(QRectF(0, 0, 5, self.height()), fill)  # the accent stripe
        painter.setClipping(False)
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawPath(path)
        painter.end()

"""The Settings dialog: no sign-out from under a call, and each refused value explained."""

from __future__ import annotations

from pathlib import Path

import trustme
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from app.ui.settings_dialog import SettingsDialog
from tests.ui.real_shell import Real


def test_sign_out_in_settings_is_off_while_a_call_is_up(qtbot: QtBot, real: Real) -> None:
    real.win.show_settings()
    dialog = real.win.settings_dialog
    assert dialog is not None and dialog.signOutButton.isEnabled()
    real.connected()
    assert not dialog.signOutButton.isEnabled()
    qtbot.mouseClick(dialog.signOutButton, Qt.MouseButton.LeftButton)
    qtbot.wait(20)
    assert real.shell.signedIn and "aclose" not in real.session.names()
    real.ended()
    assert dialog.signOutButton.isEnabled()
    dialog.close()


def open_dialog(qtbot: QtBot, real: Real) -> SettingsDialog:
    real.win.show_settings()
    dialog = real.win.settings_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return dialog


def enter(qtbot: QtBot, field: QLineEdit, text: str) -> None:
    field.setFocus()
    field.selectAll()
    qtbot.keyClicks(field, text)
    qtbot.keyClick(field, Qt.Key.Key_Return)


def test_a_sign_in_address_without_at_is_refused_next_to_the_field(
    qtbot: QtBot, real: Real
) -> None:
    dialog = open_dialog(qtbot, real)
    enter(qtbot, dialog.address, "alice.contoso.com")
    assert dialog.addressError.isVisible()
    assert dialog.addressError.text() == "A sign-in address has an @, like alice@contoso.com."
    assert real.shell.settings.address != "alice.contoso.com"
    enter(qtbot, dialog.address, "bob@fabrikam.com")
    assert not dialog.addressError.isVisible()
    assert real.shell.signin.address == "bob@fabrikam.com"
    dialog.close()


def test_the_sign_in_method_offers_the_methods_the_app_knows(qtbot: QtBot, real: Real) -> None:
    dialog = open_dialog(qtbot, real)
    assert [dialog.method.itemData(i) for i in range(dialog.method.count())] == [
        "webticket",
        "aad",
    ]
    dialog.method.activated.emit(1)
    assert real.shell.settings.method == real.shell.signin.method == "aad"
    dialog.close()


def test_the_region_list_sets_the_dialers_region_and_a_bad_one_is_explained(
    qtbot: QtBot, real: Real
) -> None:
    dialog = open_dialog(qtbot, real)
    assert dialog.region.currentText() == "US (+1)"
    assert dialog.region.itemText(0).startswith("Automatic")
    de = dialog.region.findText("DE (+49)")
    dialog.region.setCurrentIndex(de)
    dialog.region.activated.emit(de)
    assert real.shell.dialer.region == "DE"
    real.shell.settings.setRegion("Germany")  # e.g. from an edited settings file, via the VM
    assert dialog.regionError.isVisible()
    assert "not a region" in dialog.regionError.text()
    assert dialog.region.currentText() == "DE (+49)"
    dialog.close()


def test_a_missing_ca_bundle_is_refused_and_a_good_one_noted_for_next_start(
    qtbot: QtBot, real: Real, tmp_path: Path
) -> None:
    dialog = open_dialog(qtbot, real)
    enter(qtbot, dialog.caBundle, str(tmp_path / "corp.pem"))
    assert dialog.caBundleError.isVisible()
    assert dialog.caBundleError.text() == "There is no file at that path."
    bundle = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    qtbot.mouseClick(dialog.browseButton, Qt.MouseButton.LeftButton)
    picker = dialog.file_dialog
    assert picker is not None
    qtbot.waitUntil(picker.isVisible)  # open(), not exec(): the event loop keeps running
    picker.fileSelected.emit(str(bundle))  # what choosing the file in the picker sends
    picker.close()
    assert not dialog.caBundleError.isVisible()
    assert dialog.caBundleNote.isVisible() and dialog.caBundle.text() == str(bundle)
    dialog.close()


def test_a_callback_number_the_number_rules_refuse_is_explained(qtbot: QtBot, real: Real) -> None:
    dialog = open_dialog(qtbot, real)
    combo = dialog.callback.callback
    other = combo.count() - 1
    combo.setCurrentIndex(other)
    combo.activated.emit(other)
    enter(qtbot, dialog.callback.customCallback, "5500")
    assert dialog.callback.callbackHint.isVisible()
    assert "+" in dialog.callback.callbackHint.text()  # a callback must be a full number
    assert real.shell.dialer.callbackNumber == "+14255550123"
    dialog.close()


def test_start_minimised_and_notifications_are_switches(qtbot: QtBot, real: Real) -> None:
    dialog = open_dialog(qtbot, real)
    assert not dialog.startMinimised.isChecked() and dialog.notifications.isChecked()
    for box in (dialog.startMinimised, dialog.notifications):
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert real.shell.settings.startMinimised and not real.shell.settings.notifications
    dialog.close()

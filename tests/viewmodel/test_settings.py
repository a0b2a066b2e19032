"""SettingsViewModel: valid values are saved and take effect; invalid ones are refused with a
reason and leave the saved value alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import trustme
from pytestqt.qtbot import QtBot

from app.settings import Settings
from app.viewmodel.ports import MemorySettingsStore
from app.viewmodel.settings import (
    AUTOMATIC_REGION,
    BAD_ADDRESS,
    NEXT_START,
    SettingsViewModel,
)
from app.viewmodel.shell import AppViewModel
from tests.viewmodel.fakes import FakeSignInService


@pytest.fixture
def store() -> MemorySettingsStore:
    return MemorySettingsStore(Settings(address="alice@contoso.com", default_region="US"))


@pytest.fixture
def shell(store: MemorySettingsStore) -> AppViewModel:
    return AppViewModel(signin_service=FakeSignInService(), store=store)


@pytest.fixture
def vm(shell: AppViewModel) -> SettingsViewModel:
    return shell.settings


def a_ca_bundle(tmp_path: Path) -> Path:
    """A PEM file holding a private CA's certificate."""
    path = tmp_path / "corp-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def test_starts_from_the_saved_settings(vm: SettingsViewModel) -> None:
    assert (vm.address, vm.method, vm.region) == ("alice@contoso.com", "webticket", "US")
    assert vm.regionChoices[0] == AUTOMATIC_REGION
    assert vm.regionChoices[vm.regionIndex] == "US (+1)"
    assert (vm.startMinimised, vm.notifications) == (False, True)


@pytest.mark.parametrize("text", ["alice", "alice@", "@contoso.com", "a@b@c.com", "al ice@x.com"])
def test_an_address_without_a_single_at_is_refused(
    vm: SettingsViewModel, store: MemorySettingsStore, text: str
) -> None:
    vm.setAddress(text)
    assert vm.addressError == BAD_ADDRESS
    assert vm.address == "alice@contoso.com"
    assert store.load().address == "alice@contoso.com"


def test_a_new_address_is_saved_and_fills_the_sign_in_form(
    vm: SettingsViewModel, shell: AppViewModel, store: MemorySettingsStore
) -> None:
    vm.setAddress("bob")
    vm.setAddress(" bob@fabrikam.com ")
    assert vm.addressError == ""
    assert store.load().address == "bob@fabrikam.com"
    assert shell.signin.address == "bob@fabrikam.com"


def test_the_sign_in_method_is_saved_and_unknown_ones_ignored(
    vm: SettingsViewModel, shell: AppViewModel, store: MemorySettingsStore
) -> None:
    vm.setMethod("aad")
    assert (store.load().method, shell.signin.method) == ("aad", "aad")
    vm.setMethod("kerberos")
    assert store.load().method == "aad"


def test_an_account_saved_by_the_sign_in_form_is_shown_and_its_method_can_be_changed_back(
    qtbot: QtBot,
    aloop: asyncio.AbstractEventLoop,
    vm: SettingsViewModel,
    shell: AppViewModel,
    store: MemorySettingsStore,
) -> None:
    form = shell.signin
    form.setAddress("bob@fabrikam.com")
    form.setMethod("aad")
    with qtbot.waitSignal(form.accountSaved):
        form.signIn()
    assert (vm.address, vm.method) == ("bob@fabrikam.com", "aad")
    vm.setMethod("webticket")  # what Settings showed before the sign-in
    assert store.load().method == "webticket"


def test_reload_shows_what_another_part_saved(
    vm: SettingsViewModel, store: MemorySettingsStore
) -> None:
    store.save(store.load().replace(default_region="DE", notifications=False))
    vm.reload()
    assert (vm.region, vm.regionChoices[vm.regionIndex]) == ("DE", "DE (+49)")
    assert vm.notifications is False


@pytest.mark.parametrize("code", ["ZZ", "USA", "12"])
def test_an_unknown_region_is_refused(
    vm: SettingsViewModel, store: MemorySettingsStore, code: str
) -> None:
    vm.setRegion(code)
    assert vm.regionError == f'"{code}" is not a region; choose one from the list.'
    assert vm.region == "US" and store.load().default_region == "US"


def test_a_new_region_changes_how_the_dialer_reads_national_numbers(
    vm: SettingsViewModel, shell: AppViewModel, store: MemorySettingsStore
) -> None:
    shell.dialer.setNumber("030 1234567")
    assert shell.dialer.target is None or shell.dialer.target.number != "+49301234567"
    vm.setRegion("de")
    assert store.load().default_region == "DE" and vm.regionError == ""
    assert vm.regionChoices[vm.regionIndex] == "DE (+49)"
    assert shell.dialer.target is not None and shell.dialer.target.number == "+49301234567"


def test_automatic_region_saves_none(vm: SettingsViewModel, store: MemorySettingsStore) -> None:
    vm.setRegionIndex(0)
    assert vm.region == "" and store.load().default_region is None


def test_a_missing_ca_bundle_is_refused(
    vm: SettingsViewModel, store: MemorySettingsStore, tmp_path: Path
) -> None:
    vm.setCaBundle(str(tmp_path / "nothing.pem"))
    assert vm.caBundleError == "There is no file at that path."
    assert store.load().ca_bundle is None and vm.caBundle == ""


def test_a_folder_as_ca_bundle_is_refused(vm: SettingsViewModel, tmp_path: Path) -> None:
    vm.setCaBundle(str(tmp_path))
    assert vm.caBundleError == "That is a folder; choose the CA bundle file itself."


def test_a_file_without_certificates_is_refused(vm: SettingsViewModel, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a certificate\n", encoding="utf-8")
    vm.setCaBundle(str(junk))
    assert vm.caBundleError == "That file holds no PEM certificates."


def test_a_readable_ca_bundle_is_saved_for_the_next_start(
    vm: SettingsViewModel, store: MemorySettingsStore, tmp_path: Path
) -> None:
    bundle = a_ca_bundle(tmp_path)
    vm.setCaBundle(str(tmp_path / "missing.pem"))
    vm.setCaBundle(str(bundle))
    assert vm.caBundleError == "" and vm.caBundleNote == NEXT_START
    assert store.load().ca_bundle == str(bundle)
    vm.setCaBundle("")
    assert store.load().ca_bundle is None


def test_desktop_switches_are_saved(vm: SettingsViewModel, store: MemorySettingsStore) -> None:
    vm.setStartMinimised(True)
    vm.setNotifications(False)
    saved = store.load()
    assert (saved.start_minimised, saved.notifications) == (True, False)


def test_a_failed_save_is_reported(vm: SettingsViewModel, store: MemorySettingsStore) -> None:
    def refuse(_settings: Settings) -> None:
        raise PermissionError("read-only config directory")

    store.save = refuse  # type: ignore[method-assign]
    errors: list[str] = []
    vm.errorOccurred.connect(lambda message, _details: errors.append(message))
    vm.setNotifications(False)
    assert errors == ["Your settings could not be saved."]

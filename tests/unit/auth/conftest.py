"""Sign-in fixtures: the real Secret Service (fail, never skip) and an https identity provider."""

from __future__ import annotations

from tests.helpers import authfixtures

secret_service = authfixtures.secret_service
keyring_store = authfixtures.keyring_store
idp = authfixtures.idp

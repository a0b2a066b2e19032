"""A throw-away CA (trustme) and a server certificate for 127.0.0.1 and localhost."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass
class TlsFiles:
    directory: Path
    ca_pem: Path  # give this to clients to verify against
    server_pem: Path  # private key + certificate chain, for uvicorn's certfile and keyfile

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def make_tls_files(hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> TlsFiles:
    import trustme  # only needed with --tls

    directory = Path(tempfile.mkdtemp(prefix="ucwa-sim-tls-"))
    ca = trustme.CA(organization_name="UCWA Phone simulator")
    cert = ca.issue_cert(*hosts)
    files = TlsFiles(directory, directory / "ca.pem", directory / "server.pem")
    ca.cert_pem.write_to_path(str(files.ca_pem))
    cert.private_key_and_cert_chain_pem.write_to_path(str(files.server_pem))
    return files

"""Writing the app's own files: atomically, through a unique temp file, for the user's eyes only."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_directory(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode 0700; an existing directory is left as is."""
    # mkdir's mode is masked by the umask, which is what we want for parents the user may share
    # (~/.config); the app's own leaf directory is created 0700 regardless of the umask.
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    try:
        path.mkdir(mode=DIR_MODE)
    except FileExistsError:
        return path
    os.chmod(path, DIR_MODE)  # the umask may have taken bits away, never added; make it exact
    return path


def write_private_atomically(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` so that readers see the old or the new file, never half.

    The temp file has a unique name in the same directory (two writers never share one) and is
    created 0600 by mkstemp, so the content is never readable by others, not even for a moment.
    On any failure the temp file is removed and the error propagates.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    directory = private_directory(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise

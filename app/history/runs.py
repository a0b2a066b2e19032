"""Which run (process) wrote a history row, and whether that run is still alive."""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

_OPEN: set[str] = set()  # tokens of this process's runs whose store is still open


@dataclass(frozen=True, slots=True)
class Run:
    """One open history store: its process (id and, where the system tells, start time, so a
    reused id is told apart) and a token for the store within that process."""

    pid: int
    started: str | None
    token: str

    @classmethod
    def begin(cls) -> Run:
        """A new run of this process, alive until ``end()``."""
        run = cls(os.getpid(), _start_time(os.getpid()), uuid.uuid4().hex)
        _OPEN.add(run.token)
        return run

    def end(self) -> None:
        _OPEN.discard(self.token)

    def alive(self) -> bool:
        if self.pid == os.getpid() and self.started == _start_time(self.pid):
            return self.token in _OPEN  # a store of this process closed with the call open
        if not _running(self.pid):
            return False
        # The id was given to another process since: that run is gone.
        return self.started is None or self.started == _start_time(self.pid)


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux); None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    # Field 22; the command name (field 2) is in parentheses and may hold spaces.
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _running(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        return _running_windows(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return False
    return True


def _running_windows(pid: int) -> bool:
    # os.kill on Windows terminates the process, so ask the system instead.
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    query_limited_information, still_active = 0x1000, 259
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == still_active
    finally:
        with contextlib.suppress(Exception):
            kernel32.CloseHandle(handle)

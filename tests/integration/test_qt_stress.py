"""Guard against PySide6 6.12.0's none_dealloc abort: 20,000 Qt→Python callbacks exit cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CALLBACKS = 20_000

# Each QTimer.singleShot callback is one Qt→Python call, like every asyncio callback under qasync.
# PySide6 6.12.0 on CPython 3.11 drops a reference to None per call and aborts after ~5,000 with
# "Fatal Python error: none_dealloc".
SCRIPT = textwrap.dedent(
    f"""
    import sys
    from PySide6.QtCore import QCoreApplication, QTimer

    app = QCoreApplication([])
    count = 0
    before = sys.getrefcount(None)

    def tick():
        global count
        count += 1
        if count < {CALLBACKS}:
            QTimer.singleShot(0, tick)
        else:
            app.quit()

    QTimer.singleShot(0, tick)
    app.exec()
    # On 3.12+ None is immortal and its refcount is constant; on 3.11 it must not have fallen.
    assert sys.getrefcount(None) >= before - 100, (before, sys.getrefcount(None))
    print("callbacks", count)
    """
)


def test_twenty_thousand_qt_callbacks_exit_cleanly() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["callbacks", str(CALLBACKS)]
    assert "none_dealloc" not in result.stderr

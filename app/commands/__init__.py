"""Headless sub-commands of `ucwa-phone` (sim, call, login, logout); composition roots without Qt.

Each module exposes ``add_arguments(parser)`` and ``run(args) -> int``; ``app.main`` dispatches.
"""

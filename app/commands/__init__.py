"""Headless sub-commands of `ucwa-phone` (sim, call, login, logout, history, doctor); no Qt.

Each module exposes ``add_arguments(parser)`` and ``run(args) -> int``; ``app.main`` dispatches.
"""

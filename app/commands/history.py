"""`ucwa-phone history`: print the call history, newest first, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
import sys

from app.history.store import (
    Entry,
    HistoryStore,
    HistoryUnavailable,
    duration_text,
    history_path,
)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="a JSON array of the entries")
    parser.add_argument("--limit", type=_positive, metavar="N", help="only the newest N entries")
    parser.add_argument("--demo", action="store_true", help="the demo mode's calls instead")
    parser.epilog = "Demo calls are kept in a history of their own (see --demo)."


def run(args: argparse.Namespace) -> int:
    path = history_path(args.demo)
    entries: list[Entry] = []
    if path.exists():  # reading must not create a history the user never had
        try:
            # Read-only: a call up in the window meanwhile stays "in progress", untouched.
            store = HistoryStore.open(path, read_only=True)
        except HistoryUnavailable as exc:
            print(f"ucwa-phone history: {exc}", file=sys.stderr)
            return 1
        try:
            if store.notice:
                print(f"ucwa-phone history: {store.notice}", file=sys.stderr)
            entries = store.entries(limit=args.limit)
        finally:
            store.close()
    if args.json:
        print(json.dumps([e.as_dict() for e in entries], indent=2))
    elif not entries:
        print("No calls yet.")
    else:
        print(table(entries))
    return 0


def table(entries: list[Entry]) -> str:
    rows = [("When (UTC)", "Number", "Who", "Duration", "Outcome", "Reason")]
    for e in entries:
        when = e.started_at.replace("T", " ").removesuffix("+00:00")
        rows.append(
            (when, e.typed, e.answered_by or "", duration_text(e.duration_s), e.outcome, e.reason)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )

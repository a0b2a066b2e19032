"""Call history: every call attempt in a private SQLite file, its recorder, and its files."""

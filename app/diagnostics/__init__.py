"""Connection diagnostics: the sign-in chain as separate timed steps, with advice (Qt-free)."""

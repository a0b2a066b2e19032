"""UCWA 2.0 protocol client for call via work; imports no Qt (public API in __all__)."""

"""UCWA Phone: call-via-work control for Skype for Business Server."""

__version__ = "0.1.0"

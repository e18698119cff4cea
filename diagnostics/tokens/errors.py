"""The one error type of the token analysis; its message is meant for the user as it is."""

from __future__ import annotations


class TokenAnalysisError(Exception):
    """The analysis cannot run; the message says what is missing or invalid and what to do."""

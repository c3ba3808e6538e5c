"""Errors an extract raises for bad input or an unreachable source."""

from __future__ import annotations


class ExtractError(ValueError):
    """A source that cannot be extracted. The message is one line, fit for a user (CLI exit 2)."""

"""Shared constants and helpers of the demo tests (imported by name: tests have no packages)."""

from __future__ import annotations

import hashlib
from pathlib import Path

QUESTIONS, SEED = 30, 1


def file_hashes(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by relative path (hidden folders included)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }

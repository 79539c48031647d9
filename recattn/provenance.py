"""Where a results file came from: the checkout's commit, so anyone can re-run what produced it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def commit(root: Path = ROOT) -> dict:
    """The checkout's commit and whether tracked files have uncommitted changes (empty where git is absent)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], check=False, cwd=root, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}

"""Results files: where one came from (the checkout's commit, so anyone can re-run what produced it), and reading
one back with a clear error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from recattn import paths
from recattn.errors import RecAttnError



def commit(root: Path = paths.ROOT) -> dict:
    """The checkout's commit and whether tracked files have uncommitted changes (empty where git is absent)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], check=False, cwd=root, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def read_results(path: Path, what: str, again: str, kind: type, field: str) -> dict | None:
    """The JSON object in `path` (the `what` results), None when the file does not exist; RecAttnError, ending
    with how to make it `again`, when it is unreadable or its `field` is not of `kind`."""
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RecAttnError(f"the {what} results {path.name} cannot be read ({e}); {again}") from e
    if not isinstance(report, dict) or not isinstance(report.get(field), kind):
        raise RecAttnError(f"{path.name} holds no {what} results (no {field}); {again}")
    return report

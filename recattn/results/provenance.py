"""Results files: where one came from (the checkout's commit, so anyone can re-run what produced it), and reading
one back with a clear error."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from recattn import paths
from recattn.errors import RecAttnError
from recattn.i18n import _



def commit(root: Path = paths.ROOT) -> dict:
    """The checkout's commit and whether tracked files have uncommitted changes (empty where git is absent)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], check=False, cwd=root, capture_output=True, text=True).stdout.strip()
        except OSError:
            return ""

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def read_results(path: Path, what: str, again: str, kind: type, field: str) -> dict | None:
    """The JSON object in `path` (the `what` results: a noun marked with N_, translated here), None when the file does
    not exist; RecAttnError, ending with how to make it `again` (translated), when it is unreadable or its `field` is
    not of `kind`."""
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RecAttnError(_("the {what} results {file} cannot be read ({error}); {again}").format(
            what=_(what), file=path.name, error=e, again=again)) from e
    if not isinstance(report, dict) or not isinstance(report.get(field), kind):
        raise RecAttnError(_("{file} holds no {what} results (no {field}); {again}").format(
            file=path.name, what=_(what), field=field, again=again))
    return report

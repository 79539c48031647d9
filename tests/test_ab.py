"""benchmarks/ab.py: a base commit's recattn imported beside the working tree's without sharing a module, both
timed on the same weights, their answers compared."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import ab

ROOT = Path(__file__).resolve().parents[1]


def _has_git_history() -> bool:
    if shutil.which("git") is None:
        return False
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _has_git_history(), reason="needs git and this repository's history")


def test_imports_are_renamed():
    text = "from recattn import x\nfrom recattn.models import y\nimport recattn.data as d\nrecattn_like = 1\n"
    assert ab._IMPORT.sub(rf"\1\2{ab.BASE_PACKAGE}", text) == (
        "from recattn_base import x\nfrom recattn_base.models import y\nimport recattn_base.data as d\n"
        "recattn_like = 1\n")


def test_the_base_is_its_own_package(tmp_path):
    try:
        recommend, models, _ = ab.import_base("HEAD", tmp_path)
        assert recommend.__name__ == "recattn_base.recommend"
        # every module the base loaded is read from its own folder, none from the working tree
        ours = {m.__file__ for name, m in sys.modules.items() if name.startswith("recattn_base.")
                and getattr(m, "__file__", None)}
        assert ours and all(Path(f).is_relative_to(tmp_path) for f in ours)
        assert models.build_model.__module__.startswith("recattn_base")
    finally:
        ab.forget_base()
    assert not any(name.startswith("recattn_base") for name in sys.modules)


def test_a_comparison_times_both_and_compares_their_answers(capsys):
    got = ab.main(["--base", "HEAD", "--items", "60", "--history", "6", "--repeats", "5"])
    assert got.repeats == 5 and got.base_ms > 0 and got.new_ms > 0 and got.ratio == got.new_ms / got.base_ms
    unchanged = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "recattn"], cwd=ROOT).returncode == 0
    if unchanged:  # as in CI's clean clone: the same code gives the same answers
        assert got.same_items and got.max_score_diff == 0.0 and got.max_weight_diff == 0.0
    assert "ratio" in capsys.readouterr().out

"""The documentation's measured figures are the results files' own: docs/results.md and the README's headline table
are what scripts/results.py makes of the committed files in benchmarks/results/."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_documents_match_what_the_results_files_make():
    done = subprocess.run([sys.executable, "scripts/results.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_equal_search_states_both_tests_and_its_provenance():
    text = (ROOT / "docs" / "results.md").read_text()
    searches = list((ROOT / "benchmarks" / "results").glob("search-*.json"))
    assert text.count("seeds' Welch p (Holm)") == len(searches) == 11  # a table of paired tests per search
    assert "(bootstrap CI only)" not in text and "commit " in text
    readme = (ROOT / "README.md").read_text()
    assert "<!-- headline: made by scripts/results.py -->" in readme and "| SASRec | " in readme

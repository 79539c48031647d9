"""Every measured figure the documentation quotes, generated from the committed results files.

    python scripts/results.py             write docs/results.md and the README's headline table
    python scripts/results.py --check     exit 1, naming the file, when either differs from what the results make
    python scripts/results.py --reanalyse add the seed-level test and Holm's correction to searches made without
                                          them (their stored paired tests and per-seed figures), then write

docs/results.md holds, each with how it was made (command, commit, date, seeds, budget, threads): the equal searches
(benchmarks/search.py), their winners at convergence (benchmarks/converge.py), the RecBole import match
(benchmarks/recbole_match.py), the norm placement (benchmarks/norm_placement.py), the explanation benchmark (python -m
recattn explain-benchmark), the speed runs (benchmarks/run_all.py) and the protocol comparisons
(benchmarks/quality.py). The README's headline table sits between two markers and comes from one equal search of all
models per data set (HEADLINE). tests/test_results_docs.py runs --check.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import converge, search  # noqa: E402
from recattn.analysis.explain_benchmark import table as explain_table  # noqa: E402
from recattn.results.measured import label  # noqa: E402
from recattn.results.provenance import commit  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DOC, README, SHIPPED_DOC = ROOT / "docs" / "results.md", ROOT / "README.md", ROOT / "docs" / "shipped-models.md"
SHIPPED = ROOT / "assets" / "models"
BEGIN, END = "<!-- headline: made by scripts/results.py -->", "<!-- end of headline -->"
EXPLAIN_BEGIN, EXPLAIN_END = "<!-- explanations: made by scripts/results.py -->", "<!-- end of explanations -->"
SHIPPED_BEGIN, SHIPPED_END = "<!-- shipped: made by scripts/results.py -->", "<!-- end of shipped -->"
# the equal search of all models on each data set, for the README's headline table: the one that searched the
# recipe from a neutral start
HEADLINE = {"ml-latest-small": "search-ml-latest-small-recipe.json", "films": "search-films-recipe.json",
            "news": "search-news-recipe.json"}
SEARCH_TITLES = {
    "search-ml-latest-small": "ml-latest-small: every model",
    "search-ml-latest-small-additive": "ml-latest-small: SASRec with the seed's additive score",
    "search-ml-latest-small-rerank": "ml-latest-small: target attention as SASRec's re-ranker",
    "search-ml-latest-small-recipe": "ml-latest-small: the training recipe searched for every kind alike, from a "
                                     "neutral start",
    "search-films-recipe": "builtin:films: the training recipe searched for every kind alike, from a neutral start",
    "search-films": "builtin:films: every model", "search-films-additive": "builtin:films: SASRec (additive)",
    "search-news": "builtin:news: every model", "search-news-additive": "builtin:news: SASRec (additive)",
    "search-news-recipe": "builtin:news: the training recipe searched for every kind alike, from a neutral start",
    "search-news-offset": "builtin:news: the repeat offset as an axis of GRU4Rec and NARM",
}


def read(name: str) -> dict | list:
    return json.loads((RESULTS / name).read_text())


def reanalyse(path: Path) -> bool:
    """Add the seed test and Holm's correction to a search's stored paired tests (True when the file changed)."""
    report = json.loads(path.read_text())
    if not report.get("paired") or ("reanalysed" not in report and all("seed_p" in p for p in report["paired"])):
        return False  # a search made with both tests keeps its own
    models = report["models"]
    pairs = [{k: v for k, v in p.items() if k not in ("user_verdict", "decided_by")} for p in report["paired"]]
    for p in pairs:
        p["verdict"] = p.get("user_verdict", p["verdict"])
        p["seed_p"] = search.seed_test(models[p["a"]]["test_ndcg"]["values"], models[p["b"]]["test_ndcg"]["values"])
    report["paired"] = search.verdicts(pairs)
    report["reanalysed"] = {"command": "python scripts/results.py --reanalyse", **commit(),
                            "date": date.today().isoformat(),
                            "what": "the seed-level Welch test and Holm's correction added to the stored paired tests"}
    path.write_text(json.dumps(report, indent=1) + "\n")
    path.with_suffix(".md").write_text(search.markdown(report))
    return True


def searches() -> str:
    parts = ["## Equal searches", "",
             "Every neural model gets the same configurations and minutes, chosen on validation alone; test figures "
             "are computed once per winning seed (`benchmarks/search.py`). A gap is beyond noise only when the test "
             "over users and the test over seeds both say so after Holm's correction over the table."]
    for name, title in SEARCH_TITLES.items():
        report = read(f"{name}.json")
        note = (f" Paired tests re-analysed on {report['reanalysed']['date']} (`{report['reanalysed']['command']}`)."
                if "reanalysed" in report else "")
        parts += ["", f"### {title}", "", f"`benchmarks/results/{name}.json`.{note}", "", search.markdown(report).rstrip()]
    return "\n".join(parts)


def convergence() -> str:
    parts = ["## At convergence", "",
             "Each winner of a search trained to early stop on validation (a generous cap, not a budget), tested "
             "once (`benchmarks/converge.py`); the last column is the same seeds' test figure at the search's budget."]
    for path in sorted(RESULTS.glob("converge-*.json")):
        parts += ["", f"### {path.stem}", "", converge.markdown(json.loads(path.read_text())).rstrip()]
    return "\n".join(parts)


def recbole_match() -> str:
    rows = ["| data | checkpoint | users | identical top-10 | largest score difference |", "|---|---|---:|---:|---:|"]
    made = []
    for name in ("recbole-match-ml-100k.json", "recbole-match-tiny.json"):
        report = read(name)
        rows += [f"| {report['data']} | {r['checkpoint']} | {r['users']} | {r['identical_top10']} | "
                 f"{r['largest_score_difference']:.1e} |" for r in report["rows"]]
        made.append(f"`{report['command']}` (commit {report['commit'][:12]})")
    return "\n".join(["## RecBole checkpoints imported", "",
                      "The imported model's top-10 among unseen items against RecBole 1.2.1's own full_sort_predict, "
                      "for every test user.", "", *rows, "", "Made by " + "; ".join(made) + "."])


def norm_placement() -> str:
    report = read("norm-placement.json")
    rows = ["| data | pre-norm | post-norm | post − pre | beyond twice the seeds' sd |", "|---|---:|---:|---:|---|"]
    rows += [f"| {Path(r['source']).name} | {r['pre_mean']:.4f} ± {r['pre_sd']:.4f} | {r['post_mean']:.4f} ± "
             f"{r['post_sd']:.4f} | {r['post_minus_pre']:+.4f} | {'yes' if r['beyond_noise'] else 'no'} |"
             for r in report["summary"]]
    return "\n".join(["## Pre- or post-norm", "", f"SASRec's defaults, validation NDCG@10, mean ± sd over seeds "
                      f"{', '.join(map(str, report['seeds']))}, {report['minutes']:g} minutes each.", "", *rows, "",
                      f"Made by `{report['command']}` (commit {report['commit'][:12]}, {report['threads']} threads)."])


def explanations() -> str:
    parts = ["## Explanations against the planted causes", "",
             "How often each method ranks the planted cause first, by the cause's distance (`python -m recattn "
             "explain-benchmark`)."]
    for world in ("films", "news"):
        report = read(f"explain-{world}.json")
        parts += ["", f"### builtin:{world}", "", "```", explain_table(report["models"]).strip("\n"), "```", "",
                  f"Made by `{report['command']}` (commit {report['commit'][:12]}, {report['date']}, "
                  f"{report['threads']} threads)."]
    return "\n".join(parts)


def speed() -> str:
    keys = ("recommend_p50_ms", "recommend_p95_ms", "recommend_60k_p50_ms", "page_rerun_worst_p50_ms", "cold_start_s",
            "train_seconds_to_95pct", "train_seconds_builtin_films")
    rows = ["| run | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    for path in sorted(RESULTS.glob("run_all-*.json")):
        report = json.loads(path.read_text())
        cells = [f"{report[k]:.3g}" if isinstance(report.get(k), (int, float)) else "—" for k in keys]
        rows.append(f"| {path.stem} ({report.get('date', '?')}, {str(report.get('commit', ''))[:8]}) | "
                    + " | ".join(cells) + " |")
    return "\n".join(["## Speed", "", "`benchmarks/run_all.py --json` (milliseconds and seconds; see "
                      "benchmarks/README.md for what each measures and the targets).", "", *rows])


def quality() -> str:
    parts = ["## Protocols compared", "", "Full ranking against sampled negatives (`benchmarks/quality.py`)."]
    for path in sorted(RESULTS.glob("quality-*.md")):
        parts += ["", f"### {path.stem}", "", path.read_text().strip()]
    return "\n".join(parts)


def document() -> str:
    head = ("# Measured results\n\nGenerated by `python scripts/results.py` from the files in `benchmarks/results/`; "
            "do not edit by hand (`tests/test_results_docs.py` fails when this file and the results disagree). "
            "[measured.md](measured.md) tells how the figures came about.")
    return "\n\n".join([head, searches(), convergence(), recbole_match(), norm_placement(), explanations(), speed(),
                        quality()]) + "\n"


def headline() -> str:
    reports = {data: read(name) for data, name in HEADLINE.items()}
    kinds = list(dict.fromkeys(k for r in reports.values() for k in r["models"]))
    rows = ["| model | " + " | ".join(reports) + " |", "|---|" + "---:|" * len(reports)]
    for kind in kinds:
        cells = []
        for r in reports.values():
            s = r["models"].get(kind, {}).get("test_ndcg")
            cells.append("—" if s is None else f"{s['mean']:.3f} ± {s['sd']:.3f}" if s["sd"] is not None
                         else f"{s['mean']:.3f}")
        rows.append(f"| {label(kind)} | " + " | ".join(cells) + " |")
    return "\n".join([BEGIN, "Test NDCG@10 (full ranking, seen items excluded; mean ± sd over 3 seeds, counted "
                      "baselines once) after the same tuning effort, from " + ", ".join(
                          f"`benchmarks/results/{n}`" for n in HEADLINE.values()) + ":", "", *rows, END])


def explanation_summary() -> str:
    """The README's explanation table: per shipped model, over the far cases it gets right, the best method's top-1
    beside raw attention, the value-norm reading and occlusion, with the chance rate and how often the model uses
    the cause."""
    rows = ["| data | model | far right cases | best method (top-1) | occlusion top-1 / top-3 | raw attention | "
            "attention × value norm | chance | uses the cause |", "|---|---|---:|---|---:|---:|---:|---:|---:|"]
    made = []
    for world in ("films", "news"):
        report = read(f"explain-{world}.json")
        made.append(f"`{report['command']}` (commit {report['commit'][:12]}, {report['date']})")
        for r in report["models"]:
            methods, a = r["methods"], r["baselines"]["random"]
            best = max(methods, key=lambda m: methods[m].get("top1_far_right") or 0)
            def top1(m):
                return f"{methods[m]['top1_far_right']:.2f}" if m in methods else "—"
            occ = methods["occlusion"]
            rows.append(f"| {world} | {label(r['model'])} | {a['cases_far_right']} of {a['cases_far']} | {best} "
                        f"({methods[best]['top1_far_right']:.2f}) | {occ['top1_far_right']:.2f} / "
                        f"{occ['top3_far_right']:.2f} | {top1('attention')} | {top1('value_norm')} | "
                        f"{a['chance_far_right']:.2f} | {r['usage']['share_far']:.2f} |")
    return "\n".join([EXPLAIN_BEGIN, "How often a method's top item is in the planted cause set, over the test cases "
                      "whose nearest cause is 2 or more items back and whose item the model ranks in its top-10, "
                      "on the shipped models (trained to early stop); chance is the cause set's share of the "
                      "history; \"uses the cause\": removing the cause set drops the item out of the top-10. Made by "
                      + " and ".join(made) + ":", "", *rows, EXPLAIN_END])


def shipped() -> str:
    """The table of shipped checkpoints, from their metrics.json."""
    rows = ["| checkpoint | NDCG@10 | HR@10 | NDCG@10 seen kept | best epoch | epochs | train s | stopped |",
            "|---|---:|---:|---:|---:|---:|---:|---|"]
    made = set()
    for path in sorted(SHIPPED.glob("*/metrics.json")):
        m = json.loads(path.read_text())
        kept = m["test"].get("seen_kept", {}).get("ndcg@10")
        counted = m["stopped"] == "counted"
        rows.append(f"| `{path.parent.name}` | {m['test']['ndcg@10']:.3f} | {m['test']['hr@10']:.3f} | "
                    f"{'—' if kept is None else f'{kept:.3f}'} | {'—' if counted else m['best_epoch']} | "
                    f"{'—' if counted else m['epochs_run']} | {m['train_seconds']:.0f} | {m['stopped']} |")
        if "made" in m:
            made.add(f"`{m['made']['command']}` (commit {m['made']['commit'][:12]}, {m['made']['date']}, "
                     f"{m['made']['threads']} thread, cap {m['made']['max_minutes']:g} minutes)")
    return "\n".join([SHIPPED_BEGIN, "Test figures (full ranking, seen items excluded; \"seen kept\": items already "
                      "in the history ranked too), from each checkpoint's metrics.json. Made by "
                      + "; ".join(sorted(made)) + ":", "", *rows, SHIPPED_END])


def with_block(path: Path, begin: str, end_marker: str, block: str, text: str | None = None) -> str:
    """`path`'s text (or `text`) with the part between the two markers replaced by `block`."""
    text = path.read_text() if text is None else text
    start, end = text.index(begin), text.index(end_marker) + len(end_marker)
    return text[:start] + block + text[end:]


def readme_with(block: str) -> str:
    return with_block(README, EXPLAIN_BEGIN, EXPLAIN_END, explanation_summary(),
                      with_block(README, BEGIN, END, block))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true")
    p.add_argument("--reanalyse", action="store_true")
    args = p.parse_args(argv)
    if args.reanalyse:
        for path in sorted(RESULTS.glob("search-*.json")):
            if reanalyse(path):
                print(f"re-analysed {path.relative_to(ROOT)}")
    wanted = {DOC: document(), README: readme_with(headline()),
              SHIPPED_DOC: with_block(SHIPPED_DOC, SHIPPED_BEGIN, SHIPPED_END, shipped())}
    if args.check:
        stale = [str(path.relative_to(ROOT)) for path, text in wanted.items()
                 if not path.is_file() or path.read_text() != text]
        for name in stale:
            print(f"{name} differs from what the results files make: run python scripts/results.py")
        return 1 if stale else 0
    for path, text in wanted.items():
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The committed equal-search results (benchmarks/results/search-<data>.json, written by benchmarks/search.py), as
the app shows them: every model after the same tuning effort, mean ± sd over seeds, and the paired tests.

These figures, not one run of the checkpoints at hand, are what the Compare and Learn pages state as findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recattn import paths
from recattn.config import RERANK_N
from recattn.i18n import N_, _, ngettext, sentences
from recattn.models import registry
from recattn.errors import RecAttnError
from recattn.results.provenance import read_results

SIGN_ALPHA = 0.05  # a sign test below it says the share of users who gain is not chance

# The words benchmarks/search.py writes into a paired test ("verdict", "decided_by"), translated where shown; any
# other value shows as written.
_RESULT_WORDS = frozenset((N_("beyond noise"), N_("within noise"), N_("no difference"),
                           N_("identical per-user figures"), N_("user test"), N_("seed test"),
                           N_("user test and seed test"), N_("both tests")))


def _word(value: str) -> str:
    return _(value) if value in _RESULT_WORDS else value


@dataclass(frozen=True)
class Measured:
    """One data set's search: the report as written, and where it came from."""

    report: dict
    path: Path

    @property
    def seeds(self) -> list[int]:
        return self.report["seeds"]

    def made(self, escape: Callable[[object], str] | None = None) -> str:
        """How the figures were made, in one line: budget, seeds, commit, date and threads. With `escape` (the app's
        `ui.text.md`) it is markdown: the command a code span, every other value escaped."""
        r, b = self.report, self.report["budget"]
        shown = escape or str
        command = f"`{str(r['command']).replace('`', '')}`" if escape else r["command"]
        return sentences(
            _("{configs} configurations × {minutes:g} min per neural model (seed 0), the best {top} retrained with "
              "seeds {seeds}; chosen on validation only.").format(
                configs=b["configs"], minutes=b["minutes"], top=b["top"], seeds=", ".join(map(str, r["seeds"]))),
            _("Made with {command} at commit {commit} on {date}, {threads} torch thread(s).").format(
                command=command, commit=shown(r["commit"][:10]), date=shown(r["date"]), threads=shown(r["threads"])))


def results_path(source: str, folder: Path | None = None) -> Path:
    """Where the search of `source` ("builtin:films", or a data folder such as …/ml-latest-small) is kept: in
    `folder`, by default paths.RESULTS."""
    name = source.removeprefix("builtin:") if source.startswith("builtin:") else Path(source).name
    return (folder or paths.RESULTS) / f"search-{name}.json"


def search_paths(source: str, folder: Path | None = None) -> list[Path]:
    """Every search of `source` there is: the equal search of all models (`results_path`) first, then later runs
    on the same data that searched some models again (search-<name>-<what>.json, by name), each a run of its own."""
    main = results_path(source, folder)
    later = sorted(main.parent.glob(f"{main.stem}-*.json"))
    return ([main] if main.is_file() else []) + later


def _read(path: Path, source: str) -> Measured | None:
    again = _("run {command} again").format(command=f"python benchmarks/search.py --data {source}")
    report = read_results(path, N_("search"), again, dict, "models")
    if report is None:
        return None
    if not isinstance(report.get("budget"), dict):
        raise RecAttnError(_("{file} does not say how its figures were made (no budget); {again}").format(
            file=path.name, again=again))
    return Measured(report, path)


def searches(source: str, folder: Path | None = None) -> list[Measured]:
    """Every committed search of `source`, in `search_paths` order ([] when none was run); RecAttnError when one
    is unreadable."""
    return [m for m in (_read(p, source) for p in search_paths(source, folder)) if m is not None]


def label(kind: str) -> str:
    """A row's name, in the language shown: the model's, or "first → re-ranker (top 200)" for a two-stage row
    ("sasrec>additive")."""
    if kind in registry.names():
        return _(registry.label(kind))
    first, _sep, second = kind.partition(">")
    return _("{first} → {second} (top {n})").format(first=_(registry.label(first)),
                                                     second=_(registry.label(second)), n=RERANK_N)


_SETTING_NAMES = {"repeat_bias": N_("repeat offset"), "label_smoothing": N_("label smoothing"),
                  "ema_decay": N_("weight average"), "window_stride": N_("window stride")}


def shown(settings: dict) -> str:
    """Settings as people read them: `lr 0.01, hidden 64, …, repeat offset on, weight average off`."""
    def value(k, v) -> str:
        if isinstance(v, bool):
            return _("on") if v else _("off")
        if v is None:  # no weight average; windows that do not overlap
            return _("off") if k == "ema_decay" else _("none")
        return f"{v:g}"

    def name(k) -> str:  # the code's own names (lr, hidden, …) show as they are
        return _(_SETTING_NAMES[k]) if k in _SETTING_NAMES else k

    return ", ".join(f"{name(k)} {value(k, v)}" for k, v in settings.items())


def settings_text(row: dict) -> str:
    """What a results row was trained with: its chosen settings, or how it came about when nothing was chosen."""
    if not row.get("configs"):
        return _("— (the two winners, seed by seed)") if row.get("two_stage") else _("— (counted, nothing to tune)")
    settings = shown(row["settings"])
    chosen = (_("{settings} (the default)").format(settings=settings) if row.get("is_default") else
              _("{settings} (the neutral start)").format(settings=settings) if row.get("is_neutral") else settings)
    # searched as the first stage's re-ranker
    return _("re-ranker: {settings}").format(settings=chosen) if row.get("two_stage") else chosen


def model_table(measured: Measured) -> pd.DataFrame:
    """One row per model, best mean test NDCG@10 first: test and validation figures as mean and sd over seeds (sd
    empty for a model counted once), the test figure with seen items kept, and last its chosen settings."""
    rows = []
    for kind, row in measured.report["models"].items():
        rows.append({"model": label(kind), "test NDCG@10": row["test_ndcg"]["mean"], "test sd": row["test_ndcg"]["sd"],
                     "valid NDCG@10": row["valid_ndcg"]["mean"], "valid sd": row["valid_ndcg"]["sd"],
                     "test HR@10": row["test_hr"]["mean"],
                     "test NDCG@10, seen kept": row["test_ndcg_seen_kept"]["mean"],
                     "seeds": len(row["test_ndcg"]["values"]), "settings": settings_text(row)})
    table = pd.DataFrame(rows)
    return table.sort_values("test NDCG@10", ascending=False, kind="stable").reset_index(drop=True)


def paired_sentences(measured: Measured) -> list[str]:
    """Each paired test as a sentence: "SASRec − GRU4Rec: +0.012 NDCG@10 per user (95% CI +0.003 to +0.021; better
    for 200 users, worse for 150; sign test p = 0.01): beyond noise." """
    out = []
    for p in measured.report.get("paired", []):
        low, high = p["ci95"]
        said = (_("{a} − {b}: {diff:+.4f} NDCG@10 per user (95% CI {low:+.4f} to {high:+.4f}; better for {wins} "
                  "users, worse for {losses}, tied for {ties}; sign test p = {p:.2g}{seeds}): {verdict} "
                  "({decided}).") if "decided_by" in p else
                _("{a} − {b}: {diff:+.4f} NDCG@10 per user (95% CI {low:+.4f} to {high:+.4f}; better for {wins} "
                  "users, worse for {losses}, tied for {ties}; sign test p = {p:.2g}{seeds}): {verdict}."))
        out.append(said.format(a=label(p["a"]), b=label(p["b"]), diff=p["mean_diff"], low=low, high=high,
                               wins=p["wins"], losses=p["losses"], ties=p["ties"], p=p["sign_p"],
                               seeds=_seed_test(p), verdict=_word(p["verdict"]),
                               decided=_word(p.get("decided_by", ""))))
    return out


def _seed_test(pair: dict) -> str:
    """The seed-level test and Holm's correction where the search made them (searches before 2026-12-05 did not):
    a continuation of the user test's parenthesis."""
    if "seed_p" not in pair:
        return ""
    return _(", Holm {user_holm:.2g}; seeds' Welch p = {seed_p:.2g}, Holm {seed_holm:.2g}").format(
        user_holm=pair["sign_p_holm"], seed_p=pair["seed_p"], seed_holm=pair["seed_p_holm"])


def first_contrast(found: list[Measured], a: str, b: str) -> str | None:
    """`contrast` from the first search that holds both models (the equal search of all models comes first)."""
    return next((said for m in found if (said := contrast(m, a, b)) is not None), None)


def contrast(measured: Measured, a: str, b: str) -> str | None:
    """What the search says of model `a` against model `b` (kinds), with the spread and the paired verdict; None
    when either is missing."""
    models = measured.report["models"]
    if a not in models or b not in models:
        return None
    ra, rb = models[a]["test_ndcg"], models[b]["test_ndcg"]
    pair = next((p for p in measured.report.get("paired", []) if {p["a"], p["b"]} == {a, b}), None)

    def pm(s: dict) -> str:
        return f"{s['mean']:.3f} ± {s['sd']:.3f}" if s["sd"] is not None else f"{s['mean']:.3f}"

    said = _("After the same tuning effort on {source}, {a} reaches a test NDCG@10 of {a_score} and {b} {b_score} "
             "(mean ± sd over seeds {seeds}).").format(source=measured.report["source"], a=label(a), a_score=pm(ra),
                                                      b=label(b), b_score=pm(rb),
                                                      seeds=", ".join(map(str, measured.seeds)))
    if pair is None:
        return said
    diff, (low, high) = pair["mean_diff"], pair["ci95"]
    if pair["a"] != a:  # the test was run as b − a
        diff, low, high = -diff, -high, -low
    better, worse = (pair["wins"], pair["losses"]) if pair["a"] == a else (pair["losses"], pair["wins"])
    counted = _("{model} is better for {better} users and worse for {worse} (sign test p = {p:.2g})").format(
        model=label(a), better=better, worse=worse, p=pair["sign_p"])
    counts_agree = pair["sign_p"] < SIGN_ALPHA
    if "decided_by" in pair:  # both tests, corrected over the table: the verdict says which one decided
        verdict = (_("a gap beyond noise by both the paired test over users and the test over seeds")
                   if pair["verdict"] == "beyond noise" else
                   _("a gap within noise (decided by the {test})").format(test=_word(pair["decided_by"])))
    elif pair["verdict"] == "beyond noise":  # the bootstrap of the mean; where counting users disagrees, say so
        verdict = (_("a gap beyond noise") if counts_agree else
                   _("a gap beyond noise by the bootstrap of the mean, but not by counting users: {counted}, so the "
                     "mean rests on the few users with large differences").format(counted=counted))
    else:
        verdict = (_("a gap within noise by the bootstrap of the mean, though counting users {counted}").format(
            counted=counted) if counts_agree else _("a gap within noise: this data cannot tell them apart"))
    return sentences(said, _("Paired over its {users:,} test users the difference is {diff:+.3f} (95% CI {low:+.3f} to "
                          "{high:+.3f}): {verdict}.").format(users=pair["users"], diff=diff, low=low, high=high,
                                                             verdict=verdict))


# ---------------------------------------------------------------- at equal time and at convergence
Curve = list[tuple[float, float]]  # (seconds spent training and validating, validation NDCG@10), one per epoch


def curves(measured: Measured) -> dict[str, list[Curve]]:
    """Each searched model's winner: validation NDCG@10 against seconds, one curve per seed (its seed runs). A
    search made before the curves were recorded (2026-12-05) or a re-ranker's row has none."""
    out = {}
    for kind, row in measured.report["models"].items():
        runs = [t for t in row.get("seed_runs", []) if t["settings"] == row["settings"] and t.get("curve")]
        if runs and not row.get("two_stage"):
            out[kind] = [[(float(s), float(v)) for s, v in t["curve"]] for t in runs]
    return out


def convergence(measured: Measured) -> dict | None:
    """The winners of `measured` trained to early stop (benchmarks/converge.py's converge-<name>.json beside the
    search), None when they were not."""
    path = measured.path.with_name(measured.path.name.replace("search-", "converge-", 1))
    again = _("run {command}").format(command=f"python benchmarks/converge.py {measured.path.name}")
    return read_results(path, N_("convergence"), again, dict, "models")


def reached(curve: Curve, seconds: float) -> float | None:
    """The best validation NDCG@10 a run had reached after `seconds` (what early stopping would keep then); None
    before its first validation."""
    seen = [v for s, v in curve if s <= seconds]
    return max(seen) if seen else None


def standing(found: dict[str, list[Curve]], seconds: float) -> dict[str, float | None]:
    """Each model's mean over seeds of `reached` after `seconds`; None while a seed has not validated once."""
    out = {}
    for kind, runs in found.items():
        best = [reached(c, seconds) for c in runs]
        out[kind] = None if None in best else sum(best) / len(best)
    return out


def _order(stand: dict[str, float | None]) -> str:
    done = sorted(((v, k) for k, v in stand.items() if v is not None), reverse=True)
    waiting = [label(k) for k, v in stand.items() if v is None]
    order = " > ".join(f"{label(k)} {v:.3f}" for v, k in done)
    return _("{order} ({models}: no epoch validated yet)").format(order=order, models=", ".join(waiting)) \
        if waiting else order


def _leader(stand: dict[str, float | None]) -> str | None:
    scored = {k: v for k, v in stand.items() if v is not None}
    return max(scored, key=scored.get) if scored else None


def budget_sentence(measured: Measured, converged: dict | None = None) -> str | None:
    """What changes with the budget, computed from the curves: the order by mean best validation NDCG@10 after a
    quarter of the search's minutes and after all of them, and, when the winners were trained to early stop, at
    convergence with the minutes it took. None when the search recorded no curves."""
    found = curves(measured)
    if len(found) < 2:
        return None
    budget = measured.report["budget"]["minutes"] * 60
    early, full = standing(found, budget / 4), standing(found, budget)
    said = _("Mean best validation NDCG@10 over seeds {seeds}: after {early_seconds:.0f} s, {early}; after the "
             "search's {seconds:.0f} s, {full}.").format(seeds=", ".join(map(str, measured.seeds)),
                                                         early_seconds=budget / 4, early=_order(early),
                                                         seconds=budget, full=_order(full))
    first, last = _leader(early), _leader(full)
    said = sentences(said, _("{model} leads at both budgets.").format(model=label(last)) if first == last else
                  _("The leader changes with the budget: {first} learns faster, {last} is ahead at the end.").format(
                      first=label(first), last=label(last)))
    if converged:
        models = {k: row for k, row in converged["models"].items() if k in found}
        seeds = [x for x in converged.get("seeds", measured.seeds) if x in measured.seeds]
        if models and seeds:
            done = {k: row["valid_ndcg"]["mean"] for k, row in models.items()}
            minutes = ", ".join(f"{label(k)} {row['seconds']['mean'] / 60:.1f}" for k, row in models.items())
            top = _leader(done)
            # like for like: the leader at the search's budget among the same seeds as the runs to early stop
            same = {k: [runs[measured.seeds.index(x)] for x in seeds] for k, runs in found.items() if k in models}
            before = _leader(standing(same, budget))
            named = ngettext("seed {seeds}", "seeds {seeds}", len(seeds)).format(seeds=", ".join(map(str, seeds)))
            stop = (_("Trained to early stop ({seeds}, at most {cap:g} min; minutes taken: {minutes}): {order}, so "
                      "{model} stays ahead with time ({seeds} at the budget: {before} first too).")
                    if top == before else
                    _("Trained to early stop ({seeds}, at most {cap:g} min; minutes taken: {minutes}): {order}, so "
                      "given time {model} overtakes {before}, first at the budget with the same {seeds}."))
            said = sentences(said, stop.format(seeds=named, cap=converged["cap_minutes"], minutes=minutes,
                                            order=_order(done), model=label(top), before=label(before)))
    return said

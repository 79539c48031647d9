"""Explain: why the model recommends one item, by five explanation methods side by side, how well each finds the
planted causes, the fewest items whose removal drops it, the heads that matter, and the model's health checks."""

from pathlib import Path

import numpy as np
import streamlit as st

from recattn.analysis import checks, explain
from recattn.analysis import explain_benchmark
from recattn.models import registry
from recattn import paths
from recattn.errors import RecAttnError
from recattn.i18n import N_, Lazy, _, count_of, ngettext, sentences
from recattn.viz import explain as figs
from recattn.viz.attention import positions
from ui import charts, models, report, sources, state, widgets
from ui.text import md

state.init()
# the picked recommendation; the checkpoints whose checks ran; the other item of "why this rather than that"
ITEM, CHECKED, RATHER = "explain_item", "explain_checked", "explain_rather"
BEFORE = "explain_before"  # (the history after the counterfactual, the top-10 ranks before it)
GRADIENTS = N_("it has no item embeddings to take gradients on")
MISSING = {"attention": N_("it has no attention"), "rollout": N_("rollout needs self-attention stacked in layers"),
           "value_norm": N_("the value-norm reading needs self-attention layers"),
           "grad_x_input": GRADIENTS, "integrated_gradients": GRADIENTS}  # why a method does not apply (shown: _())


@st.cache_data(show_spinner=Lazy(N_("Explaining…")), max_entries=100)
def explained(source: str, key: str, history: tuple[str, ...], item_id: str):
    """Every applicable method's weights, occlusion, the counterfactual, head stats and head ablation."""
    return models.loaded(key, source).explain(list(history), item_id)


@st.cache_data(show_spinner=False, max_entries=100)
def rather(source: str, key: str, history: tuple[str, ...], item_id: str, other_id: str):
    """Contrastive occlusion: per history item, how much the lead of `item_id` over `other_id` shrinks without it."""
    return models.loaded(key, source).rather_than(list(history), item_id, other_id)


@st.cache_data(show_spinner=Lazy(N_("Running the checks on 200 test histories…")), max_entries=20)
def checked(source: str, key: str) -> tuple[checks.Check, ...]:
    """The model checks on 200 test histories of the source (seconds; the additive model half a minute), and whether
    the model needs its attention (NDCG@10 with uniform attention, 500 test users). A check keeps its texts in
    English and says them in the reader's language (`_(check.name)`, `check.reading`): one entry serves everyone."""
    return models.loaded(key, source).checks(sources.dataset(source))


def listed(parts: list[str]) -> str:
    """ "a", "a and b", "a, b and c" (in the reader's language). """
    if len(parts) < 2:
        return parts[0] if parts else ""
    return _("{first} and {last}").format(first=_(", ").join(parts[:-1]), last=parts[-1])


def these(source: str, n: int) -> str:
    """ "this film", "these 3 films": the removed items of the counterfactual, named as the source names them."""
    if source == "builtin:films":
        return count_of(n, "these {n} film", "these {n} films") if n > 1 else _("this film")
    if source == "builtin:news":
        return count_of(n, "these {n} article", "these {n} articles") if n > 1 else _("this article")
    return count_of(n, "these {n} item", "these {n} items") if n > 1 else _("this item")


def apply_counterfactual(positions: tuple[int, ...], names: str, title: str, rank: int, top: list[str]) -> None:
    """The counterfactual button: remove those history positions (latest first, so earlier ones stay put), and
    keep the top-10 before it for the ▲/▼ badges."""
    for p in sorted(positions, reverse=True):
        state.remove_at(p)
    st.session_state[BEFORE] = (tuple(state.history()), {item: r for r, item in enumerate(top, 1)})
    state.flash("success", _("Removed {removed}: **{item}** is now #{rank}, out of the top 10.").format(
        removed=names, item=md(title), rank=rank), "explain")


st.title(_("Why this recommendation?"))
st.caption(_("Attention shows what a model looked at, not what made it choose. Here six methods explain one "
             "recommendation side by side, the built-in worlds' planted causes say which of them is right, and "
             "removing items shows what the recommendation really hangs on."))
recommender = widgets.require_model()
history = widgets.require_history(_("explanations of its recommendations"), where="explain")
source, path = state.source(), state.model_dir()
with state.guard():
    key = models.key(path)
rec = widgets.recommend(recommender, history)  # shared with the other pages and sessions
name = _(registry.label(recommender.kind))
ids = [item.id for item in rec.items]
if st.session_state.get(ITEM) not in ids:  # first visit, or the history changed under the pick
    st.session_state[ITEM] = ids[0]

left, right = st.columns([1, 2], gap="large")
with left:
    state.pop_flash("explain")
    item_id = st.selectbox(_("Explain one of {model}'s top 10").format(model=md(name)), ids, key=ITEM,
                           format_func=lambda i: f"{ids.index(i) + 1}. {rec.items[ids.index(i)].title}")
    title = rec.items[ids.index(item_id)].title
    why = explained(source, key, tuple(history), item_id)
    weights, occluded, cf, stats, ablations = why.weights, why.occlusion, why.counterfactual, why.head_stats, \
        why.ablations
    kept = st.session_state.get(BEFORE)
    widgets.top_list(rec.items, key="explain_top10",
                     ranks_before=kept[1] if kept and kept[0] == tuple(history) else None)

    st.subheader(_("What it hangs on"))
    removed = listed([f"*{md(t)}*" for t in sources.titles_of(source, [history[p] for p in cf.removed_positions])])
    named = these(source, len(cf.removed_positions))
    if cf.found:
        st.markdown(_("Without {these}, {removed}, **{item}** drops from #{before} to #{after}.").format(
            these=named, removed=removed, item=md(title), before=cf.rank_before, after=cf.rank_after))
        st.button(_("Remove them from the history"), key="explain_apply", icon=":material/content_cut:",
                  on_click=apply_counterfactual, args=(cf.removed_positions, removed, title, cf.rank_after, ids))
    else:
        st.markdown(_("Even without {these} ({removed}), **{item}** stays at #{rank}: no small removal takes it out "
                      "of the top 10.").format(these=named, removed=removed or _("none"), item=md(title),
                                               rank=cf.rank_after))
    st.caption(_("Found greedily: each step removes the item whose absence ranks it lowest, up to {n} items.").format(
        n=5))
    report.download_button(recommender, source, history, key="explain_report")

with right:
    used = len(rec.used_history)
    widgets.cut_note(len(history), {_("The model"): used})
    shown = {m: (occluded.score_drop if m == explain.OCCLUSION else weights[m])[-used:]
             for m in why.methods}
    read = history[-used:]  # the items the bars stand for: a bar's x is its position here
    picked_at = positions(read, state.picked())
    st.plotly_chart(figs.method_bars(shown, sources.titles_of(source, read), title, occluded.rank_change[-used:],
                                     picked=picked_at), key="explain_methods", on_select=widgets.pick_on_click(
                        "explain_methods", lambda point: read[int(point["x"])]), selection_mode="points",
                    config=charts.config("explanations"))
    missing = [m for m in explain.METHODS if m not in shown]
    if missing:
        reasons = [_(r) for r in sorted({MISSING[m] for m in missing})]
        st.info(ngettext("{model} gets {methods} of {total}: {missing} does not apply, as {reasons}.",
                         "{model} gets {methods} of {total}: {missing} do not apply, as {reasons}.",
                         len(missing)).format(
            model=md(name), methods=count_of(len(shown), "{n} method", "{n} methods"), total=len(explain.METHODS),
            missing=listed([_(figs.METHOD_LABELS[m]).lower() for m in missing]), reasons=listed(reasons)),
            icon=":material/info:")
    if explain.ATTENTION in shown:
        rho = figs.spearman(shown[explain.ATTENTION], shown[explain.OCCLUSION])
        st.markdown(_("**Raw attention vs occlusion on this history:** Spearman ρ = {rho}").format(
            rho=_("undefined") if np.isnan(rho) else f"{rho:+.2f}"))
        st.caption(_("Rank correlation over the history items: +1 when the items the model looks at most are exactly "
                     "those whose removal hurts most, 0 when attention says nothing about what matters. Undefined "
                     "when either side gives every item the same weight."))

    st.subheader(_("Why this one rather than another?"))
    others = [i for i in ids if i != item_id]
    if st.session_state.get(RATHER) not in others:
        st.session_state[RATHER] = others[0]
    other_id = st.selectbox(_("Rather than"), others, key=RATHER,
                            format_func=lambda i: f"{ids.index(i) + 1}. {rec.items[ids.index(i)].title}")
    other = rec.items[ids.index(other_id)]
    drops = rather(source, key, tuple(history), item_id, other_id)[-used:]
    lead = rec.items[ids.index(item_id)].score - other.score
    st.plotly_chart(figs.method_bars({"contrast": drops}, sources.titles_of(source, read),
                                     title, picked=picked_at, other_title=other.title), key="explain_contrast", on_select=widgets.pick_on_click(
                        "explain_contrast", lambda point: read[int(point["x"])]), selection_mode="points",
                    config=charts.config("rather-than"))
    strongest = int(np.argmax(drops))
    held = sources.titles_of(source, [history[-used:][strongest]])[0]
    flips = drops[strongest] > lead
    pair = dict(item=md(title), other=md(other.title), gap=abs(lead))
    if drops[strongest] > 0:
        st.caption(sentences(*(
            (_("**{item}** leads **{other}** by {gap:.3f} in score.") if lead >= 0 else
             _("**{item}** trails **{other}** by {gap:.3f} in score.")).format(**pair),
            (_("The lead rests most on *{held}*: without it, it shrinks by {drop:.3f}, and the order flips.") if flips
             else _("The lead rests most on *{held}*: without it, it shrinks by {drop:.3f}.")).format(
                held=md(held), drop=drops[strongest]))))
    else:
        st.caption((_("**{item}** leads **{other}** by {gap:.3f} in score, and no single history item's removal "
                      "shrinks that lead.") if lead >= 0 else
                    _("**{item}** trails **{other}** by {gap:.3f} in score, and no single history item's removal "
                      "shrinks that lead.")).format(**pair))

left, right = st.columns(2, gap="large")
with left:
    st.subheader(_("Does each method find the planted cause?"))
    try:
        report = explain_benchmark.load_results(source) if source.startswith("builtin:") else None
    except RecAttnError as e:
        report = None
        widgets.model_error(e)
    entry = next((e for e in (report or {}).get("models", ())
                  if (paths.ROOT / e.get("checkpoint", "")).resolve() == Path(path).resolve()), None)
    if not source.startswith("builtin:"):
        st.info(_("Only the built-in worlds know why each interaction happened, so only they can score the methods."))
    elif report is None:
        st.info(_("The benchmark has not been run on this world yet: {command}").format(
            command=f"`python -m recattn explain-benchmark --data {source} --out "
                    f"benchmarks/results/explain-{source.removeprefix('builtin:')}.json`"), icon=":material/science:")
    elif entry is None:
        covered = _(", ").join(md(_(registry.label(str(e.get("model"))))) for e in report["models"])
        st.info(_("The benchmark covers the shipped models ({models}): pick one of them in the sidebar to see how its "
                  "explanations score.").format(models=covered), icon=":material/science:")
    else:
        cases, usage = entry["baselines"]["random"], entry.get("usage") or {}
        table = figs.agreement_table(entry)
        st.dataframe(table, hide_index=True, key="explain_agreement",
                     column_config={c: st.column_config.NumberColumn(format="%.2f") for c in table.columns[1:]})
        said = [_("Share of the {cases} test interactions caused by earlier items in which each method's top item is "
                  "one of the items the rule admits (the earlier parts of a series, the recent items sharing the "
                  "genre); “≥ 2 back” keeps the {far} whose nearest cause is not the newest item, “right” the {right} "
                  "of those the model puts in its top 10 (an explanation of a miss measures the model).").format(
                    cases=cases["cases"], far=cases["cases_far"], right=cases.get("cases_far_right", 0)),
                _("Random picks score the random row (top-1 {chance:.2f} on the far right cases).").format(
                    chance=cases.get("chance_far_right") or 0)]
        if usage.get("right"):
            said.append(_("Removing the whole cause set drops the item out of the top 10 in {used} of the {right} "
                          "right cases: how often this model demonstrably uses the planted cause.").format(
                used=usage["used"], right=usage["right"]))
        said.append(_("Measured by {command} on {date}.").format(command=f"`{report.get('command', '?')}`",
                                                                date=md(report.get("date", "?"))))
        st.caption(sentences(*said))

    st.subheader(_("Model checks"))
    if key in st.session_state.get(CHECKED, set()):
        for check in checked(source, key):
            verdict = ((":green-badge[:material/check: " + _("pass") + "]" if check.passed else
                        ":red-badge[:material/close: " + _("fail") + "]") if check.applicable else
                       ":gray-badge[" + _("n/a") + "]")
            shown_name = _(check.name)
            st.markdown(f"{verdict} " + _("**{check}**: {reading}").format(
                check=shown_name[:1].upper() + shown_name[1:], reading=md(check.reading)))
    else:
        st.button(_("Run the model checks"), key="explain_checks", icon=":material/rule:",
                  on_click=lambda: st.session_state.setdefault(CHECKED, set()).add(key),
                  help=_("A causal leak, positions used or ignored, collapsed attention heads and popularity bias, on "
                         "200 test histories, and whether the model needs its attention (NDCG@10 with every layer's "
                         "weights made uniform, 500 test users): seconds (a minute for the additive model); kept for "
                         "this checkpoint."))

with right:
    st.subheader(_("Attention heads"))
    if stats and ablations:
        st.plotly_chart(figs.head_figure(stats, ablations), key="explain_heads", config=charts.config("heads"))
        st.caption(_("Entropy, newest-item weight and look-back read each head's scoring row on this history; the "
                     "last two columns zero one head at a time: the share of the top 10 that stays, and where "
                     "**{item}** (#{rank} now) lands. The head that changes the most matters most.").format(
            item=md(title), rank=cf.rank_before))
    else:
        st.info(_("{model} has no self-attention heads to diagnose or ablate.").format(model=md(name)),
                icon=":material/info:")

"""Compare models: the history through every model of the source, side by side, and their test metrics under a
chosen evaluation protocol."""

import time

import streamlit as st

from recattn import checkpoint
from recattn.results import comparison, measured
from recattn.training import workflow
from recattn.data.dataset import number_repeats
from recattn.errors import RecAttnError
from recattn.i18n import N_, _, count_of, sentences
from recattn.viz.compare import overlap_heatmap
from ui import charts, models, sources, state, widgets
from ui.text import md

state.init()
state.remember("compare_protocol")

K = 10
PROTOCOLS = {p.label: p for p in comparison.PROTOCOL_CHOICES}


@st.cache_data(show_spinner=False, max_entries=200)
def evaluated(source: str, path: str, modified: float, protocol: str, exclude_seen: bool) -> tuple[dict, float]:
    """A checkpoint's test metrics under one protocol and the seconds they took; `modified` (the folder's mtime)
    is only part of the key, so a retrain into the same folder is evaluated again."""
    dataset = sources.dataset(source)  # loaded (and cached) before the clock starts
    start = time.perf_counter()
    metrics = workflow.evaluate_checkpoint(checkpoint.load(path), dataset, protocol=protocol,
                                           exclude_seen=exclude_seen)
    return metrics, time.perf_counter() - start


def measured_table(search: measured.Measured, key: str, later: bool) -> None:
    """One committed search: its table with the spread, how it was made, and its paired tests."""
    # the columns keep their English names (the table's data); the headers are translated
    st.dataframe(measured.model_table(search), hide_index=True, key=key,
                 column_config={c: st.column_config.NumberColumn(_(c), format="%.4f") for c in
                                (N_("valid NDCG@10"), N_("valid sd"), N_("test NDCG@10"), N_("test sd"),
                                 N_("test HR@10"), N_("test NDCG@10, seen kept"))}
                 | {"model": st.column_config.TextColumn(_("model")),
                    "seeds": st.column_config.NumberColumn(_("seeds")),
                    "settings": st.column_config.TextColumn(_("settings"))})
    again = (_("A later search of some models on the same data, a run of its own: a model in two tables differs by "
               "a run's noise.") if later else "")
    st.caption(sentences(
        again, _("{users:,} test users, full ranking with seen items excluded; mean and standard deviation over "
                 "seeds.").format(users=search.report["users"]), search.made(md)))
    with st.expander(_("Do the gaps exceed noise? (paired over the test users)")):
        for sentence in measured.paired_sentences(search):
            st.markdown("- " + md(sentence))
    widgets.budget_curves(search, key=f"{key}_curves")


def measured_section(source: str, say_when_none: bool) -> bool:
    """Every committed equal search of `source`, or how to run one when there is none and `say_when_none`;
    whether there was any."""
    found_searches = widgets.measured_searches(source)
    if not found_searches and not say_when_none:
        return False
    st.subheader(_("Measured after equal tuning"))
    if not found_searches:
        st.caption(_("No equal search has been run on {source}: `python benchmarks/search.py --data {data}` gives "
                     "every model the same tuning budget, chooses on validation only and reports the test figures "
                     "over three seeds. The figures below are single checkpoints.").format(
            source=md(sources.source_label(source)), data=md(source)))
    for n, search in enumerate(found_searches):
        measured_table(search, "compare_measured" if n == 0 else f"compare_measured_{n}", later=n > 0)
    return bool(found_searches)


st.title(_("Compare models"))
st.caption(_("The same history through every model trained on this data, then the same test users through all of "
             "them: how much the models agree, and how much the way they are scored changes the verdict."))

source = state.source()
with state.guard():
    found = sources.checkpoints(source)
if not found:
    st.info(_("No model is trained on {source} yet: train two or more to compare them.").format(
        source=md(sources.source_label(source))), icon=":material/model_training:")
    st.page_link("pages/train.py", label=_("Train a model on this data"), icon=":material/arrow_forward:")
    measured_section(source, say_when_none=False)  # the committed figures need no checkpoint of this session
    st.stop()
names = number_repeats([c.label for c in found])
lists_box, metrics_box = st.container(), st.container()  # metrics first in the script: they need no history

with metrics_box:
    if measured_section(source, say_when_none=True):
        st.caption(_("The checkpoints below are single runs."))

    st.subheader(_("Test metrics of these checkpoints"))
    st.session_state.setdefault("compare_protocol", comparison.FULL.label)  # a default= would fight remember()
    label = st.segmented_control(_("Protocol"), list(PROTOCOLS), required=True, key="compare_protocol",
                                 format_func=_,  # the options stay English: they are stored and remembered
                                 help=_("How the held-out last item of each test user is ranked: against the whole "
                                        "catalogue (full; with or without the user's own items), or against 100 "
                                        "sampled items, drawn uniformly or by popularity."))
    chosen = PROTOCOLS[label]
    needed = [chosen] if chosen == comparison.FULL else [chosen, comparison.FULL]  # the gap needs full ranking
    jobs = [(source, c.path, c.modified, p.protocol, p.exclude_seen) for c in found for p in needed]
    done = st.session_state.setdefault("compare_evaluated", set())  # what this session computed (and cached)
    computed = all(job in done for job in jobs)
    requested = st.session_state.pop("compare_requested", False)
    results: dict = {}
    if not (computed or requested):
        slow = _("Additive attention scores every candidate against the history: it is the slowest.") if any(
            c.kind == "additive" for c in found) else ""
        st.caption(sentences(
            _("Each model ranks every test user's held-out item: {models} × {protocols}, computed once and "
              "cached.").format(models=count_of(len(found), "{n} model", "{n} models"),
                                protocols=count_of(len(needed), "{n} protocol", "{n} protocols")), slow))
        # A callback, not the button's return value: it survives a rerun that happens before the page draws.
        st.button(_("Compute the metrics"), key="compare_compute", icon=":material/calculate:",
                  on_click=st.session_state.__setitem__, args=("compare_requested", True))
    else:
        bar = st.progress(0.0, text=_("Evaluating…"))
        results = {p: {} for p in needed}
        seconds = {p: {} for p in needed}
        try:
            for n, (name, c) in enumerate(zip(names, found)):
                bar.progress(n / len(found), text=_("Evaluating {model} ({n} of {total})…").format(
                    model=md(name), n=n + 1, total=len(found)))
                for p in needed:
                    results[p][name], seconds[p][name] = evaluated(source, c.path, c.modified, p.protocol,
                                                                   p.exclude_seen)
                    done.add((source, c.path, c.modified, p.protocol, p.exclude_seen))
        except RecAttnError as e:  # e.g. a catalogue too small for 100 negatives: the lists above still show
            widgets.model_error(e)
            results = {}
    if results:
        bar.progress(1.0, text=count_of(len(found), "Evaluated {n} model", "Evaluated {n} models"))
        users = next(iter(results[chosen].values()))["users"]
        total = sum(seconds[chosen].values())
        slowest = max(seconds[chosen], key=seconds[chosen].get)
        st.dataframe(comparison.metrics_table(results[chosen], seconds[chosen]), key="compare_metrics",
                     column_config={c: st.column_config.NumberColumn(format="%.3f") for c in
                                    ("NDCG@10", "HR@10", "MRR@10", "coverage@10")}
                     | {"seconds": st.column_config.NumberColumn(_("seconds"), format="%.1f"),
                        "_index": st.column_config.TextColumn(_("model"))})
        st.caption(_("{users:,} test users, protocol {protocol}. Computing it took {total:.1f} s (slowest: {model}, "
                     "{seconds:.1f} s); the results stay cached.").format(
            users=users, protocol=md(_(chosen.label)), total=total, model=md(slowest),
            seconds=seconds[chosen][slowest]))
        baseline = next((name for name, c in zip(names, found) if c.kind == "pop"), None)
        for sentence in comparison.protocol_gap(chosen, results[chosen], results[comparison.FULL], baseline):
            st.markdown(md(sentence))

with lists_box:
    st.subheader(_("Top {k} of every model").format(k=K))
    history = widgets.require_history(_("every model's top {k} side by side").format(k=K))
    state.pop_flash("history")  # a story started from the empty page: its sentence
    with state.guard():
        readers = {name: models.recommender(c.path, source) for name, c in zip(names, found)}
        lists = [comparison.ranked_list(name, r.ranking(history), K) for name, r in readers.items()]
    titles = sources.item_options(source)[1]
    st.caption(_("After the {items} of the history; items already in it are never suggested.").format(
        items=count_of(len(history), "{n} item", "{n} items")))
    widgets.cut_note(len(history), {name: r.max_len for name, r in readers.items()})
    st.dataframe(comparison.side_by_side(lists, titles), key="compare_lists",
                 column_config={"_index": st.column_config.NumberColumn(_("rank"))})
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(overlap_heatmap(comparison.overlap_matrix(lists), K), key="compare_overlap",
                        config=charts.config("overlap"))
        st.caption(_("Share of the top {k} two models have in common: 1 is the same items (in any order), 0 "
                     "none.").format(k=K))
    with right:
        st.markdown(_("**Where each model ranks every item of these lists**"))
        ranks = comparison.rank_table(lists, titles)
        st.dataframe(ranks, key="compare_ranks", hide_index=True,
                     column_config={"item": st.column_config.TextColumn(_("item"), pinned=True),
                                    "spread": st.column_config.NumberColumn(
                                        _("spread"), help=_("Worst rank minus best rank across the models"))})
        st.caption(_("Ranks among all {n:,} items (the history excluded); spread 0 means every model puts the item "
                     "at the same place.").format(n=len(titles)))
    st.divider()

"""Compare models: the history through every model of the source, side by side, and their test metrics under a
chosen evaluation protocol."""

import time

import streamlit as st

from recattn import checkpoint
from recattn.results import comparison, measured
from recattn.training import workflow
from recattn.data.dataset import number_repeats
from recattn.errors import RecAttnError
from recattn.viz.compare import overlap_heatmap
from ui import charts, models, sources, state, widgets
from ui.text import md, plural

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
    st.dataframe(measured.model_table(search), hide_index=True, key=key,
                 column_config={c: st.column_config.NumberColumn(format="%.4f") for c in
                                ("valid NDCG@10", "valid sd", "test NDCG@10", "test sd", "test HR@10",
                                 "test NDCG@10, seen kept")})
    again = ("A later search of some models on the same data, a run of its own: a model in two tables differs by a "
             "run's noise. " if later else "")
    st.caption(f"{again}{search.report['users']:,} test users, full ranking with seen items excluded; mean and "
               f"standard deviation over seeds. {md(search.made())}")
    with st.expander("Do the gaps exceed noise? (paired over the test users)"):
        for sentence in measured.paired_sentences(search):
            st.markdown("- " + md(sentence))
    widgets.budget_curves(search, key=f"{key}_curves")


def measured_section(source: str, say_when_none: bool) -> bool:
    """Every committed equal search of `source`, or how to run one when there is none and `say_when_none`;
    whether there was any."""
    found_searches = widgets.measured_searches(source)
    if not found_searches and not say_when_none:
        return False
    st.subheader("Measured after equal tuning")
    if not found_searches:
        st.caption(f"No equal search has been run on {md(sources.source_label(source))}: `python benchmarks/search.py "
                   f"--data {md(source)}` gives every model the same tuning budget, chooses on validation only and "
                   "reports the test figures over three seeds. The figures below are single checkpoints.")
    for n, search in enumerate(found_searches):
        measured_table(search, "compare_measured" if n == 0 else f"compare_measured_{n}", later=n > 0)
    return bool(found_searches)


st.title("Compare models")
st.caption("The same history through every model trained on this data, then the same test users through all of "
           "them: how much the models agree, and how much the way they are scored changes the verdict.")

source = state.source()
with state.guard():
    found = sources.checkpoints(source)
if not found:
    st.info(f"No model is trained on {md(sources.source_label(source))} yet: train two or more to compare them.",
            icon=":material/model_training:")
    st.page_link("pages/train.py", label="Train a model on this data", icon=":material/arrow_forward:")
    measured_section(source, say_when_none=False)  # the committed figures need no checkpoint of this session
    st.stop()
names = number_repeats([c.label for c in found])
lists_box, metrics_box = st.container(), st.container()  # metrics first in the script: they need no history

with metrics_box:
    if measured_section(source, say_when_none=True):
        st.caption("The checkpoints below are single runs.")

    st.subheader("Test metrics of these checkpoints")
    st.session_state.setdefault("compare_protocol", comparison.FULL.label)  # a default= would fight remember()
    label = st.segmented_control("Protocol", list(PROTOCOLS), required=True, key="compare_protocol",
                                 help="How the held-out last item of each test user is ranked: against the whole "
                                      "catalogue (full; with or without the user's own items), or against 100 "
                                      "sampled items, drawn uniformly or by popularity.")
    chosen = PROTOCOLS[label]
    needed = [chosen] if chosen == comparison.FULL else [chosen, comparison.FULL]  # the gap needs full ranking
    jobs = [(source, c.path, c.modified, p.protocol, p.exclude_seen) for c in found for p in needed]
    done = st.session_state.setdefault("compare_evaluated", set())  # what this session computed (and cached)
    computed = all(job in done for job in jobs)
    requested = st.session_state.pop("compare_requested", False)
    results: dict = {}
    if not (computed or requested):
        slow = " Additive attention scores every candidate against the history: it is the slowest." if any(
            c.kind == "additive" for c in found) else ""
        st.caption(f"Each model ranks every test user's held-out item: {plural(len(found), 'model')} × "
                   f"{plural(len(needed), 'protocol')}, computed once and cached.{slow}")
        # A callback, not the button's return value: it survives a rerun that happens before the page draws.
        st.button("Compute the metrics", key="compare_compute", icon=":material/calculate:",
                  on_click=st.session_state.__setitem__, args=("compare_requested", True))
    else:
        bar = st.progress(0.0, text="Evaluating…")
        results = {p: {} for p in needed}
        seconds = {p: {} for p in needed}
        try:
            for n, (name, c) in enumerate(zip(names, found)):
                bar.progress(n / len(found), text=f"Evaluating {md(name)} ({n + 1} of {len(found)})…")
                for p in needed:
                    results[p][name], seconds[p][name] = evaluated(source, c.path, c.modified, p.protocol,
                                                                   p.exclude_seen)
                    done.add((source, c.path, c.modified, p.protocol, p.exclude_seen))
        except RecAttnError as e:  # e.g. a catalogue too small for 100 negatives: the lists above still show
            widgets.model_error(e)
            results = {}
    if results:
        bar.progress(1.0, text=f"Evaluated {plural(len(found), 'model')}")
        users = next(iter(results[chosen].values()))["users"]
        total = sum(seconds[chosen].values())
        slowest = max(seconds[chosen], key=seconds[chosen].get)
        st.dataframe(comparison.metrics_table(results[chosen], seconds[chosen]), key="compare_metrics",
                     column_config={c: st.column_config.NumberColumn(format="%.3f") for c in
                                    ("NDCG@10", "HR@10", "MRR@10", "coverage@10")}
                     | {"seconds": st.column_config.NumberColumn("seconds", format="%.1f")})
        st.caption(f"{users:,} test users, protocol {md(chosen.label)}. Computing it took {total:.1f} s "
                   f"(slowest: {md(slowest)}, {seconds[chosen][slowest]:.1f} s); the results stay cached.")
        baseline = next((name for name, c in zip(names, found) if c.kind == "pop"), None)
        for sentence in comparison.protocol_gap(chosen, results[chosen], results[comparison.FULL], baseline):
            st.markdown(md(sentence))

with lists_box:
    st.subheader(f"Top {K} of every model")
    history = widgets.require_history(f"every model's top {K} side by side")
    state.pop_flash("history")  # a story started from the empty page: its sentence
    with state.guard():
        readers = {name: models.recommender(c.path, source) for name, c in zip(names, found)}
        lists = [comparison.ranked_list(name, r.ranking(history), K) for name, r in readers.items()]
    titles = sources.item_options(source)[1]
    st.caption(f"After the {plural(len(history), 'item')} of the history; items already in it are never suggested.")
    widgets.cut_note(len(history), {name: r.max_len for name, r in readers.items()})
    st.dataframe(comparison.side_by_side(lists, titles), key="compare_lists")
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(overlap_heatmap(comparison.overlap_matrix(lists), K), key="compare_overlap",
                        config=charts.config("overlap"))
        st.caption(f"Share of the top {K} two models have in common: 1 is the same items (in any order), 0 none.")
    with right:
        st.markdown("**Where each model ranks every item of these lists**")
        ranks = comparison.rank_table(lists, titles)
        st.dataframe(ranks, key="compare_ranks", hide_index=True,
                     column_config={"item": st.column_config.TextColumn("item", pinned=True),
                                    "spread": st.column_config.NumberColumn(
                                        "spread", help="Worst rank minus best rank across the models")})
        st.caption(f"Ranks among all {len(titles):,} items (the history excluded); spread 0 means every model "
                   "puts the item at the same place.")
    st.divider()

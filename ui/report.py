"""The "Download report" button: the session's data, model, history, top 10, attention grid and the explanation of
its first recommendation as one HTML file that works offline (`recattn.viz.report`), made only when asked for."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from recattn import viz
from recattn.analysis import explain
from recattn.models import registry
from recattn.recommend import Recommender
from recattn.viz import explain as explain_figs
from recattn.viz.report import Section, report_html
from ui import sources, state


def sections(recommender: Recommender, data: str, history: list[str]) -> list[Section]:
    """What the report holds, computed afresh from the model (the same library calls the pages make); `data`: the
    source as people read it. Library calls only: it runs when the button is clicked, outside a script run."""
    rec = recommender.recommend(history)
    name, config = registry.label(recommender.kind), recommender.config
    titles = [recommender.title(i) for i in history]
    used = len(rec.used_history)
    out = [
        Section("Data and model", [f"Data: {data}.",
                                   f"Model: {name}, {config.layers} layer(s) × {config.heads} head(s), hidden size "
                                   f"{config.hidden}, reading the last {recommender.max_len} items of a history."]),
        Section(f"History: {len(history)} items, oldest first",
                [f"The model reads the last {used} of them."] if used < len(history) else [],
                table=pd.DataFrame({"#": range(1, len(history) + 1), "title": titles})),
        Section("Top 10", ["Ranked by the model's score; items already in the history are never recommended."],
                table=pd.DataFrame({"rank": range(1, len(rec.items) + 1), "title": [i.title for i in rec.items],
                                    "genres": [i.genres for i in rec.items], "score": [i.score for i in rec.items]})),
    ]
    if rec.trace is not None:
        out.append(Section("Attention, every layer and head",
                           ["Each row is a position asking what to look at, each column an item it can look at; "
                            "every row sums to 1. Hover a cell for the exact weight."],
                           figure=viz.trace_figure(rec.trace, title=f"Attention weights of {name}")))
    top = rec.items[0]
    why = recommender.explain(history, top.id)
    shown = {m: (why.occlusion.score_drop if m == explain.OCCLUSION else why.weights[m])[-used:] for m in why.methods}
    cf = why.counterfactual
    removed = ", ".join(titles[p] for p in cf.removed_positions)
    said = (f"Without {removed}, {top.title} drops from #{cf.rank_before} to #{cf.rank_after}." if cf.found else
            f"No removal of up to 5 items takes {top.title} out of the top 10.")
    out.append(Section(f"Why {top.title}?", [said], figure=explain_figs.method_bars(
        shown, titles[-used:], top.title, why.occlusion.rank_change[-used:])))
    return out


def download_button(recommender: Recommender, source: str, history: list[str], key: str) -> None:
    """The report of what the page shows now (this model, source and history), made when clicked."""
    data, name, path = sources.source_label(source), registry.label(recommender.kind), state.model_dir()
    history = list(history)

    def build() -> str:
        made = (f"Made by recattn on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC from the model in {path}; the "
                "charts work offline.")
        return report_html(f"recattn: {name} on {data}", made, sections(recommender, data, history))

    st.download_button("Download report", data=build, file_name="recattn-report.html", mime="text/html",
                       icon=":material/download:", key=key, on_click="ignore",
                       help="One HTML file of this model, history, top 10, attention and the explanation of the first "
                            "recommendation; its charts work offline, to keep or to send.")

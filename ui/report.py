"""The "Download report" button: the session's data, model, history, top 10, attention grid and the explanation of
its first recommendation as one HTML file that works offline (`recattn.viz.report`), made only when asked for."""

from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import streamlit as st

from recattn import i18n, viz
from recattn.analysis import explain
from recattn.i18n import _
from recattn.models import registry
from recattn.recommend import Recommender
from recattn.viz import explain as explain_figs
from recattn.viz.report import Section, report_html
from ui import sources, state


def sections(recommender: Recommender, data: str, history: list[str]) -> list[Section]:
    """What the report holds, computed afresh from the model (the same library calls the pages make); `data`: the
    source as people read it. Library calls only: it runs when the button is clicked, outside a script run."""
    rec = recommender.recommend(history)
    name, config = _(registry.label(recommender.kind)), recommender.config
    titles = [recommender.title(i) for i in history]
    used = len(rec.used_history)
    out = [
        Section(_("Data and model"), [
            _("Data: {data}.").format(data=data),
            _("Model: {model}, {layers} layer(s) × {heads} head(s), hidden size {hidden}, reading the last {window} "
              "items of a history.").format(model=name, layers=config.layers, heads=config.heads,
                                            hidden=config.hidden, window=recommender.max_len)]),
        Section(_("History: {n} items, oldest first").format(n=len(history)),
                [_("The model reads the last {used} of them.").format(used=used)] if used < len(history) else [],
                table=pd.DataFrame({"#": range(1, len(history) + 1), _("title"): titles})),
        Section(_("Top 10"), [_("Ranked by the model's score; items already in the history are never recommended.")],
                table=pd.DataFrame({_("rank"): range(1, len(rec.items) + 1), _("title"): [i.title for i in rec.items],
                                    _("genres"): [i.genres for i in rec.items],
                                    _("score"): [i.score for i in rec.items]})),
    ]
    if rec.trace is not None:
        out.append(Section(_("Attention, every layer and head"),
                           [_("Each row is a position asking what to look at, each column an item it can look at; "
                              "every row sums to 1. Hover a cell for the exact weight.")],
                           figure=viz.trace_figure(rec.trace, title=_("Attention weights of {model}").format(
                               model=name))))
    top = rec.items[0]
    why = recommender.explain(history, top.id)
    shown = {m: (why.occlusion.score_drop if m == explain.OCCLUSION else why.weights[m])[-used:] for m in why.methods}
    cf = why.counterfactual
    removed = _(", ").join(titles[p] for p in cf.removed_positions)
    said = (_("Without {removed}, {item} drops from #{before} to #{after}.").format(
        removed=removed, item=top.title, before=cf.rank_before, after=cf.rank_after) if cf.found else
            _("No removal of up to {n} items takes {item} out of the top 10.").format(n=5, item=top.title))
    out.append(Section(_("Why {item}?").format(item=top.title), [said], figure=explain_figs.method_bars(
        shown, titles[-used:], top.title, why.occlusion.rank_change[-used:])))
    return out


def download_button(recommender: Recommender, source: str, history: list[str], key: str) -> None:
    """The report of what the page shows now (this model, source and history), made when clicked."""
    data, name, path = sources.source_label(source), _(registry.label(recommender.kind)), state.model_dir()
    history = list(history)
    lang = i18n.current()  # build() runs outside the script run, where the session's language is not known

    def build() -> str:
        with i18n.language(lang):
            made = _("Made by recattn on {time} UTC from the model in {path}; the charts work offline.").format(
                time=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}", path=path)
            return report_html(_("recattn: {model} on {data}").format(model=name, data=data), made,
                               sections(recommender, data, history))

    st.download_button(_("Download report"), data=build, file_name="recattn-report.html", mime="text/html",
                       icon=":material/download:", key=key, on_click="ignore",
                       help=_("One HTML file of this model, history, top 10, attention and the explanation of the "
                              "first recommendation; its charts work offline, to keep or to send."))

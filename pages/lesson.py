"""Lesson: the seed's order in numbered steps with Back and Next, each a live view of the current history with a
sentence computed from its numbers and one question for the class; the step is in the address (`?step=4`), and a
presenter view (larger type, no sidebar, one figure) is for the projector (`&presenter=1`)."""

import re

import numpy as np
import streamlit as st

from recattn import paths, viz
from recattn.analysis import lesson
from recattn.analysis.head_roles import describe
from recattn.data import load
from recattn.i18n import N_, _, sentences
from recattn.models import registry
from recattn.recommend import Recommender
from recattn.results import measured
from recattn.viz import learn as figs
from recattn.viz.heads import role_grid
from ui import charts, models, sources, state, widgets
from ui.text import md

STEP, PRESENTER = "lesson_step", "lesson_presenter"
N = len(lesson.STEPS)
PRESENTER_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"]
  { display: none; }
[data-testid="stMain"] { font-size: 1.3rem; }
[data-testid="stMain"] h1 { font-size: 2.6rem; } [data-testid="stMain"] h2 { font-size: 2rem; }
[data-testid="stMarkdownContainer"] p, [data-testid="stCaptionContainer"] { font-size: 1.35rem; }
</style>"""
# step 6's sentence for each built-in world: the first half of its head-role summary
WORLD_SAID = {"films": N_("Films: {roles}."), "news": N_("News: {roles}.")}


def from_address() -> None:
    """At the page's first run in a session, the step and presenter view the address asks for."""
    if STEP not in st.session_state:
        asked = st.query_params.get("step", "1")
        st.session_state[STEP] = int(asked) if asked.isdigit() and 1 <= int(asked) <= N else 1
        st.session_state[PRESENTER] = st.query_params.get("presenter") == "1"


def go_to(step: int) -> None:
    st.session_state[STEP] = min(max(step, 1), N)


def model_of(*kinds: str) -> Recommender | None:
    """The session's model when it is of one of `kinds`, else the first checkpoint of the first kind there is."""
    with state.guard():
        listed = sources.checkpoints(source)
    path = next((p for p in (models.preferred(kind, listed) for kind in kinds) if p), None)
    if path is None:
        return None
    with state.guard():
        return models.recommender(path, source)


@st.cache_data(show_spinner=_("Measuring every head of both worlds' SASRec…"), max_entries=4)
def world_roles(world: str):
    """The head roles of a built-in world's shipped SASRec over its test histories."""
    data = load(f"builtin:{world}")
    return Recommender.from_checkpoint(paths.SHIPPED_MODELS / f"{world}-sasrec", data).head_roles(data)


def show(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, config=charts.config(key.removeprefix("lesson_")))


def missing(kind: str) -> None:
    """`kind`: a model's name, or its description already translated."""
    st.info(_("No {kind} is trained on this data: this step needs one (the Train page trains it).").format(kind=kind),
            icon=":material/model_training:")


def additive() -> str | None:
    r = model_of("sasrec-additive", "additive")
    if r is None:
        return missing(_("model with additive attention"))
    rec = widgets.recommend(r, history)
    title = _("The seed's additive score in {kind}").format(kind=_(registry.label(r.config.kind)))
    show(viz.trace_figure(rec.trace, title=title), "lesson_additive")
    return lesson.look_sentence(rec.trace)


def dot_product() -> str | None:
    r = model_of("sasrec")
    if r is None:
        return missing("SASRec")
    rec = widgets.recommend(r, history)
    show(viz.trace_figure(rec.trace, title=_("SASRec: scaled dot-product attention, every layer and head")),
         "lesson_heads")
    return lesson.look_sentence(rec.trace)


def positions() -> str | None:
    r = model_of("sasrec")
    if r is None:
        return missing("SASRec")
    changes = r.order_changes(history)
    show(figs.rank_figure(changes, title=_("SASRec: where its top 10 go when the order changes")), "lesson_positions")
    return lesson.order_sentence(changes)


def layer() -> str | None:
    r = model_of("sasrec")
    if r is None:
        return missing("SASRec")
    with state.guard():
        walk = r.walkthrough(history)
        real = r.scores(history).scores[0].float().numpy()
    used = sources.titles_of(source, history[-r.max_len:])
    panels = figs.block_panels(walk.layers[0], 0, used)
    for panel in panels[:1] if presenting else panels[:2]:
        show(panel.figure, f"lesson_{panel.key}")
    seen = np.isfinite(real)
    gap = float(np.abs(walk.scores[seen] - real[seen]).max())
    top = r.rank(walk.scores, history)[0]
    return _("Recomputed operation by operation, the scores match the model's own forward pass within {gap:.1e}; its "
             "#1, “{title}”, scores {score:.2f}.").format(gap=gap, title=top.title, score=top.score)


def cross() -> str | None:
    r = model_of("additive")
    if r is None:
        return missing(_("additive (target attention) model"))
    rec = widgets.recommend(r, history)
    candidates = [i.title for i in rec.items]
    crossed = r.cross_attention(history, [i.id for i in rec.items])
    keys = sources.titles_of(source, history[-r.max_len:])
    panel = figs.cross_panels(crossed, candidates, keys)[0]  # the weights (the energies come second)
    show(panel.figure, "lesson_cross")
    return lesson.cross_sentence(crossed, candidates, keys)


def worlds() -> str | None:
    found = {w: world_roles(w) for w in ("films", "news")}
    shown = [w for w in found if f"builtin:{w}" == source] or ["films"]
    for col, world in zip(st.columns(1 if presenting else 2), shown if presenting else found):
        with col:
            st.markdown(f"**builtin:{world}**")
            show(role_grid(found[world]), f"lesson_roles_{world}")
    # the summary's first half: up to its ";" (a translation may write the full-width "；")
    return sentences(*(_(WORLD_SAID[w]).format(roles=re.split("[;；]", describe(found[w]))[0]) for w in found))


def versus() -> str | None:
    timed = [m for m in widgets.measured_searches(source) if {"sasrec", "gru"} <= set(measured.curves(m))]
    if timed:
        widgets.budget_curves(timed[0], key="lesson_budget")
        return None  # its caption is the computed sentence
    said = measured.first_contrast(widgets.measured_searches(source), "sasrec", "gru")
    found = {name: r for name, r in (("SASRec", model_of("sasrec")), ("GRU4Rec", model_of("gru"))) if r is not None}
    if found:
        show(figs.influence_figure({name: (r.influence(history), sources.titles_of(source, history))
                                    for name, r in found.items()}), "lesson_influence")
    return said or _("No equal search of SASRec and GRU4Rec has been run on this data: the figure shows how each "
                     "reads this history, not which is better.")


RENDER = (additive, dot_product, positions, layer, cross, worlds, versus)

state.init()
state.remember(STEP, PRESENTER)
from_address()
presenting = bool(st.session_state.get(PRESENTER))
if presenting:
    st.html(PRESENTER_CSS)
step = st.session_state[STEP]
title, question = lesson.STEPS[step - 1]
st.title(_("Lesson · {step} of {total}: {title}").format(step=step, total=N, title=_(title)))
history = widgets.require_history(_("the lesson on it"), where="lesson")
source = state.source()
state.pop_flash("lesson")

with st.container(horizontal=True, gap="small", vertical_alignment="center"):
    st.button(_("Back"), key="lesson_back", icon=":material/arrow_back:", on_click=go_to, args=(step - 1,),
              disabled=step == 1)
    st.button(_("Next"), key="lesson_next", icon=":material/arrow_forward:", on_click=go_to, args=(step + 1,),
              disabled=step == N, type="primary")
    st.segmented_control(_("Step"), list(range(1, N + 1)), key=STEP, required=True, label_visibility="collapsed")
    st.toggle(_("Presenter view"), key=PRESENTER, help=_("Larger type, no sidebar, one figure: for a projector."))

said = RENDER[step - 1]()
if said:
    st.markdown(f":material/insights: {md(said)}")
asked = _("**Question for the class.**")
st.markdown(f":material/help: {sentences(asked, md(_(question)))}")
st.query_params["step"] = str(step)  # "open step 4" is a link
if presenting:
    st.query_params["presenter"] = "1"

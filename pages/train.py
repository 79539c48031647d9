"""Train: choose a model and its size, watch the loss and validation curves live, stop it, use it at once."""

import streamlit as st

from recattn import defaults
from recattn.i18n import N_, _
from recattn.models import registry
from recattn.viz.training import training_curves
from ui import charts, sources, state, training
from ui.text import md

state.init()

COUNTED = registry.names(lambda kind: kind.counted)  # kinds that count in one pass: no epochs, no size
ATTENTION = registry.names(lambda kind: kind.layered)  # kinds with layers and heads
POSITIONS = {"learned": N_("learned"), "sinusoidal": N_("sinusoidal")}  # the radio's values and what it shows

st.title(_("Train a model"))
source = state.source()
with state.guard():
    sources.dataset(source)
st.caption(_("On **{data}**. Each user's last item is held out for the test and the one before it for validation; "
             "training stops early once validation NDCG@10 stops improving, and keeps the best epoch. The model is "
             "saved in runs/ and becomes the app's model. Training runs in the background: other pages and other "
             "visitors keep working.").format(data=md(sources.source_label(source))))


def start() -> None:
    """The form's submit callback: it reads the widgets when the click arrives (a callback, not the button's value,
    which lasts one script run only and app.py may restart the first)."""
    get = st.session_state.get
    kind = get("train_kind")
    try:
        sizes = {name: get(f"train_{name}_{kind}") for name in ("hidden", "layers", "heads", "max_len")}
        model_config = defaults.model_config(kind, position=get("train_position"), **sizes)
        train_config = defaults.train_config(kind, n_items=len(sources.current().items), epochs=int(get("train_epochs")),
                                             max_minutes=float(get("train_minutes")))
    except ValueError as err:  # e.g. a hidden size the heads do not divide
        state.flash("error", md(err), "train")
        return
    training.start(model_config, train_config)


job = training.job()
busy = job is not None and not job.done
kind = st.selectbox(_("Model"), registry.names(), format_func=lambda k: _(registry.label(k)), key="train_kind",
                    help=_("Outside the form, so that the sizes below start from this kind's defaults."))
base = defaults.model_config(kind)
DEFAULTS = {f"train_hidden_{kind}": base.hidden, f"train_layers_{kind}": base.layers,
            f"train_heads_{kind}": base.heads, f"train_max_len_{kind}": base.max_len, "train_position": "learned",
            "train_epochs": 30, "train_minutes": 0.75}
for key, value in DEFAULTS.items():  # defaults through session_state: a value= would fight remember()
    st.session_state.setdefault(key, value)
state.remember("train_kind", *DEFAULTS)
with st.form("train_form", border=True):
    a, b, c, d = st.columns(4)
    a.select_slider(_("Hidden size"), [16, 32, 64, 128, 256], key=f"train_hidden_{kind}")
    b.number_input(_("Layers"), 1, 6, key=f"train_layers_{kind}",
                   help=_("Transformer blocks (SASRec, BERT4Rec) or GRU layers."))
    c.selectbox(_("Heads"), [1, 2, 4, 8], key=f"train_heads_{kind}",
                help=_("Attention heads per layer (SASRec, BERT4Rec); the hidden size must divide by it."))
    d.number_input(_("Max length"), 5, 200, key=f"train_max_len_{kind}",
                   help=_("How many of the latest items the model reads."))
    e, f, g = st.columns(3)
    e.radio(_("Positions"), list(POSITIONS), format_func=lambda p: _(POSITIONS[p]), horizontal=True,
            key="train_position", help=_("A learned table, or the fixed sin/cos encoding of “Attention Is All You "
                                         "Need”."))
    f.number_input(_("Epochs"), 1, 500, key="train_epochs", help=_("At most this many passes over the data."))
    g.number_input(_("Time limit (minutes)"), 0.25, training.MAX_MINUTES, step=0.25, key="train_minutes",
                   help=_("Training stops after the epoch that passes this time; at most {minutes:g} minutes on this "
                          "server, a shared machine.").format(minutes=training.MAX_MINUTES))
    st.caption(_("Popularity and ItemKNN count in one pass: epochs and sizes do not apply to them."))
    st.form_submit_button(_("Train"), type="primary", icon=":material/model_training:", disabled=busy,
                          on_click=start)
job = training.job()
busy = job is not None and not job.done


@st.fragment(run_every=1.0 if busy else None)
def progress() -> None:
    """Redrawn every second while the job runs; once it is done, hands the model to the session and reruns."""
    current = training.job()
    if current is None:
        return
    if current.done and not current.adopted:
        training.adopt(current)
        st.rerun()
    reports = current.reports
    if not current.done:
        if current.place:
            st.info(_("{place} in the queue: this server trains {slots} models at a time and other visitors are "
                      "training. Yours starts on its own.").format(place=training.ordinal(current.place),
                                                                  slots=training.MAX_RUNNING),
                    icon=":material/hourglass_top:")
        last = reports[-1] if reports else None
        text = (_("Epoch {epoch}/{epochs} · loss {loss:.3f} · valid NDCG@10 {ndcg:.3f}").format(
            epoch=last.epoch, epochs=last.epochs, loss=last.loss, ndcg=last.valid.get("ndcg@10", last.best_ndcg))
            if last else _("Preparing the sequences…"))
        st.progress(last.epoch / last.epochs if last else 0.0, text=text)
        st.button(_("Stop"), key="train_stop", icon=":material/stop:", on_click=current.stop.set,
                  help=_("Stop after the current epoch and keep the best epoch so far."))
    if reports:
        title = _("{model} on {data}").format(model=current.name, data=sources.source_label(current.source))
        st.plotly_chart(training_curves([r.epoch for r in reports], [r.loss for r in reports],
                                        [r.valid.get("ndcg@10", float("nan")) for r in reports],
                                        reports[-1].best_epoch, title),
                        key="train_curves", config=charts.config("training"))


progress()
state.pop_flash("train")
if job is not None and job.adopted and job.metrics:
    st.page_link("pages/attention.py", label=_("See what it looks at"), icon=":material/arrow_forward:")

"""A and B: pin the current history as A, edit it (the edited copy is B), and see both top-10s side by side with B's
rank moves and, per head, how the attention changed on the items both histories hold."""

import streamlit as st

from recattn.analysis.ab import attention_change
from recattn.i18n import _, count_of, ngettext, sentences
from recattn.models import registry
from recattn.viz.ab import change_grid
from ui import charts, sources, state, widgets
from ui.text import md

PINNED = "ab_pinned"  # (source, the history pinned as A)


def pin(history: list[str]) -> None:
    st.session_state[PINNED] = (state.source(), tuple(history))
    state.flash("success", _("Pinned as **A**. Edit the history now: it becomes **B**."), "ab")


def reset_to_a() -> None:
    state.set_history(list(st.session_state[PINNED][1]))


def unpin() -> None:
    st.session_state.pop(PINNED, None)


def counted(source: str, n: int) -> str:
    """ "3 films", "1 article": n items, named as the source names them."""
    if source == "builtin:films":
        return count_of(n, "{n} film", "{n} films")
    if source == "builtin:news":
        return count_of(n, "{n} article", "{n} articles")
    return count_of(n, "{n} item", "{n} items")


state.init()
st.title(_("A and B: what an edit changes"))
st.caption(_("Pin a history as A, then change it (swap two items, add one, drop one): the edited copy is B. Both "
             "top-10s stand side by side with B's rank moves, and every head's attention is compared on the items "
             "both hold."))
recommender = widgets.require_model()
history = widgets.require_history(_("A and B"), where="ab")
source = state.source()
name = _(registry.label(recommender.kind))
state.pop_flash("ab")
pinned = st.session_state.get(PINNED)
if pinned is None or pinned[0] != source:
    st.info(_("Nothing is pinned yet: pin the current history ({items}) as **A**, then edit it here or on Build "
              "history.").format(items=counted(source, len(history))), icon=":material/push_pin:")
    st.button(_("Pin this history as A"), key="ab_pin", type="primary", icon=":material/push_pin:", on_click=pin,
              args=(history,))
    st.stop()

a_history = list(pinned[1])
a, b = widgets.recommend(recommender, a_history), widgets.recommend(recommender, history)
with st.container(horizontal=True, gap="small"):
    st.button(_("Pin B as the new A"), key="ab_repin", icon=":material/push_pin:", on_click=pin, args=(history,))
    st.button(_("Reset B to A"), key="ab_reset", icon=":material/undo:", on_click=reset_to_a,
              disabled=a_history == history)
    st.button(_("Unpin"), key="ab_unpin", icon=":material/close:", on_click=unpin)

a_ids, b_ids = [i.id for i in a.items], [i.id for i in b.items]
added = [i for i in history if i not in a_history]
dropped = [i for i in a_history if i not in history]
moved = not added and not dropped and history != a_history
titled = {what: _(", ").join(f"*{md(t)}*" for t in sources.titles_of(source, ids))
          for what, ids in (("added", added), ("dropped", dropped))}
if history == a_history:
    edit = _("B is A unchanged: edit the history to compare.")
elif moved:
    edit = _("B holds A's items in another order.")
elif added and dropped:
    edit = _("B adds {added} and drops {dropped}.").format(**titled)
elif added:
    edit = _("B adds {added}.").format(**titled)
else:
    edit = _("B drops {dropped}.").format(**titled)
kept = len(set(a_ids) & set(b_ids))
st.markdown(sentences(*(edit, ngettext(
    "**{kept} of A's top {total}** stay in B's; {new} new entry.",
    "**{kept} of A's top {total}** stay in B's; {new} new entries.", len(b_ids) - kept).format(
    kept=kept, total=len(a_ids), new=len(b_ids) - kept))))

left, right = st.columns(2, gap="large")
with left:
    st.subheader(_("A · pinned · {n}").format(n=len(a_history)))
    widgets.top_list(a.items, key="ab_top_a")
    st.caption(" → ".join(md(t) for t in sources.titles_of(source, a_history)))
with right:
    st.subheader(_("B · the history now · {n}").format(n=len(history)))
    widgets.top_list(b.items, key="ab_top_b", ranks_before={item: rank for rank, item in enumerate(a_ids, 1)})
    st.caption(" → ".join(md(t) for t in sources.titles_of(source, history)))
    widgets.quick_edit(source, history, "ab", (_("Add an item to B"), _("Remove B's last"), _("Reorder or edit B")))

st.subheader(_("How each head's attention changed"))
if a.trace is None or b.trace is None:
    st.info(_("{model} has no attention to compare: pick an attention model in the sidebar.").format(model=md(name)),
            icon=":material/visibility_off:")
    st.stop()
change = attention_change(a.trace, b.trace)
largest = change.largest()
if largest is None:
    st.info(_("A and B share no cell of their attention maps: B is A unchanged, or they have no item in common."),
            icon=":material/info:")
    st.stop()
st.plotly_chart(change_grid(change, _("B − A, {model}, on the items both histories hold").format(model=name)),
                key="ab_change", config=charts.config("a-b"))
layer, head, row, column = largest
st.caption(sentences(*(
    _("Red: B looks there more, blue: less; blank: the map masks the cell."),
    _("The largest change: layer {layer}, head {head}, *{row}* looking at *{column}*: {a:.2f} in A, {b:.2f} in "
      "B.").format(layer=layer + 1, head=head + 1, row=md(change.row_labels[row]),
                   column=md(change.column_labels[column]), a=change.a[largest], b=change.b[largest]))))

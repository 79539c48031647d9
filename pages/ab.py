"""A and B: pin the current history as A, edit it (the edited copy is B), and see both top-10s side by side with B's
rank moves and, per head, how the attention changed on the items both histories hold."""

import streamlit as st

from recattn.analysis.ab import attention_change
from recattn.models import registry
from recattn.viz.ab import change_grid
from ui import charts, sources, state, widgets
from ui.text import md, plural

PINNED = "ab_pinned"  # (source, the history pinned as A)


def pin(history: list[str]) -> None:
    st.session_state[PINNED] = (state.source(), tuple(history))
    state.flash("success", "Pinned as **A**. Edit the history now: it becomes **B**.", "ab")


def reset_to_a() -> None:
    state.set_history(list(st.session_state[PINNED][1]))


def unpin() -> None:
    st.session_state.pop(PINNED, None)


state.init()
st.title("A and B: what an edit changes")
st.caption("Pin a history as A, then change it (swap two items, add one, drop one): the edited copy is B. Both top-10s "
           "stand side by side with B's rank moves, and every head's attention is compared on the items both hold.")
recommender = widgets.require_model()
history = widgets.require_history("A and B", where="ab")
source = state.source()
name, one, many = registry.label(recommender.kind), *sources.nouns(source)
state.pop_flash("ab")
pinned = st.session_state.get(PINNED)
if pinned is None or pinned[0] != source:
    st.info(f"Nothing is pinned yet: pin the current history ({plural(len(history), one, many)}) as **A**, then "
            "edit it here or on Build history.", icon=":material/push_pin:")
    st.button("Pin this history as A", key="ab_pin", type="primary", icon=":material/push_pin:", on_click=pin,
              args=(history,))
    st.stop()

a_history = list(pinned[1])
a, b = widgets.recommend(recommender, a_history), widgets.recommend(recommender, history)
with st.container(horizontal=True, gap="small"):
    st.button("Pin B as the new A", key="ab_repin", icon=":material/push_pin:", on_click=pin, args=(history,))
    st.button("Reset B to A", key="ab_reset", icon=":material/undo:", on_click=reset_to_a,
              disabled=a_history == history)
    st.button("Unpin", key="ab_unpin", icon=":material/close:", on_click=unpin)

a_ids, b_ids = [i.id for i in a.items], [i.id for i in b.items]
added = [i for i in history if i not in a_history]
dropped = [i for i in a_history if i not in history]
moved = not added and not dropped and history != a_history
changed = [f"{verb} {', '.join(f'*{md(t)}*' for t in sources.titles_of(source, ids))}"
           for verb, ids in (("adds", added), ("drops", dropped)) if ids]
edit = ("B is A unchanged: edit the history to compare." if history == a_history else
        "B holds A's items in another order." if moved else f"B {' and '.join(changed)}.")
kept = len(set(a_ids) & set(b_ids))
new = plural(len(b_ids) - kept, "new entry", "new entries")
st.markdown(f"{edit} **{kept} of A's top {len(a_ids)}** stay in B's; {new}.")

left, right = st.columns(2, gap="large")
with left:
    st.subheader(f"A · pinned · {len(a_history)}")
    widgets.top_list(a.items, key="ab_top_a")
    st.caption(" → ".join(md(t) for t in sources.titles_of(source, a_history)))
with right:
    st.subheader(f"B · the history now · {len(history)}")
    widgets.top_list(b.items, key="ab_top_b", ranks_before={item: rank for rank, item in enumerate(a_ids, 1)})
    st.caption(" → ".join(md(t) for t in sources.titles_of(source, history)))
    widgets.quick_edit(source, history, "ab", ("Add an item to B", "Remove B's last", "Reorder or edit B"))

st.subheader("How each head's attention changed")
if a.trace is None or b.trace is None:
    st.info(f"{md(name)} has no attention to compare: pick an attention model in the sidebar.",
            icon=":material/visibility_off:")
    st.stop()
change = attention_change(a.trace, b.trace)
largest = change.largest()
if largest is None:
    st.info("A and B share no cell of their attention maps: B is A unchanged, or they have no item in common.",
            icon=":material/info:")
    st.stop()
st.plotly_chart(change_grid(change, f"B − A, {name}, on the items both histories hold"), key="ab_change",
                config=charts.config("a-b"))
layer, head, row, column = largest
st.caption(f"Red: B looks there more, blue: less; blank: the map masks the cell. The largest change: layer "
           f"{layer + 1}, head {head + 1}, *{md(change.row_labels[row])}* looking at "
           f"*{md(change.column_labels[column])}*: {change.a[largest]:.2f} in A, {change.b[largest]:.2f} in B.")

"""Property-based tests: `Recommender.recommend` on tiny models of every kind, fed any history (empty, unknown
ids, duplicates, longer than the window, padding-like ids), either recommends k finite-scored unseen items with a
trace whose rows sum to 1 (0 for a row that sees nothing), or raises RecAttnError with a message; and the pure
history operations keep a list of strings whatever positions they get."""

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recattn import history
from recattn.models import registry
from recattn.config import ModelConfig
from recattn.errors import RecAttnError
from recattn.models import build_model
from recattn.models.baselines import ItemKNN, follower_matrix
from recattn.recommend import MASK_SLOT, Recommender

N_ITEMS, MAX_LEN = 12, 5
ITEMS = pd.DataFrame({"item_id": [f"i{n}" for n in range(1, N_ITEMS + 1)],
                      "title": [f"Title {n}" for n in range(1, N_ITEMS + 1)], "genres": ["Drama"] * N_ITEMS})
KNOWN = ITEMS["item_id"].tolist()
ODD = ["", "0", "[PAD]", MASK_SLOT, "i0", f"i{N_ITEMS + 1}", "I1", " i1", "<img src=x onerror=alert(1)>"]
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _recommender(kind: str) -> Recommender:
    model = build_model(ModelConfig(kind=kind, n_items=N_ITEMS, max_len=MAX_LEN, hidden=8, layers=2, heads=2),
                        seed=3)
    if isinstance(model, ItemKNN):  # give the follower matrix a few entries, so its scores are not all ties
        crow, col, val = follower_matrix([np.array([1, 2, 3, 4]), np.array([2, 5, 6])], N_ITEMS)
        model.load_state_dict({"crow": torch.as_tensor(crow), "col": torch.as_tensor(col),
                               "val": torch.as_tensor(val, dtype=torch.float32), "counts": model.counts})
    return Recommender(model, ITEMS)


RECOMMENDERS = {kind: _recommender(kind) for kind in registry.names()}

histories = st.lists(st.one_of(st.sampled_from(KNOWN), st.sampled_from(ODD), st.text(max_size=4)),
                     max_size=3 * MAX_LEN)
known_histories = st.lists(st.sampled_from(KNOWN), max_size=3 * MAX_LEN)


def _check(rec: Recommender, ids: list[str], k: int) -> None:
    try:
        out = rec.recommend(ids, k=k)
    except RecAttnError as e:
        assert str(e), "a RecAttnError must say what is wrong"
        assert not ids or set(ids) - set(KNOWN), "only an empty history or unknown ids may be refused"
        return
    assert ids and set(ids) <= set(KNOWN)
    got = [item.id for item in out.items]
    assert len(got) == min(k, N_ITEMS - len(set(ids))) and len(set(got)) == len(got)
    assert not set(got) & set(ids), "an item of the history was recommended"
    assert all(np.isfinite(item.score) for item in out.items)
    assert [item.score for item in out.items] == sorted((item.score for item in out.items), reverse=True)
    assert out.used_history == tuple(ids[-MAX_LEN:])
    if out.trace is None:
        assert out.kind == "none"
        return
    sums = out.trace.weights.sum(-1)
    assert np.all(np.isclose(sums, 1, atol=1e-4) | np.isclose(sums, 0, atol=1e-6)), sums
    assert np.all(out.trace.weights >= 0)
    assert out.trace.weights.shape[-1] == len(out.trace.key_ids)


@pytest.mark.parametrize("kind", registry.names())
@FUZZ
@given(ids=histories, k=st.integers(min_value=-2, max_value=N_ITEMS + 3))
def test_recommend_any_history(kind, ids, k):
    if k < 1:
        with pytest.raises(RecAttnError, match="at least 1"):
            RECOMMENDERS[kind].recommend(ids or KNOWN[:1], k=k)
        return
    _check(RECOMMENDERS[kind], ids, k)


@pytest.mark.parametrize("kind", registry.names())
@FUZZ
@given(ids=known_histories, k=st.integers(min_value=1, max_value=N_ITEMS + 3))
def test_recommend_known_histories(kind, ids, k):
    """Known ids with duplicates and beyond the window: always a recommendation (unless empty)."""
    _check(RECOMMENDERS[kind], ids, k)


@pytest.mark.parametrize("bad", ["i1", b"i1", 3, None, {"i1": 1}])
def test_a_history_that_is_not_a_list_is_refused(bad):
    with pytest.raises(RecAttnError):
        RECOMMENDERS["sasrec"].recommend(bad, k=3)


def test_the_history_window_known_answer():
    rec = RECOMMENDERS["sasrec"].recommend(KNOWN[:8], k=3)
    assert rec.used_history == tuple(KNOWN[3:8]) and rec.trace.key_ids == tuple(KNOWN[3:8])


# ---------------------------------------------------------------- the history operations
ops = st.lists(st.one_of(
    st.tuples(st.just("add"), st.one_of(st.text(max_size=3), st.integers())),
    st.tuples(st.just("remove"), st.integers(-5, 25)),
    st.tuples(st.just("move"), st.integers(-5, 25), st.sampled_from([-2, -1, 1, 2])),
), max_size=30)


@settings(max_examples=300, deadline=None)
@given(start=st.lists(st.text(max_size=3), max_size=10), steps=ops)
def test_history_operations_keep_a_list_of_strings(start, steps):
    ids = list(start)
    for op in steps:
        before = list(ids)
        if op[0] == "add":
            ids = history.add(ids, op[1])
            assert ids == before + [str(op[1])]
        elif op[0] == "remove":
            ids = history.remove_at(ids, op[1])
            inside = 0 <= op[1] < len(before)
            assert len(ids) == len(before) - inside
            assert ids == (before[:op[1]] + before[op[1] + 1:] if inside else before)
        else:
            _, position, step = op
            ids = history.move(ids, position, step)
            assert sorted(ids) == sorted(before) and len(ids) == len(before)
            if 0 <= position < len(before) and 0 <= position + step < len(before):
                assert ids[position + step] == before[position] and ids[position] == before[position + step]
            else:
                assert ids == before
        assert isinstance(ids, list) and all(isinstance(i, str) for i in ids)
        assert before is not ids  # a new list every time: callers never see one change under them


@given(ids=st.lists(st.text(max_size=3), max_size=20), max_len=st.integers(-3, 25))
def test_window_is_the_last_max_len(ids, max_len):
    cut = history.window(ids, max_len)
    assert len(cut) == max(0, min(max_len, len(ids)))
    assert cut == (ids[len(ids) - len(cut):] if cut else [])


def test_history_operations_known_answers():
    assert history.add(["a"], 7) == ["a", "7"]
    assert history.remove_at(["a", "b", "c"], 1) == ["a", "c"]
    assert history.remove_at(["a", "b", "c"], -1) == ["a", "b", "c"]  # not Python's "last": a no-op
    assert history.move(["a", "b", "c"], 0, 1) == ["b", "a", "c"]
    assert history.move(["a", "b", "c"], 2, 1) == ["a", "b", "c"]
    assert history.window(["a", "b", "c"], 2) == ["b", "c"]

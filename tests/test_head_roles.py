"""recattn/analysis/head_roles.py: each head's role against sets the data can tell, and its importance, checked
against hand cases and against the one-history attention rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recattn.analysis import explain as ex
from recattn.analysis import head_roles as hr
from recattn.config import ModelConfig
from recattn.models import build_model
from recattn.results.evaluate import evaluate
from recattn.training.fit import model_scorer
from recattn.viz.heads import role_grid

ITEMS = pd.DataFrame({"item_id": [str(i) for i in range(1, 11)], "title": [f"t{i}" for i in range(1, 11)],
                      "genres": ["A", "B", "A|C", "C", "B", "A", "C", "B", "A", "(no genres listed)"],
                      "franchise": [-1, 2, -1, 2, -1, 3, -1, -1, 2, 3]})
COUNTS = np.array([0, 5, 1, 1, 1, 1, 1, 9, 1, 1, 1])  # item 7 the most interacted


def test_item_properties_from_the_catalogue():
    props = hr.item_properties(ITEMS, COUNTS)
    assert props["group"].tolist() == [-1, -1, 2, -1, 2, -1, 3, -1, -1, 2, 3]
    assert props["popular"].nonzero()[0].tolist() == [7]  # 5% of 10 items rounds to one
    assert props["genres"].shape == (11, 3) and props["genres"][3].tolist() == [True, False, True]
    assert not props["genres"][10].any() and not props["genres"][0].any()


def test_role_sets_by_hand():
    props = hr.item_properties(ITEMS, COUNTS)
    seqs = np.array([[0, 2, 3, 7, 4]])  # target 9: franchise 2 (as 2 and 4), genre A (as 3)
    sets = hr.role_sets(seqs, np.array([9]), props)
    assert sets[hr.NEWEST].tolist() == [[False, False, False, False, True]]
    assert sets[hr.FIRST].tolist() == [[False, True, False, False, False]]
    assert not sets[hr.GROUP].any()  # its franchise parts are the newest and the first item: counted there
    assert sets[hr.GENRE].tolist() == [[False, False, True, False, False]]
    assert sets[hr.POPULAR].tolist() == [[False, False, False, True, False]]
    longer = hr.role_sets(np.array([[2, 1, 4, 3, 5]]), np.array([9]), props)  # part 4 in the middle: a series item
    assert longer[hr.GROUP].tolist() == [[False, False, True, False, False]]
    no_series = hr.role_sets(seqs, np.array([1]), props)[hr.GROUP]  # the target has no franchise: nothing
    assert not no_series.any()


def test_real_data_gets_item_to_item_neighbours_instead_of_series():
    real = ITEMS.drop(columns="franchise")
    train = [np.array([3, 9, 5]), np.array([3, 9]), np.array([6, 9]), np.array([8, 1])]  # 9 follows 3 and 6
    props = hr.item_properties(real, COUNTS, train)
    assert "group" not in props and props["followers"].shape == (11, hr.NEIGHBOURS)
    assert props["followers"][3][0] == 9 and 5 in props["followers"][3]  # 9 right after 3 twice, 5 two steps on
    assert 9 in props["followers"][6] and not props["followers"][10].any()  # item 10 never seen: no neighbours
    sets = hr.role_sets(np.array([[6, 8, 3, 2, 4]]), np.array([9]), props)
    assert sets[hr.NEIGHBOUR].tolist() == [[False, False, True, False, False]]  # 6 is the first item: FIRST wins
    assert sets[hr.GENRE].tolist() == [[False, False, False, False, False]]  # 9 is genre A: 3 counted as neighbour
    assert hr.NEIGHBOUR not in hr.role_sets(np.array([[2, 3]]), np.array([9]), hr.item_properties(ITEMS, COUNTS, train))


@pytest.fixture(scope="module")
def measured():
    model = build_model(ModelConfig(kind="sasrec", n_items=10, max_len=5, hidden=16, layers=2, heads=2,
                                    dropout=0.0), seed=0).eval()
    rng = np.random.default_rng(1)
    histories = [rng.integers(1, 11, size=n) for n in rng.integers(1, 9, size=40)]
    targets = rng.integers(1, 11, size=40)
    return model, histories, targets, hr.head_roles(model, histories, targets, 10, hr.item_properties(ITEMS, COUNTS),
                                                     users=25)


def test_the_masses_are_the_one_history_attention_rows_averaged(measured):
    model, histories, targets, roles = measured
    pool = [i for i, h in enumerate(histories) if len(h) >= 2]
    pick = np.sort(np.random.default_rng(0).permutation(pool)[:25])
    rows = np.stack([ex.attention_rows(model, np.pad(histories[i][-5:], (5 - len(histories[i][-5:]), 0)), 1)
                     for i in pick])  # (B, L, H, T)
    assert roles.histories == len(pick) == 25 and len(roles.heads) == 4
    for h in roles.heads:
        assert h.mass[hr.NEWEST] == pytest.approx(rows[:, h.layer, h.head, -1].mean(), abs=1e-6)
        visible = np.array([min(len(histories[i]), 5) for i in pick])
        assert h.chance[hr.NEWEST] == pytest.approx((1 / visible).mean())
        assert 0 <= h.entropy <= 1 + 1e-9
        assert h.role in (*roles.roles, hr.DIFFUSE)
        if h.role != hr.DIFFUSE:
            assert h.lift(h.role) >= hr.CLEAR and h.lift(h.role) == max(h.lift(r) for r in roles.roles)


def test_importance_is_the_ndcg_lost_with_that_head_zeroed(measured):
    model, histories, targets, roles = measured
    pool = [i for i, h in enumerate(histories) if len(h) >= 2]
    pick = np.sort(np.random.default_rng(0).permutation(pool)[:25])
    chosen, goals = [histories[i] for i in pick], targets[pick]
    scorer = model_scorer(model, ex.device_of(model))
    assert roles.ndcg == pytest.approx(evaluate(scorer, chosen, goals, 10)["ndcg@10"])
    first = roles.heads[0]
    keep = np.ones((2, 2))
    keep[0, 0] = 0
    with ex.heads_masked(model, keep):
        assert first.ndcg_without == pytest.approx(evaluate(scorer, chosen, goals, 10)["ndcg@10"])
    assert first.importance == pytest.approx(roles.ndcg - first.ndcg_without)


def test_the_sentence_and_the_grid_say_what_the_numbers_say(measured):
    _, _, _, roles = measured
    said = hr.describe(roles)
    need = max(roles.heads, key=lambda h: h.importance)
    assert said.startswith(f"Head {need.head + 1} of layer {need.layer + 1} ")
    assert f"the {len(roles.heads)} heads divide as" in said
    fig = role_grid(roles).to_plotly_json()
    points = [(tuple(c), t["name"]) for t in fig["data"] for c in t["customdata"]]
    assert sorted(p[0] for p in points) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert {name for _, name in points} == {h.role for h in roles.heads}
    assert all("NDCG@10 without it" in text for t in fig["data"] for text in t["hovertext"])


def test_a_model_without_self_attention_layers_is_refused():
    gru = build_model(ModelConfig(kind="gru", n_items=10, max_len=5, hidden=8), seed=0)
    with pytest.raises(ValueError, match="self-attention layers"):
        hr.head_roles(gru, [np.array([1, 2])], np.array([3]), 10, hr.item_properties(ITEMS, COUNTS))

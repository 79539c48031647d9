"""A Recommendation's trace carries its own kind and mask, so a figure needs nothing else: causal maps mask the
strict upper triangle, BERT4Rec adds its mask slot and masks nothing, target attention has one row per
recommended item; attention-free models give no trace but still say their kind."""

from pathlib import Path

import numpy as np
import pytest

from recattn.data import load
from recattn.recommend import MASK_SLOT, Recommender
from recattn.trace import causal_mask

MODELS = Path(__file__).resolve().parents[1] / "assets" / "models"
HISTORY = ["2", "10", "11", "40"]


@pytest.fixture(scope="module")
def films():
    return load("builtin:films")


def _recommend(films, name):
    return Recommender.from_checkpoint(MODELS / name, films).recommend(HISTORY, k=5)


def test_causal_trace_masks_the_future(films):
    trace = _recommend(films, "films-sasrec").trace
    assert trace.kind == "causal" and trace.produced_by_last_row
    np.testing.assert_array_equal(trace.mask, causal_mask(4, 4))
    assert np.all(trace.weights[..., trace.mask] == 0)  # the model put no weight where the mask says it could not look
    np.testing.assert_allclose(trace.weights.sum(-1), 1.0, rtol=1e-5)


def test_bidirectional_trace_has_the_mask_slot_and_no_mask(films):
    trace = _recommend(films, "films-bert4rec").trace
    assert trace.kind == "bidirectional" and trace.mask is None
    assert trace.query_ids == tuple(HISTORY) + (MASK_SLOT,) == trace.key_ids


def test_target_trace_has_a_row_per_recommendation(films):
    rec = _recommend(films, "films-additive")
    trace = rec.trace
    assert trace.kind == "target" and not trace.produced_by_last_row and trace.mask is None
    assert trace.query_ids == tuple(item.id for item in rec.items) and trace.key_ids == tuple(HISTORY)


@pytest.mark.parametrize("name", ["films-gru", "films-pop", "films-itemknn"])
def test_models_without_attention_give_no_trace(films, name):
    rec = _recommend(films, name)
    assert rec.trace is None and rec.kind == "none" and len(rec.items) == 5

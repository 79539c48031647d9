"""The Data page imports a RecBole checkpoint on the atomic files it was trained on and makes it the current model; every
page then works on it. A file that is not a RecBole checkpoint, or one for other data, is refused and nothing changes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from recattn import checkpoint
from tests.app.conftest import ATTENTION, DATA, go, heatmaps, z_of

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "recbole"
EXPLAIN, LEARN, EMBEDDINGS, COMPARE = ("pages/explain.py", "pages/learn.py", "pages/embeddings.py",
                                       "pages/compare.py")


@pytest.fixture(autouse=True)
def uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("RECATTN_UPLOADS_DIR", str(tmp_path / "uploads"))


def load_tiny(at) -> None:
    """Upload the fixtures' RecBole atomic file as the data source."""
    go(at, DATA)
    at.segmented_control(key="data_source").set_value("upload").run()
    at.file_uploader(key="data_uploads").set_value([("tiny.inter", (FIXTURES / "tiny" / "tiny.inter").read_bytes(),
                                                     "text/tab-separated-values")]).run()
    at.button(key="data_load_upload").click().run()
    assert not at.exception and at.session_state["source"].endswith(tuple("0123456789abcdef"))


def import_file(at, name: str, content: bytes) -> None:
    at.file_uploader(key="data_model_upload").set_value([(name, content, "application/octet-stream")]).run()
    at.button(key="data_import").click().run()
    assert not at.exception


def test_an_imported_recbole_sasrec_is_the_current_model_on_every_page(at, runs_dir):
    go(at, DATA)
    assert any("load the RecBole atomic files" in c.value for c in at.caption)  # the built-in world takes none
    load_tiny(at)
    import_file(at, "SASRec.pth", (FIXTURES / "SASRec.pth").read_bytes())
    (out,) = runs_dir.iterdir()
    assert at.session_state["model_dir"] == str(out)
    assert checkpoint.read_config(out)["imported"]["file"] == "SASRec.pth"
    assert "Imported RecBole's SASRec" in at.success[0].value and "first appearance" in at.success[0].value
    assert "**Needs its attention**: With every layer's attention made uniform" in at.success[0].value  # the checks
    picker = at.selectbox(key="sidebar_model")
    assert picker.value == str(out) and any(o.startswith("SASRec (RecBole) · ") for o in picker.options)
    stored = json.loads((out / "metrics.json").read_text())["test"]["ndcg@10"]
    assert at.sidebar.caption[-1].value.startswith(f"test NDCG@10 {stored:.3f} · 2 layers × 2 heads")

    expected = json.loads((FIXTURES / "expected-SASRec.json").read_text())["users"][0]
    at.session_state["history"] = expected["history"][-6:]
    go(at, ATTENTION)
    maps = heatmaps(at)
    assert len(maps) == 2 * 2  # RecBole's 2 layers × 2 heads
    assert z_of(maps[0]).shape == (6, 6)
    for page in (EXPLAIN, LEARN, EMBEDDINGS, COMPARE):
        go(at, page)
        assert not at.error, (page, at.error[0].value if at.error else "")
    at.session_state["learn_tab"] = "3 · Block → scores"
    go(at, LEARN)
    formulas = "".join(latex.value for latex in at.latex)
    assert r"x \leftarrow \mathrm{LN}_1\big(x + \mathrm{MHA}(x)\big)" in formulas and "repeat" not in formulas
    assert any("match the model's own forward pass" in c.value for c in at.caption)


@pytest.mark.parametrize("name, maps", [("BERT4Rec", 4), ("GRU4Rec", None)])
def test_every_page_works_on_an_imported_bert4rec_and_gru4rec(at, runs_dir, name, maps):
    load_tiny(at)
    import_file(at, f"{name}.pth", (FIXTURES / f"{name}.pth").read_bytes())
    assert f"Imported RecBole's {name}" in at.success[0].value
    at.session_state["history"] = json.loads((FIXTURES / f"expected-{name}.json").read_text())["users"][1]["history"]
    go(at, ATTENTION)
    if maps is None:  # GRU4Rec has no attention, and the page says so
        assert any("no attention" in i.value for i in at.info)
    else:  # BERT4Rec: 2 layers × 2 heads
        assert len(heatmaps(at)) == maps
    for page in (EXPLAIN, LEARN, EMBEDDINGS, COMPARE):
        go(at, page)
        assert not at.error, (page, at.error[0].value if at.error else "")


def test_a_file_that_is_no_recbole_checkpoint_or_would_run_code_is_refused(at, runs_dir, tmp_path):
    load_tiny(at)
    before = at.session_state["model_dir"]
    weights = tmp_path / "weights.pth"
    torch.save({"weight": torch.ones(2)}, weights)
    import_file(at, "weights.pth", weights.read_bytes())
    assert "not a RecBole checkpoint" in at.error[0].value

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {tmp_path / 'ran'}",)

    evil = tmp_path / "evil.pth"
    torch.save({"config": Evil(), "state_dict": {}}, evil)
    import_file(at, "evil.pth", evil.read_bytes())
    assert "refused and nothing in the file was run" in at.error[0].value
    assert not (tmp_path / "ran").exists()
    assert at.session_state["model_dir"] == before and not list(runs_dir.glob("*"))


def test_data_without_stories_offers_a_real_users_history_on_an_empty_page(at, runs_dir):
    load_tiny(at)  # RecBole atomic files: no planted causes, so no story presets
    import_file(at, "SASRec.pth", (FIXTURES / "SASRec.pth").read_bytes())
    at.session_state["history"] = []
    go(at, ATTENTION)
    assert not [b for b in at.button if b.key == "empty_story"]
    at.button(key="empty_random").click().run()
    assert not at.exception and at.session_state["history"]
    assert any("Loaded the last" in i.value for i in at.info)

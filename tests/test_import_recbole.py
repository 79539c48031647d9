"""RecBole checkpoints imported exactly: checkpoints written by RecBole 1.2.1's own trainer on a tiny generated data set
(tests/fixtures/recbole, made by its make_fixtures.py in a RecBole environment), with RecBole's own full_sort_predict
top-10 over the items not in each test history. No RecBole needed here."""

import json
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from recattn import checkpoint
from recattn.data import load
from recattn.errors import RecAttnError
from recattn.importers import recbole, torch_file
from recattn.recommend import Recommender

FIXTURES = Path(__file__).parent / "fixtures" / "recbole"
DATA = FIXTURES / "tiny"
INTER = DATA / "tiny.inter"
MODELS = ("SASRec", "SASRec-relu", "BERT4Rec", "GRU4Rec")


@pytest.fixture(scope="module")
def dataset():
    return load(str(DATA))


@pytest.fixture(scope="module")
def imported(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("imported")
    return {name: recbole.import_checkpoint(FIXTURES / f"{name}.pth", dataset, INTER, out / name) for name in MODELS}


@pytest.mark.parametrize("name", MODELS)
def test_top10_and_scores_equal_recboles_for_every_test_user(name, dataset, imported):
    expected = json.loads((FIXTURES / f"expected-{name}.json").read_text())
    ckpt = checkpoint.load(imported[name].out)
    r = Recommender(ckpt.model, dataset.items)
    worst = 0.0
    for user in expected["users"]:
        rec = r.recommend(user["history"], k=10, with_attention=False)
        assert [i.id for i in rec.items] == user["top10"], user["user"]
        worst = max(worst, max(abs(i.score - s) for i, s in zip(rec.items, user["scores"])))
    assert len(expected["users"]) == 150
    assert worst < 1e-3


@pytest.mark.parametrize("name", MODELS)
def test_item_ids_are_mapped_as_recbole_maps_them(name):
    expected = json.loads((FIXTURES / f"expected-{name}.json").read_text())
    config, _ = recbole.read_recbole(FIXTURES / f"{name}.pth")
    assert recbole.recbole_item_tokens(INTER, config) == expected["item_tokens"]
    assert expected["item_tokens"] != ["[PAD]", *sorted(expected["item_tokens"][1:])]  # the order matters here


def test_imported_models_keep_their_settings_and_provenance(imported):
    config = checkpoint.read_config(imported["SASRec"].out)
    model = config["model"]
    assert (model["kind"], model["norm"], model["position_from"], model["scale_embeddings"]) == (
        "sasrec", "post", "first", False)
    assert model["norm_eps"] == 1e-12 and model["inner"] == 64
    assert checkpoint.read_config(imported["SASRec-relu"].out)["model"]["activation"] == "relu"
    assert config["imported"]["format"] == "recbole" and config["imported"]["file"] == "SASRec.pth"
    assert "first appearance" in config["imported"]["mapping"]
    bert = checkpoint.read_config(imported["BERT4Rec"].out)["model"]
    assert bert["output_head"] and bert["mask_slot"] == "replace-oldest"
    assert checkpoint.read_config(imported["GRU4Rec"].out)["model"]["item_dim"] == 32


def test_an_imported_models_attention_is_what_its_forward_used(dataset, imported):
    ckpt = checkpoint.load(imported["SASRec"].out)
    r = Recommender(ckpt.model, dataset.items)
    history = dataset.interactions["item_id"].head(8).tolist()
    rec = r.recommend(history, k=5)
    assert rec.trace.weights.shape == (2, 2, 8, 8)  # layers, heads, queries, keys
    assert torch.allclose(torch.from_numpy(rec.trace.weights).sum(-1), torch.ones(2, 2, 8), atol=1e-5)
    # the trace holds the maps the model's own scoring pass returns
    out = ckpt.model.score(torch.from_numpy(r.vocab.index(history))[None], return_attention=True)
    assert torch.allclose(torch.stack([m[0] for m in out.attention]), torch.from_numpy(rec.trace.weights))


def test_an_imported_bert4rec_shows_what_it_read_recbole_drops_the_oldest_item(dataset, imported):
    ckpt = checkpoint.load(imported["BERT4Rec"].out)
    history = dataset.interactions["item_id"].head(6).tolist()
    rec = Recommender(ckpt.model, dataset.items).recommend(history, k=5)
    # RecBole 1.2.1's test input: the history without its oldest item, then the mask slot
    assert rec.trace.key_ids == (*history[1:], "[next?]") == rec.trace.query_ids
    assert rec.trace.weights.shape == (2, 2, 6, 6) and (rec.trace.weights.sum(-1) > 0.999).all()


def test_a_pickle_that_would_run_a_command_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    bad = tmp_path / "evil.pth"
    torch.save({"config": Evil(), "state_dict": {}}, bad)
    with pytest.raises(RecAttnError, match="refused and nothing in the file was run"):
        torch_file.read(bad)
    with pytest.raises(RecAttnError, match="refused"):
        recbole.read_recbole(bad)
    assert not marker.exists()


def test_a_plain_pickle_or_another_file_is_refused_with_what_to_do(tmp_path):
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(pickle.dumps({"state_dict": {}}))
    with pytest.raises(RecAttnError, match="not a torch checkpoint"):
        torch_file.read(legacy)
    other = tmp_path / "other.pth"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(RecAttnError, match="no single data.pkl"):
        torch_file.read(other)
    plain = tmp_path / "weights.pth"
    torch.save({"weight": torch.ones(2)}, plain)
    with pytest.raises(RecAttnError, match="not a RecBole checkpoint"):
        recbole.read_recbole(plain)


def test_data_that_does_not_match_is_refused_and_nothing_is_written(tmp_path):
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    lines = INTER.read_text().splitlines()
    (fewer / "fewer.inter").write_text("\n".join(lines[:400]) + "\n")  # fewer users and items
    other = load(str(fewer))
    out = tmp_path / "out"
    with pytest.raises(RecAttnError, match=r"SASRec.pth does not match fewer.inter: the data has \d+ items"):
        recbole.import_checkpoint(FIXTURES / "SASRec.pth", other, fewer / "fewer.inter", out)
    assert not out.exists()
    with pytest.raises(RecAttnError, match="does not match the data"):  # the right .inter, another catalogue
        recbole.import_checkpoint(FIXTURES / "SASRec.pth", other, INTER, out)
    assert not out.exists() and not any(tmp_path.glob(".out*"))


def test_the_command_line_imports_recommends_in_batch_and_checks(tmp_path, capsys):
    from recattn.cli import main

    out = tmp_path / "bert4rec"
    assert main(["import", "recbole", str(FIXTURES / "BERT4Rec.pth"), "--data", str(DATA), "--out", str(out),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["recbole_model"], report["kind"], report["items"]) == ("BERT4Rec", "bert4rec", 120)
    assert "first appearance" in report["mapping"]
    expected = json.loads((FIXTURES / "expected-BERT4Rec.json").read_text())["users"][:3]
    histories = tmp_path / "histories.txt"
    histories.write_text("\n".join(",".join(u["history"]) for u in expected) + "\nnot-an-item\n")
    assert main(["recommend", "--checkpoint", str(out), "--histories", str(histories), "--k", "10", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [[i["id"] for i in line["items"]] for line in lines[:3]] == [u["top10"] for u in expected]
    assert lines[3]["line"] == 4 and "unknown item id" in lines[3]["error"]
    assert main(["checks", "--checkpoint", str(out), "--json"]) == 0
    found = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert found["needs its attention"]["applicable"] and "made uniform" in found["needs its attention"]["reading"]
    assert main(["import", "recbole", str(FIXTURES / "BERT4Rec.pth"), "--data", str(tmp_path), "--out",
                 str(tmp_path / "nowhere")]) == 2  # no .inter there: an error, nothing written
    assert "error:" in capsys.readouterr().err and not (tmp_path / "nowhere").exists()

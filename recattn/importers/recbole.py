"""RecBole 1.2.x checkpoints (SASRec, BERT4Rec, GRU4Rec) as recattn checkpoints that compute what RecBole computes.

The `.pth` RecBole's trainer writes holds `config` (its pickled Config, read here as plain data) and `state_dict`.
Item ids inside the model are RecBole's: the item tokens in order of first appearance in the `.inter` file it loaded
(pandas.factorize in `Dataset._remap`), with [PAD] at 0. Each model becomes one of recattn's kinds with the
settings that reproduce RecBole's layer:

- SASRec → `sasrec`: post-norm (LayerNorm after each residual and on the embeddings), no √d scale on the item
  vectors, learned positions counted from the oldest item read, the configured activation and LayerNorm epsilon,
  separate query/key/value weights joined into one matrix; scores are the item vectors' dot products.
- BERT4Rec → `bert4rec`: the same layers, bidirectional, its mask token, its output head (dense → activation →
  LayerNorm) and output bias, and RecBole 1.2.1's test input (the window loses its oldest item to the mask slot).
- GRU4Rec → `gru`: GRU layers without biases (loaded as zero biases: the same function), the dense layer from the
  state to the item vectors.

Nothing is written to `out` until the model is built, loaded and checked; the folder appears in one rename.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from recattn import checkpoint
from recattn.config import ModelConfig, TrainConfig
from recattn.data import prepare
from recattn.data.dataset import Dataset
from recattn.data.sequences import Vocab
from recattn.errors import RecAttnError
from recattn.i18n import N_, _
from recattn.importers import torch_file
from recattn.models.build import build_model
from recattn.results.evaluate import evaluate_seen_both
from recattn.training.fit import model_scorer

SUPPORTED = {"SASRec": "sasrec", "BERT4Rec": "bert4rec", "GRU4Rec": "gru"}
# RecBole settings that change which interactions it loads, and so its item ids: recattn reproduces the defaults
_NO_FILTER = {"user_inter_num_interval": ("[0,inf)", None), "item_inter_num_interval": ("[0,inf)", None),
              "rm_dup_inter": (None,), "val_interval": (None,), "threshold": (None,), "benchmark_filename": (None,)}
# how ids were mapped: kept in English in config.json and the ImportReport, shown through _()
MAPPING = N_("the .inter file's item tokens in order of first appearance (pandas.factorize, as "
             "recbole.data.dataset.Dataset._remap does), [PAD] at 0")


@dataclass(frozen=True)
class ImportReport:
    """What an import did: where the checkpoint went, which RecBole model it was, and how ids were mapped."""

    out: str
    recbole_model: str
    kind: str
    items: int
    mapping: str  # English (MAPPING); show it with recattn.i18n._
    settings: dict

    def as_dict(self) -> dict:
        return {"out": self.out, "recbole_model": self.recbole_model, "kind": self.kind, "items": self.items,
                "mapping": self.mapping, "settings": self.settings}


def read_recbole(path: str | Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """RecBole's final config (plain values; its enums as their values) and the state dict of a `.pth`, read
    without running anything in the file (recattn.importers.torch_file)."""
    path = Path(path)
    saved = torch_file.read(path)
    if not isinstance(saved, dict) or "state_dict" not in saved or "config" not in saved:
        raise RecAttnError(_("{file} is a torch file but not a RecBole checkpoint (no config and state_dict in it): "
                             "pick the .pth RecBole's trainer saved in its checkpoint_dir").format(file=path.name))
    config = saved["config"]
    final = config.state.get("final_config_dict") if isinstance(config, torch_file.Opaque) and isinstance(
        config.state, dict) else None
    if not isinstance(final, dict):
        raise RecAttnError(_("{file}: its config holds no final_config_dict; was it written by RecBole 1.x?").format(
            file=path.name))
    plain = {k: (v.value if isinstance(v, torch_file.Opaque) else v) for k, v in final.items()}
    state = saved["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise RecAttnError(_("{file}: its state_dict is not a mapping of tensors").format(file=path.name))
    return plain, dict(state)


def recbole_item_tokens(inter_file: Path, config: dict) -> list[str]:
    """RecBole's item tokens in id order, [PAD] first: the tokens of the item column in order of first appearance."""
    field = config.get("ITEM_ID_FIELD") or "item_id"
    header = pd.read_csv(inter_file, sep="\t", nrows=0).columns
    column = next((c for c in header if c.rpartition(":")[0] == field), None)
    if column is None:
        raise RecAttnError(_("{file} has no {field} column, the item field of the checkpoint's config").format(
            file=inter_file, field=field))
    tokens = pd.read_csv(inter_file, sep="\t", usecols=[column], dtype=str, keep_default_na=False)[column]
    return ["[PAD]", *pd.unique(tokens[tokens != ""]).tolist()]


def _check_supported(config: dict, where: str) -> str:
    model = str(config.get("model"))
    if model not in SUPPORTED:
        raise RecAttnError(_("{file} holds a RecBole {model} model; recattn imports {supported}").format(
            file=where, model=model, supported=", ".join(SUPPORTED)))
    for name, allowed in _NO_FILTER.items():
        if config.get(name) not in allowed:
            raise RecAttnError(_("{file} was trained with {setting}={value}, which changes RecBole's item ids; recattn "
                                 "imports models trained without filtering (the default)").format(
                file=where, setting=name, value=repr(config.get(name))))
    load_col = config.get("load_col")
    if isinstance(load_col, dict) and set(load_col) - {"inter"}:
        raise RecAttnError(_("{file} was trained with files besides .inter loaded ({files}): their tokens join "
                             "RecBole's id order; recattn imports models trained on .inter alone (load_col: "
                             "{{inter: [user_id, item_id, timestamp]}})").format(
            file=where, files=", ".join(sorted(load_col))))
    return SUPPORTED[model]


def _activation(config: dict, where: str) -> str:
    act = str(config.get("hidden_act"))
    if act not in ("gelu", "relu"):
        raise RecAttnError(_("{file} uses hidden_act={value}; recattn's layers have gelu and relu").format(
            file=where, value=repr(act)))
    return act


def model_config(config: dict, n_items: int, where: str) -> ModelConfig:
    """The recattn ModelConfig that computes what RecBole's model of `config` computes."""
    kind = _check_supported(config, where)
    max_len = int(config["MAX_ITEM_LIST_LENGTH"])
    if kind == "gru":
        return ModelConfig(kind="gru", n_items=n_items, max_len=max_len, hidden=int(config["hidden_size"]),
                           layers=int(config["num_layers"]), dropout=float(config.get("dropout_prob") or 0.0),
                           item_dim=int(config["embedding_size"]))
    hidden = int(config["hidden_size"])
    return ModelConfig(
        kind=kind, n_items=n_items, max_len=max_len, hidden=hidden, layers=int(config["n_layers"]),
        heads=int(config["n_heads"]), dropout=float(config.get("hidden_dropout_prob") or 0.0),
        norm="post", norm_eps=float(config["layer_norm_eps"]), activation=_activation(config, where),
        inner=int(config["inner_size"]), position_from="first", scale_embeddings=False,
        output_head=kind == "bert4rec", mask_slot="replace-oldest" if kind == "bert4rec" else "append")


def _rows(table: torch.Tensor, order: np.ndarray, extra: int) -> torch.Tensor:
    """Item rows in recattn's order: row i of the result is RecBole's row order[i] (row 0, padding, stays); `extra`
    more rows follow (RecBole's own after its items, e.g. BERT4Rec's mask token, else zeros)."""
    rows = table[torch.from_numpy(order)]
    tail = table[len(order):len(order) + extra]
    if len(tail) < extra:
        tail = torch.cat([tail, table.new_zeros(extra - len(tail), *table.shape[1:])])
    return torch.cat([rows, tail])


def map_state(kind: str, state: dict[str, torch.Tensor], order: np.ndarray, layers: int) -> dict[str, torch.Tensor]:
    """RecBole's state dict under recattn's names, item rows permuted into recattn's catalogue order."""
    def take(name: str) -> torch.Tensor:
        if name not in state:
            raise RecAttnError(_("the checkpoint has no {name}: it is not the RecBole model its config names").format(
                name=name))
        return state[name].float()

    if kind == "gru":
        out = {"item_emb.weight": _rows(take("item_embedding.weight"), order, 1),
               "dense.weight": take("dense.weight"), "dense.bias": take("dense.bias")}
        for k in range(layers):
            for part in ("ih", "hh"):
                weight = take(f"gru_layers.weight_{part}_l{k}")
                out[f"gru.weight_{part}_l{k}"] = weight
                out[f"gru.bias_{part}_l{k}"] = weight.new_zeros(weight.shape[0])  # RecBole's GRU has no biases
        return out
    out = {"item_emb.weight": _rows(take("item_embedding.weight"), order, 1),
           "pos_emb": take("position_embedding.weight"),
           "ln_emb.weight": take("LayerNorm.weight"), "ln_emb.bias": take("LayerNorm.bias")}
    for i in range(layers):
        src, dst = f"trm_encoder.layer.{i}.", f"blocks.{i}."
        att, ffn = src + "multi_head_attention.", src + "feed_forward."
        for suffix in ("weight", "bias"):
            out[dst + f"attn.qkv.{suffix}"] = torch.cat([take(att + f"{p}.{suffix}") for p in ("query", "key", "value")])
            out[dst + f"attn.out.{suffix}"] = take(att + f"dense.{suffix}")
            out[dst + f"ln1.{suffix}"] = take(att + f"LayerNorm.{suffix}")
            out[dst + f"ffn.0.{suffix}"] = take(ffn + f"dense_1.{suffix}")
            out[dst + f"ffn.2.{suffix}"] = take(ffn + f"dense_2.{suffix}")
            out[dst + f"ln2.{suffix}"] = take(ffn + f"LayerNorm.{suffix}")
    if kind == "bert4rec":
        for suffix in ("weight", "bias"):
            out[f"head.0.{suffix}"] = take(f"output_ffn.{suffix}")
            out[f"head.2.{suffix}"] = take(f"output_ln.{suffix}")
        out["item_bias"] = _rows(take("output_bias")[:, None], order, 0)[:, 0]
    return out


def catalogue_order(tokens: list[str], dataset: Dataset, where: str) -> np.ndarray:
    """For each recattn index (0 padding, then the catalogue's items), the RecBole id of the same item; refuses a
    catalogue that does not hold exactly RecBole's items."""
    vocab = Vocab.from_items(dataset.items)
    ids = dataset.items["item_id"].astype(str).tolist()
    recbole_id = {t: i for i, t in enumerate(tokens)}
    missing = [t for t in tokens[1:] if t not in set(ids)]
    extra = [t for t in ids if t not in recbole_id]
    if missing or extra:
        problems = []
        if missing:
            problems.append(_("{count} of the model's items are not in it (e.g. {example})").format(
                count=len(missing), example=repr(missing[0])))
        if extra:
            problems.append(_("{count} of its items are not in the model (e.g. {example})").format(
                count=len(extra), example=repr(extra[0])))
        raise RecAttnError(_("{file} does not match the data {data}: {problems}. Import with the atomic files the "
                             "model was trained on.").format(file=where, data=dataset.name, problems="; ".join(problems)))
    order = np.zeros(vocab.size + 1, dtype=np.int64)
    order[1:] = [recbole_id[t] for t in ids]
    return order


def import_checkpoint(pth: str | Path, dataset: Dataset, inter_file: str | Path, out: str | Path,
                      on_step: Callable[[str], None] | None = None) -> ImportReport:
    """Turn a RecBole `.pth` into a recattn checkpoint folder `out` for `dataset` (loaded from the atomic files
    whose `.inter` is `inter_file`). RecAttnError, naming the file and the fix, when the file is not a supported
    RecBole checkpoint or does not match the data; nothing is written then."""
    pth = Path(pth)
    where = pth.name
    step = on_step or (lambda _: None)
    step(_("reading {file} (restricted: tensors and plain data only)").format(file=where))
    config, state = read_recbole(pth)
    kind = _check_supported(config, where)
    step(_("mapping item ids ({mapping})").format(mapping=_(MAPPING)))
    tokens = recbole_item_tokens(Path(inter_file), config)
    rows = state.get("item_embedding.weight")
    expected_rows = len(tokens) + (1 if kind == "bert4rec" else 0)
    if rows is None or rows.shape[0] != expected_rows:
        found = _("none") if rows is None else _("{count} rows").format(count=rows.shape[0])
        raise RecAttnError(_("{file} does not match {data}: the data has {items} items, so RecBole's item embedding "
                             "would have {expected} rows; the checkpoint has {found}. Import with the atomic files the "
                             "model was trained on.").format(file=where, data=Path(inter_file).name,
                                                             items=len(tokens) - 1, expected=expected_rows,
                                                             found=found))
    order = catalogue_order(tokens, dataset, where)
    cfg = model_config(config, len(tokens) - 1, where)
    step(_("building recattn's {kind} with RecBole's settings").format(kind=kind))
    mapped = map_state(kind, state, order, cfg.layers)
    model = build_model(cfg)
    try:
        model.load_state_dict(mapped, strict=True)
    except RuntimeError as e:
        raise RecAttnError(_("{file}: its weights do not fit the model its config describes ({error})").format(
            file=where, error=e)) from e
    if not all(torch.isfinite(t).all() for t in mapped.values()):
        raise RecAttnError(_("{file} holds NaN or infinite weights; the model diverged or the file is damaged").format(
            file=where))
    settings = {k: config.get(k) for k in ("model", "MAX_ITEM_LIST_LENGTH", "hidden_size", "embedding_size", "n_layers",
                                           "num_layers", "n_heads", "inner_size", "hidden_act", "layer_norm_eps",
                                           "loss_type", "dataset") if config.get(k) is not None}
    provenance = {"format": "recbole", "file": where, "mapping": MAPPING, "recbole": settings,
                  "best_valid_score": _plain(config.get("best_valid_score"))}
    step(_("evaluating it on the data's leave-one-out split (full ranking, seen items excluded)"))
    metrics = _evaluated(model.eval(), dataset)
    step(_("writing {folder}").format(folder=out))
    checkpoint.save(out, model, TrainConfig(), source=dataset.name, fingerprint=dataset.fingerprint,
                    metrics=metrics, imported=provenance)
    return ImportReport(str(out), str(config["model"]), kind, len(tokens) - 1, MAPPING, settings)


def _evaluated(model: torch.nn.Module, dataset: Dataset) -> dict:
    """Test and validation figures on recattn's leave-one-out split of the data, as a trained model's metrics.json
    holds them (RecBole's own split may order a few same-second interactions differently)."""
    _, split = prepare(dataset)
    scorer = model_scorer(model, torch.device("cpu"))
    counts = split.item_counts()
    return {"protocol": "full", "exclude_seen": True, "split": "recattn's leave-one-out",
            "test": evaluate_seen_both(scorer, split.test_inputs, split.test_targets, split.n_items, item_counts=counts),
            "valid": evaluate_seen_both(scorer, split.valid_inputs, split.valid_targets, split.n_items,
                                        item_counts=counts)}


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, str)) and not (isinstance(value, float) and math.isnan(value)) \
        else None

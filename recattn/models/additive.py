"""Additive target attention: every candidate item reads the history with its own weights.

    A_ij = softmax_i(w_o · tanh(W1 x_i + W2 y_j + b))      x_i: history item + position, y_j: candidate j
    u_j  = Σ_i A_ij v_i,   v_i = V x_i                      the user as seen from candidate j
    s_j  = u_j · y_j + bias_j                               the next-item score of j

Because u_j depends on the candidate, there is no single hidden state: scoring V candidates costs
V × T × hidden, so candidates go in chunks. Training scores every position at the cost of one: the energies
do not depend on the query position, only the causal mask does, so the softmax at position t is a ratio of
prefix sums over the keys i <= t (`_prefix_scores`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from recattn.config import ModelConfig
from recattn.models.attention import additive_energies, attention_mask, masked_softmax
from recattn.models.output import ModelOutput
from recattn.models.transformer import sinusoidal_positions

CHUNK_ELEMENTS = 1 << 24  # batch × candidates × T × hidden per chunk: 64 MiB of float32 per intermediate


def target_rows(maps: tuple[torch.Tensor, ...], candidate_indices: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Keep the attention rows of some candidates: each map (B, 1, n_items + 1, T) → (B, 1, k, T).

    candidate_indices: (k,) shared by the batch, or (B, k) per row (e.g. the top-k of each row's scores).
    """
    out = []
    for m in maps:
        B, H, _, T = m.shape
        idx = candidate_indices.to(m.device).expand(B, -1)  # (B, k)
        out.append(m.gather(2, idx[:, None, :, None].expand(B, H, -1, T)))
    return tuple(out)


class AdditiveAttention(nn.Module):
    """Target attention over the history (Bahdanau-style, as in DIN); one head, one layer, attention size = hidden."""

    attention_kind = "target"

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.config = cfg
        D = cfg.hidden
        # n_items + 2 rows: the layout every gradient model shares (index n_items + 1 is BERT4Rec's mask slot)
        self.item_emb = nn.Embedding(cfg.n_items + 2, D, padding_idx=0)
        self.item_bias = nn.Parameter(torch.zeros(cfg.n_items + 2))
        if cfg.position == "learned":
            self.pos_emb = nn.Parameter(torch.zeros(cfg.max_len, D))
            nn.init.normal_(self.pos_emb, std=0.02)
        else:
            self.register_buffer("pos_emb", sinusoidal_positions(cfg.max_len, D), persistent=False)
        self.key = nn.Linear(D, D)  # W1 x_i + b
        self.query = nn.Linear(D, D, bias=False)  # W2 y_j
        self.energy = nn.Linear(D, 1, bias=False)  # w_o
        self.value = nn.Linear(D, D)
        self.drop = nn.Dropout(cfg.dropout)
        nn.init.normal_(self.item_emb.weight, std=0.02)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()

    def _history(self, seqs: torch.Tensor):
        """Keys (B, T, D), values (B, T, D) and which positions hold an item (B, T) for left-padded seqs."""
        present = seqs != 0
        # scaled as in the transformer: history vectors of size ~1 while the tied output embeddings start small,
        # so the score u_j · y_j does not start in the flat region where both factors are near zero
        x = self.item_emb(seqs) * math.sqrt(self.config.hidden) + self.pos_emb[-seqs.shape[1]:]
        x = self.drop(x) * present[..., None]
        return self.key(x), self.value(x), present

    def _energies(self, keys: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        """w_o · tanh(W1 x_i + b + W2 y_j) as float: ids (C,) → (B, C, T); ids (B, Q) → (B, Q, T)."""
        q = self.query(self.item_emb(ids))  # (C, D) or (B, Q, D)
        return additive_energies(keys, q, self.energy.weight[0]).float()

    def _attend(self, keys, values, ids, allowed):
        """Scores and weights of candidates `ids` ((C,) or (B, Q)) reading the keys each may see.

        allowed: (B, 1 or Q, T) bool. Returns scores (B, C or Q) and weights (B, C or Q, T); a row that may see
        nothing gets zero weights (never NaN) and scores its bias alone.
        """
        weights = masked_softmax(self._energies(keys, ids), allowed)
        u = weights.to(values.dtype) @ values  # (B, C, D)
        return (u * self.item_emb(ids)).sum(-1) + self.item_bias[ids], weights

    def _prefix_scores(self, keys, values, ids, present):
        """Scores of shared candidates ids (C,) at every causal position: (B, T, C).

        Position t attends to keys i <= t: softmax weights are exp(e_i - m) / Σ_{i<=t} exp(e_i - m), so the
        weighted sum is a ratio of two cumulative sums. m is the row maximum over all keys; since
        |e| <= ||w_o||_1 this is exact unless energies in one row span more than ~80 (float32 underflow, where a
        prefix would score its bias alone, never NaN).
        """
        e = self._energies(keys, ids).masked_fill(~present[:, None], torch.finfo(torch.float32).min)  # (B, C, T)
        w = torch.exp(e - e.amax(-1, keepdim=True).detach()) * present[:, None]  # m cancels: no gradient needed
        g = (values @ self.item_emb(ids).T).float().transpose(1, 2)  # v_i · y_j: (B, C, T)
        num = torch.cumsum(w * g, dim=-1)
        den = torch.cumsum(w, dim=-1).clamp_min(torch.finfo(torch.float32).tiny)
        return (num / den + self.item_bias[ids, None]).transpose(1, 2)

    def _chunk(self, batch: int, T: int) -> int:
        return max(1, CHUNK_ELEMENTS // (batch * T * self.config.hidden))

    def score(self, seqs: torch.Tensor, return_attention: bool = False) -> ModelOutput:
        """Next-item scores (B, n_items + 1) for left-padded histories; column 0 is -inf.

        With return_attention the attention is a 1-tuple holding (B, 1, n_items + 1, T): each candidate's weights
        over the history positions (row 0, padding, is zeros). `target_rows` keeps the rows of chosen items.
        """
        seqs = seqs[:, -self.config.max_len:]
        keys, values, present = self._history(seqs)
        allowed = present[:, None, :]  # (B, 1, T): every candidate sees the whole history
        ids = torch.arange(self.config.n_items + 1, device=seqs.device)
        parts = [self._attend(keys, values, c, allowed) for c in ids.split(self._chunk(*seqs.shape))]
        scores = torch.cat([s for s, _ in parts], dim=1)
        scores[:, 0] = float("-inf")
        if not return_attention:
            return ModelOutput(scores, None, self.attention_kind)
        weights = torch.cat([w for _, w in parts], dim=1)  # (B, n_items + 1, T)
        weights[:, 0] = 0.0
        return ModelOutput(scores, (weights[:, None],), self.attention_kind)

    def score_candidates(self, seqs: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
        """The scores of some candidates per row, as `score` gives them: seqs (B, T) left-padded, candidates
        (B, N) item indices → (B, N); index 0 (padding) scores -inf. Costs N, not n_items, candidates a row:
        what makes this model affordable as a re-ranker of another model's top N (recattn.results.rerank)."""
        seqs = seqs[:, -self.config.max_len:]
        keys, values, present = self._history(seqs)
        allowed = present[:, None, :]
        scores = torch.cat([self._attend(keys, values, c, allowed)[0]
                            for c in candidates.split(self._chunk(*seqs.shape), dim=1)], dim=1)
        return scores.masked_fill(candidates == 0, float("-inf"))

    def train_loss(self, inputs: torch.Tensor, targets: torch.Tensor, objective: str, negatives: int,
                   generator: torch.Generator | None = None, label_smoothing: float = 0.0) -> torch.Tensor:
        """The next-item loss at every position with a target, as recattn.training.objectives.loss defines it.

        ce scores every item at every position (chunks of candidates, recomputed in backward to bound memory);
        bce and sampled_softmax score each position's own target against `negatives` items shared by the batch
        (objectives.loss draws bce negatives per position; shared ones are what makes this model affordable).
        """
        keys, values, present = self._history(inputs)
        where = targets != 0
        y = targets[where]
        n_items = self.config.n_items
        if objective == "ce":
            ids = torch.arange(1, n_items + 1, device=inputs.device)
            parts = [checkpoint(self._prefix_scores, keys, values, c, present, use_reentrant=False)
                     for c in ids.split(self._chunk(*inputs.shape))]
            # column k holds item k + 1: there is no padding column to leave out of the smoothing
            return F.cross_entropy(torch.cat(parts, dim=-1)[where], y - 1, label_smoothing=label_smoothing)
        if objective not in ("bce", "sampled_softmax"):
            raise ValueError(f"unknown objective {objective!r}")
        neg = torch.randint(1, n_items + 1, (negatives,), device=inputs.device, generator=generator)
        causal = attention_mask(inputs, causal=True)[:, 0]  # (B, T, T): position t sees keys i <= t
        pos_logit = self._attend(keys, values, targets, causal)[0][where]  # (N,)
        neg_logit = self._prefix_scores(keys, values, neg, present)[where]  # (N, negatives)
        if objective == "bce":
            return (F.binary_cross_entropy_with_logits(pos_logit, torch.ones_like(pos_logit))
                    + F.binary_cross_entropy_with_logits(neg_logit, torch.zeros_like(neg_logit)))
        neg_logit = neg_logit.masked_fill(neg[None, :] == y[:, None], float("-inf"))  # a negative equal to the positive
        logits = torch.cat([pos_logit[:, None], neg_logit], dim=1)
        return F.cross_entropy(logits, torch.zeros(len(y), dtype=torch.long, device=y.device))

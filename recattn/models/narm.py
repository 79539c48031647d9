"""NARM (Li et al., 2017): a GRU reads the history, and its last state attends back over every state with the
seed's additive attention; one user vector then scores the whole catalogue in one pass.

    A_i = softmax_i(w_o · tanh(W1 x_i + W2 y + b))     x_i: the GRU state after item i, y: the last state
    c   = Σ_i A_i x_i                                   what the history is about (NARM's local encoder)
    u   = B [c; y]                                      NARM's bilinear decoder, projected to the item space
    s_j = u · e_j                                       tied to the item embeddings, as GRU4Rec scores

Training predicts at every position: position t attends to the states x_1..x_t (its own y is x_t), all in one
(B, T, T) map under the causal mask, so the same next-item objectives as SASRec and GRU4Rec train it.
"""

from __future__ import annotations

import torch
from torch import nn

from recattn.config import ModelConfig
from recattn.models.attention import additive_energies, attention_mask, masked_softmax
from recattn.models.gru import GRU4Rec
from recattn.models.output import ModelOutput
from recattn.models.transformer import TransformerOutput


class NARM(GRU4Rec):
    """GRU4Rec's encoder (item embeddings → dropout → GRU) with additive attention over its states; one head."""

    attention_kind = "causal"

    def __init__(self, cfg: ModelConfig):
        if cfg.item_dim:
            raise ValueError("NARM's item vectors are as wide as its hidden state: leave item_dim unset")
        super().__init__(cfg)
        D = cfg.hidden
        self.key = nn.Linear(D, D)  # W1 x_i + b
        self.query = nn.Linear(D, D, bias=False)  # W2 y
        self.energy = nn.Linear(D, 1, bias=False)  # w_o
        self.decode = nn.Linear(2 * D, D, bias=False)  # B: [c; y] → the space of the item embeddings

    def states(self, seqs: torch.Tensor) -> torch.Tensor:
        """The GRU's state after each item, (B, T, D), zeros at padding: GRU4Rec's encoder, unchanged."""
        return super().forward(seqs).hidden

    def _attend(self, states: torch.Tensor, queries: torch.Tensor, allowed: torch.Tensor):
        """User vectors (B, Q, D) and the weights that made them (B, Q, T), float.

        states: (B, T, D) the GRU states (keys and values); queries: (B, Q, D) the states y that ask;
        allowed: (B, Q, T) bool, the keys each query may read. A query that may read nothing (padding under the
        causal mask) gets zero weights, never NaN.
        """
        # the (B, Q, T, D) sum is the whole cost: fine for T <= 200, hidden <= 128 at training batch sizes
        e = additive_energies(self.key(states), self.query(queries), self.energy.weight[0]).float()
        weights = masked_softmax(e, allowed)
        context = weights.to(states.dtype) @ states  # (B, Q, D)
        # NARM's dropout before the decoder, on the summary and the last state alike
        return self.decode(self.drop(torch.cat([context, queries], dim=-1))), weights

    def forward(self, seqs: torch.Tensor, return_attention: bool = False) -> TransformerOutput:
        """seqs: (B, T) left-padded → hidden (B, T, D): the user vector after each position (position t reads
        states 1..t); with return_attention, one map (B, 1, T, T), 0 above the diagonal and at padding keys."""
        states = self.states(seqs)
        user, weights = self._attend(states, states, attention_mask(seqs, causal=True)[:, 0])
        return TransformerOutput(user, (weights[:, None],) if return_attention else None)

    def score(self, seqs: torch.Tensor, return_attention: bool = False) -> ModelOutput:
        """Next-item scores (B, n_items + 1) for left-padded histories (the last max_len items are read); column 0
        is -inf. With return_attention a 1-tuple holding (B, 1, 1, T): the last state's weights over the T
        states, exactly those that made the scores (the last row of `forward`'s map)."""
        read = seqs[:, -self.config.max_len:]  # the repeat offset, when there is one, covers all of seqs
        states = self.states(read)
        user, weights = self._attend(states, states[:, -1:], (read != 0)[:, None, :])  # only the last row
        return ModelOutput(self.logits(user[:, 0], self.history_items(seqs)),
                           (weights[:, None],) if return_attention else None, self.attention_kind)

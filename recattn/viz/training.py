"""Training curves: epoch reports in, a plotly figure out (loss and validation NDCG@10 per epoch)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from recattn.i18n import N_, _
from recattn.viz.attention import HIGHLIGHT
from recattn.viz.text import plot_text

LINE = "#2171b5"


def training_curves(epochs: Sequence[int], loss: Sequence[float], valid_ndcg: Sequence[float],
                    best_epoch: int | None = None, title: str = N_("Training")) -> go.Figure:
    """Two panels side by side: the training loss and validation NDCG@10 per epoch; the best epoch marked. Words
    in the current language (recattn.i18n); `title` is shown as given, translated when it is a marked message."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(_("Training loss"), _("Validation NDCG@10")),
                        horizontal_spacing=0.12)
    # hovertemplates: the words around plotly's %{...} placeholders are translated, never .format()ted
    fig.add_trace(go.Scatter(x=list(epochs), y=list(loss), mode="lines+markers", line=dict(color=LINE),
                             name=_("loss"), hovertemplate=_("epoch %{x}<br>loss <b>%{y:.4f}</b>") + "<extra></extra>"),
                  row=1, col=1)
    fig.add_trace(go.Scatter(x=list(epochs), y=list(valid_ndcg), mode="lines+markers", line=dict(color=LINE),
                             name=_("valid NDCG@10"),
                             hovertemplate=_("epoch %{x}<br>valid NDCG@10 <b>%{y:.4f}</b>") + "<extra></extra>"),
                  row=1, col=2)
    if best_epoch is not None and best_epoch in list(epochs):
        best = valid_ndcg[list(epochs).index(best_epoch)]
        fig.add_trace(go.Scatter(x=[best_epoch], y=[best], mode="markers", name=_("best epoch (kept)"),
                                 marker=dict(color=HIGHLIGHT, size=12, symbol="star"),
                                 hovertemplate=_("best epoch %{x}<br>valid NDCG@10 <b>%{y:.4f}</b>")
                                 + "<extra></extra>"),
                      row=1, col=2)
    fig.update_xaxes(title_text=_("epoch"), rangemode="tozero")
    fig.update_yaxes(title_text=_("loss"), row=1, col=1)
    fig.update_yaxes(title_text="NDCG@10", row=1, col=2)
    fig.update_layout(title=plot_text(_(title)), height=320, showlegend=False, margin=dict(l=10, r=10, t=60, b=40),
                      plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)")
    return fig
